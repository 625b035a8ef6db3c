//! Glue between the session and `qcode-extensions`: the hook runner the engine calls, and
//! custom commands in headless runs. (Skills are loaded by `qcode_core::skills`.)

use std::sync::Arc;

use qcode_config::ConfigSnapshot;
use qcode_extensions::loader::{Root, Scope, Trust};

/// The session's hook runner from the user's and (trusted) project's settings, or `None` when
/// no hook is configured or `disableAllHooks` is set. Problems in the `hooks` values are
/// returned as warnings. Hooks get the core variables of qcode's environment (PATH, HOME,
/// locale, terminal), never the rest (API keys, tokens).
pub fn hook_runner(
    snapshot: &ConfigSnapshot,
    session_id: Option<&str>,
    transcript: Option<&std::path::Path>,
) -> (
    Option<Arc<qcode_extensions::hooks::HookRunner>>,
    Vec<String>,
) {
    use qcode_extensions::hooks::{HookConfig, HookEnv, HookRunner, HookSettings, SessionFacts};
    let trusted = snapshot.trust.is_trusted();
    let scopes: Vec<HookSettings> = snapshot
        .hook_layers
        .iter()
        .map(|l| HookSettings {
            scope: if l.project {
                Scope::Project
            } else {
                Scope::User
            },
            trust: if !l.project || trusted {
                Trust::Trusted
            } else {
                Trust::Untrusted
            },
            hooks: l.hooks.clone(),
            disable_all_hooks: l.disable_all_hooks,
        })
        .collect();
    let config = HookConfig::from_settings(&scopes);
    let warnings = config
        .problems
        .iter()
        .map(|p| format!("hooks: {p}"))
        .collect();
    if config.disabled || config.hooks.is_empty() {
        return (None, warnings);
    }
    let facts = SessionFacts {
        session_id: session_id.unwrap_or_default().to_string(),
        transcript_path: transcript
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        cwd: snapshot.cwd.display().to_string(),
    };
    let runner = HookRunner::new(config, HookEnv::core_from_process(), facts);
    (Some(Arc::new(runner)), warnings)
}

/// Asks the engine to end the session and waits until it has (its SessionEnd hooks, each
/// bounded by its own timeout, run before [`qcode_protocol::Event::ShutdownComplete`]); an
/// engine that is already gone ends the wait at once.
pub async fn shut_down(engine: qcode_core::EngineHandle) {
    let qcode_core::EngineHandle { ops, mut events } = engine;
    if ops.send(qcode_protocol::Op::Shutdown).is_err() {
        return;
    }
    let wait = async {
        while let Some(ev) = events.recv().await {
            if matches!(ev, qcode_protocol::Event::ShutdownComplete) {
                break;
            }
        }
    };
    let bound = qcode_extensions::hooks::MAX_TIMEOUT + std::time::Duration::from_secs(5);
    let _ = tokio::time::timeout(bound, wait).await;
}

/// A prompt that named a custom command, expanded.
pub struct ExpandedCommand {
    /// The prompt to send.
    pub prompt: String,
    /// The command's `model` frontmatter: the model of this one turn.
    pub model: Option<String>,
}

/// The custom-command catalog of a session: `<qcode home>/commands` (user), the project's
/// `.qwen/commands` and `.qcode/commands` with the folder's trust; `builtins` always win.
pub fn command_catalog(
    snapshot: &ConfigSnapshot,
    builtins: impl IntoIterator<Item = String>,
) -> qcode_extensions::Catalog<qcode_extensions::CustomCommand> {
    let trust = if snapshot.trust.is_trusted() {
        Trust::Trusted
    } else {
        Trust::Untrusted
    };
    let project = &snapshot.project_root;
    let roots = vec![
        Root::new(
            snapshot.paths.qcode_home.join("commands"),
            Scope::User,
            Trust::Trusted,
        ),
        Root::project(project, ".qwen/commands", trust),
        Root::project(project, ".qcode/commands", trust),
    ];
    qcode_extensions::commands::command_catalog(roots, builtins)
}

/// An expansion error as the user sees it (an input error; a refused `!{…}` names the ways
/// to allow it).
pub fn expand_problem(e: qcode_extensions::ExpandError) -> qcode_protocol::Problem {
    use qcode_protocol::{ErrorKind, Problem};
    let hint = match e {
        qcode_extensions::ExpandError::ShellDenied { .. } => Some(
            "pass --yolo, or pre-approve the command with --allowed-tools \"run_shell_command(<command>)\"".to_string(),
        ),
        _ => None,
    };
    let p = Problem::new(ErrorKind::Input, e.to_string());
    match hint {
        Some(h) => p.with_hint(h),
        None => p,
    }
}

/// `qcode -p "/name args"`: when the prompt's first word names a custom command (user
/// `<qcode home>/commands`, project `.qwen/commands`, `.qcode/commands`), its expansion;
/// `Ok(None)` for any other prompt (an unknown `/word` is sent as it is, as Qwen Code does).
/// `@{path}` is read by `read_file` (its limits; the workspace only); `!{command}` runs only
/// when the approval mode and `--allowed-tools` would let a shell call with that command run
/// without asking (a non-interactive run cannot ask). Any failure is an input error, before
/// anything is sent.
pub async fn expand_headless(
    snapshot: &ConfigSnapshot,
    prompt: &str,
) -> Result<Option<ExpandedCommand>, qcode_protocol::Problem> {
    let Some(rest) = prompt.trim_start().strip_prefix('/') else {
        return Ok(None);
    };
    let (name, args) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(n, a)| (n, a));
    if name.is_empty() {
        return Ok(None);
    }
    let builtins = qcode_telemetry::catalogue::BUILTIN_COMMANDS
        .iter()
        .map(|s| (*s).to_string());
    let mut catalog = command_catalog(snapshot, builtins);
    let refresh = catalog.refresh();
    let Some(command) = catalog.get(name) else {
        return Ok(None);
    };
    for d in &refresh.new_diagnostics {
        crate::exit::warn(format_args!("command {d}"));
    }
    let mut ctx = qcode_core::setup::build_tool_context(snapshot)?;
    // `!{…}` runs in the session's sandbox (its warnings are the session's to print).
    ctx.sandbox = crate::sandbox_cmd::shell_sandbox(snapshot).sandbox;
    let ctx = Arc::new(ctx);
    let files = ToolFiles { ctx: ctx.clone() };
    let shell = ToolShell {
        ctx,
        mode: snapshot.approval_mode.value,
        allowed: allowed_tools(snapshot),
        interaction: qcode_core::Interaction::Headless,
        approved: Vec::new(),
    };
    let prompt = command
        .expand(args, &files, &shell)
        .await
        .map_err(expand_problem)?;
    Ok(Some(ExpandedCommand {
        prompt,
        model: command.model.clone(),
    }))
}

fn tool_call(name: &str, arguments: serde_json::Value) -> qcode_protocol::ToolCall {
    qcode_protocol::ToolCall {
        id: "custom-command".into(),
        name: name.into(),
        arguments: arguments.to_string(),
    }
}

async fn run_prepared(
    prepared: qcode_tools::PreparedCall,
    ctx: &qcode_tools::ToolContext,
) -> qcode_tools::ToolResult {
    let (progress, _drop) = tokio::sync::mpsc::unbounded_channel();
    prepared
        .execute(ctx, tokio_util::sync::CancellationToken::new(), &progress)
        .await
}

/// `tools.allowed` / `--allowed-tools`, for deciding `!{…}` like a shell call.
pub fn allowed_tools(snapshot: &ConfigSnapshot) -> Vec<String> {
    snapshot
        .allowed_tools
        .iter()
        .map(|t| t.value.clone())
        .collect()
}

/// `@{path}` through `read_file`: the same limits, and only inside the workspace.
pub struct ToolFiles {
    pub ctx: Arc<qcode_tools::ToolContext>,
}

impl qcode_extensions::FileReader for ToolFiles {
    async fn read(&self, path: &str) -> Result<String, String> {
        let tools = qcode_tools::ToolRegistry::only(&["read_file"]);
        let call = tool_call("read_file", serde_json::json!({ "file_path": path }));
        let prepared = tools
            .prepare(&call, &self.ctx)
            .await
            .map_err(|e| e.message_for_model())?;
        if prepared.outside_workspace() {
            return Err("the file is outside the workspace".into());
        }
        let result = run_prepared(prepared, &self.ctx).await;
        match result.status {
            qcode_tools::ToolResultStatus::Success => Ok(result.output),
            _ => Err(result.output),
        }
    }
}

/// `!{command}` through `run_shell_command`, decided as a shell call of `interaction` would
/// be; `approved` are commands the user allowed when asked (interactive only).
pub struct ToolShell {
    pub ctx: Arc<qcode_tools::ToolContext>,
    pub mode: qcode_protocol::ApprovalMode,
    pub allowed: Vec<String>,
    pub interaction: qcode_core::Interaction,
    pub approved: Vec<String>,
}

impl ToolShell {
    /// How the approval policy decides `command` (before anything runs).
    pub async fn decide(&self, command: &str) -> Result<qcode_core::approval::Policy, String> {
        use qcode_core::approval::{AllowList, CallFacts, decide};
        let tools = qcode_tools::ToolRegistry::only(&["run_shell_command"]);
        let call = tool_call(
            "run_shell_command",
            serde_json::json!({ "command": command }),
        );
        let prepared = tools
            .prepare(&call, &self.ctx)
            .await
            .map_err(|e| e.message_for_model())?;
        let key = prepared.permission_key();
        let facts = CallFacts {
            tool: prepared.name(),
            class: prepared.kind(),
            leaves_workspace: prepared.outside_workspace(),
            permission_key: &key,
            escapes_sandbox: prepared.escapes_sandbox(),
        };
        let allow = AllowList::new(self.allowed.clone());
        Ok(decide(self.mode, &facts, &allow, self.interaction))
    }
}

impl qcode_extensions::ShellRunner for ToolShell {
    async fn run(&self, command: &str) -> Result<String, qcode_extensions::ShellRefusal> {
        use qcode_core::approval::Policy;
        use qcode_extensions::ShellRefusal;
        let policy = self.decide(command).await.map_err(ShellRefusal::Failed)?;
        let asked_and_allowed = self.approved.iter().any(|c| c == command);
        // The policy's own denial text speaks to the model; the user gets a plain reason.
        match (policy, self.interaction) {
            (Policy::Allow, _) => {}
            (Policy::Ask, qcode_core::Interaction::Interactive) if asked_and_allowed => {}
            (Policy::Ask, qcode_core::Interaction::Interactive) => {
                return Err(ShellRefusal::Denied("it was not approved".into()));
            }
            (Policy::Deny(_), qcode_core::Interaction::Interactive) => {
                return Err(ShellRefusal::Denied(format!(
                    "shell commands do not run in {} mode",
                    self.mode.as_str()
                )));
            }
            (Policy::Deny(_) | Policy::Ask, qcode_core::Interaction::Headless) => {
                return Err(ShellRefusal::Denied(format!(
                    "a shell command needs approval in {} mode, and a non-interactive run cannot ask",
                    self.mode.as_str()
                )));
            }
        }
        let tools = qcode_tools::ToolRegistry::only(&["run_shell_command"]);
        let call = tool_call(
            "run_shell_command",
            serde_json::json!({ "command": command }),
        );
        let prepared = tools
            .prepare(&call, &self.ctx)
            .await
            .map_err(|e| ShellRefusal::Failed(e.message_for_model()))?;
        let result = run_prepared(prepared, &self.ctx).await;
        match result.status {
            qcode_tools::ToolResultStatus::Success => Ok(command_output(&result.output)),
            _ => Err(ShellRefusal::Failed(result.output)),
        }
    }
}

/// The command's own output from the shell tool's answer (`Exit code 0\nOutput:\n…`): the
/// text after the `Output:` header (empty for `Output: (empty)`).
fn command_output(answer: &str) -> String {
    match answer.split_once("Output:\n") {
        Some((_, out)) => out.to_string(),
        None if answer.contains("Output: (empty)") => String::new(),
        None => answer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_output_is_the_text_after_the_header() {
        assert_eq!(command_output("Exit code 0\nOutput:\non-main"), "on-main");
        assert_eq!(command_output("Exit code 0\nOutput: (empty)"), "");
        assert_eq!(command_output("odd"), "odd");
    }
}
