//! Running the real binary in a clean environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use qcode_test_support::mock_model::MockServer;

/// A scratch world: HOME, a project directory (a git repo), and the binary.
pub struct World {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub project: PathBuf,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let project = dir.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(project.join(".git")).unwrap();
        Self { dir, home, project }
    }

    /// `qcode` with only PATH, HOME and TERM in its environment (nothing from the developer's
    /// shell leaks in), usage statistics off, running in the project directory.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qcode"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TERM", "dumb")
            .env("DO_NOT_TRACK", "1")
            .current_dir(&self.project)
            .stdin(Stdio::null());
        c
    }

    /// `qcode` configured for the mock server through environment variables.
    pub fn cmd_for(&self, mock: &MockServer) -> Command {
        let mut c = self.cmd();
        c.env("OPENAI_BASE_URL", mock.url())
            .env("OPENAI_API_KEY", "sk-test-key-123")
            .env("OPENAI_MODEL", "test-model");
        c
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn run(cmd: &mut Command) -> Run {
    Run::from(cmd.output().unwrap())
}

pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run::from(out)
}

/// The `messages` of a recorded chat request.
pub fn messages(body: &serde_json::Value) -> Vec<serde_json::Value> {
    body["messages"].as_array().cloned().unwrap_or_default()
}

pub fn last_user_message(body: &serde_json::Value) -> String {
    messages(body)
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[allow(dead_code)]
pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Fails (after a short settle time) if any process whose command line contains `marker` is
/// still running — e.g. a shell tool's command that should have been killed.
#[track_caller]
pub fn assert_no_process_matching(marker: &str, when: &str) {
    std::thread::sleep(std::time::Duration::from_millis(300));
    let ps = Command::new("pgrep").args(["-f", marker]).output().unwrap();
    assert!(
        ps.stdout.is_empty(),
        "{when}: processes left: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}
