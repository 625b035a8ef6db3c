//! Driving the engine directly through its queue pair against the mock model server.

use std::sync::Arc;
use std::time::Duration;

use qcode_client::{ChatClient, ClientOptions, RetryPolicy, Secret, StaticCredentials};
use qcode_core::{EngineConfig, EngineDeps, EngineHandle, Interaction, Sampling};
use qcode_protocol::{ApprovalMode, AuthKind, Event, Op};
use qcode_test_support::mock_model::MockServer;

pub struct Engine {
    pub handle: EngineHandle,
    pub dir: tempfile::TempDir,
    pub mock: MockServer,
}

pub fn start(mode: ApprovalMode, context_window: Option<u64>) -> Engine {
    start_tracked(mode, context_window, None)
}

/// [`start`] with a change tracker in the tool context.
pub fn start_tracked(
    mode: ApprovalMode,
    context_window: Option<u64>,
    tracker: Option<Arc<dyn qcode_tools::ChangeTracker>>,
) -> Engine {
    start_full(mode, context_window, tracker, |_| None)
}

/// [`start`] with the hook runner `hooks` builds for the engine's scratch directory.
pub fn start_hooked(
    mode: ApprovalMode,
    hooks: impl FnOnce(&std::path::Path) -> Option<Arc<qcode_core::HookRunner>>,
) -> Engine {
    start_full(mode, None, None, hooks)
}

/// [`start`] with the `task` tool offering `agents` (and the built-in `general-purpose`).
pub fn start_with_agents(
    mode: ApprovalMode,
    agents: Vec<qcode_extensions::AgentDefinition>,
) -> Engine {
    let mut all = vec![qcode_extensions::agents::general_purpose()];
    all.extend(agents);
    let set = qcode_extensions::AgentSet {
        agents: all,
        refused: Vec::new(),
    };
    let subagents = qcode_core::subagents::Subagents::new(
        set,
        "# Environment\n- test\n".into(),
        qcode_core::subagents::Limits::default(),
    );
    start_inner(mode, None, None, |_| None, Some(Arc::new(subagents)))
}

fn start_full(
    mode: ApprovalMode,
    context_window: Option<u64>,
    tracker: Option<Arc<dyn qcode_tools::ChangeTracker>>,
    hooks: impl FnOnce(&std::path::Path) -> Option<Arc<qcode_core::HookRunner>>,
) -> Engine {
    start_inner(mode, context_window, tracker, hooks, None)
}

fn start_inner(
    mode: ApprovalMode,
    context_window: Option<u64>,
    tracker: Option<Arc<dyn qcode_tools::ChangeTracker>>,
    hooks: impl FnOnce(&std::path::Path) -> Option<Arc<qcode_core::HookRunner>>,
    subagents: Option<Arc<qcode_core::subagents::Subagents>>,
) -> Engine {
    let mock = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let hooks = hooks(dir.path());
    let client = ChatClient::new(ClientOptions {
        retry: RetryPolicy::none(),
        ..ClientOptions::default()
    })
    .unwrap();
    let mut tool_ctx = qcode_tools::ToolContext::new(
        vec![dir.path().to_path_buf()],
        dir.path().join("memory.md"),
        qcode_tools::LazyHttpClient::default_client(),
        dir.path().join("bg"),
    )
    .unwrap();
    tool_ctx.change_tracker = tracker;
    let config = EngineConfig {
        model: "m".into(),
        auth: AuthKind::Openai,
        credentials: Arc::new(StaticCredentials::new(mock.url(), Some(Secret::new("k")))),
        approval_mode: mode,
        allowed_tools: vec![],
        max_session_turns: None,
        interaction: Interaction::Interactive,
        sampling: Sampling::default(),
        context_window,
        limits: Default::default(),
        system_prompt: "SYSTEM".into(),
        initial_history: Vec::new(),
        session_id: None,
        cwd: dir.path().display().to_string(),
    };
    let mut tools = qcode_tools::ToolRegistry::builtin();
    if let Some(s) = &subagents {
        tools = tools.with_task_tool(&s.tool_agents());
    }
    let deps = EngineDeps {
        client: Arc::new(client),
        tools: Arc::new(tools),
        tool_ctx: Arc::new(tool_ctx),
        auth_resolver: None,
        hooks,
        subagents,
    };
    let handle = qcode_core::spawn(config, deps);
    Engine { handle, dir, mock }
}

impl Engine {
    pub fn send(&self, op: Op) {
        self.handle.ops.send(op).unwrap();
    }

    /// Events until (and including) the first one matching `stop`.
    pub async fn until(&mut self, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(10), self.handle.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event; saw {seen:#?}"))
                .expect("engine stopped");
            let done = stop(&ev);
            seen.push(ev);
            if done {
                return seen;
            }
        }
    }

    pub async fn turn(&mut self, text: &str) -> Vec<Event> {
        self.send(Op::UserTurn { text: text.into() });
        self.until(|e| matches!(e, Event::TurnComplete { .. }))
            .await
    }
}

/// The `messages` of the n-th recorded request.
pub fn messages(mock: &MockServer, n: usize) -> Vec<serde_json::Value> {
    mock.requests()[n].body_json().unwrap()["messages"]
        .as_array()
        .unwrap()
        .clone()
}
