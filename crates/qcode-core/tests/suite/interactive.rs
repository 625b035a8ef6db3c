//! Engine behaviour that only an interactive front end exercises: asking for approval,
//! interrupting, changing modes mid-turn, compression, history validity.

use qcode_protocol::{
    ApprovalDetails, ApprovalMode, Event, Op, ReviewDecision, ToolStatus, TurnOutcome,
};
use qcode_test_support::mock_model::{MockUsage, Reply, SseItem, chunk};
use serde_json::json;

use super::harness::*;

fn write_call(path: &str) -> Reply {
    Reply::tool_calls(
        [(
            "w1",
            "write_file",
            json!({"file_path": path, "content": "hi\n"}).to_string(),
        )],
        10,
    )
}

#[tokio::test]
async fn asks_then_runs_on_allow_and_remembers_allow_for_session() {
    let mut e = start(ApprovalMode::Default, None);
    e.mock.enqueue(write_call("a.txt"));
    e.mock.enqueue(Reply::text("done", 4));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    let evs = e
        .until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
        .await;
    let Some(Event::ApprovalRequest {
        request_id,
        tool,
        details,
        ..
    }) = evs.last().cloned()
    else {
        unreachable!()
    };
    assert_eq!(tool, "write_file");
    match details {
        ApprovalDetails::Edit { diff, path } => {
            assert!(path.ends_with("a.txt"));
            assert!(diff.contains("+hi"), "{diff}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !e.dir.path().join("a.txt").exists(),
        "nothing runs before the answer"
    );
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::AllowForSession,
    });
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(evs.iter().any(|ev| matches!(
        ev,
        Event::ToolCallEnd {
            status: ToolStatus::Success,
            ..
        }
    )));
    assert_eq!(
        std::fs::read_to_string(e.dir.path().join("a.txt")).unwrap(),
        "hi\n"
    );

    // Allowed for the session: the next write runs without asking.
    e.mock.enqueue(write_call("b.txt"));
    e.mock.enqueue(Reply::text("done", 4));
    let evs = e.turn("again").await;
    assert!(
        !evs.iter()
            .any(|ev| matches!(ev, Event::ApprovalRequest { .. })),
        "{evs:#?}"
    );
    assert!(e.dir.path().join("b.txt").exists());
}

#[tokio::test]
async fn deny_with_a_note_reaches_the_model() {
    let mut e = start(ApprovalMode::Default, None);
    e.mock.enqueue(write_call("a.txt"));
    e.mock.enqueue(Reply::text("ok", 4));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    let evs = e
        .until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
        .await;
    let Some(Event::ApprovalRequest { request_id, .. }) = evs.last().cloned() else {
        unreachable!()
    };
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::Deny {
            message: Some("use b.txt instead".into()),
        },
    });
    e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(!e.dir.path().join("a.txt").exists());
    let msgs = messages(&e.mock, 1);
    let tool = msgs.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(
        tool["content"],
        "Denied by the user, who says: use b.txt instead"
    );
}

#[tokio::test]
async fn mode_change_while_waiting_applies_to_later_calls() {
    let mut e = start(ApprovalMode::Default, None);
    e.mock.enqueue(Reply::tool_calls(
        [
            (
                "w1",
                "write_file",
                json!({"file_path": "a.txt", "content": "1"}).to_string(),
            ),
            (
                "w2",
                "write_file",
                json!({"file_path": "b.txt", "content": "2"}).to_string(),
            ),
        ],
        50,
    ));
    e.mock.enqueue(Reply::text("ok", 4));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    let evs = e
        .until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
        .await;
    let Some(Event::ApprovalRequest { request_id, .. }) = evs.last().cloned() else {
        unreachable!()
    };
    e.send(Op::SetApprovalMode {
        mode: ApprovalMode::AutoEdit,
    });
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::AllowOnce,
    });
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert_eq!(
        evs.iter()
            .filter(|ev| matches!(ev, Event::ApprovalRequest { .. }))
            .count(),
        0,
        "second call auto-approved"
    );
    assert!(evs.iter().any(|ev| matches!(
        ev,
        Event::SessionConfigured {
            approval_mode: ApprovalMode::AutoEdit,
            ..
        }
    )));
    assert!(e.dir.path().join("b.txt").exists());
}

#[tokio::test]
async fn interrupt_mid_stream_keeps_history_valid() {
    let mut e = start(ApprovalMode::Default, None);
    let mut items = vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("partial ")),
    ];
    for _ in 0..50 {
        items.push(SseItem::delay(100));
        items.push(SseItem::data_json(&chunk::text("more ")));
    }
    e.mock.enqueue(Reply::sse(items));
    e.send(Op::UserTurn {
        text: "long".into(),
    });
    e.until(|ev| matches!(ev, Event::TextDelta { .. })).await;
    e.send(Op::Interrupt);
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Interrupted,
            ..
        })
    ));

    e.mock.enqueue(Reply::text("fine", 4));
    let evs = e.turn("next").await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Completed,
            ..
        })
    ));
    let msgs = messages(&e.mock, 1);
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, vec!["system", "user", "assistant", "user"]);
    assert!(msgs[2]["content"].as_str().unwrap().starts_with("partial"));
}

#[tokio::test]
async fn interrupt_while_waiting_for_approval_answers_every_call() {
    let mut e = start(ApprovalMode::Default, None);
    e.mock.enqueue(Reply::tool_calls(
        [
            (
                "w1",
                "write_file",
                json!({"file_path": "a.txt", "content": "1"}).to_string(),
            ),
            ("r1", "list_directory", json!({"path": "."}).to_string()),
        ],
        50,
    ));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    e.until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
        .await;
    e.send(Op::Interrupt);
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Interrupted,
            ..
        })
    ));
    e.mock.enqueue(Reply::text("ok", 4));
    e.turn("next").await;
    let msgs = messages(&e.mock, 1);
    let results: Vec<(&str, &str)> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap(),
                m["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(results.len(), 2, "every call answered: {results:?}");
    assert!(
        results.iter().all(|(_, c)| c.starts_with("Cancelled")),
        "{results:?}"
    );
}

#[tokio::test]
async fn compresses_past_the_threshold_and_keeps_recent_turns() {
    // (The window leaves room for the tool schemas, which the estimate before sending counts.)
    let mut e = start(ApprovalMode::Default, Some(20_000));
    for i in 0..4 {
        e.mock.enqueue(
            Reply::text(&format!("answer {i}"), 50)
                .with_usage(MockUsage::new(2_000 + i * 1_000, 5)),
        );
        e.turn(&format!("question {i}")).await;
    }
    // The last prompt used 5,000 of 20,000 tokens: no compression yet. Now 16,000 → compress
    // first.
    e.mock
        .enqueue(Reply::text("answer 4", 50).with_usage(MockUsage::new(16_000, 5)));
    e.turn("question 4").await;
    e.mock.enqueue(Reply::text("SUMMARY OF EARLIER WORK", 50));
    e.mock.enqueue(Reply::text("answer 5", 50));
    let evs = e.turn("question 5").await;
    assert!(
        evs.iter().any(|ev| matches!(ev, Event::Compacted { .. })),
        "{evs:#?}"
    );
    let reqs = e.mock.requests();
    let summary_req = reqs[5].body_json().unwrap();
    assert!(
        summary_req.get("tools").is_none(),
        "the summary request offers no tools"
    );
    let msgs = messages(&e.mock, 6);
    assert_eq!(msgs[0]["content"], "SYSTEM");
    assert!(
        msgs[1]["content"]
            .as_str()
            .unwrap()
            .contains("SUMMARY OF EARLIER WORK")
    );
    assert_eq!(msgs.last().unwrap()["content"], "question 5");
    assert!(
        msgs.iter().any(|m| m["content"] == "question 4"),
        "recent turns kept verbatim"
    );
    assert!(
        !msgs.iter().any(|m| m["content"] == "question 0"),
        "old turns replaced"
    );
}

#[tokio::test]
async fn set_model_clear_and_system_prompt() {
    let mut e = start(ApprovalMode::Default, None);
    e.send(Op::SetModel {
        model: "other-model".into(),
    });
    e.send(Op::SetSystemPrompt {
        text: "NEW SYSTEM".into(),
    });
    e.mock.enqueue(Reply::text("a", 4));
    e.turn("one").await;
    e.send(Op::ClearHistory);
    e.until(|ev| matches!(ev, Event::HistoryCleared)).await;
    e.mock.enqueue(Reply::text("b", 4));
    e.turn("two").await;
    let first = e.mock.requests()[0].body_json().unwrap();
    assert_eq!(first["model"], "other-model");
    assert_eq!(first["messages"][0]["content"], "NEW SYSTEM");
    let msgs = messages(&e.mock, 1);
    assert_eq!(
        msgs.len(),
        2,
        "history cleared but the system prompt kept: {msgs:?}"
    );
}

/// Replays `HistoryAppended` / `Compacted` / `HistoryCleared` after the system prompt.
fn replay(events: &[Event]) -> Vec<qcode_protocol::ChatMessage> {
    let mut h = vec![qcode_protocol::ChatMessage::system("SYSTEM")];
    for ev in events {
        match ev {
            Event::HistoryAppended { message } => h.push(message.clone()),
            Event::Compacted {
                replaced, messages, ..
            } => {
                let rest = h.split_off(1 + *replaced as usize);
                h.truncate(1);
                h.extend(messages.iter().cloned());
                h.extend(rest);
            }
            Event::HistoryCleared => h.truncate(1),
            _ => {}
        }
    }
    h
}

/// The wire form of a message, reduced to what a replay must reproduce.
fn wire(m: &serde_json::Value) -> (String, String, Option<String>, Vec<String>) {
    (
        m["role"].as_str().unwrap().to_string(),
        m["content"].as_str().unwrap_or("").to_string(),
        m["tool_call_id"].as_str().map(str::to_string),
        m["tool_calls"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        format!(
                            "{}:{}:{}",
                            c["id"].as_str().unwrap(),
                            c["function"]["name"].as_str().unwrap(),
                            c["function"]["arguments"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    )
}

fn local(m: &qcode_protocol::ChatMessage) -> (String, String, Option<String>, Vec<String>) {
    let role = serde_json::to_value(m.role).unwrap();
    (
        role.as_str().unwrap().to_string(),
        m.content.clone(),
        m.tool_call_id.clone(),
        m.tool_calls
            .iter()
            .map(|c| format!("{}:{}:{}", c.id, c.name, c.arguments))
            .collect(),
    )
}

#[tokio::test]
async fn history_events_rebuild_exactly_what_the_next_request_sends() {
    let mut e = start(ApprovalMode::Default, None);
    let mut events = Vec::new();
    // A read-only tool round, then an answer.
    e.mock.enqueue(Reply::tool_calls(
        [("r1", "list_directory", json!({"path": "."}).to_string())],
        10,
    ));
    e.mock.enqueue(Reply::text("listed", 4));
    events.extend(e.turn("list").await);
    for i in 0..3 {
        e.mock.enqueue(Reply::text(&format!("answer {i}"), 4));
        events.extend(e.turn(&format!("question {i}")).await);
    }
    // Compression of what is there so far.
    e.mock.enqueue(Reply::text("SUMMARY", 4));
    e.send(Op::Compact);
    events.extend(e.until(|ev| matches!(ev, Event::Compacted { .. })).await);
    // A call waiting for approval, interrupted: every call gets a cancelled result.
    e.mock.enqueue(Reply::tool_calls(
        [
            (
                "w1",
                "write_file",
                json!({"file_path": "a.txt", "content": "1"}).to_string(),
            ),
            ("r2", "list_directory", json!({"path": "."}).to_string()),
        ],
        10,
    ));
    e.send(Op::UserTurn {
        text: "write".into(),
    });
    events.extend(
        e.until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
            .await,
    );
    e.send(Op::Interrupt);
    events.extend(e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await);
    // An interrupted stream keeps its partial text.
    let mut items = vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("partial ")),
    ];
    for _ in 0..50 {
        items.push(SseItem::delay(100));
        items.push(SseItem::data_json(&chunk::text("more ")));
    }
    e.mock.enqueue(Reply::sse(items));
    e.send(Op::UserTurn {
        text: "long".into(),
    });
    events.extend(e.until(|ev| matches!(ev, Event::TextDelta { .. })).await);
    e.send(Op::Interrupt);
    events.extend(e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await);

    // The user message is reported before the request carrying it starts.
    let user_at = events
        .iter()
        .position(
            |ev| matches!(ev, Event::HistoryAppended { message } if message.content == "list"),
        )
        .unwrap();
    let request_at = events
        .iter()
        .position(|ev| matches!(ev, Event::RequestStarted { .. }))
        .unwrap();
    assert!(user_at < request_at);

    e.mock.enqueue(Reply::text("fine", 4));
    e.send(Op::UserTurn {
        text: "next".into(),
    });
    events.extend(
        e.until(|ev| matches!(ev, Event::RequestStarted { .. }))
            .await,
    );
    e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    let last = e.mock.requests().len() - 1;
    let sent: Vec<_> = messages(&e.mock, last).iter().map(wire).collect();
    let rebuilt: Vec<_> = replay(&events).iter().map(local).collect();
    assert_eq!(rebuilt, sent);
    assert!(sent.iter().any(|m| m.1.contains("SUMMARY")), "{sent:#?}");
    assert!(
        sent.iter().filter(|m| m.0 == "tool").count() >= 2,
        "{sent:#?}"
    );
}
