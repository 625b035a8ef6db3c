//! The seam to the sandbox the commands run in: the binary implements [`CommandSandbox`]
//! (over `qcode-sandbox`, re-executing itself as a launcher); this crate only puts the
//! launcher in front of `bash -c …` and adds its explanation to a failed command's result.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

/// A sandbox for shell commands.
pub trait CommandSandbox: Send + Sync {
    /// The policy's mode as shown to the model and the user (`workspace-write`, `read-only`).
    fn mode(&self) -> &str;
    /// The program and arguments placed before `bash -c COMMAND`: they apply the policy and
    /// `exec` the rest of the command line.
    fn launcher(&self) -> (OsString, Vec<OsString>);
    /// The text saying that the sandbox stopped (part of) a command, when its output points at
    /// that; `dir` is where it ran. Asked after every foreground command.
    fn explain_failure(&self, output: &str, dir: &Path) -> Option<String>;
}

/// Whether the model may run a command outside the sandbox (`sandbox: "off"`) without the
/// user's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unsandboxed {
    /// Always ask (in every approval mode; a non-interactive run denies it).
    #[default]
    AskUser,
    /// The user allowed it for this session (`--allow-unsandboxed`): ordinary approval.
    Preapproved,
}

/// How the session's shell commands are confined.
#[derive(Clone, Default)]
pub enum ShellSandbox {
    /// No sandbox (`tools.sandbox.mode: off`, or none available and none asked for).
    #[default]
    Unconfined,
    /// Every command runs under `sandbox`, unless the call asks for `sandbox: "off"`.
    Sandboxed {
        sandbox: Arc<dyn CommandSandbox>,
        unsandboxed: Unsandboxed,
    },
    /// The user asked for a sandbox this system cannot provide: no command runs; the text
    /// says why.
    Refused(String),
}

impl ShellSandbox {
    /// The mode shown to the user: the sandbox's, `off`, or `unavailable`.
    pub fn label(&self) -> String {
        match self {
            ShellSandbox::Unconfined => "off".into(),
            ShellSandbox::Sandboxed { sandbox, .. } => sandbox.mode().to_string(),
            ShellSandbox::Refused(_) => "unavailable".into(),
        }
    }
}

impl std::fmt::Debug for ShellSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellSandbox::Unconfined => f.write_str("Unconfined"),
            ShellSandbox::Sandboxed {
                sandbox,
                unsandboxed,
            } => f
                .debug_struct("Sandboxed")
                .field("mode", &sandbox.mode())
                .field("unsandboxed", unsandboxed)
                .finish(),
            ShellSandbox::Refused(why) => f.debug_tuple("Refused").field(why).finish(),
        }
    }
}
