//! History compression: when the conversation passes 70% of the model's context window (or the
//! user asks with `/compress`), older messages are summarised by the model and replaced by the
//! summary; the newest ~30% of the history is kept verbatim. The cut is placed before a user
//! message so that tool calls and their results are never separated.

use futures::StreamExt;
use qcode_client::{ChatRequest, ResponseEvent};
use qcode_protocol::{ChatMessage, ErrorKind, Event, Role};
use tokio_util::sync::CancellationToken;

use crate::engine::{EventTx, Session};

/// Compress when the last prompt used more than this share of the context window.
pub const AUTO_COMPACT_THRESHOLD: f64 = 0.7;
/// Share of the history (by size) kept verbatim.
pub const KEEP_SHARE: f64 = 0.3;

const SUMMARY_INSTRUCTIONS: &str = "\
Summarise the conversation above for your own later use; it will replace the original messages. \
Keep everything needed to continue the work: the user's goals and constraints, decisions made, \
files read or changed (with paths), commands run and their outcomes, errors still open, and the \
current plan and next steps. Be factual and compact; use short bullet points.";

/// A rough token estimate (4 characters per token) for messages.
pub fn estimate_tokens(messages: &[ChatMessage]) -> u64 {
    let chars: usize = messages
        .iter()
        .map(|m| {
            m.content.len()
                + m.tool_calls
                    .iter()
                    .map(|c| c.arguments.len() + c.name.len())
                    .sum::<usize>()
        })
        .sum();
    (chars / 4) as u64
}

/// Where to cut: the index of the first kept message (a user message), or `None` when there is
/// nothing worth compressing.
pub fn split_point(history: &[ChatMessage]) -> Option<usize> {
    if history.len() < 4 {
        return None;
    }
    let sizes: Vec<usize> = history.iter().map(|m| m.content.len() + 64).collect();
    let total: usize = sizes[1..].iter().sum();
    let keep_budget = (total as f64 * KEEP_SHARE) as usize;
    let mut kept = 0usize;
    let mut best = None;
    for i in (2..history.len()).rev() {
        kept += sizes[i];
        if history[i].role == Role::User {
            best = Some(i);
            if kept >= keep_budget {
                break;
            }
        }
    }
    best.filter(|&i| i > 1)
}

pub(crate) async fn auto_compact_if_needed(
    session: &mut Session,
    tx: &EventTx,
    cancel: &CancellationToken,
) {
    let Some(window) = session.context_window else {
        return;
    };
    if window > 0 && session.last_prompt_tokens as f64 > window as f64 * AUTO_COMPACT_THRESHOLD {
        compact_for(session, tx, cancel.child_token(), "auto").await;
    }
}

pub(crate) async fn compact(session: &mut Session, tx: &EventTx, cancel: CancellationToken) {
    compact_for(session, tx, cancel, "manual").await;
}

/// Compression because a request would not fit; `true` when the history was compressed.
pub(crate) async fn compact_auto(
    session: &mut Session,
    tx: &EventTx,
    cancel: CancellationToken,
) -> bool {
    compact_for(session, tx, cancel, "auto").await
}

/// Compression, `trigger` being `manual` (`/compress`) or `auto` (the context is nearly full);
/// PreCompact hooks run first. `true` when the history was compressed.
async fn compact_for(
    session: &mut Session,
    tx: &EventTx,
    cancel: CancellationToken,
    trigger: &str,
) -> bool {
    let Some(split) = split_point(&session.history) else {
        tx.send(Event::Warning {
            message: "nothing to compress yet".into(),
        })
        .await;
        return false;
    };
    let payload = qcode_extensions::hooks::EventPayload::PreCompact {
        trigger: trigger.to_string(),
        custom_instructions: String::new(),
    };
    crate::hooks::run(session, payload, &cancel, tx).await;
    let before = estimate_tokens(&session.history);
    let mut messages: Vec<ChatMessage> = session.history[..split].to_vec();
    messages.push(ChatMessage::user(SUMMARY_INSTRUCTIONS));
    let request = ChatRequest {
        model: session.model.clone(),
        messages: messages.into(),
        tools: Vec::new(),
        temperature: session.sampling.temperature,
        max_tokens: None,
        extra: Default::default(),
    };
    let mut stream =
        session
            .deps
            .client
            .stream(session.credentials.clone(), &request, cancel.clone());
    let mut summary = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(ResponseEvent::TextDelta(t)) => summary.push_str(&t),
            Ok(ResponseEvent::Retry {
                attempt,
                max_attempts,
                delay,
                reason,
            }) => {
                tx.send(crate::turn::retry_event(
                    attempt,
                    max_attempts,
                    delay,
                    reason,
                ))
                .await
            }
            Ok(
                ResponseEvent::ReasoningDelta(_)
                | ResponseEvent::ToolCall(_)
                | ResponseEvent::Usage(_)
                | ResponseEvent::Finish(_),
            ) => {}
            Err(e) => {
                tx.error(
                    e.kind(),
                    format!("compressing the conversation failed: {e}"),
                    Some("the conversation was left unchanged".into()),
                )
                .await;
                return false;
            }
        }
    }
    if summary.trim().is_empty() {
        tx.error(
            ErrorKind::Stream,
            "compressing the conversation failed: the model returned an empty summary",
            Some("the conversation was left unchanged".into()),
        )
        .await;
        return false;
    }
    let mut new_history = Vec::with_capacity(session.history.len() - split + 3);
    new_history.push(session.history[0].clone());
    new_history.push(ChatMessage::user(format!(
        "[Summary of the earlier part of this conversation]\n{summary}"
    )));
    new_history.push(ChatMessage::assistant(
        "Understood. I will continue from this summary.",
    ));
    let messages = new_history[1..3].to_vec();
    new_history.extend(session.history.drain(split..));
    session.history = new_history;
    session.last_prompt_tokens = 0;
    tx.send(Event::Compacted {
        before_tokens: before,
        after_tokens: estimate_tokens(&session.history),
        summary,
        replaced: (split - 1) as u64,
        messages,
    })
    .await;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use qcode_protocol::ToolCall;

    #[test]
    fn split_keeps_tool_pairs_together() {
        let mut h = vec![ChatMessage::system("s")];
        for i in 0..10 {
            h.push(ChatMessage::user(format!(
                "question {i} {}",
                "x".repeat(100)
            )));
            let mut a = ChatMessage::assistant("");
            a.tool_calls.push(ToolCall {
                id: format!("c{i}"),
                name: "read_file".into(),
                arguments: "{}".into(),
            });
            h.push(a);
            h.push(ChatMessage::tool_result(format!("c{i}"), "y".repeat(100)));
            h.push(ChatMessage::assistant("done"));
        }
        let s = split_point(&h).unwrap();
        assert_eq!(h[s].role, Role::User);
        assert!(
            s > h.len() / 2,
            "keeps roughly the newest 30%: {s} of {}",
            h.len()
        );
        assert_eq!(split_point(&h[..3]), None);
    }
}
