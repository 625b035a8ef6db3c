//! A stdio server's process: spawned in its own process group with a clean environment, its
//! stderr kept in a bounded ring buffer (the last lines go into error messages), its exit
//! watched, and stopped without orphans: stdin closed, then SIGTERM to the group after
//! [`STDIN_GRACE`], then SIGKILL after [`KILL_GRACE`].

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::watch;

/// How long a server has to exit by itself after its stdin is closed.
pub const STDIN_GRACE: Duration = Duration::from_secs(1);
/// Time between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The variables a server inherits from qcode's environment (besides its entry's `env`):
/// never qcode's API keys or tokens.
pub const SAFE_VARS: &[&str] = &["PATH", "HOME", "USER", "LANG", "TERM", "SHELL", "TMPDIR"];

/// Lines of stderr kept, and characters per line.
const STDERR_LINES: usize = 20;
const STDERR_LINE_CHARS: usize = 400;

/// The last lines a server wrote to stderr.
#[derive(Debug, Default)]
pub struct StderrTail {
    lines: Mutex<VecDeque<String>>,
}

impl StderrTail {
    fn push(&self, line: &str) {
        // Terminal control sequences from a hostile server must not reach the screen.
        let mut clean: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .take(STDERR_LINE_CHARS)
            .collect();
        if line.chars().count() > STDERR_LINE_CHARS {
            clean.push('…');
        }
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == STDERR_LINES {
                lines.pop_front();
            }
            lines.push_back(clean);
        }
    }

    /// The last `n` lines.
    pub fn last(&self, n: usize) -> Vec<String> {
        match self.lines.lock() {
            Ok(lines) => lines
                .iter()
                .skip(lines.len().saturating_sub(n))
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// `; its stderr ended with:\n  …` or nothing when it wrote nothing.
    pub fn suffix(&self) -> String {
        let lines = self.last(5);
        if lines.iter().all(|l| l.trim().is_empty()) {
            return String::new();
        }
        format!("; its stderr ended with:\n  {}", lines.join("\n  "))
    }
}

/// A running server process (the group leader).
pub struct ServerProcess {
    pub pid: u32,
    exit: watch::Receiver<Option<ExitStatus>>,
    pub stderr: Arc<StderrTail>,
    /// Becomes true when its stderr reaches end-of-file (everything written has been read).
    stderr_done: watch::Receiver<bool>,
}

/// Looks a variable of qcode's own environment up.
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What to start.
pub struct Spawn<'a> {
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: &'a Path,
    /// Looks qcode's own environment up (for [`SAFE_VARS`]).
    pub inherit: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
}

/// Starts the process; returns it with its stdout and stdin for the transport.
pub fn spawn(spec: &Spawn<'_>) -> std::io::Result<(ServerProcess, ChildStdout, ChildStdin)> {
    let mut cmd = tokio::process::Command::new(spec.command);
    cmd.args(spec.args)
        .current_dir(spec.cwd)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for name in SAFE_VARS {
        if let Some(v) = (spec.inherit)(name) {
            cmd.env(name, v);
        }
    }
    cmd.envs(spec.env);
    let mut child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other(
            "the server's stdio pipes were not created",
        ));
    };
    let tail = Arc::new(StderrTail::default());
    let (done_tx, done_rx) = watch::channel(false);
    if let Some(stderr) = child.stderr.take() {
        let tail = tail.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr);
            let mut buf = Vec::new();
            // Bounded reads: a line without a newline is cut into pieces, never buffered whole.
            loop {
                buf.clear();
                match (&mut reader)
                    .take(16 * 1024)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(0) | Err(_) => break,
                    Ok(_) => tail.push(String::from_utf8_lossy(&buf).trim_end()),
                }
            }
            let _ = done_tx.send(true);
        });
    } else {
        let _ = done_tx.send(true);
    }
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        let status = child.wait().await;
        // The leader is gone: stop whatever it left behind in its group at once.
        signal_group(pid, libc::SIGKILL);
        let _ = tx.send(status.ok());
    });
    Ok((
        ServerProcess {
            pid,
            exit: rx,
            stderr: tail,
            stderr_done: done_rx,
        },
        stdout,
        stdin,
    ))
}

use tokio::io::AsyncReadExt as _;

impl ServerProcess {
    /// The exit status, if it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.borrow()
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&self, limit: Duration) -> Option<ExitStatus> {
        let mut rx = self.exit.clone();
        let waited = tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(status)) => *status,
            _ => None,
        }
    }

    /// [`StderrTail::suffix`] once everything it wrote has been read (waiting up to 500 ms for
    /// the end of its stderr: a leftover child may keep it open).
    pub async fn stderr_suffix(&self) -> String {
        let mut rx = self.stderr_done.clone();
        let _ = tokio::time::timeout(Duration::from_millis(500), rx.wait_for(|done| *done)).await;
        self.stderr.suffix()
    }

    /// Waits until the process exits (`None` if its watcher is gone).
    pub async fn exited(&self) -> Option<ExitStatus> {
        let mut rx = self.exit.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(status) => *status,
            Err(_) => None,
        }
    }

    /// After stdin was closed (the transport dropped): waits [`STDIN_GRACE`], then SIGTERM to
    /// the group, [`KILL_GRACE`], then SIGKILL.
    pub async fn stop(&self) {
        if self.wait_exit(STDIN_GRACE).await.is_some() {
            return;
        }
        signal_group(self.pid, libc::SIGTERM);
        if self.wait_exit(KILL_GRACE).await.is_some() {
            return;
        }
        signal_group(self.pid, libc::SIGKILL);
        self.wait_exit(KILL_GRACE).await;
    }
}

/// "exited with status 3" / "was killed by signal 9".
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => "exited".into(),
    }
}

/// Sends `signal` to every process of the group `pgid`. Errors (no such group) are ignored.
#[allow(unsafe_code)]
fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return; // never signal "every process" (-1) or our own group (0)
    }
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions; a negative
    // pid addresses the process group |pid|, which is the group created for the server.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_tail_is_bounded_and_clean() {
        let t = StderrTail::default();
        for i in 0..30 {
            t.push(&format!("line {i}\u{1b}[31m"));
        }
        t.push(&"x".repeat(1000));
        let last = t.last(3);
        assert_eq!(last[0], "line 28[31m");
        assert_eq!(last[2].chars().count(), STDERR_LINE_CHARS + 1);
        assert_eq!(t.last(100).len(), STDERR_LINES);
        assert!(StderrTail::default().suffix().is_empty());
    }
}
