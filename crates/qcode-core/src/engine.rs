//! The engine task: receives Ops, runs turns, applies configuration changes between turns.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use futures::future::BoxFuture;
use qcode_client::{ChatClient, CredentialSource};
use qcode_protocol::{
    ApprovalMode, AuthKind, ChatMessage, EngineHandle, ErrorKind, Event, Op, Problem, Usage,
    queue_pair,
};
use qcode_tools::{ToolContext, ToolRegistry};
use tokio::sync::mpsc::{Sender, UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::approval::{AllowList, Interaction};
use crate::turn::{TurnInput, run_turn};

/// Sampling parameters passed to every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sampling {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// The first request of each turn asks for a tool call (`tool_choice: "required"`),
    /// follow-ups after tool results for an answer (`"none"`). Test-only: set from
    /// `QCODE_TEST_FORCE_TOOL_CALL=1`, so that the real-model tier can drive a tool round trip
    /// through a small model that would otherwise just talk.
    pub force_tool_call: bool,
}

/// How the engine learns and enforces the model's limits (see [`crate::limits`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `model.contextWindow` is set: the server's figure does not replace it.
    pub context_window_pinned: bool,
    /// Ask the server's model listing for the window and output limit (in the background).
    pub discover: bool,
    /// Stop a reply that repeats the same passage (`model.loopDetection`).
    pub loop_detection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            context_window_pinned: false,
            discover: true,
            loop_detection: true,
        }
    }
}

/// The engine's starting configuration (an immutable snapshot; Ops produce new values).
pub struct EngineConfig {
    pub model: String,
    pub auth: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    pub approval_mode: ApprovalMode,
    pub allowed_tools: Vec<String>,
    /// Maximum model requests in the session (`--max-session-turns`).
    pub max_session_turns: Option<u32>,
    pub interaction: Interaction,
    pub sampling: Sampling,
    pub context_window: Option<u64>,
    pub limits: Limits,
    pub system_prompt: String,
    /// The conversation to continue (`--continue`, `--resume`), after the system prompt.
    pub initial_history: Vec<ChatMessage>,
    /// The recorded session's id, reported in [`Event::SessionConfigured`].
    pub session_id: Option<String>,
    pub cwd: String,
}

/// Credentials for another auth method, resolved when the user switches (`/auth`).
pub struct ResolvedAuth {
    pub kind: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    /// The model to use after the switch (e.g. `coder-model` for Qwen OAuth); `None` keeps it.
    pub model: Option<String>,
}

/// Resolves credentials for an auth method (implemented by the binary over `qcode-auth`).
/// A failure is reported to the front end as an [`Event::Error`] with its kind and hint.
pub trait AuthResolver: Send + Sync {
    fn resolve(&self, kind: AuthKind) -> BoxFuture<'_, Result<ResolvedAuth, Problem>>;
}

/// What the engine uses; built once by the binary.
pub struct EngineDeps {
    pub client: Arc<ChatClient>,
    pub tools: Arc<ToolRegistry>,
    pub tool_ctx: Arc<ToolContext>,
    pub auth_resolver: Option<Arc<dyn AuthResolver>>,
    /// The session's hooks (`None`: no hooks configured, or `disableAllHooks`).
    pub hooks: Option<Arc<qcode_extensions::hooks::HookRunner>>,
    /// The agents the `task` tool starts (`None`: no `task` tool). See [`crate::subagents`].
    pub subagents: Option<Arc<crate::subagents::Subagents>>,
}

/// Which engine a session is: the user's own, or a subagent a `task` call started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    Main,
    Subagent {
        /// What this engine's approval request ids start with (`<agent id>:`, after its
        /// parent's prefix), so that they are unique across the session's engines.
        prefix: String,
        /// 1 for a subagent of the main engine.
        depth: u32,
    },
}

/// Session state owned by the engine task.
pub(crate) struct Session {
    pub history: Vec<ChatMessage>,
    pub model: String,
    pub auth: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    pub approval_mode: ApprovalMode,
    pub allow: AllowList,
    /// The session's limit (`--max-session-turns`), counted over every engine of the session.
    pub max_requests: Option<u32>,
    /// Model requests of the whole session (shared with its subagents).
    pub requests_made: Arc<AtomicU32>,
    /// A subagent's own limit, and its requests so far.
    pub own_max_requests: Option<u32>,
    pub own_requests: u32,
    pub role: Role,
    pub interaction: Interaction,
    pub sampling: Sampling,
    pub context_window: Option<u64>,
    /// The window came from the settings (the server's figure does not replace it).
    pub window_pinned: bool,
    pub loop_detection: bool,
    /// Whether to ask the server's model listing at all ([`Limits::discover`]).
    pub discover: bool,
    /// What the server's model listing says (fetched in the background).
    pub server: crate::limits::ServerModels,
    pub cwd: String,
    pub session_id: Option<String>,
    pub total_usage: Usage,
    pub last_prompt_tokens: u64,
    pub next_turn_id: u64,
    pub deps: EngineDeps,
    /// What SessionStart hooks added to the system prompt (kept when the prompt is replaced).
    pub hook_context: Option<String>,
    /// `Op::ModelForNextTurn`: the model of the next user turn only.
    pub next_turn_model: Option<String>,
}

/// Sends events into the bounded event queue. When the front end falls behind, `send` waits
/// for room, so the engine (and through it the model stream) slows to the front end's pace
/// instead of buffering without limit. A closed receiver (front end gone) is not an error for
/// the engine: the event is dropped.
#[derive(Clone)]
pub(crate) struct EventTx(pub Sender<Event>);

impl EventTx {
    pub async fn send(&self, event: Event) {
        let _ = self.0.send(event).await;
    }

    pub async fn error(&self, kind: ErrorKind, message: impl Into<String>, hint: Option<String>) {
        self.send(Event::Error {
            kind,
            message: message.into(),
            hint,
        })
        .await;
    }
}

/// Starts the engine on the current tokio runtime; the front end gets its ends of the queue
/// pair ([`qcode_protocol::queue_pair`]: unbounded Ops, bounded Events).
pub fn spawn(config: EngineConfig, deps: EngineDeps) -> EngineHandle {
    let (handle, ends) = queue_pair();
    let mut history = vec![ChatMessage::system(config.system_prompt)];
    history.extend(config.initial_history);
    let mut session = Session {
        history,
        model: config.model,
        auth: config.auth,
        credentials: config.credentials,
        approval_mode: config.approval_mode,
        allow: AllowList::new(config.allowed_tools),
        max_requests: config.max_session_turns,
        requests_made: Arc::new(AtomicU32::new(0)),
        own_max_requests: None,
        own_requests: 0,
        role: Role::Main,
        interaction: config.interaction,
        sampling: config.sampling,
        context_window: config.context_window,
        window_pinned: config.limits.context_window_pinned,
        loop_detection: config.limits.loop_detection,
        discover: config.limits.discover,
        server: Default::default(),
        cwd: config.cwd,
        session_id: config.session_id,
        total_usage: Usage::default(),
        last_prompt_tokens: 0,
        next_turn_id: 1,
        deps,
        hook_context: None,
        next_turn_model: None,
    };
    start_discovery(&mut session);
    tokio::spawn(run(session, ends.ops, EventTx(ends.events)));
    handle
}

/// Starts `session` (a subagent's) on the current tokio runtime with a queue pair of its own.
pub(crate) fn spawn_session(session: Session) -> EngineHandle {
    let (handle, ends) = queue_pair();
    tokio::spawn(run(session, ends.ops, EventTx(ends.events)));
    handle
}

impl Session {
    pub fn configured_event(&self) -> Event {
        Event::SessionConfigured {
            model: self.model.clone(),
            auth: self.auth,
            approval_mode: self.approval_mode,
            cwd: self.cwd.clone(),
            context_window: self.context_window,
            session_id: self.session_id.clone(),
        }
    }
}

impl Session {
    /// The id of an approval request (or of a policy decision) about `call_id`: `kind-call_id`,
    /// prefixed for a subagent so that ids are unique across the session's engines.
    pub(crate) fn request_id(&self, kind: &str, call_id: &str) -> String {
        match &self.role {
            Role::Main => format!("{kind}-{call_id}"),
            Role::Subagent { prefix, .. } => format!("{prefix}{kind}-{call_id}"),
        }
    }

    /// Appends `message` to the history and reports it ([`Event::HistoryAppended`]).
    pub(crate) async fn append(&mut self, message: ChatMessage, tx: &EventTx) {
        self.history.push(message.clone());
        tx.send(Event::HistoryAppended { message }).await;
    }
}

/// Starts fetching the server's model listing in the background (it only asks when the
/// listing can tell something the settings and the catalogue do not; see [`crate::limits`]).
pub(crate) fn start_discovery(session: &mut Session) {
    // Qwen OAuth's models are in the catalogue and its server is never local; asking would
    // only cost a credentials check (a refresh, near expiry) beside the first request.
    if !session.discover || session.auth == AuthKind::QwenOauth {
        return;
    }
    session.server = crate::limits::ServerModels::pending(crate::limits::start_discovery(
        session.deps.client.clone(),
        session.credentials.clone(),
        session.window_pinned,
        session.model.clone(),
    ));
}

/// Tells the tools' change tracker (if any) about a turn boundary, off the async threads (it
/// may do file work).
pub(crate) async fn track(session: &Session, f: fn(&dyn qcode_tools::ChangeTracker)) {
    // A subagent's turn is part of its parent's.
    if session.role != Role::Main {
        return;
    }
    if let Some(tracker) = session.deps.tool_ctx.change_tracker.clone() {
        let _ = tokio::task::spawn_blocking(move || f(tracker.as_ref())).await;
    }
}

async fn run(mut session: Session, mut ops: UnboundedReceiver<Op>, tx: EventTx) {
    tx.send(session.configured_event()).await;
    let source = if session.history.len() > 1 {
        "resume"
    } else {
        "startup"
    };
    session_start(&mut session, source, &tx).await;
    let mut deferred: VecDeque<Op> = VecDeque::new();
    loop {
        let op = match deferred.pop_front() {
            Some(op) => op,
            None => {
                // While idle, a finished model listing is applied at once (the status line
                // shows the window before the first prompt).
                let next = if session.server.is_pending() {
                    tokio::select! {
                        op = ops.recv() => op,
                        _ = session.server.settle(std::time::Duration::from_secs(30)) => {
                            crate::limits::apply(&mut session, &tx).await;
                            continue;
                        }
                    }
                } else {
                    ops.recv().await
                };
                match next {
                    Some(op) => op,
                    None => break,
                }
            }
        };
        match op {
            Op::UserTurn { text } => {
                // A one-turn model (a custom command's `model`) replaces the session's for this
                // turn only; the session's comes back however the turn ends.
                let saved = session
                    .next_turn_model
                    .take()
                    .map(|m| std::mem::replace(&mut session.model, m));
                let shutdown = drive_turn(&mut session, text, &mut ops, &mut deferred, &tx).await;
                if let Some(model) = saved {
                    session.model = model;
                }
                if shutdown {
                    break;
                }
            }
            Op::ModelForNextTurn { model } => {
                let model = model.trim().to_string();
                session.next_turn_model = (!model.is_empty()).then_some(model);
            }
            Op::Interrupt => {}
            Op::ApprovalDecision { .. } => {}
            Op::SetModel { model } => {
                let model = model.trim().to_string();
                if model.is_empty() {
                    tx.error(ErrorKind::Input, "model name is empty", None)
                        .await;
                } else {
                    if !session.window_pinned {
                        session.context_window = qcode_config::context_window(&model);
                    }
                    session.model = model;
                    if session.server.is_known() {
                        crate::limits::apply(&mut session, &tx).await;
                    } else if !session.server.is_pending() {
                        start_discovery(&mut session);
                    }
                    tx.send(session.configured_event()).await;
                }
            }
            Op::SetApprovalMode { mode } => {
                session.approval_mode = mode;
                tx.send(session.configured_event()).await;
            }
            Op::SwitchAuth { auth } => switch_auth(&mut session, auth, &tx).await,
            Op::Compact => {
                crate::compact::compact(&mut session, &tx, CancellationToken::new()).await
            }
            Op::ClearHistory => {
                session_end(&session, "clear", &tx).await;
                track(&session, |t| t.conversation_cleared()).await;
                session.history.truncate(1);
                session.last_prompt_tokens = 0;
                tx.send(Event::HistoryCleared).await;
                session_start(&mut session, "clear", &tx).await;
            }
            Op::SetSystemPrompt { text } => {
                let text = with_hook_context(text, session.hook_context.as_deref());
                if let Some(first) = session.history.first_mut() {
                    *first = ChatMessage::system(text);
                }
                tx.send(Event::SystemPromptUpdated).await;
            }
            Op::Shutdown => break,
        }
    }
    let reason = if ops.is_closed() { "other" } else { "exit" };
    session_end(&session, reason, &tx).await;
    tx.send(Event::ShutdownComplete).await;
}

/// SessionStart hooks; what they print is added to the system prompt of this conversation.
async fn session_start(session: &mut Session, source: &str, tx: &EventTx) {
    let payload = qcode_extensions::hooks::EventPayload::SessionStart {
        source: source.to_string(),
    };
    let Some(outcome) = crate::hooks::run(session, payload, &CancellationToken::new(), tx).await
    else {
        return;
    };
    // A new start (after /clear) replaces what the previous start's hooks printed.
    session.hook_context = crate::hooks::context_of(&outcome);
    if let Some(first) = session.history.first_mut() {
        let base = first
            .content
            .split(HOOK_HEADING)
            .next()
            .unwrap_or_default()
            .to_string();
        first.content = with_hook_context(base, session.hook_context.as_deref());
    }
}

const HOOK_HEADING: &str = "\n\n# Session start hook output\n";

/// The system prompt with what SessionStart hooks printed, under its own heading.
fn with_hook_context(prompt: String, context: Option<&str>) -> String {
    match context {
        Some(c) => format!("{}{HOOK_HEADING}{}", prompt.trim_end(), c.trim_end()),
        None => prompt,
    }
}

async fn session_end(session: &Session, reason: &str, tx: &EventTx) {
    let payload = qcode_extensions::hooks::EventPayload::SessionEnd {
        reason: reason.to_string(),
    };
    crate::hooks::run(session, payload, &CancellationToken::new(), tx).await;
}

/// Runs one turn while still listening for Interrupt / ApprovalDecision / mode changes.
/// Returns true when a Shutdown arrived.
async fn drive_turn(
    session: &mut Session,
    text: String,
    ops: &mut UnboundedReceiver<Op>,
    deferred: &mut VecDeque<Op>,
    tx: &EventTx,
) -> bool {
    let cancel = CancellationToken::new();
    let (input_tx, mut input_rx) = unbounded_channel();
    let mut shutdown = false;
    let turn = run_turn(session, text, cancel.clone(), &mut input_rx, tx);
    tokio::pin!(turn);
    loop {
        tokio::select! {
            _ = &mut turn => break,
            op = ops.recv() => match op {
                None => {
                    cancel.cancel();
                    shutdown = true;
                }
                Some(Op::Interrupt) => cancel.cancel(),
                Some(Op::Shutdown) => {
                    cancel.cancel();
                    shutdown = true;
                }
                Some(Op::ApprovalDecision { request_id, decision }) => {
                    let _ = input_tx.send(TurnInput::Decision { request_id, decision });
                }
                Some(Op::SetApprovalMode { mode }) => {
                    let _ = input_tx.send(TurnInput::SetApprovalMode(mode));
                }
                Some(other @ (Op::UserTurn { .. }
                | Op::ModelForNextTurn { .. }
                | Op::SetModel { .. }
                | Op::SwitchAuth { .. }
                | Op::Compact
                | Op::ClearHistory
                | Op::SetSystemPrompt { .. })) => deferred.push_back(other),
            },
        }
    }
    shutdown
}

async fn switch_auth(session: &mut Session, kind: AuthKind, tx: &EventTx) {
    let Some(resolver) = session.deps.auth_resolver.clone() else {
        tx.error(
            ErrorKind::Config,
            "switching authentication is not available in this session",
            None,
        )
        .await;
        return;
    };
    match resolver.resolve(kind).await {
        Ok(resolved) => {
            session.auth = resolved.kind;
            session.credentials = resolved.credentials;
            if let Some(model) = resolved.model {
                if !session.window_pinned {
                    session.context_window = qcode_config::context_window(&model);
                }
                session.model = model;
            }
            // Another provider: what the old one listed says nothing about it.
            session.server.max_output = None;
            start_discovery(session);
            tx.send(session.configured_event()).await;
        }
        Err(problem) => tx.error(problem.kind, problem.message, problem.hint).await,
    }
}
