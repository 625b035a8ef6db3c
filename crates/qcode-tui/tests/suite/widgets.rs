//! Snapshot tests of what the app shows: the scrollback of /help and /tools, the `@` file
//! popup, and the bottom pane with its status line while idle, streaming, waiting for an
//! approval, and after usage was reported.

use crossterm::event::KeyCode;
use qcode_protocol::{ApprovalDetails, Event, Usage};
use qcode_tui::{AppEvent, ToolInfo};

use super::harness::{Harness, options};

/// What `run` writes to the scrollback, wrapped at `width`.
fn command_output(h: &mut Harness, command: &str, width: u16) -> String {
    let from = h.written.len();
    h.submit(command);
    // The first line is the blank separator before the cell.
    h.scrollback_at(from + 1, width)
}

#[test]
fn help_wide_and_narrow() {
    let mut wide = Harness::new();
    let mut narrow = Harness::new();
    narrow.app.set_width(60);
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        command_output(&mut wide, "/help", 80),
        command_output(&mut narrow, "/help", 60)
    ));
}

#[test]
fn tools_list() {
    let mut o = options();
    o.tools = [
        ("read_file", "read-only", "Reads a file."),
        ("edit", "edit", "Replaces text in a file."),
        ("run_shell_command", "execute", "Runs a shell command."),
        ("web_fetch", "fetch", "Fetches a URL."),
        (
            "save_memory",
            "memory",
            "Saves a fact to the global memory file.",
        ),
        ("todo_write", "plan", "Keeps the plan."),
    ]
    .into_iter()
    .map(|(name, permission, description)| ToolInfo {
        name: name.into(),
        description: description.into(),
        permission: permission.into(),
    })
    .collect();
    let mut h = Harness::with_options(o);
    insta::assert_snapshot!(command_output(&mut h, "/tools", 80));
}

#[test]
fn tools_without_a_list() {
    let mut h = Harness::new();
    assert_eq!(
        command_output(&mut h, "/tools", 80),
        "No tool list is available in this session"
    );
}

#[test]
fn file_completion_popup() {
    let mut h = Harness::new();
    // Indexed before the first `@`, so nothing walks the disk.
    h.app.handle_app_event(AppEvent::FilesIndexed(vec![
        "src/lib.rs".into(),
        "src/app/mod.rs".into(),
        "src/app/keys.rs".into(),
        "tests/all.rs".into(),
        "README.md".into(),
    ]));
    h.type_str("look at @src/");
    let matches = h.frame(80, 20);
    h.type_str("zzz");
    let none = h.frame(80, 20);
    insta::assert_snapshot!(format!("{matches}\n---\n{none}"));
    for _ in 0..3 {
        h.press(KeyCode::Backspace);
    }
    h.press(KeyCode::Tab);
    assert_eq!(h.app.composer().text(), "look at @src/lib.rs ");
}

#[test]
fn bottom_pane_idle() {
    let mut h = Harness::new();
    insta::assert_snapshot!(h.frame(80, 20));
}

#[test]
fn bottom_pane_while_streaming() {
    let mut h = Harness::new();
    h.submit("explain");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(Event::TextDelta {
        text: "The parser reads **one line** at a time and".into(),
    });
    insta::assert_snapshot!(h.frame(80, 20));
}

#[test]
fn bottom_pane_waiting_for_a_shell_approval() {
    let mut h = Harness::new();
    h.submit("run the tests");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(Event::ApprovalRequest {
        request_id: "r1".into(),
        call_id: "c1".into(),
        tool: "run_shell_command".into(),
        details: ApprovalDetails::Shell {
            command: "cargo test --workspace".into(),
            directory: "/work/p".into(),
        },
    });
    insta::assert_snapshot!(h.frame(80, 20));
}

#[test]
fn status_line_shows_context_used_and_session_tokens() {
    let mut h = Harness::new();
    h.submit("hi");
    h.engine(Event::Usage {
        usage: Usage {
            prompt_tokens: 57_000,
            completion_tokens: 400,
            total_tokens: 57_400,
            ..Usage::default()
        },
        total: Usage {
            prompt_tokens: 93_000,
            completion_tokens: 400,
            total_tokens: 93_400,
            ..Usage::default()
        },
    });
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: qcode_protocol::TurnOutcome::Completed,
    });
    insta::assert_snapshot!(h.frame(80, 20));
}
