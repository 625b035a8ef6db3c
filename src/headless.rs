//! `qcode -p "…"` and piped stdin: one non-interactive turn.

use std::io::{IsTerminal, Read};

use qcode_core::Interaction;
use qcode_exec::{Output, OutputFormat};
use qcode_protocol::ErrorKind;

use crate::cli::{Cli, OutputFormatArg};
use crate::exit::Failure;

/// Piped input larger than this is refused (it would not fit any context window anyway).
const MAX_STDIN_BYTES: u64 = 16 * 1024 * 1024;

/// Where standard input comes from: piped text is read and added to the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    Piped,
    Terminal,
}

impl Stdin {
    pub fn detect() -> Self {
        if std::io::stdin().is_terminal() {
            Self::Terminal
        } else {
            Self::Piped
        }
    }
}

pub async fn run(
    cli: &Cli,
    prompt: Option<String>,
    stdin: Stdin,
    started: std::time::Instant,
) -> i32 {
    match prepare_prompt(prompt, stdin).await {
        Ok(prompt) => run_prompt(cli, prompt, started).await,
        Err(f) => f.report(),
    }
}

async fn prepare_prompt(prompt: Option<String>, stdin: Stdin) -> Result<String, Failure> {
    let piped = match stdin {
        Stdin::Piped => tokio::task::spawn_blocking(read_stdin)
            .await
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Internal,
                    format!("reading stdin failed: {e}"),
                    None,
                )
            })??,
        Stdin::Terminal => String::new(),
    };
    let prompt = match (prompt, piped.trim().is_empty()) {
        (Some(p), true) => p,
        (Some(p), false) => format!("{p}\n\n{piped}"),
        (None, false) => piped,
        (None, true) => String::new(),
    };
    if prompt.trim().is_empty() {
        return Err(Failure::new(
            ErrorKind::Input,
            "the prompt is empty",
            Some("pass a prompt with -p \"…\" or pipe text into qcode".into()),
        ));
    }
    Ok(prompt)
}

fn read_stdin() -> Result<String, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::new(ErrorKind::Input, format!("cannot read stdin: {e}"), None))?;
    if bytes.len() as u64 > MAX_STDIN_BYTES {
        return Err(Failure::new(
            ErrorKind::Input,
            format!(
                "piped input is larger than {} MiB",
                MAX_STDIN_BYTES / 1024 / 1024
            ),
            Some("pipe a smaller excerpt, or let qcode read the file with its tools".into()),
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

async fn run_prompt(cli: &Cli, prompt: String, started: std::time::Instant) -> i32 {
    let (snapshot, env) = match crate::session::load_config(cli) {
        Ok(v) => v,
        Err(f) => return f.report(),
    };
    let mut session =
        match crate::session::start(snapshot, &env, Interaction::Headless, started).await {
            Ok(s) => s,
            Err(f) => return f.report(),
        };
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
