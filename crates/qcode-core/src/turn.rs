//! One turn: stream a reply, run its tool calls, send the results back, repeat.
//!
//! History stays valid whatever happens: every assistant tool call gets a tool result (even
//! when denied, failed or cancelled), and partial text that was shown is kept.

use futures::StreamExt;
use qcode_client::{ChatRequest, ResponseEvent};
use qcode_protocol::{
    ApprovalMode, ChatMessage, ErrorKind, Event, FinishReason, ReviewDecision, ToolCall,
    TurnOutcome, Usage,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use crate::engine::{EventTx, Session};
use qcode_extensions::hooks::EventPayload;

/// What reaches a running turn from the front end.
pub(crate) enum TurnInput {
    Decision {
        request_id: String,
        decision: ReviewDecision,
    },
    SetApprovalMode(ApprovalMode),
}

/// The model's reply to one request.
struct Reply {
    text: String,
    reasoning: String,
    tool_calls: Vec<ToolCall>,
    finish: FinishReason,
}

enum ReplyEnd {
    Done(Reply),
    /// The request failed; partial output (already shown) is kept.
    Failed(Reply),
    Cancelled(Reply),
    /// The server said the conversation is too long (nothing was output): compress and retry.
    Overflow(qcode_client::ClientError),
}

pub(crate) async fn run_turn(
    session: &mut Session,
    text: String,
    cancel: CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) {
    let turn_id = session.next_turn_id;
    session.next_turn_id += 1;
    tx.send(Event::TurnStarted { turn_id }).await;
    if text.trim().is_empty() {
        tx.error(
            ErrorKind::Input,
            "the prompt is empty",
            Some("type a message".into()),
        )
        .await;
        tx.send(Event::TurnComplete {
            turn_id,
            outcome: TurnOutcome::Failed,
        })
        .await;
        return;
    }
    let payload = EventPayload::UserPromptSubmit {
        prompt: text.clone(),
    };
    let mut text = text;
    if let Some(outcome) = crate::hooks::run(session, payload, &cancel, tx).await {
        if let Some(reason) = crate::hooks::block_of(&outcome) {
            tx.error(
                ErrorKind::Input,
                format!("a UserPromptSubmit hook blocked the prompt; it was not sent: {reason}"),
                None,
            )
            .await;
            tx.send(Event::TurnComplete {
                turn_id,
                outcome: TurnOutcome::Failed,
            })
            .await;
            return;
        }
        if let Some(extra) = crate::hooks::context_of(&outcome) {
            text = format!("{text}\n\n{extra}");
        }
    }
    crate::compact::auto_compact_if_needed(session, tx, &cancel).await;
    session.append(ChatMessage::user(text), tx).await;
    // The checkpoint tracker's turn is the user message's number (the message is in the
    // history now); it ends however the turn ends.
    crate::engine::track(session, |t| t.turn_started()).await;
    let outcome = turn_loop(session, turn_id, &cancel, inputs, tx).await;
    crate::engine::track(session, |t| t.turn_ended()).await;
    tx.send(Event::TurnComplete { turn_id, outcome }).await;
    if session.role != crate::engine::Role::Main {
        // A subagent's end is its parent's business, not a prompt waiting for the user.
        return;
    }
    let payload = EventPayload::Notification {
        message: "qcode finished the turn and waits for your input".into(),
        notification_type: "idle_prompt".into(),
    };
    crate::hooks::run(session, payload, &CancellationToken::new(), tx).await;
}

async fn turn_loop(
    session: &mut Session,
    turn_id: u64,
    cancel: &CancellationToken,
    inputs: &mut UnboundedReceiver<TurnInput>,
    tx: &EventTx,
) -> TurnOutcome {
    let mut request_no: u32 = 0;
    let mut stop_hook_active = false;
    let mut compressed_for_overflow = false;
    loop {
        if let Some(max) = session.own_max_requests
            && session.own_requests >= max
        {
            tx.error(
                ErrorKind::TurnLimit,
                format!("the subagent reached its limit of {max} model requests"),
                Some("raise agents.maxRequests (or the agent's runConfig.max_turns)".into()),
            )
            .await;
            return TurnOutcome::TurnLimit;
        }
        // One atomic step: subagents running side by side share the session's count.
        let max = session.max_requests;
        let counted = session.requests_made.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| match max {
                Some(max) if n >= max => None,
                _ => Some(n.saturating_add(1)),
            },
        );
        if let (Err(_), Some(max)) = (counted, max) {
            tx.error(
                ErrorKind::TurnLimit,
                format!("reached the session limit of {max} model requests"),
                Some("raise --max-session-turns (settings model.maxSessionTurns) or start a new session".into()),
            ).await;
            return TurnOutcome::TurnLimit;
        }
        session.own_requests += 1;
        request_no += 1;
        tx.send(Event::RequestStarted {
            turn_id,
            request: request_no,
        })
        .await;
        let end = stream_reply(session, cancel, tx).await;
        let (reply, outcome) = match end {
            ReplyEnd::Done(r) => (r, None),
            ReplyEnd::Failed(r) => (r, Some(TurnOutcome::Failed)),
            ReplyEnd::Cancelled(r) => (r, Some(TurnOutcome::Interrupted)),
            ReplyEnd::Overflow(error) => {
                // Once per turn: compress, then send again (when there is something to
                // compress: a single long prompt is an error at once).
                if !compressed_for_overflow
                    && crate::compact::split_point(&session.history).is_some()
                {
                    compressed_for_overflow = true;
                    tx.send(Event::Warning {
                        message: "the conversation is too long for the model's context \
                                  window; compressing it and trying again"
                            .into(),
                    })
                    .await;
                    if crate::compact::compact_auto(session, tx, cancel.child_token()).await {
                        continue;
                    }
                }
                tx.error(error.kind(), error.to_string(), error.hint())
                    .await;
                return TurnOutcome::Failed;
            }
        };
        if let Some(outcome) = outcome {
            // Keep what the user already saw; drop tool calls that will never run.
            if !reply.text.is_empty() {
                let mut msg = ChatMessage::assistant(reply.text);
                msg.reasoning = (!reply.reasoning.is_empty()).then_some(reply.reasoning);
                session.append(msg, tx).await;
            }
            return outcome;
        }
        tx.send(Event::ResponseComplete {
            finish: reply.finish.clone(),
        })
        .await;
        let mut msg = ChatMessage::assistant(reply.text);
        msg.reasoning = (!reply.reasoning.is_empty()).then_some(reply.reasoning);
        msg.tool_calls = reply.tool_calls.iter().map(for_history).collect();
        session.append(msg, tx).await;
        if reply.tool_calls.is_empty() {
            if reply.finish == FinishReason::Length {
                tx.send(Event::Warning {
                    message: "the answer was cut off at the model's output token limit".into(),
                })
                .await;
            }
            // A Stop hook that blocks sends the turn on once, its reason as the next prompt.
            let payload = EventPayload::Stop { stop_hook_active };
            if let Some(reason) = crate::hooks::run(session, payload, cancel, tx)
                .await
                .and_then(|o| crate::hooks::block_of(&o))
                && !stop_hook_active
            {
                stop_hook_active = true;
                session
                    .append(ChatMessage::user(format!("Stop hook: {reason}")), tx)
                    .await;
                continue;
            }
            return TurnOutcome::Completed;
        }
        let results =
            crate::tools_run::run_calls(session, &reply.tool_calls, cancel, inputs, tx).await;
        for (call, output) in reply.tool_calls.iter().zip(results) {
            session
                .append(ChatMessage::tool_result(call.id.clone(), output), tx)
                .await;
        }
        if cancel.is_cancelled() {
            return TurnOutcome::Interrupted;
        }
    }
}

/// A call as the history keeps it: arguments that are not a JSON value (a call cut off at the
/// output limit) become `{}`. Sent back verbatim, they make servers that re-parse the history
/// (llama.cpp: "Failed to parse tool call arguments as JSON") refuse every later request; the
/// call's result already says what was wrong with them.
fn for_history(call: &ToolCall) -> ToolCall {
    let valid = call.arguments.trim().is_empty()
        || serde_json::from_str::<serde::de::IgnoredAny>(&call.arguments).is_ok();
    if valid {
        return call.clone();
    }
    ToolCall {
        arguments: "{}".into(),
        ..call.clone()
    }
}

async fn stream_reply(session: &mut Session, cancel: &CancellationToken, tx: &EventTx) -> ReplyEnd {
    crate::external::discover(session, cancel, tx).await;
    // The server's window, if its listing is still on the way and qcode knows none (a local
    // model): worth a short wait, as the request may not fit.
    if session.server.is_pending() {
        let wait = if session.context_window.is_none() {
            LISTING_WAIT
        } else {
            std::time::Duration::ZERO
        };
        if session.server.settle(wait).await {
            crate::limits::apply(session, tx).await;
        }
    }
    let tools = session.deps.tools.specs();
    let mut estimate = crate::limits::estimate_request(&session.history, &tools);
    if crate::limits::fit(estimate, session.context_window) != crate::limits::Fit::Fits
        && crate::compact::split_point(&session.history).is_some()
        && crate::compact::compact_auto(session, tx, cancel.child_token()).await
    {
        estimate = crate::limits::estimate_request(&session.history, &tools);
    }
    if let crate::limits::Fit::TooLong { estimate, window } =
        crate::limits::fit(estimate, session.context_window)
    {
        tx.error(
            ErrorKind::ContextTooLong,
            format!(
                "the conversation (about {estimate} tokens) does not fit the model's context \
                 window ({window} tokens); it was not sent"
            ),
            Some(
                "Run /compress to summarise older history, or /clear to start over; a large \
                 file or command output in the last message may need to be cut down. For a \
                 local server, a larger context size (llama.cpp: --ctx-size) also helps; \
                 model.contextWindow in the settings overrides what the server reports."
                    .into(),
            ),
        )
        .await;
        return ReplyEnd::Failed(Reply {
            text: String::new(),
            reasoning: String::new(),
            tool_calls: Vec::new(),
            finish: FinishReason::Unknown,
        });
    }
    let mut extra = serde_json::Map::new();
    if session.sampling.force_tool_call && !tools.is_empty() {
        // A call first; after its results, an answer (a follow-up left to "auto" may call
        // again, or answer in a shape a tool-call grammar rejects).
        let first = session
            .history
            .last()
            .is_some_and(|m| m.role == qcode_protocol::Role::User);
        let choice = if first { "required" } else { "none" };
        extra.insert("tool_choice".into(), choice.into());
    }
    let request = ChatRequest {
        model: session.model.clone(),
        messages: std::borrow::Cow::Borrowed(&session.history),
        tools,
        temperature: session.sampling.temperature,
        max_tokens: crate::limits::output_limit(session, estimate),
        extra,
    };
    let mut loops = session
        .loop_detection
        .then(crate::limits::LoopDetector::new);
    let mut reply = Reply {
        text: String::new(),
        reasoning: String::new(),
        tool_calls: Vec::new(),
        finish: FinishReason::Unknown,
    };
    let mut stream =
        session
            .deps
            .client
            .stream(session.credentials.clone(), &request, cancel.child_token());
    loop {
        let item = tokio::select! {
            biased;
            _ = cancel.cancelled() => return ReplyEnd::Cancelled(reply),
            item = stream.next() => item,
        };
        let Some(item) = item else { break };
        match item {
            Ok(ResponseEvent::TextDelta(t)) => {
                reply.text.push_str(&t);
                let looping = loops.as_mut().is_some_and(|d| d.push(&reply.text));
                tx.send(Event::TextDelta { text: t }).await;
                if looping {
                    // Stop the stream (dropping it closes the connection) and keep the text.
                    drop(stream);
                    tx.send(Event::Warning {
                        message: "the model kept repeating the same passage, so qcode stopped \
                                  the answer (the text so far is kept); send \"continue\" to let \
                                  it go on, or rephrase. model.loopDetection: false turns this \
                                  check off."
                            .into(),
                    })
                    .await;
                    reply.tool_calls.clear();
                    reply.finish = FinishReason::Unknown;
                    return ReplyEnd::Done(reply);
                }
            }
            Ok(ResponseEvent::ReasoningDelta(t)) => {
                reply.reasoning.push_str(&t);
                tx.send(Event::ReasoningDelta { text: t }).await;
            }
            Ok(ResponseEvent::ToolCall(call)) => reply.tool_calls.push(call),
            Ok(ResponseEvent::Usage(usage)) => record_usage(session, usage, tx).await,
            Ok(ResponseEvent::Finish(f)) => reply.finish = f,
            Ok(ResponseEvent::Retry {
                attempt,
                max_attempts,
                delay,
                reason,
            }) => {
                tx.send(retry_event(attempt, max_attempts, delay, reason))
                    .await
            }
            Err(e) => {
                if cancel.is_cancelled() {
                    return ReplyEnd::Cancelled(reply);
                }
                if e.kind() == ErrorKind::ContextTooLong
                    && reply.text.is_empty()
                    && reply.reasoning.is_empty()
                {
                    return ReplyEnd::Overflow(e);
                }
                tx.error(e.kind(), e.to_string(), e.hint()).await;
                return ReplyEnd::Failed(reply);
            }
        }
    }
    ReplyEnd::Done(reply)
}

/// How long a request waits for the server's model listing when the window is unknown.
const LISTING_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The front-end event for a client retry notice.
pub(crate) fn retry_event(
    attempt: u32,
    max_attempts: u32,
    delay: std::time::Duration,
    reason: String,
) -> Event {
    Event::Retry {
        attempt,
        max_attempts,
        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        reason,
    }
}

async fn record_usage(session: &mut Session, usage: Usage, tx: &EventTx) {
    session.total_usage.add(&usage);
    session.last_prompt_tokens = usage.prompt_tokens;
    tx.send(Event::Usage {
        usage,
        total: session.total_usage,
    })
    .await;
}
