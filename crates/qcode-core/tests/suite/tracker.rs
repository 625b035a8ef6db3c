//! The engine tells the tools' change tracker where turns begin and end (also interrupted
//! ones) and when the conversation is cleared; the tools' calls fall in between.

use std::path::Path;
use std::sync::{Arc, Mutex};

use qcode_protocol::{ApprovalMode, Event, Op};
use qcode_test_support::mock_model::{Reply, SseItem, chunk};
use qcode_tools::{ChangeTracker, CommandToken};

use super::harness::*;

#[derive(Default)]
struct Calls(Mutex<Vec<&'static str>>);

impl Calls {
    fn push(&self, c: &'static str) {
        self.0.lock().unwrap().push(c);
    }
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl ChangeTracker for Calls {
    fn turn_started(&self) {
        self.push("turn_started");
    }
    fn turn_ended(&self) {
        self.push("turn_ended");
    }
    fn conversation_cleared(&self) {
        self.push("cleared");
    }
    fn before_write(&self, _path: &Path) -> Result<(), String> {
        self.push("before_write");
        Ok(())
    }
    fn before_command(&self) -> Result<CommandToken, String> {
        self.push("before_command");
        Ok(CommandToken(1))
    }
    fn after_command(&self, _token: CommandToken) -> Result<Vec<String>, String> {
        self.push("after_command");
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn turns_tools_interrupts_and_clears_reach_the_tracker() {
    let calls = Arc::new(Calls::default());
    let mut e = start_tracked(ApprovalMode::Yolo, None, Some(calls.clone()));

    e.mock.enqueue(Reply::tool_calls(
        [(
            "c1",
            "write_file",
            serde_json::json!({"file_path": "a.txt", "content": "x"}).to_string(),
        )],
        5,
    ));
    e.mock.enqueue(Reply::tool_calls(
        [(
            "c2",
            "run_shell_command",
            serde_json::json!({"command": "true"}).to_string(),
        )],
        5,
    ));
    e.mock.enqueue(Reply::text("done", 3));
    e.turn("change things").await;
    assert_eq!(
        calls.take(),
        [
            "turn_started",
            "before_write",
            "before_command",
            "after_command",
            "turn_ended"
        ]
    );

    // An empty prompt is no turn (no user message in the history).
    e.turn("   ").await;
    assert!(calls.take().is_empty());

    // An interrupted turn ends too.
    let mut items = vec![SseItem::data_json(&chunk::role())];
    items.push(SseItem::data_json(&chunk::text("partial ")));
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
    e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert_eq!(calls.take(), ["turn_started", "turn_ended"]);

    e.send(Op::ClearHistory);
    e.until(|ev| matches!(ev, Event::HistoryCleared)).await;
    assert_eq!(calls.take(), ["cleared"]);
}
