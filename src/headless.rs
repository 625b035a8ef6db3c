//! `qcode -p "…"` and piped stdin: one non-interactive turn.

use std::io::IsTerminal;

use qcode_core::Interaction;
pub use qcode_exec::Stdin;
use qcode_exec::{Output, OutputFormat};

use crate::cli::{Cli, OutputFormatArg};
use crate::exit::report;

pub async fn run(
    cli: &Cli,
    prompt: Option<String>,
    stdin: Stdin,
    started: std::time::Instant,
) -> i32 {
    match qcode_exec::prepare_prompt(prompt, stdin).await {
        Ok(prompt) => run_prompt(cli, prompt, started).await,
        Err(p) => report(&p),
    }
}

async fn run_prompt(cli: &Cli, prompt: String, started: std::time::Instant) -> i32 {
    let (snapshot, env) = match crate::session::load_config(cli) {
        Ok(v) => v,
        Err(p) => return report(&p),
    };
    // `/name args` naming a custom command is expanded before anything is sent.
    let custom = match crate::extensions_glue::expand_headless(&snapshot, &prompt).await {
        Ok(c) => c,
        Err(p) => return report(&p),
    };
    let prompt = match &custom {
        Some(c) => c.prompt.clone(),
        None => prompt,
    };
    let mut session = match crate::session::start(
        snapshot,
        &env,
        Interaction::Headless,
        started,
        cli.resume_from(),
    )
    .await
    {
        Ok(s) => s,
        Err(p) => return report(&p),
    };
    if custom.is_some() {
        // A custom command's name is the user's text: statistics see only `custom`.
        session
            .telemetry
            .record(qcode_telemetry::UsageEvent::SlashCommand(
                qcode_telemetry::SlashCommand::CUSTOM,
            ));
    }
    if let Some(model) = custom.as_ref().and_then(|c| c.model.clone()) {
        // The command's `model` is used for this run's turn only (the session keeps its own).
        let _ = session
            .engine
            .ops
            .send(qcode_protocol::Op::ModelForNextTurn { model });
    }
    let format = match cli.output_format {
        OutputFormatArg::Text => OutputFormat::Text,
        OutputFormatArg::Json => OutputFormat::Json,
        OutputFormatArg::StreamJson => OutputFormat::StreamJson,
    };
    let (int_tx, mut int_rx) = tokio::sync::mpsc::unbounded_channel();
    let ctrl_c = tokio::spawn(forward_signals(int_tx));
    let stdout = std::io::stdout();
    let stdout_is_tty = stdout.is_terminal();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let code = qcode_exec::run(
        &mut session.engine,
        prompt,
        format,
        Output {
            out: &mut out,
            err: &mut err,
            stdout_is_tty,
            stderr_is_tty: std::io::stderr().is_terminal(),
        },
        &mut int_rx,
    )
    .await;
    ctrl_c.abort();
    session.finish().await;
    code
}

/// Ctrl-C, SIGTERM (CI `timeout`, `docker stop`) and SIGHUP all stop the run the same way:
/// the turn is interrupted (the shell tool's process groups are killed) and the result is
/// written; each gets its own exit code.
async fn forward_signals(tx: tokio::sync::mpsc::UnboundedSender<qcode_exec::Stop>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(qcode_exec::Stop::Interrupt).is_err() {
                break;
            }
        }
        return;
    };
    loop {
        let stop = tokio::select! {
            r = tokio::signal::ctrl_c() => match r {
                Ok(()) => qcode_exec::Stop::Interrupt,
                Err(_) => break,
            },
            Some(()) = term.recv() => qcode_exec::Stop::Terminate,
            Some(()) = hup.recv() => qcode_exec::Stop::HangUp,
        };
        if tx.send(stop).is_err() {
            break;
        }
    }
}
