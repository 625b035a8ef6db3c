//! Interactive ratatui front end of qcode: app loop, transcript, composer, slash commands,
//! dialogs.
//!
//! The TUI drives the engine only through its queue pair ([`qcode_protocol::EngineHandle`]:
//! unbounded [`qcode_protocol::Op`]s in, a bounded queue of [`qcode_protocol::Event`]s out). It
//! must not reach into the engine, read configuration files, or do network I/O. What it knows
//! about the session (model, auth method, approval mode, context window) it learns from the
//! engine's `Event::SessionConfigured`. Commands whose back ends live elsewhere (`/auth`,
//! `/model`'s list, `/privacy`, `/memory`, `/resume`'s list, `/export`, `/rename`, `/rewind`'s
//! points, `/agents`, `/skills`, custom commands and MCP prompts — listed and expanded there; the
//! TUI only renders them and asks before a command's `!{…}` runs) call the [`Services`] the
//! binary passes in [`TuiOptions::services`], on spawned tasks; results (failures as
//! [`qcode_protocol::Problem`]) come back as [`AppEvent::Service`].
//! Switching to another session and rewinding are not done inside the TUI: it ends with
//! [`ExitReason::Switch`] or [`ExitReason::Rewind`] and the binary runs it again on the session
//! it then opens (the TUI never reads or writes session files).
//!
//! Shape: the private `runner` owns the terminal and one `select!` loop; [`App`] is the state
//! machine it feeds (keys, engine events, app events) and asks for scrollback lines, effects and
//! a bottom pane to draw, so tests drive it without a terminal. `App` is a few sub-states, each
//! a struct with its own methods and tests — `Transcript` (committed cells, the scrollback
//! queue), `RunningTurn` (the turn in flight: reasoning, streaming answer, running tools,
//! approval questions, queued prompts, local `!commands`), `Dialogs` (the open dialog and its
//! id, the pager, answers awaited from the engine), `Prompt` (the [`composer`], its popup,
//! the `@` file index, the hint line, Ctrl+C) and `Subagents` (a live block under each running
//! `task` call, collapsed to a summary line when it ends; each subagent's bounded log for the
//! Ctrl+O pager) — plus the status line and statistics. A new
//! feature adds a sub-state rather than fields on `App`. Widgets ([`approval`], [`dialog`],
//! [`markdown`], [`transcript`] cells, [`status`], [`popup`], [`pager`]) render into a
//! `Buffer` and each has snapshot tests.

pub mod app;
pub mod approval;
pub mod composer;
pub mod dialog;
pub mod files;
pub mod frame;
pub mod markdown;
pub mod pager;
pub mod popup;
mod runner;
pub mod screen;
pub mod services;
pub mod slash;
pub mod status;
mod term;
pub mod transcript;
pub mod wrap;

#[cfg(test)]
mod testutil;

use std::path::PathBuf;
use std::sync::Arc;

use qcode_protocol::{ApprovalMode, AuthKind, EngineHandle};

pub use app::{App, AppEvent, Effect, ServiceReply, SessionStats};
pub use services::{
    AgentInfo, AgentListing, ApiKeyInput, CommandExpansion, CommandRequest, CommandSource,
    CustomCommandInfo, CustomCommands, ElicitationPrompt, ExpandedPrompt, PrivacyStatus,
    RefreshedPrompt, RewindEntry, Services, SessionEntry, SkillInfo, SkillList, ToolInfo,
    UsageStatistics,
};

/// Everything the TUI needs to know at start; no secrets.
#[derive(Clone)]
pub struct TuiOptions {
    pub cwd: PathBuf,
    /// Shown by the welcome line and /about.
    pub version: String,
    /// Initial status-line values (replaced by `Event::SessionConfigured`).
    pub model: String,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
    pub context_window: Option<u64>,
    /// Per-project prompt history (JSON lines); `None` keeps history in memory only.
    pub history_file: Option<PathBuf>,
    /// NO_COLOR: no colours, bold and dim kept.
    pub no_color: bool,
    /// First-run privacy notice, shown once at the top of the session.
    pub privacy_notice: Option<String>,
    /// Models offered by the /model picker when there are no [`Services`] to list them
    /// (typing `/model <name>` accepts any name).
    pub models: Vec<String>,
    /// Back ends of /auth, /model, /privacy and /memory; without them those commands say
    /// they are not available.
    pub services: Option<Arc<dyn Services>>,
    /// The built-in tools, for /tools.
    pub tools: Vec<ToolInfo>,
    /// Open the /auth dialog at start (no usable credentials were found).
    pub open_auth_at_start: bool,
    /// The conversation of a resumed session, shown at start as it was.
    pub resumed: Vec<qcode_protocol::ChatMessage>,
    /// Shown on the status line (e.g. `resumed 1a2b3c4d`) until `/clear`.
    pub session_label: Option<String>,
    /// The shell sandbox's mode for the status line (`sandbox: workspace-write`); `None`:
    /// not shown.
    pub sandbox: Option<String>,
    /// Notices shown at start, after the resumed conversation (e.g. "no session to continue",
    /// what a rewind restored).
    pub start_notices: Vec<String>,
    /// Put into the input box at start (the prompt a rewind took back).
    pub initial_input: Option<String>,
    /// Open the `/resume` picker at start (`qcode -r` without an id).
    pub open_resume_at_start: bool,
    /// A rewind that was refused because of files changed outside qcode: ask whether to
    /// overwrite them.
    pub rewind_conflict: Option<RewindConflict>,
}

/// A refused rewind waiting for the user's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindConflict {
    pub turn: u32,
    pub scope: RewindScope,
    /// The files changed outside qcode (as shown).
    pub paths: Vec<String>,
}

impl std::fmt::Debug for TuiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TuiOptions")
            .field("cwd", &self.cwd)
            .field("version", &self.version)
            .field("model", &self.model)
            .field("auth", &self.auth)
            .field("approval_mode", &self.approval_mode)
            .field("context_window", &self.context_window)
            .field("history_file", &self.history_file)
            .field("no_color", &self.no_color)
            .field("privacy_notice", &self.privacy_notice.is_some())
            .field("models", &self.models)
            .field("services", &self.services.is_some())
            .field("tools", &self.tools.len())
            .field("open_auth_at_start", &self.open_auth_at_start)
            .field("resumed", &self.resumed.len())
            .field("session_label", &self.session_label)
            .field("sandbox", &self.sandbox)
            .field("start_notices", &self.start_notices.len())
            .field("initial_input", &self.initial_input.is_some())
            .field("open_resume_at_start", &self.open_resume_at_start)
            .field("rewind_conflict", &self.rewind_conflict)
            .finish()
    }
}

impl TuiOptions {
    /// Options with defaults for everything but the working directory and version.
    pub fn new(cwd: PathBuf, version: &str) -> Self {
        Self {
            cwd,
            version: version.to_string(),
            model: String::new(),
            auth: AuthKind::QwenOauth,
            approval_mode: ApprovalMode::Default,
            context_window: None,
            history_file: None,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            privacy_notice: None,
            models: Vec::new(),
            services: None,
            tools: Vec::new(),
            open_auth_at_start: false,
            resumed: Vec::new(),
            session_label: None,
            sandbox: None,
            start_notices: Vec::new(),
            initial_input: None,
            open_resume_at_start: false,
            rewind_conflict: None,
        }
    }
}

/// What `/rewind` restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewindScope {
    /// The files and the conversation.
    Both,
    /// The conversation only; the files stay as they are.
    ConversationOnly,
    /// The files only; the conversation stays as it is.
    CodeOnly,
}

/// Whether files changed outside qcode may be overwritten by a rewind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse and name them.
    Refuse,
    /// The user confirmed.
    Confirmed,
}

/// Why the TUI ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// /quit, Ctrl+D, or Ctrl+C twice.
    UserQuit,
    /// The engine closed its event channel or reported `ShutdownComplete`.
    EngineStopped,
    /// SIGTERM.
    Terminated,
    /// SIGHUP (the terminal went away).
    HangUp,
    /// `/resume` (or `qcode -r`'s picker) chose this session: the binary ends this one and
    /// runs the TUI again on the chosen one.
    Switch(String),
    /// `/rewind` chose to go back to before this turn (1-based user message): the binary ends
    /// the recording, rewinds, and runs the TUI again on the same session.
    Rewind {
        turn: u32,
        scope: RewindScope,
        overwrite: Overwrite,
        /// The prompt of that turn (put back into the input box).
        prompt: String,
    },
}

/// The result of a session.
#[derive(Debug, Clone)]
pub struct TuiExit {
    pub reason: ExitReason,
    pub stats: SessionStats,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "standard input/output is not a terminal; run qcode in an interactive terminal, or pass a prompt (-p) for headless mode"
    )]
    NotATerminal,
    #[error("terminal I/O failed: {0}; the terminal was restored — run `reset` if it looks wrong")]
    Io(#[from] std::io::Error),
}

/// Runs the interactive session until the user quits, the engine stops, or a signal arrives.
/// The terminal is restored in every case.
pub async fn run(handle: EngineHandle, options: TuiOptions) -> Result<TuiExit, TuiError> {
    runner::run(handle, options).await
}
