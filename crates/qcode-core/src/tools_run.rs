//! Running the tool calls of one reply: validate, decide (policy / ask the user), execute.
//! Consecutive read-only calls that need no approval run in parallel (bounded); anything that
//! writes or executes runs alone, in order. Every call yields exactly one result for the model.

use std::time::Instant;

use futures::StreamExt;
use qcode_protocol::{DecisionSource, Event, ReviewDecision, ToolCall, ToolStatus};
use qcode_tools::{PreparedCall, ToolKind, ToolProgress, ToolResultStatus};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::approval::{AllowList, CallFacts, Policy, decide};
use crate::engine::{EventTx, Session};
use crate::turn::TurnInput;
use qcode_extensions::hooks::{EventPayload, Verdict};

/// How many read-only calls run at once.
const PARALLEL_READS: usize = 4;

pub(crate) const CANCELLED_BEFORE_RUN: &str =
    "Cancelled: the user interrupted the turn before this tool ran.";

enum Step {
    /// Could not be prepared; the message goes to the model.
    Invalid(String),
    Ready(Box<PreparedCall>, Policy),
    /// A PreToolUse hook blocked it; the reason is the result the model gets.
    Blocked(Box<PreparedCall>, String),
}

pub(crate) async fn run_calls(
    session: &mut Session,
    calls: &[ToolCall],
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> Vec<String> {
    let mut results: Vec<Option<String>> = vec![None; calls.len()];
    let mut batch: Vec<(usize, Box<PreparedCall>)> = Vec::new();
    // Consecutive `task` calls the policy allows: run side by side (crate::subagents).
    let mut tasks: Vec<(usize, Box<PreparedCall>)> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let step = prepare(session, call, cancel, tx).await;
        announce(call, &step, tx).await;
        match step {
            Step::Invalid(message) => {
                end_event(tx, call, ToolStatus::Error, &message, None, 0).await;
                results[i] = Some(message);
            }
            Step::Blocked(_, reason) => {
                tx.send(Event::ApprovalDecided {
                    request_id: session.request_id("hook", &call.id),
                    call_id: call.id.clone(),
                    tool: call.name.clone(),
                    decision: ReviewDecision::Deny {
                        message: Some(reason.clone()),
                    },
                    source: DecisionSource::Policy,
                })
                .await;
                end_event(tx, call, ToolStatus::Denied, &reason, None, 0).await;
                results[i] = Some(reason);
            }
            Step::Ready(prepared, Policy::Allow) if prepared.task_request().is_some() => {
                flush(session, &mut batch, &mut results, calls, cancel, tx).await;
                policy_decided(session, tx, call, ReviewDecision::AllowOnce).await;
                tasks.push((i, prepared));
            }
            Step::Ready(prepared, Policy::Allow) if prepared.kind() == ToolKind::ReadOnly => {
                flush_tasks(session, &mut tasks, &mut results, calls, cancel, inputs, tx).await;
                policy_decided(session, tx, call, ReviewDecision::AllowOnce).await;
                batch.push((i, prepared));
            }
            Step::Ready(prepared, policy) => {
                flush(session, &mut batch, &mut results, calls, cancel, tx).await;
                flush_tasks(session, &mut tasks, &mut results, calls, cancel, inputs, tx).await;
                results[i] =
                    Some(run_one(session, call, *prepared, policy, cancel, inputs, tx).await);
            }
        }
    }
    flush(session, &mut batch, &mut results, calls, cancel, tx).await;
    flush_tasks(session, &mut tasks, &mut results, calls, cancel, inputs, tx).await;
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| CANCELLED_BEFORE_RUN.to_string()))
        .collect()
}

async fn prepare(
    session: &Session,
    call: &ToolCall,
    cancel: &CancellationToken,
    tx: &EventTx,
) -> Step {
    match session
        .deps
        .tools
        .prepare(call, &session.deps.tool_ctx)
        .await
    {
        Err(e) => Step::Invalid(e.message_for_model()),
        Ok(prepared) => {
            let key = prepared.permission_key();
            let facts = CallFacts {
                tool: prepared.name(),
                class: prepared.kind(),
                leaves_workspace: prepared.outside_workspace()
                    || prepared.targets_private_network(),
                permission_key: &key,
                escapes_sandbox: prepared.escapes_sandbox(),
            };
            // A tool of a server configured with `trust: true` runs without asking (not in
            // plan mode).
            let trusted = prepared.pre_approved()
                && session.approval_mode != qcode_protocol::ApprovalMode::Plan;
            let policy = if trusted {
                Policy::Allow
            } else {
                decide(
                    session.approval_mode,
                    &facts,
                    &session.allow,
                    session.interaction,
                )
            };
            let payload = EventPayload::PreToolUse {
                tool_name: prepared.name().to_string(),
                tool_input: prepared.arguments().clone(),
            };
            let Some(outcome) = crate::hooks::run(session, payload, cancel, tx).await else {
                return Step::Ready(Box::new(prepared), policy);
            };
            // What the mode alone says, before a non-interactive run turns "ask" into "deny":
            // a hook's allow answers the question; it never lifts a real denial (plan mode).
            let asked = if trusted {
                Policy::Allow
            } else {
                decide(
                    session.approval_mode,
                    &facts,
                    &session.allow,
                    crate::Interaction::Interactive,
                )
            };
            let policy = match (outcome.verdict, asked) {
                (Verdict::Block { reason }, _) => {
                    return Step::Blocked(Box::new(prepared), reason);
                }
                (_, Policy::Deny(why)) => Policy::Deny(why),
                (Verdict::Proceed, _) => policy,
                (Verdict::Allow { .. }, _) => Policy::Allow,
                (Verdict::Ask { reason }, _) => match session.interaction {
                    crate::Interaction::Interactive => Policy::Ask,
                    crate::Interaction::Headless => Policy::Deny(format!(
                        "a PreToolUse hook asks for the user's approval of `{}` ({reason}), and this is a non-interactive run that cannot ask. Do not retry it.",
                        prepared.name()
                    )),
                },
            };
            Step::Ready(Box::new(prepared), policy)
        }
    }
}

async fn announce(call: &ToolCall, step: &Step, tx: &EventTx) {
    let (summary, arguments) = match step {
        Step::Invalid(_) => (
            format!("{} (invalid call)", call.name),
            serde_json::from_str(&call.arguments)
                .unwrap_or_else(|_| serde_json::Value::String(call.arguments.clone())),
        ),
        Step::Ready(p, _) | Step::Blocked(p, _) => (p.summary(), p.arguments().clone()),
    };
    tx.send(Event::ToolCallBegin {
        call_id: call.id.clone(),
        name: call.name.clone(),
        summary,
        arguments,
    })
    .await;
}

pub(crate) async fn policy_decided(
    session: &Session,
    tx: &EventTx,
    call: &ToolCall,
    decision: ReviewDecision,
) {
    tx.send(Event::ApprovalDecided {
        request_id: session.request_id("policy", &call.id),
        call_id: call.id.clone(),
        tool: call.name.clone(),
        decision,
        source: DecisionSource::Policy,
    })
    .await;
}

async fn flush(
    session: &Session,
    batch: &mut Vec<(usize, Box<PreparedCall>)>,
    results: &mut [Option<String>],
    calls: &[ToolCall],
    cancel: &CancellationToken,
    tx: &EventTx,
) {
    if batch.is_empty() {
        return;
    }
    let jobs = std::mem::take(batch).into_iter().map(|(i, prepared)| {
        let call = &calls[i];
        async move { (i, execute(session, call, *prepared, cancel, tx).await) }
    });
    let done: Vec<(usize, String)> = futures::stream::iter(jobs)
        .buffer_unordered(PARALLEL_READS)
        .collect()
        .await;
    for (i, output) in done {
        results[i] = Some(output);
    }
}

/// Runs the collected `task` calls side by side (each a subagent) and stores their results.
async fn flush_tasks(
    session: &mut Session,
    tasks: &mut Vec<(usize, Box<PreparedCall>)>,
    results: &mut [Option<String>],
    calls: &[ToolCall],
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) {
    if tasks.is_empty() {
        return;
    }
    let jobs: Vec<(usize, &ToolCall, PreparedCall)> = std::mem::take(tasks)
        .into_iter()
        .map(|(i, p)| (i, &calls[i], *p))
        .collect();
    for (i, output) in crate::subagents::run_tasks(session, jobs, cancel, inputs, tx).await {
        results[i] = Some(output);
    }
}

async fn run_one(
    session: &mut Session,
    call: &ToolCall,
    prepared: PreparedCall,
    policy: Policy,
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> String {
    match policy {
        Policy::Allow => {
            policy_decided(session, tx, call, ReviewDecision::AllowOnce).await;
            execute_any(session, call, prepared, cancel, inputs, tx).await
        }
        Policy::Deny(reason) => {
            tx.send(Event::ApprovalDecided {
                request_id: session.request_id("policy", &call.id),
                call_id: call.id.clone(),
                tool: call.name.clone(),
                decision: ReviewDecision::Deny {
                    message: Some(reason.clone()),
                },
                source: match session.interaction {
                    crate::Interaction::Headless => DecisionSource::Headless,
                    crate::Interaction::Interactive => DecisionSource::Policy,
                },
            })
            .await;
            let output = format!("Denied: {reason}");
            end_event(tx, call, ToolStatus::Denied, &output, None, 0).await;
            output
        }
        Policy::Ask => {
            let request_id = session.request_id("approval", &call.id);
            tx.send(Event::ApprovalRequest {
                request_id: request_id.clone(),
                call_id: call.id.clone(),
                tool: call.name.clone(),
                details: prepared.approval_details(),
            })
            .await;
            let payload = EventPayload::Notification {
                message: format!("qcode needs your permission to use {}", call.name),
                notification_type: "permission_prompt".into(),
            };
            crate::hooks::run(session, payload, cancel, tx).await;
            let Some(decision) = wait_for_decision(session, &request_id, cancel, inputs, tx).await
            else {
                end_event(
                    tx,
                    call,
                    ToolStatus::Cancelled,
                    CANCELLED_BEFORE_RUN,
                    None,
                    0,
                )
                .await;
                return CANCELLED_BEFORE_RUN.to_string();
            };
            tx.send(Event::ApprovalDecided {
                request_id,
                call_id: call.id.clone(),
                tool: call.name.clone(),
                decision: decision.clone(),
                source: DecisionSource::User,
            })
            .await;
            match decision {
                ReviewDecision::AllowOnce => {
                    execute_any(session, call, prepared, cancel, inputs, tx).await
                }
                ReviewDecision::AllowForSession => {
                    let key = prepared.permission_key();
                    let facts = CallFacts {
                        tool: prepared.name(),
                        class: prepared.kind(),
                        leaves_workspace: false,
                        permission_key: &key,
                        escapes_sandbox: false,
                    };
                    session.allow.add(AllowList::session_entry(&facts));
                    execute_any(session, call, prepared, cancel, inputs, tx).await
                }
                ReviewDecision::Deny { message } => {
                    let output = match message.filter(|m| !m.trim().is_empty()) {
                        Some(m) => format!("Denied by the user, who says: {m}"),
                        None => {
                            "Denied by the user. Do not retry this call unchanged; ask or adapt."
                                .to_string()
                        }
                    };
                    end_event(tx, call, ToolStatus::Denied, &output, None, 0).await;
                    output
                }
            }
        }
    }
}

/// [`execute`], or for a `task` call its subagent.
async fn execute_any(
    session: &mut Session,
    call: &ToolCall,
    prepared: PreparedCall,
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> String {
    if prepared.task_request().is_none() {
        return execute(session, call, prepared, cancel, tx).await;
    }
    let jobs = vec![(0, call, prepared)];
    crate::subagents::run_tasks(session, jobs, cancel, inputs, tx)
        .await
        .into_iter()
        .next()
        .map(|(_, output)| output)
        .unwrap_or_else(|| CANCELLED_BEFORE_RUN.to_string())
}

async fn wait_for_decision(
    session: &mut Session,
    request_id: &str,
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> Option<ReviewDecision> {
    loop {
        let input = tokio::select! {
            _ = cancel.cancelled() => return None,
            input = inputs.recv() => input?,
        };
        match input {
            TurnInput::Decision {
                request_id: id,
                decision,
            } if id == request_id => return Some(decision),
            TurnInput::Decision { .. } => {}
            TurnInput::SetApprovalMode(mode) => {
                session.approval_mode = mode;
                tx.send(session.configured_event()).await;
            }
        }
    }
}

async fn execute(
    session: &Session,
    call: &ToolCall,
    prepared: PreparedCall,
    cancel: &CancellationToken,
    tx: &EventTx,
) -> String {
    let start = Instant::now();
    let prepared_name = prepared.name().to_string();
    let arguments = prepared.arguments().clone();
    let (progress_tx, mut progress_rx) = unbounded_channel();
    let run = prepared.execute(&session.deps.tool_ctx, cancel.child_token(), &progress_tx);
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            Some(p) = progress_rx.recv() => forward(tx, call, p).await,
        }
    };
    while let Ok(p) = progress_rx.try_recv() {
        forward(tx, call, p).await;
    }
    if let Some(todos) = result.todos.clone() {
        tx.send(Event::TodoUpdate { todos }).await;
    }
    let mut output = result.output;
    let payload = EventPayload::PostToolUse {
        tool_name: prepared_name.clone(),
        tool_input: arguments,
        tool_response: serde_json::json!({
            "output": output,
            "status": match result.status {
                ToolResultStatus::Success => "success",
                ToolResultStatus::Error => "error",
                ToolResultStatus::Cancelled => "cancelled",
            },
        }),
    };
    if let Some(reason) = crate::hooks::run(session, payload, cancel, tx)
        .await
        .and_then(|o| crate::hooks::block_of(&o))
    {
        output = format!("{output}\n\nPostToolUse hook: {reason}");
    }
    let status = match result.status {
        ToolResultStatus::Success => ToolStatus::Success,
        ToolResultStatus::Error => ToolStatus::Error,
        ToolResultStatus::Cancelled => ToolStatus::Cancelled,
    };
    end_event(
        tx,
        call,
        status,
        &output,
        result.diff.clone(),
        start.elapsed().as_millis() as u64,
    )
    .await;
    output
}

async fn forward(tx: &EventTx, call: &ToolCall, progress: ToolProgress) {
    match progress {
        ToolProgress::Output(chunk) => {
            tx.send(Event::ToolOutputDelta {
                call_id: call.id.clone(),
                chunk,
            })
            .await
        }
        ToolProgress::Progress {
            progress,
            total,
            message,
        } => {
            tx.send(Event::ToolProgress {
                call_id: call.id.clone(),
                progress,
                total,
                message,
            })
            .await
        }
    }
}

pub(crate) async fn end_event(
    tx: &EventTx,
    call: &ToolCall,
    status: ToolStatus,
    output: &str,
    diff: Option<String>,
    duration_ms: u64,
) {
    tx.send(Event::ToolCallEnd {
        call_id: call.id.clone(),
        name: call.name.clone(),
        status,
        output: output.to_string(),
        diff,
        duration_ms,
    })
    .await;
}
