//! The `qcode` binary: parses the command line, loads configuration, wires the engine to a
//! front end (the TUI, or the headless runner), and turns the outcome into an exit code.
//! Glue only: behaviour lives in the crates.

mod agents_glue;
mod auth_cmd;
mod auth_glue;
mod checkpoint_glue;
mod cli;
mod exit;
mod extensions_glue;
mod headless;
mod import_cmd;
mod mcp_cmd;
mod mcp_glue;
mod recorder_glue;
mod sandbox_cmd;
mod session;
mod sessions_cmd;
mod telemetry_glue;
mod trust_cmd;
mod tui_services;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The sandbox launcher: before anything else (no parsing, no runtime, no configuration).
    if let Some(code) = sandbox_cmd::launcher() {
        return code;
    }
    let started = std::time::Instant::now();
    let cli = cli::Cli::parse();
    // QCODE_DEBUG=1: error messages also carry the HTTP library's own details.
    qcode_client::set_error_details(
        std::env::var_os("QCODE_DEBUG").is_some_and(|v| !v.is_empty() && v != "0"),
    );
    // TLS with the ring provider (no aws-lc build); an error means one is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // One thread runs everything async: the per-token path (client → engine → front end)
    // then hands events over without cross-thread wake-ups, which measurably costs less CPU per
    // streamed token. Blocking work (file search, stdin, terminal input) has threads of its own.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli, started));
    // Don't wait for stray blocking tasks (e.g. a stdin reader) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(50));
    ExitCode::from(code.clamp(0, 255) as u8)
}

async fn run(cli: cli::Cli, started: std::time::Instant) -> i32 {
    if cli.wants_help() {
        use clap::CommandFactory;
        let _ = cli::Cli::command().print_long_help();
        return 0;
    }
    match &cli.command {
        Some(cli::Command::Auth(args)) => return session::auth_command(&cli, args).await,
        Some(cli::Command::Privacy(args)) => return session::privacy_command(&cli, args).await,
        Some(cli::Command::Trust(args)) => return session::trust_command(&cli, args),
        Some(cli::Command::Sessions(args)) => return sessions_cmd::run(&cli, args).await,
        Some(cli::Command::Mcp(args)) => return mcp_cmd::run(&cli, args).await,
        Some(cli::Command::Import(args)) => return import_cmd::run(args),
        Some(cli::Command::Agents(args)) => return agents_glue::run(&cli, args),
        Some(cli::Command::Sandbox(args)) => return sandbox_cmd::run(&cli, args),
        None => {}
    }
    let stdin = headless::Stdin::detect();
    let prompt = cli.prompt();
    if prompt.is_some() || stdin == headless::Stdin::Piped {
        headless::run(&cli, prompt, stdin, started).await
    } else {
        session::interactive(&cli, started).await
    }
}
