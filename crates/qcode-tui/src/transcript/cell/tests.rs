use super::*;
use crate::testutil::lines_text;
use qcode_protocol::ToolStatus;

use crate::transcript::ToolState;

fn text(cell: &Cell, detail: Detail) -> String {
    lines_text(&cell.lines(60, None, detail), 60)
}

fn edit_cell() -> ToolCell {
    let mut t = ToolCell::new("c1", "edit", "Edit src/lib.rs");
    t.state = ToolState::Done(ToolStatus::Success);
    t.duration_ms = 42;
    t.diff = Some("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn a() {}\n-fn b() {}\n+fn b() -> u8 { 1 }\n fn c() {}\n".into());
    t
}

#[test]
fn tool_cell_with_diff() {
    let cell = Cell::Tool(Box::new(edit_cell()));
    insta::assert_snapshot!(text(&cell, Detail::Compact));
    let lines = cell.lines(60, None, Detail::Compact);
    let removed = lines
        .iter()
        .find(|l| l.to_string().contains("-fn b()"))
        .unwrap();
    assert_eq!(removed.spans[1].style.fg, Some(Color::Red));
    let added = lines
        .iter()
        .find(|l| l.to_string().contains("+fn b()"))
        .unwrap();
    assert_eq!(added.spans[1].style.fg, Some(Color::Green));
}

#[test]
fn tool_output_is_truncated_with_hint() {
    let mut t = ToolCell::new("c2", "shell", "Shell: cargo test");
    t.state = ToolState::Done(ToolStatus::Error);
    t.duration_ms = 2400;
    t.output = (1..=9).map(|i| format!("line {i}\n")).collect();
    let cell = Cell::Tool(Box::new(t));
    insta::assert_snapshot!(text(&cell, Detail::Compact));
    assert_eq!(cell.lines(60, None, Detail::Full).len(), 10);
}

#[test]
fn tool_states() {
    let mut t = ToolCell::new("c3", "web_fetch", "Fetch https://example.com");
    t.state = ToolState::Done(ToolStatus::Denied);
    t.output = "denied by user".into();
    let denied = text(&Cell::Tool(Box::new(t.clone())), Detail::Compact);
    assert_eq!(denied, "⊘ Fetch https://example.com · denied");
    t.state = ToolState::Running;
    t.output = "a\nb\nc\nd\n".into();
    let live = lines_text(&t.live_lines("⠋"), 60);
    assert_eq!(live, "⠋ Fetch https://example.com\n  b\n  c\n  d");
}

#[test]
fn notices_reasoning_decisions_todos() {
    let cells = [
        Cell::Notice {
            kind: NoticeKind::Error,
            text: "401 Unauthorized".into(),
            hint: Some("run /auth to log in again".into()),
        },
        Cell::Notice {
            kind: NoticeKind::Retry,
            text: "Rate limited; retrying in 2s (attempt 2/5)".into(),
            hint: None,
        },
        Cell::Reasoning {
            text: "**Checking the layout**\nthen more".into(),
            secs: 3,
        },
        Cell::Decision {
            tool: "shell".into(),
            decision: ReviewDecision::Deny {
                message: Some("use cargo nextest".into()),
            },
        },
        Cell::Decision {
            tool: "edit".into(),
            decision: ReviewDecision::AllowForSession,
        },
        Cell::Todos {
            items: vec![
                TodoItem {
                    id: "1".into(),
                    content: "Read the code".into(),
                    status: TodoStatus::Completed,
                },
                TodoItem {
                    id: "2".into(),
                    content: "Write the fix".into(),
                    status: TodoStatus::InProgress,
                },
                TodoItem {
                    id: "3".into(),
                    content: "Run tests".into(),
                    status: TodoStatus::Pending,
                },
            ],
        },
        Cell::User {
            text: "fix the bug\nin 你好.rs".into(),
        },
        Cell::Shell {
            command: "false".into(),
            output: String::new(),
            exit_code: Some(1),
        },
    ];
    let all: Vec<String> = cells.iter().map(|c| text(c, Detail::Compact)).collect();
    insta::assert_snapshot!(all.join("\n---\n"));
}
