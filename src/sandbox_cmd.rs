//! The sandbox glue: the launcher qcode re-executes itself as (`qcode __sandbox-exec POLICY --
//! PROGRAM ARGS…`, hidden: it is checked before the command line is parsed), the session's
//! [`qcode_tools::ShellSandbox`] from the configuration, and `qcode sandbox status`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use qcode_config::{ConfigSnapshot, Source};
use qcode_sandbox::{Mode, Policy, PolicyPaths};
use qcode_tools::{CommandSandbox, ShellSandbox, Unsandboxed};

/// The launcher's first argument.
pub const LAUNCHER_ARG: &str = "__sandbox-exec";

/// Runs the launcher when this process is one (`argv[1]` is [`LAUNCHER_ARG`]): applies the
/// policy and `exec`s the command, returning only on failure. `None`: an ordinary start. The
/// small `qcode-sandbox-exec` program next to qcode does the same with less to load, and is
/// used when it is there.
pub fn launcher() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != LAUNCHER_ARG {
        return None;
    }
    Some(qcode_sandbox::launch(args.collect()))
}

/// `--sandbox MODE` as the settings name it.
pub fn mode_name(mode: crate::cli::SandboxModeArg) -> String {
    use crate::cli::SandboxModeArg as A;
    match mode {
        A::WorkspaceWrite => Mode::WorkspaceWrite,
        A::ReadOnly => Mode::ReadOnly,
        A::Off => Mode::Off,
    }
    .as_str()
    .to_string()
}

/// The session's policy from its configuration.
pub fn policy(snapshot: &ConfigSnapshot) -> Policy {
    // The configuration validated the name; an unknown one would mean the strictest.
    let mode = Mode::parse(&snapshot.sandbox.mode.value).unwrap_or(Mode::ReadOnly);
    let root = std::fs::canonicalize(&snapshot.cwd).unwrap_or_else(|_| snapshot.cwd.clone());
    let paths = PolicyPaths {
        qcode_home: snapshot.paths.qcode_home.clone(),
        qwen_dir: snapshot.paths.qwen_dir.clone(),
    };
    let mut policy = Policy::new(mode, vec![root], &paths);
    policy.writable_roots = snapshot
        .sandbox
        .writable_roots
        .iter()
        .map(|r| r.value.clone())
        .collect();
    policy.network = snapshot.sandbox.network.value;
    policy
}

/// The session's sandbox, and the one warning to show about it.
pub struct SessionSandbox {
    pub sandbox: ShellSandbox,
    pub warning: Option<String>,
    /// For the status line: the mode, `off`, or `unavailable` (no Landlock).
    pub label: String,
}

/// Whether the user asked for the sandbox (flag or settings) rather than getting the default.
fn explicit(snapshot: &ConfigSnapshot) -> bool {
    snapshot.sandbox.mode.source != Source::Default
}

/// The sandbox of a session with `snapshot`: none for `off`; otherwise Landlock when the
/// kernel has it; without Landlock, unsandboxed with a warning — or, when the user asked for
/// the sandbox explicitly, no commands at all.
pub fn shell_sandbox(snapshot: &ConfigSnapshot) -> SessionSandbox {
    let policy = policy(snapshot);
    if policy.mode == Mode::Off {
        return SessionSandbox {
            sandbox: ShellSandbox::Unconfined,
            warning: None,
            label: "off".into(),
        };
    }
    let support = qcode_sandbox::status();
    let exe = std::env::current_exe();
    let missing = qcode_sandbox::missing_protection(&support, policy.network);
    let (exe, unavailable) = match exe {
        Ok(exe) if support.available() => (exe, None),
        Ok(_) => (PathBuf::new(), Some(missing.join("; "))),
        Err(e) => (
            PathBuf::new(),
            Some(format!("qcode cannot find its own program ({e})")),
        ),
    };
    if let Some(why) = unavailable {
        return if explicit(snapshot) {
            let text = format!(
                "the {} sandbox was asked for ({}), but {why}. No shell command will run; \
                 pass --sandbox off (or set tools.sandbox.mode to \"off\") to run commands \
                 without it",
                policy.mode, snapshot.sandbox.mode.source
            );
            SessionSandbox {
                sandbox: ShellSandbox::Refused(format!("run_shell_command: {text}")),
                warning: Some(format!("sandbox: {text}")),
                label: "unavailable".into(),
            }
        } else {
            SessionSandbox {
                sandbox: ShellSandbox::Unconfined,
                warning: Some(format!(
                    "sandbox: {why}. Shell commands run unsandboxed; ask for the sandbox \
                     explicitly (--sandbox workspace-write) to refuse to run them instead"
                )),
                label: "unavailable".into(),
            }
        };
    }
    let warning = (!missing.is_empty()).then(|| {
        format!(
            "sandbox: not everything is enforced on this kernel: {}",
            missing.join("; ")
        )
    });
    let unsandboxed = if snapshot.sandbox.allow_unsandboxed {
        Unsandboxed::Preapproved
    } else {
        Unsandboxed::AskUser
    };
    SessionSandbox {
        label: policy.mode.as_str().to_string(),
        sandbox: ShellSandbox::Sandboxed {
            sandbox: Arc::new(Launcher::new(exe, policy)),
            unsandboxed,
        },
        warning,
    }
}

/// The shell tool's sandbox: this program as the launcher.
struct Launcher {
    exe: PathBuf,
    /// `__sandbox-exec` when `exe` is qcode itself.
    prefix: Vec<OsString>,
    json: String,
    policy: Policy,
}

impl Launcher {
    /// `exe` is qcode itself; the dedicated launcher beside it is preferred (it starts in a
    /// fraction of the time: no 20 MB program to load and relocate).
    fn new(exe: PathBuf, policy: Policy) -> Self {
        let small = exe.with_file_name(qcode_sandbox::LAUNCHER_PROGRAM);
        let (exe, prefix) = if small.is_file() {
            (small, Vec::new())
        } else {
            (exe, vec![OsString::from(LAUNCHER_ARG)])
        };
        Self {
            exe,
            prefix,
            json: policy.to_json(),
            policy,
        }
    }
}

impl CommandSandbox for Launcher {
    fn mode(&self) -> &str {
        self.policy.mode.as_str()
    }

    fn launcher(&self) -> (OsString, Vec<OsString>) {
        let mut args = self.prefix.clone();
        args.push(self.json.clone().into());
        args.push("--".into());
        (self.exe.clone().into_os_string(), args)
    }

    fn explain_failure(&self, output: &str, dir: &Path) -> Option<String> {
        qcode_sandbox::explain_failure(&self.policy, output, dir)
    }
}

/// `qcode sandbox status`.
pub fn run(cli: &crate::cli::Cli, args: &crate::cli::SandboxArgs) -> i32 {
    match args.action {
        crate::cli::SandboxAction::Status => {}
    }
    let snapshot = match crate::session::load_config(cli) {
        Ok((s, _)) => s,
        Err(p) => return crate::exit::report(&p),
    };
    let support = qcode_sandbox::status();
    let policy = policy(&snapshot);
    let session = shell_sandbox(&snapshot);
    let mut out = String::from("Kernel\n");
    for line in support.describe() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str("\nPolicy for this folder\n");
    out.push_str(&format!(
        "  mode: {} ({})\n",
        policy.mode, snapshot.sandbox.mode.source
    ));
    out.push_str(&format!("  in effect: {}\n", session.label));
    if policy.mode != Mode::Off {
        let list = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!("  writable: {}\n", list(&policy.write_roots())));
        let ro = policy.read_only_subpaths();
        if !ro.is_empty() {
            out.push_str(&format!("  read-only inside: {}\n", list(&ro)));
        }
        out.push_str(&format!(
            "  unreadable: {}\n",
            list(&policy.protected_files)
        ));
        out.push_str(&format!(
            "  network: {} ({})\n",
            if policy.network { "on" } else { "off" },
            snapshot.sandbox.network.source
        ));
        out.push_str(&format!(
            "  commands outside the sandbox: {}\n",
            if snapshot.sandbox.allow_unsandboxed {
                "allowed without asking (--allow-unsandboxed)"
            } else {
                "asked every time (denied in non-interactive runs)"
            }
        ));
    }
    if let Some(w) = session.warning {
        out.push_str(&format!("\n{w}\n"));
    }
    print!("{out}");
    0
}
