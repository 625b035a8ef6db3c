//! The engine's queue pair: front ends submit [`Op`]s and render [`Event`]s.

use serde::{Deserialize, Serialize};

use crate::{ChatMessage, FinishReason, Usage};

/// How much the engine may do without asking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalMode {
    /// Read-only tools only; anything that writes or executes is refused.
    Plan,
    /// Ask before edits, writes, shell commands and web fetches.
    #[default]
    Default,
    /// Edits inside the workspace are allowed; shell and fetches still ask.
    AutoEdit,
    /// Everything is allowed.
    Yolo,
}

impl ApprovalMode {
    pub const ALL: [ApprovalMode; 4] = [Self::Plan, Self::Default, Self::AutoEdit, Self::Yolo];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Default => "default",
            Self::AutoEdit => "auto-edit",
            Self::Yolo => "yolo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "plan" => Some(Self::Plan),
            "default" => Some(Self::Default),
            "auto-edit" | "autoedit" => Some(Self::AutoEdit),
            "yolo" => Some(Self::Yolo),
            _ => None,
        }
    }

    /// The next mode in the Shift+Tab cycle.
    pub fn next(self) -> Self {
        match self {
            Self::Plan => Self::Default,
            Self::Default => Self::AutoEdit,
            Self::AutoEdit => Self::Yolo,
            Self::Yolo => Self::Plan,
        }
    }
}

/// Which authentication method is active. Carries no secret: credentials are resolved by the
/// engine from the credential stores when the switch is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    QwenOauth,
    /// An OpenAI-compatible base URL + API key.
    Openai,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QwenOauth => "qwen-oauth",
            Self::Openai => "openai",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "qwen-oauth" | "qwen" | "oauth" => Some(Self::QwenOauth),
            "openai" | "api-key" | "apikey" | "key" => Some(Self::Openai),
            _ => None,
        }
    }
}

/// A user's answer to an approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ReviewDecision {
    AllowOnce,
    /// Allow this tool (or, for shell, this command prefix) for the rest of the session.
    AllowForSession,
    /// Refuse; the optional message is passed to the model.
    Deny {
        message: Option<String>,
    },
}

/// Who made an approval decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionSource {
    User,
    /// The approval mode or an allow-list decided without asking.
    Policy,
    /// A headless run, which cannot ask, denied it.
    Headless,
}

/// What the user needs to see to decide on a tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalDetails {
    /// A file edit or write: the path and a unified diff.
    Edit { path: String, diff: String },
    /// A shell command and the directory it runs in.
    Shell { command: String, directory: String },
    /// A web fetch.
    Fetch { url: String },
    /// Anything else: a one-line summary.
    Other { summary: String },
}

/// State of one plan item kept by `todo_write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    Pending,
    InProgress,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub id: String,
    pub content: String,
    pub status: TodoStatus,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    Success,
    /// The tool ran (or tried to) and failed; the model was told why.
    Error,
    /// Approval was refused; the model was told.
    Denied,
    /// The turn was interrupted while the tool ran.
    Cancelled,
}

/// A closed list of error kinds: used for exit codes, hints and anonymous statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Missing, invalid or expired credentials (401/403).
    Auth,
    /// Bad settings, bad URL, incomplete provider configuration.
    Config,
    /// Bad user input, e.g. an empty prompt.
    Input,
    /// Could not connect, connection reset, timeout.
    Network,
    /// 429 after all retries.
    RateLimit,
    /// The account's quota is exhausted.
    Quota,
    /// 5xx after all retries.
    Server,
    /// 404: unknown model or wrong base URL.
    NotFound,
    /// The prompt does not fit the model's context window.
    ContextTooLong,
    /// Other 4xx from the provider.
    BadRequest,
    /// The stream broke or contained an error object.
    Stream,
    /// The session hit its turn limit.
    TurnLimit,
    /// A tool failed in a way that stops the turn.
    Tool,
    /// The user interrupted.
    Interrupted,
    /// A bug in qcode.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Config => "config",
            Self::Input => "input",
            Self::Network => "network",
            Self::RateLimit => "rate_limit",
            Self::Quota => "quota",
            Self::Server => "server",
            Self::NotFound => "not_found",
            Self::ContextTooLong => "context_too_long",
            Self::BadRequest => "bad_request",
            Self::Stream => "stream",
            Self::TurnLimit => "turn_limit",
            Self::Tool => "tool",
            Self::Interrupted => "interrupted",
            Self::Internal => "internal",
        }
    }
}

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnOutcome {
    /// The model answered without further tool calls.
    Completed,
    Interrupted,
    /// An error ended the turn (an `Event::Error` preceded this).
    Failed,
    /// `--max-session-turns` was reached.
    TurnLimit,
}

/// What a front end asks the engine to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// The user's next message; starts a turn.
    UserTurn {
        text: String,
    },
    /// The next `UserTurn` (only that one) uses `model` for its requests; the session's model
    /// stays as it is (a custom command's `model` frontmatter).
    ModelForNextTurn {
        model: String,
    },
    /// Cancel the running turn (Esc / Ctrl-C).
    Interrupt,
    /// Answer an `Event::ApprovalRequest`.
    ApprovalDecision {
        request_id: String,
        decision: ReviewDecision,
    },
    /// Use another model from the next request on.
    SetModel {
        model: String,
    },
    SetApprovalMode {
        mode: ApprovalMode,
    },
    /// Switch authentication method; credentials are re-read from the stores.
    SwitchAuth {
        auth: AuthKind,
    },
    /// Summarise older history to free context.
    Compact,
    /// Forget the conversation.
    ClearHistory,
    /// Replace the system prompt (e.g. after context files changed: `/memory refresh`).
    SetSystemPrompt {
        text: String,
    },
    /// Stop the engine after the running turn is cancelled.
    Shutdown,
}

/// What the engine reports, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The engine is ready (also sent again after a model / auth / mode change).
    SessionConfigured {
        model: String,
        auth: AuthKind,
        approval_mode: ApprovalMode,
        cwd: String,
        /// Known context window of the model, when it is in the catalogue.
        context_window: Option<u64>,
        /// The recorded session's id (for `qcode --resume ID`), when there is one.
        #[serde(default)]
        session_id: Option<String>,
    },
    TurnStarted {
        turn_id: u64,
    },
    /// A new model request begins (a turn makes one per tool round).
    RequestStarted {
        turn_id: u64,
        request: u32,
    },
    TextDelta {
        text: String,
    },
    ReasoningDelta {
        text: String,
    },
    /// The model finished one reply of the turn.
    ResponseComplete {
        finish: FinishReason,
    },
    ToolCallBegin {
        call_id: String,
        name: String,
        /// A one-line human summary ("Read src/main.rs", "Shell: cargo test").
        summary: String,
        arguments: serde_json::Value,
    },
    /// Streamed output of a running tool (shell).
    ToolOutputDelta {
        call_id: String,
        chunk: String,
    },
    /// Progress reported by a running tool (an MCP server's `notifications/progress`):
    /// `progress` so far, out of `total` when the tool knows it, with an optional message.
    /// Front ends show it on the call's line; it is never recorded.
    ToolProgress {
        call_id: String,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    },
    ToolCallEnd {
        call_id: String,
        name: String,
        status: ToolStatus,
        /// Exactly what the model receives as the result.
        output: String,
        /// A unified diff, for edits.
        diff: Option<String>,
        duration_ms: u64,
    },
    ApprovalRequest {
        request_id: String,
        call_id: String,
        tool: String,
        details: ApprovalDetails,
    },
    ApprovalDecided {
        request_id: String,
        call_id: String,
        tool: String,
        decision: ReviewDecision,
        source: DecisionSource,
    },
    TodoUpdate {
        todos: Vec<TodoItem>,
    },
    /// Token usage of one request, and the session's running total.
    Usage {
        usage: Usage,
        total: Usage,
    },
    /// A failed request is being retried.
    Retry {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    /// A hook ran (or was not run): which event, its command, where it was configured
    /// (`user` or `project`), how it ended (`success`, `blocked`, `failed`, `timed_out`,
    /// `cancelled`, `not_started`, `skipped_untrusted`) and, when there is one, what the user
    /// should read (the block reason, the failure). A hook's stdout is never in here.
    Hook {
        hook_event: String,
        command: String,
        scope: String,
        status: String,
        message: Option<String>,
    },
    /// A subagent started for the parent's `task` call `parent_call_id`. `agent_id` is unique
    /// in the session; `subagent_type` names its definition; `description` is the few words
    /// the model gave (shown to the user).
    SubagentStarted {
        agent_id: String,
        parent_call_id: String,
        subagent_type: String,
        description: String,
    },
    /// One event of a running subagent, exactly as its own engine reported it (text, tool
    /// calls, approval requests, usage, warnings, history…). An approval request inside is
    /// answered with the ordinary `Op::ApprovalDecision` (request ids are unique across the
    /// session's engines).
    Subagent {
        agent_id: String,
        parent_call_id: String,
        event: Box<Event>,
    },
    /// A subagent ended: `status` is `completed`, `failed`, `cancelled` or `limit` (a request
    /// or session limit stopped it); `usage` is what its requests used (already added to the
    /// session's total).
    SubagentFinished {
        agent_id: String,
        parent_call_id: String,
        status: String,
        usage: Usage,
        duration_ms: u64,
    },
    /// Something the user should know that does not stop the turn.
    Warning {
        message: String,
    },
    /// An error that ended the turn (or could not start it).
    Error {
        kind: ErrorKind,
        message: String,
        hint: Option<String>,
    },
    TurnComplete {
        turn_id: u64,
        outcome: TurnOutcome,
    },
    /// A message was appended to the conversation history the next request sends: the user
    /// message (before the request carrying it), each complete assistant message (with its tool
    /// calls; also the partial text kept on an interrupt or failure) and every tool result
    /// (denied, invalid and cancelled ones included). Replaying these events (and
    /// [`Event::Compacted`], [`Event::HistoryCleared`]) after the system prompt rebuilds the
    /// history exactly; a session recorder writes them to the transcript.
    HistoryAppended {
        message: ChatMessage,
    },
    /// History was compressed: the oldest `replaced` conversation messages (the system prompt
    /// not counted) were replaced by `messages` (the summary and its acknowledgement).
    Compacted {
        before_tokens: u64,
        after_tokens: u64,
        /// The summary the model wrote.
        summary: String,
        replaced: u64,
        messages: Vec<ChatMessage>,
    },
    HistoryCleared,
    /// The system prompt was replaced.
    SystemPromptUpdated,
    ShutdownComplete,
}

/// The one-line notice for an `Event::Retry`, shared by every front end:
/// `rate limited (HTTP 429); retrying in 2.0 s (2/5)`.
pub fn retry_notice(reason: &str, attempt: u32, max_attempts: u32, delay_ms: u64) -> String {
    let secs = (delay_ms as f64 / 1000.0).max(0.1);
    format!("{reason}; retrying in {secs:.1} s ({attempt}/{max_attempts})")
}
