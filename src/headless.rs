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
    let mut session =
        match crate::session::start(snapshot, &env, Interaction::Headless, started).await {
            Ok(s) => s,
            Err(p) => return report(&p),
        };
    let format = match cli.output_format {
        OutputFormatArg::Text => OutputFormat::Text,
        OutputFormatArg::Json => OutputFormat::Json,
        OutputFormatArg::StreamJson => OutputFormat::StreamJson,
    };
    let (int_tx, mut int_rx) = tokio::sync::mpsc::unbounded_channel();
    let ctrl_c = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if int_tx.send(()).is_err() {
                break;
            }
        }
    });
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
        },
        &mut int_rx,
    )
    .await;
    ctrl_c.abort();
    session.finish().await;
    code
}
