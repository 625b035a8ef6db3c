//! The TUI's custom commands, MCP prompts and `/skills` ([`qcode_tui::Services`] methods):
//! the session's command catalog (the loader's stat-only reload on every listing and lookup),
//! expansion exactly as headless (`src/extensions_glue.rs`: `@{…}` through `read_file`,
//! `!{…}` through `run_shell_command`) but decided as an interactive shell call — what would
//! ask is returned to the TUI to ask, and runs only once the user allowed it — and MCP prompts
//! through `qcode_mcp::McpManager::get_prompt`.

use std::sync::{Arc, Mutex};

use qcode_config::ConfigSnapshot;
use qcode_extensions::{Catalog, CustomCommand, ExpandError, Scope};
use qcode_protocol::{ErrorKind, Problem};
use qcode_tui::{
    CommandExpansion, CommandRequest, CommandSource, CustomCommandInfo, CustomCommands,
    ExpandedPrompt, SkillInfo, SkillList,
};

use crate::extensions_glue::{ToolFiles, ToolShell};

/// How long a listing waits for the MCP servers' prompts.
const LIST_PROMPTS_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// What an untrusted project's `!{…}` command says in listings.
const UNTRUSTED: &str = "it runs shell commands and this folder is not trusted (`qcode trust`)";

/// The session's custom commands and what the user allowed for the session.
pub struct CommandBackend {
    snapshot: ConfigSnapshot,
    catalog: Arc<Mutex<Catalog<CustomCommand>>>,
    /// `!{…}` commands allowed "for the session".
    granted: Mutex<Vec<String>>,
    /// Problems a lookup found that no listing has reported yet.
    unreported: Arc<Mutex<Vec<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CommandBackend {
    pub fn new(snapshot: ConfigSnapshot) -> Self {
        let catalog =
            crate::extensions_glue::command_catalog(&snapshot, qcode_tui::slash::builtin_names());
        Self {
            snapshot,
            catalog: Arc::new(Mutex::new(catalog)),
            granted: Mutex::new(Vec::new()),
            unreported: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Refreshes the catalog off the async thread (stat only when nothing changed); `f` reads
    /// it. Problems found for the first time wait for the next listing.
    async fn with_catalog<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Catalog<CustomCommand>) -> T + Send + 'static,
    ) -> Result<T, Problem> {
        let catalog = self.catalog.clone();
        let unreported = self.unreported.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = lock(&catalog);
            let refresh = c.refresh();
            lock(&unreported).extend(
                refresh
                    .new_diagnostics
                    .iter()
                    .map(|d| format!("command {d}")),
            );
            f(&c)
        })
        .await
        .map_err(|_| Problem::internal("reading the custom commands failed unexpectedly"))
    }

    fn source(&self, c: &CustomCommand) -> CommandSource {
        match c.origin.scope {
            Scope::User => CommandSource::User,
            Scope::Project
                if c.origin
                    .path
                    .starts_with(self.snapshot.project_root.join(".qwen/commands")) =>
            {
                CommandSource::ProjectQwen
            }
            Scope::Project => CommandSource::Project,
        }
    }

    /// The custom commands, then the MCP prompts (a custom command of the same name wins).
    pub async fn list(&self, mcp: Option<&crate::mcp_glue::McpTools>) -> CustomCommands {
        let listed = self
            .with_catalog(|c| c.items().values().cloned().collect::<Vec<_>>())
            .await;
        let mut problems = std::mem::take(&mut *lock(&self.unreported));
        let commands = listed.unwrap_or_else(|p| {
            problems.push(p.one_line());
            Vec::new()
        });
        let mut out: Vec<CustomCommandInfo> = commands
            .iter()
            .map(|c| CustomCommandInfo {
                name: c.name.clone(),
                description: c.description.clone().unwrap_or_default(),
                argument_hint: c.argument_hint.clone().unwrap_or_default(),
                source: self.source(c),
                blocked: c.needs_trust().then(|| UNTRUSTED.to_string()),
            })
            .collect();
        if let Some(mcp) = mcp {
            // A slow server must not hold back the custom commands: its prompts are left out
            // of this listing (the next one asks again).
            let prompts = tokio::time::timeout(LIST_PROMPTS_WITHIN, mcp.manager().prompts())
                .await
                .unwrap_or_default();
            for p in prompts {
                if out.iter().any(|c| c.name == p.name) {
                    continue;
                }
                out.push(CustomCommandInfo {
                    argument_hint: p.argument_hint(),
                    name: p.name,
                    description: p.description,
                    source: CommandSource::Mcp { server: p.server },
                    blocked: None,
                });
            }
        }
        CustomCommands {
            commands: out,
            problems,
        }
    }

    /// `/name args` (see [`qcode_tui::Services::expand_command`]).
    pub async fn expand(
        &self,
        request: CommandRequest,
        mcp: Option<&crate::mcp_glue::McpTools>,
    ) -> Result<CommandExpansion, Problem> {
        let name = request.name.clone();
        let command = self.with_catalog(move |c| c.get(&name).cloned()).await?;
        let Some(command) = command else {
            return match mcp {
                Some(mcp) if request.name.starts_with(qcode_mcp::names::PREFIX) => {
                    mcp_prompt(mcp, &request).await
                }
                _ => Ok(CommandExpansion::NotFound),
            };
        };
        let mut granted = lock(&self.granted).clone();
        if request.for_session {
            lock(&self.granted).extend(request.approved.iter().cloned());
        }
        granted.extend(request.approved.iter().cloned());
        let ctx = Arc::new(qcode_core::setup::build_tool_context(&self.snapshot)?);
        let shell = ToolShell {
            ctx: ctx.clone(),
            mode: request.mode,
            allowed: crate::extensions_glue::allowed_tools(&self.snapshot),
            interaction: qcode_core::Interaction::Interactive,
            approved: granted,
        };
        // What would ask is asked by the TUI first; nothing runs before the answer.
        let mut ask = Vec::new();
        for c in command
            .shell_commands(&request.args)
            .await
            .map_err(tui_problem)?
        {
            let policy = shell.decide(&c).await.map_err(|e| {
                Problem::new(
                    ErrorKind::Input,
                    format!("/{}: !{{{c}}}: {e}", command.name),
                )
            })?;
            if policy == qcode_core::approval::Policy::Ask && !shell.approved.contains(&c) {
                ask.push(c);
            }
        }
        if !ask.is_empty() {
            return Ok(CommandExpansion::NeedsApproval {
                commands: ask,
                directory: self.snapshot.cwd.display().to_string(),
            });
        }
        let text = command
            .expand(&request.args, &ToolFiles { ctx }, &shell)
            .await
            .map_err(tui_problem)?;
        Ok(CommandExpansion::Ready(ExpandedPrompt {
            text,
            model: command.model.clone(),
        }))
    }
}

/// An expansion error in the TUI (the hint speaks of what the TUI can do).
fn tui_problem(e: ExpandError) -> Problem {
    let hint = match &e {
        ExpandError::ShellDenied { .. } => {
            Some("switch the approval mode (Shift+Tab) and allow it when asked".to_string())
        }
        _ => None,
    };
    let p = Problem::new(ErrorKind::Input, e.to_string());
    match hint {
        Some(h) => p.with_hint(h),
        None => p,
    }
}

/// `/mcp__server__prompt args`: the prompt's messages as one user message (an assistant
/// message is kept, marked as such).
async fn mcp_prompt(
    mcp: &crate::mcp_glue::McpTools,
    request: &CommandRequest,
) -> Result<CommandExpansion, Problem> {
    use qcode_mcp::{PromptError, PromptRole};
    // A prompt typed while its server is still starting waits for it (as the first model
    // request waits for tools).
    mcp.manager()
        .wait_ready(qcode_mcp::DEFAULT_DISCOVERY_TIMEOUT)
        .await;
    let messages = match mcp.manager().get_prompt(&request.name, &request.args).await {
        Ok(m) => m,
        Err(PromptError::Unknown(_)) => return Ok(CommandExpansion::NotFound),
        Err(e) => return Err(Problem::new(ErrorKind::Input, e.to_string())),
    };
    let text = messages
        .iter()
        .map(|m| match m.role {
            PromptRole::User => m.text.clone(),
            PromptRole::Assistant => format!("(assistant) {}", m.text),
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    if text.trim().is_empty() {
        return Err(Problem::new(
            ErrorKind::Input,
            format!("/{}: the MCP prompt has no text", request.name),
        ));
    }
    Ok(CommandExpansion::Ready(ExpandedPrompt {
        text,
        model: None,
    }))
}

/// `/skills`: the session's skills (the same folders and trust as at start, read again).
pub async fn skills(snapshot: &ConfigSnapshot) -> SkillList {
    let snapshot = snapshot.clone();
    tokio::task::spawn_blocking(move || {
        let loaded = qcode_core::skills::load(&snapshot);
        let root = &snapshot.project_root;
        let skills = loaded
            .skills
            .list()
            .into_iter()
            .map(|s| {
                let source = match s.origin.scope {
                    Scope::User => "user",
                    Scope::Project if s.origin.path.starts_with(root.join(".agents")) => {
                        "project .agents"
                    }
                    Scope::Project if s.origin.path.starts_with(root.join(".qwen")) => {
                        "project .qwen"
                    }
                    Scope::Project => "project",
                };
                SkillInfo {
                    name: s.name,
                    description: s.description,
                    source: source.to_string(),
                }
            })
            .collect();
        SkillList {
            skills,
            notes: loaded.notices,
        }
    })
    .await
    .unwrap_or_default()
}
