//! The back ends of slash commands that live outside the TUI: listing models, signing in,
//! saving API keys, usage-statistics consent, the memory files, and the recorded sessions
//! (`/resume`'s list, `/export`, `/rename`, `/rewind`'s points), the subagent definitions
//! (`/agents`), custom commands and MCP prompts (their list and expansion), and the skills
//! (`/skills`). The binary implements
//! [`Services`]; the TUI calls it from spawned tasks and gets the results back on its internal
//! app-event channel, so the render loop never waits for I/O. The TUI itself never does network
//! I/O or reads configuration files.

use std::fmt;

use futures::future::BoxFuture;
use qcode_protocol::{AuthKind, LoginEvent, Problem, ProviderPreset};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// What the API-key form submits. The key is never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyInput {
    pub base_url: String,
    pub model: String,
    pub api_key: String,
}

impl fmt::Debug for ApiKeyInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyInput")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

/// A built-in tool as `/tools` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: String,
    /// One line.
    pub description: String,
    /// The permission class (`read-only`, `edit`, `execute`, `fetch`, `memory`, `plan`).
    pub permission: String,
}

/// Whether usage statistics are collected (`/privacy on|off`, `o` / `f` in the view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageStatistics {
    On,
    Off,
}

/// A rebuilt system prompt after the context files were re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshedPrompt {
    pub system_prompt: String,
    /// The context files now loaded (paths as shown to the user).
    pub files: Vec<String>,
}

/// Usage-statistics state for `/privacy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyStatus {
    /// The notice, the current state, the destination and the audit-log location.
    pub text: String,
    /// The newest audit-log lines, exactly as exported.
    pub log: Vec<String>,
}

/// A recorded session as the `/resume` picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    pub id: String,
    /// The `/rename` title, else the first line of the first prompt.
    pub title: String,
    /// When it was last written, as shown ("5 min ago", "2026-11-30 14:02").
    pub when: String,
    /// User messages.
    pub turns: usize,
    /// The first prompt (one line, shortened), empty when there is none.
    pub first_prompt: String,
}

/// A user message of this session that `/rewind` can go back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindEntry {
    /// 1-based user-message number in the transcript.
    pub turn: u32,
    pub prompt: String,
    /// The files that turn changed (as shown).
    pub files: Vec<String>,
}

/// A subagent definition as `/agents` lists it (display text, one line each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    pub name: String,
    /// When to use it (what the model is shown).
    pub description: String,
    /// Where it comes from: `built-in`, `user ~/.qcode/agents/x.md`, `project .qcode/agents/x.md`.
    pub source: String,
    /// The tools it may use (`every tool of the session except task`, or a list).
    pub tools: String,
    /// `inherit` or a model id.
    pub model: String,
}

/// What `/agents` shows: the usable definitions, and the files that were refused or could not
/// be read (with why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentListing {
    /// Sorted by name; the built-in `general-purpose` is among them.
    pub agents: Vec<AgentInfo>,
    pub problems: Vec<String>,
}

/// Where a custom command comes from, as `/help` and the completion popup mark it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSource {
    /// `~/.qcode/commands`.
    User,
    /// `<project>/.qcode/commands`.
    Project,
    /// `<project>/.qwen/commands` (Qwen Code's folder).
    ProjectQwen,
    /// A prompt of this MCP server.
    Mcp { server: String },
}

impl CommandSource {
    /// The short mark shown next to the command.
    pub fn label(&self) -> String {
        match self {
            Self::User => "user".into(),
            Self::Project => "project".into(),
            Self::ProjectQwen => "project .qwen".into(),
            Self::Mcp { server } => format!("MCP {server}"),
        }
    }
}

/// A custom command or MCP prompt the user can type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommandInfo {
    /// Typed as `/name` (`git:commit`, `mcp__server__prompt`).
    pub name: String,
    pub description: String,
    /// `<path>`, `[state]`; empty when there is none.
    pub argument_hint: String,
    pub source: CommandSource,
    /// Why it will not run here (e.g. it runs shell commands and the folder is not trusted).
    pub blocked: Option<String>,
}

/// The custom commands and MCP prompts of the session, as of now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomCommands {
    pub commands: Vec<CustomCommandInfo>,
    /// Problems found in command files, each reported once per session (a clash with a
    /// built-in name, a file that cannot be used).
    pub problems: Vec<String>,
}

/// What the user typed for a custom command, and what they allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRequest {
    pub name: String,
    pub args: String,
    /// The approval mode the TUI shows now (it decides `!{…}` like a shell call).
    pub mode: qcode_protocol::ApprovalMode,
    /// `!{…}` commands the user allowed when asked.
    pub approved: Vec<String>,
    /// The user allowed them for the rest of the session.
    pub for_session: bool,
}

/// An expanded custom command or MCP prompt: the user message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedPrompt {
    pub text: String,
    /// The command's `model`: used for this one turn.
    pub model: Option<String>,
}

/// The outcome of [`Services::expand_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandExpansion {
    /// No custom command or MCP prompt has that name.
    NotFound,
    Ready(ExpandedPrompt),
    /// Its `!{…}` commands need the user's approval first (nothing ran yet).
    NeedsApproval {
        commands: Vec<String>,
        /// Where they would run.
        directory: String,
    },
}

/// A skill of the session, as `/skills` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillInfo {
    pub name: String,
    pub description: String,
    /// `user`, `project`, `project .agents`, `project .qwen`.
    pub source: String,
}

/// `/skills`: the skills, and notes such as "the project's skills are not loaded: this
/// folder is not trusted".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillList {
    pub skills: Vec<SkillInfo>,
    pub notes: Vec<String>,
}

/// An MCP server's request for input (`elicitation/create`), as the dialog shows it: texts
/// free of control characters, the fields of its schema with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationPrompt {
    /// The answer goes back with this id.
    pub id: u64,
    /// The server's configured name (who asks).
    pub server: String,
    pub message: String,
    pub fields: Vec<qcode_protocol::elicitation::Field>,
}

/// Everything the TUI asks of the outside world. Object-safe; every call returns a boxed
/// future that the TUI runs on a spawned task. Failures are [`Problem`]s; the TUI shows them
/// with [`Problem::one_line`].
pub trait Services: Send + Sync {
    /// The model ids of the provider behind `auth` (`GET {base}/models` with its credentials).
    /// `auth` is the method the TUI shows, learnt from the engine's `SessionConfigured`.
    fn list_models(&self, auth: AuthKind) -> BoxFuture<'_, Result<Vec<String>, Problem>>;

    /// The provider presets for the API-key form.
    fn provider_presets(&self) -> Vec<ProviderPreset>;

    /// Runs the Qwen OAuth device flow, reporting progress on `progress`, until the user
    /// approves (→ where the credentials were saved), it fails (→ the exact reason), or
    /// `cancel` fires. On success the method is also recorded as selected in the user settings.
    fn qwen_login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, Problem>>;

    /// Checks the key against the provider first, then saves it in the user's credentials file
    /// and records the method as selected; returns where it was saved.
    fn save_api_key(&self, input: ApiKeyInput) -> BoxFuture<'_, Result<String, Problem>>;

    /// The privacy notice, state, destination and the newest `log_lines` audit-log events.
    fn privacy_status(&self, log_lines: usize) -> BoxFuture<'_, PrivacyStatus>;

    /// Turns usage statistics on or off (persisted; off also stops this session at once);
    /// returns the confirmation to show.
    fn set_usage_statistics(
        &self,
        choice: UsageStatistics,
    ) -> BoxFuture<'_, Result<String, Problem>>;

    /// The loaded context files with their paths and contents.
    fn memory_show(&self) -> BoxFuture<'_, String>;

    /// Appends a fact to the global memory file; returns the confirmation to show.
    fn memory_add(&self, fact: String) -> BoxFuture<'_, Result<String, Problem>>;

    /// Re-reads the context files and rebuilds the system prompt.
    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, Problem>>;

    /// This project's recorded sessions, newest first (`/resume`).
    fn list_sessions(&self) -> BoxFuture<'_, Result<Vec<SessionEntry>, Problem>>;

    /// Writes the current session to `file` (a path typed after `/export`; `None`: the default
    /// name in the working directory), never over an existing file; the format follows the
    /// extension (`.json`, `.jsonl`, else markdown). Returns what to show (where it wrote).
    fn export_session(&self, file: Option<String>) -> BoxFuture<'_, Result<String, Problem>>;

    /// Records `title` as the current session's title (`/rename`); returns what to show.
    fn rename_session(&self, title: String) -> BoxFuture<'_, Result<String, Problem>>;

    /// The user messages of the current session with the files each turn changed, oldest
    /// first (`/rewind`).
    fn rewind_points(&self) -> BoxFuture<'_, Result<Vec<RewindEntry>, Problem>>;

    /// `/mcp`: the session's MCP servers, one line each (status, tool count, error).
    fn mcp_status(&self) -> BoxFuture<'_, String>;

    /// `/agents`: the subagent definitions (user, project, built-in) with the trust rules of
    /// the session applied, read from disk now.
    fn list_agents(&self) -> BoxFuture<'_, Result<AgentListing, Problem>>;
    /// `/mcp reconnect NAME`: stops the server, starts it again and lists its tools anew;
    /// returns what to show (its new state).
    fn mcp_reconnect(&self, name: String) -> BoxFuture<'_, Result<String, Problem>>;

    /// `/mcp login NAME`: runs the server's OAuth sign-in (the flow of `qcode mcp login NAME`:
    /// the authorization URL opened through `BROWSER` or the platform's opener), sending each
    /// line to show on `progress` (the URL among them), until it succeeds (→ the server is
    /// reconnected; what to show), fails (→ the exact reason) or `cancel` fires.
    fn mcp_login(
        &self,
        name: String,
        cancel: CancellationToken,
        progress: UnboundedSender<String>,
    ) -> BoxFuture<'_, Result<String, Problem>>;

    /// The next request for input from an MCP server (the TUI shows it as a dialog); `None`
    /// when no more can come (the TUI stops asking).
    fn next_elicitation(&self) -> BoxFuture<'_, Option<ElicitationPrompt>>;

    /// The user's answer to the request `id` (already checked against its fields). Must not
    /// block.
    fn answer_elicitation(&self, id: u64, answer: qcode_protocol::elicitation::ElicitationAnswer);

    /// A built-in slash command ran (its canonical name from the command table), for the
    /// anonymous usage statistics. Must not block.
    fn command_used(&self, _name: &'static str) {}

    /// The custom commands and MCP prompts, re-read if a command file changed (a stat-only
    /// check when nothing did).
    fn custom_commands(&self) -> BoxFuture<'_, CustomCommands> {
        Box::pin(async { CustomCommands::default() })
    }

    /// Expands `/name args` as headless does; a failure (a missing file, a failing command,
    /// a missing MCP prompt argument) is a [`Problem`] and nothing is to be sent.
    fn expand_command(
        &self,
        _request: CommandRequest,
    ) -> BoxFuture<'_, Result<CommandExpansion, Problem>> {
        Box::pin(async { Ok(CommandExpansion::NotFound) })
    }

    /// A custom command or MCP prompt was sent, for the usage statistics (recorded as
    /// `custom`, never its name). Must not block.
    fn custom_command_used(&self) {}

    /// The session's skills (`/skills`).
    fn skills(&self) -> BoxFuture<'_, SkillList> {
        Box::pin(async { SkillList::default() })
    }
}
