//! `run_shell_command`: `bash -c` in its own process group inside the workspace, with streamed
//! and capped output, a timeout, cancellation that leaves no orphans, and a background mode.

pub mod env;
pub use process::BackgroundJobs;
mod output;
mod process;
pub mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use qcode_protocol::ApprovalDetails;

use process::{Ending, Spawn, describe_exit, run_foreground, spawn_background};

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolProgress, ToolResult, typed};
use crate::schema::{Param, Presence, Ty};
use crate::tracker::append_notices;

/// Timeout when none is given, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;
/// Largest accepted timeout, in milliseconds.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::RunShellCommand,
    name: "run_shell_command",
    kind: ToolKind::Execute,
    description: "Runs a command with `bash -c` and returns its combined stdout and stderr \
        and its exit code. The command runs in the workspace root, or in `directory` (relative \
        to the workspace root), with no input (stdin is empty, so interactive programs fail: \
        pass flags such as `--yes`, and avoid pagers and editors). The environment variable \
        QCODE=1 is set. Commands are killed after `timeout` milliseconds (default 120000, at \
        most 600000), together with every process they started. Long outputs are shortened to \
        their beginning and end. For long-running processes such as servers or watchers, set \
        `is_background` to true: the command is started detached, its output goes to a log \
        file, and the call returns at once with the process id. Processes a foreground command \
        leaves running with `&` are stopped when it exits. Prefer the dedicated tools for \
        reading, searching and editing files. Explain what the command does in `description`; \
        the user may be asked to approve it. Commands usually run in a sandbox: writes only \
        inside the workspace and the temp directory, no network, credential files unreadable; \
        when the result says the sandbox stopped a command that really needs more, call it \
        again with `sandbox` set to \"off\" (the user is always asked first).",
    params: &[
        Param {
            name: "command",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The bash command to run.",
        },
        Param {
            name: "description",
            ty: Ty::Str,
            presence: Presence::Optional,
            description: "A short explanation of what the command does and why, shown to the user.",
        },
        Param {
            name: "directory",
            ty: Ty::Str,
            presence: Presence::Optional,
            description: "Directory to run in, relative to the workspace root (default: the workspace root).",
        },
        Param {
            name: "timeout",
            ty: Ty::Int {
                min: 1,
                max: MAX_TIMEOUT_MS,
            },
            presence: Presence::Optional,
            description: "Timeout in milliseconds (default 120000, at most 600000).",
        },
        Param {
            name: "is_background",
            ty: Ty::Bool,
            presence: Presence::Optional,
            description: "Start the command in the background and return immediately (for servers and watchers).",
        },
        Param {
            name: "sandbox",
            ty: Ty::Enum(&["on", "off"]),
            presence: Presence::Optional,
            description: "\"off\" runs the command outside the sandbox, after the user approves it; only when a sandboxed run failed because of the sandbox (default \"on\").",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    command: String,
    description: Option<String>,
    directory: Option<String>,
    timeout: Option<u64>,
    #[serde(default)]
    is_background: bool,
    sandbox: Option<String>,
}

/// Where the command runs.
#[derive(Clone)]
enum Confinement {
    Sandboxed(Arc<dyn sandbox::CommandSandbox>),
    Unconfined,
}

impl std::fmt::Debug for Confinement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Confinement::Sandboxed(s) => write!(f, "Sandboxed({})", s.mode()),
            Confinement::Unconfined => f.write_str("Unconfined"),
        }
    }
}

/// Foreground or background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Foreground { timeout: Duration },
    Background,
}

#[derive(Debug)]
pub(crate) struct Plan {
    command: String,
    dir: ResolvedPath,
    mode: Mode,
    confinement: Confinement,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    if args.command.trim().is_empty() {
        return Err(ToolError::invalid(DEF.name, "parameter `command` is empty"));
    }
    let dir = super::resolve_arg(DEF.name, ctx, args.directory.as_deref().unwrap_or("."))?;
    if !dir.path.is_dir() {
        return Err(ToolError::rejected(
            DEF.name,
            format!(
                "directory not found: {}; `directory` must be an existing directory, relative to \
                 the workspace root",
                dir.display
            ),
        ));
    }
    let wants_off = args.sandbox.as_deref() == Some("off");
    let (confinement, escapes_sandbox) = match &ctx.sandbox {
        sandbox::ShellSandbox::Refused(why) => {
            return Err(ToolError::rejected(DEF.name, why.clone()));
        }
        sandbox::ShellSandbox::Unconfined => (Confinement::Unconfined, false),
        sandbox::ShellSandbox::Sandboxed { unsandboxed, .. } if wants_off => (
            Confinement::Unconfined,
            *unsandboxed == sandbox::Unsandboxed::AskUser,
        ),
        sandbox::ShellSandbox::Sandboxed { sandbox, .. } => {
            (Confinement::Sandboxed(Arc::clone(sandbox)), false)
        }
    };
    let mode = if args.is_background {
        Mode::Background
    } else {
        Mode::Foreground {
            timeout: Duration::from_millis(args.timeout.unwrap_or(DEFAULT_TIMEOUT_MS)),
        }
    };
    let first_line = args.command.lines().next().unwrap_or_default();
    let mut summary = format!(
        "Shell: {}",
        crate::textfile::truncate_at_char(first_line, 100)
    );
    if first_line.len() > 100 || args.command.trim_end().contains('\n') {
        summary.push_str(" …");
    }
    if mode == Mode::Background {
        summary.push_str(" (background)");
    }
    let unsandboxed = wants_off && matches!(ctx.sandbox, sandbox::ShellSandbox::Sandboxed { .. });
    if unsandboxed {
        summary.push_str(" — OUTSIDE THE SANDBOX");
    }
    let _ = args.description;
    let facts = Facts {
        summary,
        outside_workspace: dir.outside,
        private_network: false,
        details: ApprovalDetails::Shell {
            command: args.command.clone(),
            directory: if unsandboxed {
                format!(
                    "{} (outside the sandbox: no limits on files or network)",
                    dir.display
                )
            } else {
                dir.display.clone()
            },
        },
        // An unsandboxed run is never covered by what was allowed for sandboxed runs.
        permission_key: if unsandboxed {
            format!("unsandboxed: {}", args.command.trim())
        } else {
            permission_key(&args.command)
        },
        escapes_sandbox,
    };
    Ok((
        facts,
        Plan {
            command: args.command,
            dir,
            mode,
            confinement,
        },
    ))
}

/// Commands whose second word is a subcommand worth keeping in the permission key.
const WITH_SUBCOMMAND: &[&str] = &[
    "apt",
    "apt-get",
    "brew",
    "bun",
    "cargo",
    "composer",
    "deno",
    "docker",
    "dotnet",
    "gh",
    "git",
    "go",
    "gradle",
    "helm",
    "kubectl",
    "make",
    "mvn",
    "npm",
    "npx",
    "pip",
    "pip3",
    "pnpm",
    "poetry",
    "rustup",
    "systemctl",
    "uv",
    "yarn",
];

/// The key for "allow for this session": the command's first word, plus its subcommand for
/// tools such as `cargo test` or `git status`. A command that chains, pipes, redirects,
/// substitutes or sets variables is keyed by its whole text, so allowing `cargo test` never
/// allows `cargo test && rm -rf ~`.
pub fn permission_key(command: &str) -> String {
    let c = command.trim();
    if c.contains([
        ';', '&', '|', '`', '>', '<', '\n', '$', '(', ')', '\\', '"', '\'',
    ]) {
        return c.to_string();
    }
    let words: Vec<&str> = c.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [first, ..] if first.contains('=') => c.to_string(),
        [first, second, ..] if WITH_SUBCOMMAND.contains(first) && !second.starts_with('-') => {
            format!("{first} {second}")
        }
        [first, ..] => (*first).to_string(),
    }
}

pub(crate) async fn execute(
    plan: Plan,
    ctx: &ToolContext,
    cancel: CancellationToken,
    progress: &mpsc::UnboundedSender<ToolProgress>,
) -> ToolResult {
    let Some(tracker) = ctx.change_tracker.clone() else {
        return run(plan, ctx, cancel, progress).await;
    };
    // The tracker's work is blocking file I/O: off the async threads.
    let before = {
        let tracker = Arc::clone(&tracker);
        tokio::task::spawn_blocking(move || tracker.before_command())
            .await
            .unwrap_or_else(|e| Err(format!("internal error: {e}")))
    };
    let result = run(plan, ctx, cancel, progress).await;
    let after = match before {
        Ok(token) => tokio::task::spawn_blocking(move || tracker.after_command(token))
            .await
            .unwrap_or_else(|e| Err(format!("internal error: {e}"))),
        Err(e) => Err(e),
    };
    match after {
        Ok(notices) => append_notices(result, &notices, None),
        Err(e) => append_notices(result, &[], Some(&e)),
    }
}

/// Runs the command (the tracker's bracket is [`execute`]'s).
async fn run(
    plan: Plan,
    ctx: &ToolContext,
    cancel: CancellationToken,
    progress: &mpsc::UnboundedSender<ToolProgress>,
) -> ToolResult {
    let launcher = match &plan.confinement {
        Confinement::Sandboxed(s) => Some(s.launcher()),
        Confinement::Unconfined => None,
    };
    let spec = Spawn {
        command: &plan.command,
        dir: &plan.dir.path,
        env: &ctx.shell_env,
        policy: &ctx.shell_env_policy,
        launcher: launcher.as_ref(),
    };
    match plan.mode {
        Mode::Background => match spawn_background(spec, &ctx.background_dir) {
            Ok(bg) => {
                ctx.background_jobs.add(bg.pid);
                ToolResult::success(format!(
                    "Started in the background: pid {pid} (process group {pid}).\nOutput is \
                     written to {log}; read it with read_file, or run `tail -n 50 {log}`.\nTo \
                     stop it, run `kill -- -{pid}`; it is stopped when this qcode session ends.",
                    pid = bg.pid,
                    log = bg.log.display()
                ))
            }
            Err(e) => ToolResult::error(format!(
                "run_shell_command: could not start the command in the background: {e}"
            )),
        },
        Mode::Foreground { timeout } => {
            let outcome = match run_foreground(spec, timeout, &cancel, progress).await {
                Ok(o) => o,
                Err(e) => {
                    return ToolResult::error(format!(
                        "run_shell_command: could not run the command: {e}. Check that bash is \
                         installed and the directory is accessible"
                    ));
                }
            };
            let body = if outcome.output.trim().is_empty() {
                "Output: (empty)".to_string()
            } else {
                format!("Output:\n{}", outcome.output.trim_end())
            };
            let leftovers = if outcome.stopped_leftovers {
                format!(
                    "\n[processes the command left running in process group {} were stopped; \
                     use is_background=true for servers and watchers]",
                    outcome.pgid
                )
            } else {
                String::new()
            };
            match outcome.ending {
                Ending::Exited(status) => {
                    let head = describe_exit(status);
                    let mut text = format!("{}\n{body}{leftovers}", capitalize(&head));
                    // Also after a success: a chain's last command may succeed after an
                    // earlier one was stopped.
                    if let Confinement::Sandboxed(s) = &plan.confinement
                        && let Some(why) = s.explain_failure(&outcome.output, &plan.dir.path)
                    {
                        text.push_str("\n\n");
                        text.push_str(&why);
                    }
                    if status.success() {
                        ToolResult::success(text)
                    } else {
                        ToolResult::error(text)
                    }
                }
                Ending::TimedOut => ToolResult::error(format!(
                    "Timed out after {} ms; the command and every process it started were \
                     killed. Use a larger `timeout` (at most {MAX_TIMEOUT_MS}) or \
                     is_background=true for long-running commands.\n{body}",
                    timeout.as_millis()
                )),
                Ending::Cancelled => ToolResult::cancelled(format!(
                    "Cancelled by the user; the command and every process it started were \
                     killed.\n{body}"
                )),
            }
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
