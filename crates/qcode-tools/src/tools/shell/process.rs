//! Running one shell command in its own process group: streaming its combined output,
//! enforcing the timeout and cancellation by killing the whole group (SIGTERM, then SIGKILL),
//! and starting detached background commands.

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::output::{CappedOutput, Utf8Stream};
use crate::registry::ToolProgress;

/// Time between SIGTERM and SIGKILL.
pub(crate) const KILL_GRACE: Duration = Duration::from_millis(1500);
/// How long output is still read after the command exits, while its background children keep
/// the output pipe open, before the rest of the group is stopped.
pub(crate) const LINGER: Duration = Duration::from_millis(250);
/// Characters kept from the start and the end of a long output.
pub(crate) const HEAD_CHARS: usize = 10_000;
pub(crate) const TAIL_CHARS: usize = 20_000;

/// Sends `signal` to every process of the group `pgid`. Errors (no such group) are ignored.
#[allow(unsafe_code)]
pub(crate) fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return; // never signal "every process" (-1) or our own group (0)
    }
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions; a negative
    // pid addresses the process group |pid|, which is the group we created for the command.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// How a foreground command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// What a foreground run produced.
#[derive(Debug)]
pub(crate) struct RunOutcome {
    pub ending: Ending,
    pub output: String,
    /// Processes left running in the group after the command exited were stopped.
    pub stopped_leftovers: bool,
    pub pgid: u32,
}

/// What to run and how.
pub(crate) struct Spawn<'a> {
    pub command: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    /// Which of qcode's own variables the command sees (secrets never, by default).
    pub policy: &'a super::env::ShellEnvPolicy,
    /// The sandbox launcher (program and arguments) that runs `bash -c …`; `None`: bash
    /// directly.
    pub launcher: Option<&'a (std::ffi::OsString, Vec<std::ffi::OsString>)>,
}

fn base_command(spec: &Spawn<'_>) -> tokio::process::Command {
    let mut cmd = match spec.launcher {
        Some((program, args)) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args).arg("bash");
            c
        }
        None => tokio::process::Command::new("bash"),
    };
    cmd.arg("-c")
        .arg(spec.command)
        .current_dir(spec.dir)
        .stdin(Stdio::null())
        .process_group(0)
        .env_clear()
        .envs(spec.policy.environment(std::env::vars_os()))
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("QCODE", "1");
    cmd
}

/// Runs a command to completion (or timeout / cancellation), streaming its output.
pub(crate) async fn run_foreground(
    spec: Spawn<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
    progress: &mpsc::UnboundedSender<ToolProgress>,
) -> std::io::Result<RunOutcome> {
    let (reader, writer) = std::io::pipe()?;
    let writer_err = writer.try_clone()?;
    let mut cmd = base_command(&spec);
    cmd.stdout(writer).stderr(writer_err);
    let mut child = cmd.spawn()?;
    // The command object holds our copies of the pipe's write end: close them, or the pipe
    // never reports end-of-file.
    drop(cmd);
    let pgid = child.id().unwrap_or(0);
    let mut guard = GroupGuard { pgid, armed: true };
    let mut pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader))?;

    let mut utf8 = Utf8Stream::default();
    let mut out = CappedOutput::new(HEAD_CHARS, TAIL_CHARS);
    let emit = |text: String, out: &mut CappedOutput| {
        if !text.is_empty() {
            out.push(&text);
            let _ = progress.send(ToolProgress::Output(text));
        }
    };
    let mut buf = vec![0u8; 16 * 1024];
    let mut eof = false;
    let mut exit: Option<ExitStatus> = None;
    let deadline = Instant::now() + timeout;
    let mut linger_until: Option<Instant> = None;
    let mut stopped_leftovers = false;

    let ending = loop {
        if eof && let Some(status) = exit {
            break Ending::Exited(status);
        }
        let linger = async {
            match linger_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = pipe.read(&mut buf), if !eof => match n {
                Ok(0) | Err(_) => eof = true,
                Ok(n) => emit(utf8.push(&buf[..n]), &mut out),
            },
            status = child.wait(), if exit.is_none() => {
                exit = Some(status?);
                linger_until = Some(Instant::now() + LINGER);
            }
            () = linger, if !eof => {
                // The command exited but something it started still holds the output open.
                stopped_leftovers = true;
                terminate_group(pgid, &mut pipe, &mut buf, &mut utf8, &mut out, progress).await;
                eof = true;
            }
            () = tokio::time::sleep_until(deadline) => break Ending::TimedOut,
            () = cancel.cancelled() => break Ending::Cancelled,
        }
    };
    if matches!(ending, Ending::TimedOut | Ending::Cancelled) {
        terminate_group(pgid, &mut pipe, &mut buf, &mut utf8, &mut out, progress).await;
        // Reap the shell (it is dead after SIGKILL).
        let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    }
    guard.armed = false;
    emit(utf8.finish(), &mut out);
    Ok(RunOutcome {
        ending,
        output: out.finish(),
        stopped_leftovers,
        pgid,
    })
}

/// SIGTERM to the group, keep reading its output until the pipe closes or the grace period
/// ends, then SIGKILL to whatever is left.
async fn terminate_group(
    pgid: u32,
    pipe: &mut tokio::net::unix::pipe::Receiver,
    buf: &mut [u8],
    utf8: &mut Utf8Stream,
    out: &mut CappedOutput,
    progress: &mpsc::UnboundedSender<ToolProgress>,
) {
    signal_group(pgid, libc::SIGTERM);
    let grace_end = Instant::now() + KILL_GRACE;
    loop {
        tokio::select! {
            n = pipe.read(buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let text = utf8.push(&buf[..n]);
                    if !text.is_empty() {
                        out.push(&text);
                        let _ = progress.send(ToolProgress::Output(text));
                    }
                }
            },
            () = tokio::time::sleep_until(grace_end) => break,
        }
    }
    signal_group(pgid, libc::SIGKILL);
}

/// Kills the group if the run is abandoned (its future dropped) before it finished.
struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }
}

/// Describes an exit status for the model: "exit code 0", "killed by signal 9 (SIGKILL)".
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(sig) => format!("killed by signal {sig} ({})", signal_name(sig)),
        None => "ended without an exit code".to_string(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        _ => "signal",
    }
}

/// The process groups of the background commands a session started; stopped when it ends
/// (a dev server the model started must not outlive the session unnoticed).
#[derive(Debug, Clone, Default)]
pub struct BackgroundJobs(std::sync::Arc<std::sync::Mutex<Vec<u32>>>);

impl BackgroundJobs {
    pub(crate) fn add(&self, pgid: u32) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(pgid);
    }

    /// The process groups started so far (still running or not).
    pub fn groups(&self) -> Vec<u32> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// SIGTERM to every group, a short grace, then SIGKILL; returns how many were signalled.
    pub fn stop_all(&self, grace: Duration) -> usize {
        let groups = std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if groups.is_empty() {
            return 0;
        }
        for &g in &groups {
            signal_group(g, libc::SIGTERM);
        }
        std::thread::sleep(grace);
        for &g in &groups {
            signal_group(g, libc::SIGKILL);
        }
        groups.len()
    }
}

/// A started background command.
#[derive(Debug)]
pub(crate) struct Background {
    pub pid: u32,
    pub log: std::path::PathBuf,
}

/// Starts a command detached in its own process group, output to a new file in `log_dir`.
pub(crate) fn spawn_background(spec: Spawn<'_>, log_dir: &Path) -> std::io::Result<Background> {
    qcode_fs::create_private_dirs(log_dir)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut n = 0u32;
    let (file, log) = loop {
        let log = log_dir.join(format!("shell-{stamp}-{n}.log"));
        let mut options = std::fs::OpenOptions::new();
        // The output may contain secrets: readable by the user only.
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.write(true).create_new(true).open(&log) {
            Ok(f) => break (f, log),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let err = file.try_clone()?;
    let mut cmd = base_command(&spec);
    cmd.stdout(file).stderr(err);
    let child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    // Dropping the handle does not kill the process; tokio reaps it when it exits.
    drop(child);
    Ok(Background { pid, log })
}
