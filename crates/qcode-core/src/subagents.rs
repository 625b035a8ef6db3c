//! Subagents (issue 14): the `task` tool's runs. A subagent is a child engine — a [`Session`]
//! of its own on its own queue pair — with its definition's system prompt (the body, then the
//! environment facts and context files the main prompt has), the `prompt` as its only user
//! message, the definition's tools intersected with the session's (never `task`, unless
//! `agents.maxDepth` allows nesting), its model (`inherit` or an id) and an approval mode never
//! more permissive than the session's.
//!
//! The parent wraps every event of the child in [`Event::Subagent`] (between
//! [`Event::SubagentStarted`] and [`Event::SubagentFinished`]), routes approval decisions whose
//! id starts with the child's prefix (`<agent id>:`) to it, and on an interrupt interrupts it
//! (each run has a child token of the turn's): every `task` call still gets a result. The
//! child's final answer is the tool result; its usage is added to the session's total; its
//! requests count towards the session's limit and its own (`agents.maxRequests`, lowered by the
//! definition's `runConfig.max_turns`). Several `task` calls of one reply run side by side, at
//! most `agents.maxConcurrent` at a time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use qcode_extensions::agents::{AgentDefinition, AgentModel, AgentSet, AgentTools};
use qcode_extensions::hooks::EventPayload;
use qcode_protocol::{
    ApprovalMode, ChatMessage, Event, Op, Role as MessageRole, ToolCall, ToolStatus, TurnOutcome,
    Usage,
};
use qcode_tools::{PreparedCall, TaskRequest};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::engine::{EngineDeps, EventTx, Role, Session, spawn_session};
use crate::tools_run::{CANCELLED_BEFORE_RUN, end_event};
use crate::turn::TurnInput;

/// The subagents' limits (settings `agents.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `task` calls of one reply running at the same time.
    pub max_concurrent: usize,
    /// Model requests of one subagent.
    pub max_requests: u32,
    /// How deep subagents nest (1: a subagent cannot start another).
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent: qcode_config::DEFAULT_AGENTS_MAX_CONCURRENT as usize,
            max_requests: qcode_config::DEFAULT_AGENTS_MAX_REQUESTS,
            max_depth: qcode_config::DEFAULT_AGENTS_MAX_DEPTH,
        }
    }
}

/// The session's agents: what the `task` tool may start, and how.
#[derive(Debug)]
pub struct Subagents {
    set: AgentSet,
    /// The environment facts and context files every subagent's prompt ends with.
    environment: String,
    limits: Limits,
    next: AtomicU32,
    /// Makes agent ids unique across the runs that append to one transcript (`--continue`).
    tag: String,
}

impl Subagents {
    pub fn new(set: AgentSet, environment: String, limits: Limits) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        let tag = format!(
            "{:06x}",
            (nanos ^ std::process::id().rotate_left(16)) & 0xff_ffff
        );
        Self {
            set,
            environment,
            limits,
            next: AtomicU32::new(1),
            tag,
        }
    }

    /// The usable agents (and the definitions the trust rule refused).
    pub fn agents(&self) -> &AgentSet {
        &self.set
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// (name, description) of each agent, for [`qcode_tools::ToolRegistry::with_task_tool`].
    pub fn tool_agents(&self) -> Vec<(String, String)> {
        self.set
            .agents
            .iter()
            .map(|a| (a.name.clone(), a.description.clone()))
            .collect()
    }

    fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("agent-{}-{n}", self.tag)
    }
}

/// `def`'s mode, never more permissive than `session`'s.
pub(crate) fn clamp_mode(def: Option<ApprovalMode>, session: ApprovalMode) -> ApprovalMode {
    let rank = |m: ApprovalMode| match m {
        ApprovalMode::Plan => 0,
        ApprovalMode::Default => 1,
        ApprovalMode::AutoEdit => 2,
        ApprovalMode::Yolo => 3,
    };
    match def {
        Some(d) if rank(d) < rank(session) => d,
        Some(_) | None => session,
    }
}

/// A running child engine the parent routes decisions and mode changes to.
struct Route {
    prefix: String,
    ops: UnboundedSender<Op>,
    mode: Option<ApprovalMode>,
}

type Routes = Mutex<Vec<Route>>;

fn lock(r: &Routes) -> std::sync::MutexGuard<'_, Vec<Route>> {
    r.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the `task` calls `jobs` (index, call, prepared call) side by side; returns each index
/// with the result the model gets. Listens to `inputs` meanwhile: decisions go to the subagent
/// whose prefix the request id has, a mode change to every subagent (clamped) and the session.
pub(crate) async fn run_tasks(
    session: &mut Session,
    jobs: Vec<(usize, &ToolCall, PreparedCall)>,
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> Vec<(usize, String)> {
    let Some(subagents) = session.deps.subagents.clone() else {
        let mut out = Vec::new();
        for (i, call, _) in jobs {
            let msg = "task: no subagents are available in this session".to_string();
            end_event(tx, call, ToolStatus::Error, &msg, None, 0).await;
            out.push((i, msg));
        }
        return out;
    };
    let routes: Routes = Mutex::new(Vec::new());
    let (done, new_mode) = {
        let parent: &Session = session;
        let subagents = &subagents;
        let routes = &routes;
        let mut futures: Vec<BoxFuture<'_, (usize, (String, Usage))>> = Vec::new();
        for (i, call, prepared) in jobs {
            let run = run_task(parent, subagents, call, prepared, cancel, tx, routes);
            futures.push(Box::pin(async move { (i, run.await) }));
        }
        let runs = futures::stream::iter(futures)
            .buffer_unordered(subagents.limits.max_concurrent.max(1))
            .collect::<Vec<_>>();
        tokio::pin!(runs);
        let mut new_mode = None;
        let mut open = true;
        let done = loop {
            tokio::select! {
                done = &mut runs => break done,
                input = inputs.recv(), if open => match input {
                    None => open = false,
                    Some(TurnInput::Decision { request_id, decision }) => {
                        for r in routes_of(routes).iter().filter(|r| request_id.starts_with(&r.prefix)) {
                            let _ = r.ops.send(Op::ApprovalDecision {
                                request_id: request_id.clone(),
                                decision: decision.clone(),
                            });
                        }
                    }
                    Some(TurnInput::SetApprovalMode(mode)) => {
                        new_mode = Some(mode);
                        for r in routes_of(routes).iter() {
                            let _ = r.ops.send(Op::SetApprovalMode { mode: clamp_mode(r.mode, mode) });
                        }
                    }
                },
            }
        };
        (done, new_mode)
    };
    if let Some(mode) = new_mode {
        session.approval_mode = mode;
        tx.send(session.configured_event()).await;
    }
    done.into_iter()
        .map(|(i, (output, usage))| {
            session.total_usage.add(&usage);
            (i, output)
        })
        .collect()
}

fn routes_of(r: &Routes) -> Vec<RouteView> {
    lock(r)
        .iter()
        .map(|x| RouteView {
            prefix: x.prefix.clone(),
            ops: x.ops.clone(),
            mode: x.mode,
        })
        .collect()
}

/// A copy of a [`Route`] (the lock is never held while sending).
struct RouteView {
    prefix: String,
    ops: UnboundedSender<Op>,
    mode: Option<ApprovalMode>,
}

/// How a subagent ended, as [`Event::SubagentFinished`] says it.
fn status_of(outcome: TurnOutcome) -> &'static str {
    match outcome {
        TurnOutcome::Completed => "completed",
        TurnOutcome::Interrupted => "cancelled",
        TurnOutcome::Failed => "failed",
        TurnOutcome::TurnLimit => "limit",
    }
}

/// What one subagent's events told its parent.
#[derive(Default)]
struct Seen {
    usage: Usage,
    /// Its assistant messages' text, in order.
    texts: Vec<String>,
    last_error: Option<String>,
}

impl Seen {
    fn note(&mut self, event: &Event) {
        match event {
            Event::Usage { usage, .. } => self.usage.add(usage),
            // A nested subagent's usage (the child's own total does not carry it).
            Event::SubagentFinished { usage, .. } => self.usage.add(usage),
            Event::HistoryAppended { message }
                if message.role == MessageRole::Assistant && !message.content.trim().is_empty() =>
            {
                self.texts.push(message.content.clone())
            }
            Event::Error { message, .. } => self.last_error = Some(message.clone()),
            _ => {}
        }
    }
}

async fn run_task(
    parent: &Session,
    subagents: &Subagents,
    call: &ToolCall,
    prepared: PreparedCall,
    cancel: &CancellationToken,
    tx: &EventTx,
    routes: &Routes,
) -> (String, Usage) {
    let start = Instant::now();
    let request: Option<TaskRequest> = prepared.task_request().cloned();
    let arguments = prepared.arguments().clone();
    let (Some(request), Some(def)) = (
        request.clone(),
        request.and_then(|r| subagents.set.get(&r.subagent_type).cloned()),
    ) else {
        let msg = "task: this agent is not available in this session".to_string();
        end_event(tx, call, ToolStatus::Error, &msg, None, 0).await;
        return (msg, Usage::default());
    };
    if cancel.is_cancelled() {
        end_event(
            tx,
            call,
            ToolStatus::Cancelled,
            CANCELLED_BEFORE_RUN,
            None,
            0,
        )
        .await;
        return (CANCELLED_BEFORE_RUN.to_string(), Usage::default());
    }
    let agent_id = subagents.next_id();
    let (parent_prefix, depth) = match &parent.role {
        Role::Main => ("", 0),
        Role::Subagent { prefix, depth } => (prefix.as_str(), *depth),
    };
    let prefix = format!("{parent_prefix}{agent_id}:");
    let child = child_session(parent, subagents, &def, prefix.clone(), depth + 1);
    let mut handle = spawn_session(child);
    lock(routes).push(Route {
        prefix: prefix.clone(),
        ops: handle.ops.clone(),
        mode: def.approval_mode,
    });
    tx.send(Event::SubagentStarted {
        agent_id: agent_id.clone(),
        parent_call_id: call.id.clone(),
        subagent_type: def.name.clone(),
        description: request.description.clone(),
    })
    .await;
    let _ = handle.ops.send(Op::UserTurn {
        text: request.prompt.clone(),
    });
    let own = cancel.child_token();
    let mut interrupted = false;
    let mut seen = Seen::default();
    let outcome = loop {
        let event = tokio::select! {
            () = own.cancelled(), if !interrupted => {
                interrupted = true;
                let _ = handle.ops.send(Op::Interrupt);
                continue;
            }
            event = handle.events.recv() => event,
        };
        let Some(event) = event else {
            seen.last_error = Some("the subagent's engine stopped unexpectedly".into());
            break TurnOutcome::Failed;
        };
        seen.note(&event);
        let done = match &event {
            Event::TurnComplete { outcome, .. } => Some(*outcome),
            _ => None,
        };
        tx.send(Event::Subagent {
            agent_id: agent_id.clone(),
            parent_call_id: call.id.clone(),
            event: Box::new(event),
        })
        .await;
        if let Some(outcome) = done {
            break outcome;
        }
    };
    lock(routes).retain(|r| r.prefix != prefix);
    // Dropping the handle closes the child's queue: its engine ends.
    drop(handle);
    let status = status_of(outcome);
    let duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    tx.send(Event::SubagentFinished {
        agent_id,
        parent_call_id: call.id.clone(),
        status: status.to_string(),
        usage: seen.usage,
        duration_ms,
    })
    .await;
    let mut output = cap(result_text(outcome, &seen));
    let payload = EventPayload::PostToolUse {
        tool_name: call.name.clone(),
        tool_input: arguments,
        tool_response: serde_json::json!({ "output": output, "status": status }),
    };
    if let Some(reason) = crate::hooks::run(parent, payload, cancel, tx)
        .await
        .and_then(|o| crate::hooks::block_of(&o))
    {
        output = format!("{output}\n\nPostToolUse hook: {reason}");
    }
    let tool_status = match outcome {
        TurnOutcome::Completed => ToolStatus::Success,
        TurnOutcome::Interrupted => ToolStatus::Cancelled,
        TurnOutcome::Failed | TurnOutcome::TurnLimit => ToolStatus::Error,
    };
    end_event(tx, call, tool_status, &output, None, duration_ms).await;
    (output, seen.usage)
}

/// The tool result: the final answer, or what the subagent had so far with a note.
fn result_text(outcome: TurnOutcome, seen: &Seen) -> String {
    let so_far = seen.texts.join("\n\n");
    let error = seen
        .last_error
        .clone()
        .unwrap_or_else(|| "no reason was given".into());
    match outcome {
        TurnOutcome::Completed => seen
            .texts
            .last()
            .cloned()
            .unwrap_or_else(|| "(The subagent finished without an answer.)".into()),
        TurnOutcome::TurnLimit => format!(
            "{}\n\n[The subagent stopped before it finished: {error}. Above is what it had so far.]",
            if so_far.is_empty() {
                "(no answer yet)"
            } else {
                &so_far
            }
        ),
        TurnOutcome::Interrupted if so_far.is_empty() => {
            "Cancelled: the user interrupted the subagent before it answered.".into()
        }
        TurnOutcome::Interrupted => {
            format!("Cancelled: the user interrupted the subagent. What it had so far:\n\n{so_far}")
        }
        TurnOutcome::Failed if so_far.is_empty() => format!("The subagent failed: {error}"),
        TurnOutcome::Failed => {
            format!("The subagent failed: {error}\n\nWhat it had so far:\n\n{so_far}")
        }
    }
}

/// `text` cut to the external tools' output limit, with a note.
fn cap(text: String) -> String {
    let max = qcode_tools::MAX_EXTERNAL_OUTPUT_CHARS;
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[answer truncated: {end} of {} bytes shown]",
        &text[..end],
        text.len()
    )
}

/// The child engine's session for `def`.
fn child_session(
    parent: &Session,
    subagents: &Subagents,
    def: &AgentDefinition,
    prefix: String,
    depth: u32,
) -> Session {
    let (model, context_window) = match &def.model {
        AgentModel::Inherit => (parent.model.clone(), parent.context_window),
        AgentModel::Id(id) => (id.clone(), qcode_config::context_window(id)),
    };
    // What the server said about the models is the parent's (fetched once per base URL).
    let (server, context_window) = crate::limits::for_child(parent, &model, context_window);
    let only = match &def.tools {
        AgentTools::All => None,
        AgentTools::Only(list) => Some(list.as_slice()),
    };
    let nest = depth < subagents.limits.max_depth;
    let tools = parent.deps.tools.restricted(only, nest);
    let own_max = def.max_requests.map_or(subagents.limits.max_requests, |n| {
        n.min(subagents.limits.max_requests)
    });
    let prompt = crate::prompt::subagent_prompt(&def.system_prompt, &subagents.environment);
    Session {
        history: vec![ChatMessage::system(prompt)],
        model,
        auth: parent.auth,
        credentials: parent.credentials.clone(),
        approval_mode: clamp_mode(def.approval_mode, parent.approval_mode),
        allow: parent.allow.clone(),
        max_requests: parent.max_requests,
        requests_made: Arc::clone(&parent.requests_made),
        own_max_requests: Some(own_max),
        own_requests: 0,
        role: Role::Subagent { prefix, depth },
        interaction: parent.interaction,
        sampling: parent.sampling,
        context_window,
        window_pinned: parent.window_pinned,
        loop_detection: parent.loop_detection,
        discover: false,
        server,
        next_turn_model: None,
        cwd: parent.cwd.clone(),
        session_id: parent.session_id.clone(),
        total_usage: Usage::default(),
        last_prompt_tokens: 0,
        next_turn_id: 1,
        deps: EngineDeps {
            client: Arc::clone(&parent.deps.client),
            tools: Arc::new(tools),
            tool_ctx: Arc::clone(&parent.deps.tool_ctx),
            auth_resolver: None,
            hooks: parent.deps.hooks.clone(),
            subagents: if nest {
                parent.deps.subagents.clone()
            } else {
                None
            },
        },
        hook_context: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_never_widens_the_session_mode() {
        use ApprovalMode::*;
        assert_eq!(clamp_mode(Some(Yolo), Default), Default);
        assert_eq!(clamp_mode(Some(Plan), Yolo), Plan);
        assert_eq!(clamp_mode(None, AutoEdit), AutoEdit);
        assert_eq!(clamp_mode(Some(AutoEdit), Plan), Plan);
    }

    #[test]
    fn results_say_how_the_subagent_ended() {
        let seen = Seen {
            usage: Usage::default(),
            texts: vec!["looking".into(), "found it".into()],
            last_error: Some("the subagent reached its limit of 2 model requests".into()),
        };
        assert_eq!(result_text(TurnOutcome::Completed, &seen), "found it");
        let limit = result_text(TurnOutcome::TurnLimit, &seen);
        assert!(
            limit.starts_with("looking\n\nfound it\n\n[The subagent stopped"),
            "{limit}"
        );
        assert!(limit.contains("limit of 2 model requests"));
        assert!(result_text(TurnOutcome::Interrupted, &seen).starts_with("Cancelled:"));
        assert!(
            result_text(TurnOutcome::Failed, &Seen::default()).starts_with("The subagent failed")
        );
        let long = cap("é".repeat(qcode_tools::MAX_EXTERNAL_OUTPUT_CHARS));
        assert!(long.contains("[answer truncated"));
    }
}
