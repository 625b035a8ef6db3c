//! The engine's hook points that only an interactive session reaches: the approval
//! notification, `ask` in yolo, compression, `/clear`, a replaced system prompt, and a Stop
//! hook that sends the turn on.

use std::path::Path;
use std::sync::Arc;

use qcode_core::HookRunner;
use qcode_extensions::hooks::{HookConfig, HookEnv, HookSettings, SessionFacts};
use qcode_extensions::loader::{Scope, Trust};
use qcode_protocol::{ApprovalMode, Event, Op, ReviewDecision};
use qcode_test_support::mock_model::Reply;
use serde_json::{Value, json};

use super::harness::*;

/// A runner whose hooks append their stdin to `<dir>/<event>.jsonl`; `extra` is appended to
/// every command (e.g. printing a decision).
fn recording_runner(dir: &Path, events: &[(&str, &str)]) -> Option<Arc<HookRunner>> {
    let mut hooks = serde_json::Map::new();
    for (event, extra) in events {
        let file = dir.join(format!("{event}.jsonl"));
        let command = format!("cat >> '{0}'; echo >> '{0}'; {extra}", file.display());
        hooks.insert(
            (*event).to_string(),
            json!([{"hooks": [{"type": "command", "command": command}]}]),
        );
    }
    let config = HookConfig::from_settings(&[HookSettings {
        scope: Scope::User,
        trust: Trust::Trusted,
        hooks: Value::Object(hooks),
        disable_all_hooks: false,
    }]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    let facts = SessionFacts {
        session_id: "sid-1".into(),
        transcript_path: "/tmp/t.jsonl".into(),
        cwd: dir.display().to_string(),
    };
    Some(Arc::new(HookRunner::new(
        config,
        HookEnv::core_from_process(),
        facts,
    )))
}

fn lines(dir: &Path, event: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{event}.jsonl")))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn an_approval_question_notifies_and_ask_forces_one_in_yolo() {
    let ask = json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "ask", "permissionDecisionReason": "check this"}});
    let mut e = start_hooked(ApprovalMode::Yolo, |d| {
        recording_runner(
            d,
            &[
                ("PreToolUse", &format!("echo '{ask}'")),
                ("Notification", ""),
            ],
        )
    });
    e.mock.enqueue(Reply::tool_calls(
        [(
            "w1",
            "write_file",
            json!({"file_path": "a.txt", "content": "x"}).to_string(),
        )],
        5,
    ));
    e.mock.enqueue(Reply::text("done", 2));
    e.send(Op::UserTurn { text: "go".into() });
    let seen = e
        .until(|ev| matches!(ev, Event::ApprovalRequest { .. }))
        .await;
    let Some(Event::ApprovalRequest { request_id, .. }) = seen.last().cloned() else {
        unreachable!()
    };
    // The notification hook runs before the engine waits for the answer.
    let seen = e
        .until(|ev| matches!(ev, Event::Hook { hook_event, .. } if hook_event == "Notification"))
        .await;
    assert!(!seen.is_empty());
    e.send(Op::ApprovalDecision {
        request_id,
        decision: ReviewDecision::AllowOnce,
    });
    e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    // The idle notification follows the end of the turn.
    e.until(|ev| matches!(ev, Event::Hook { hook_event, .. } if hook_event == "Notification"))
        .await;
    let dir = e.dir.path().to_path_buf();
    assert!(dir.join("a.txt").exists());
    let notes = lines(&dir, "Notification");
    assert_eq!(notes[0]["notification_type"], "permission_prompt");
    assert!(notes[0]["message"].as_str().unwrap().contains("write_file"));
    assert_eq!(notes[0]["session_id"], "sid-1");
    assert_eq!(notes.last().unwrap()["notification_type"], "idle_prompt");
}

#[tokio::test]
async fn compression_clear_and_a_new_system_prompt_run_their_hooks() {
    let mut e = start_hooked(ApprovalMode::Default, |d| {
        recording_runner(
            d,
            &[
                ("PreCompact", ""),
                ("SessionStart", "echo START-CTX"),
                ("SessionEnd", ""),
            ],
        )
    });
    for i in 0..3 {
        e.mock.enqueue(Reply::text(&format!("answer {i}"), 4));
        e.turn(&format!("question {i}")).await;
    }
    e.mock.enqueue(Reply::text("SUMMARY", 4));
    e.send(Op::Compact);
    e.until(|ev| matches!(ev, Event::Compacted { .. })).await;
    e.send(Op::ClearHistory);
    e.until(|ev| matches!(ev, Event::HistoryCleared)).await;
    e.send(Op::SetSystemPrompt {
        text: "NEW PROMPT".into(),
    });
    e.until(|ev| matches!(ev, Event::SystemPromptUpdated)).await;
    e.mock.enqueue(Reply::text("fine", 2));
    e.turn("after").await;
    let dir = e.dir.path().to_path_buf();
    let pre = lines(&dir, "PreCompact");
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0]["trigger"], "manual");
    assert_eq!(pre[0]["custom_instructions"], "");
    let starts: Vec<Value> = lines(&dir, "SessionStart")
        .iter()
        .map(|v| v["source"].clone())
        .collect();
    assert_eq!(starts, [json!("startup"), json!("clear")]);
    assert_eq!(lines(&dir, "SessionEnd")[0]["reason"], "clear");
    let reqs = e.mock.requests();
    let system = messages(&e.mock, reqs.len() - 1)[0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(system.starts_with("NEW PROMPT"), "{system}");
    assert_eq!(system.matches("START-CTX").count(), 1, "{system}");
}

#[tokio::test]
async fn a_blocking_stop_hook_sends_the_turn_on_once() {
    let block = json!({"decision": "block", "reason": "run the tests first"});
    let mut e = start_hooked(ApprovalMode::Default, |d| {
        recording_runner(d, &[("Stop", &format!("echo '{block}'"))])
    });
    e.mock.enqueue(Reply::text("first", 2));
    e.mock.enqueue(Reply::text("second", 2));
    e.turn("go").await;
    let reqs = e.mock.requests();
    assert_eq!(
        reqs.len(),
        2,
        "the Stop hook sends the turn on exactly once"
    );
    let last = messages(&e.mock, 1);
    assert_eq!(
        last.last().unwrap()["content"],
        "Stop hook: run the tests first"
    );
    let stops: Vec<Value> = lines(e.dir.path(), "Stop")
        .iter()
        .map(|v| v["stop_hook_active"].clone())
        .collect();
    assert_eq!(stops, [json!(false), json!(true)]);
}
