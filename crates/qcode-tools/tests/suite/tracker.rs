//! The change-tracker seam: what edit, write_file and run_shell_command tell the tracker, when,
//! and how its notices and failures reach the result without failing the tool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use qcode_tools::{ChangeTracker, CommandToken, ToolResultStatus};
use serde_json::json;

use super::support::Ws;

/// What the tracker saw, in order; `content` is the file's content when told (None: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Write {
        path: PathBuf,
        content: Option<String>,
    },
    Before,
    After(u64),
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    fail: bool,
    notices: Vec<String>,
}

impl ChangeTracker for Recorder {
    fn turn_started(&self) {}
    fn turn_ended(&self) {}
    fn conversation_cleared(&self) {}
    fn before_write(&self, path: &Path) -> Result<(), String> {
        self.seen.lock().unwrap().push(Seen::Write {
            path: path.to_path_buf(),
            content: std::fs::read_to_string(path).ok(),
        });
        if self.fail {
            return Err("the disk is full".into());
        }
        Ok(())
    }
    fn before_command(&self) -> Result<CommandToken, String> {
        self.seen.lock().unwrap().push(Seen::Before);
        if self.fail {
            return Err("the disk is full".into());
        }
        Ok(CommandToken(7))
    }
    fn after_command(&self, token: CommandToken) -> Result<Vec<String>, String> {
        self.seen.lock().unwrap().push(Seen::After(token.0));
        Ok(self.notices.clone())
    }
}

fn with(ws: &mut Ws, tracker: Recorder) -> Arc<Recorder> {
    let t = Arc::new(tracker);
    ws.ctx.change_tracker = Some(t.clone());
    t
}

#[tokio::test]
async fn edit_and_write_tell_the_tracker_before_writing_also_for_a_new_file() {
    let mut ws = Ws::new();
    ws.write("a.txt", "one\n");
    let t = with(&mut ws, Recorder::default());
    let r = ws
        .run(
            "edit",
            json!({"file_path": "a.txt", "old_string": "one", "new_string": "two"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert!(!r.output.contains("[rewind]"), "{}", r.output);
    let r = ws
        .run(
            "write_file",
            json!({"file_path": "new.txt", "content": "x"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert_eq!(
        *t.seen.lock().unwrap(),
        [
            Seen::Write {
                path: ws.path("a.txt"),
                content: Some("one\n".into())
            },
            Seen::Write {
                path: ws.path("new.txt"),
                content: None
            },
        ]
    );
}

#[tokio::test]
async fn a_failing_tracker_never_fails_the_tool_it_adds_one_warning() {
    let mut ws = Ws::new();
    let _t = with(
        &mut ws,
        Recorder {
            fail: true,
            ..Recorder::default()
        },
    );
    let r = ws
        .run(
            "write_file",
            json!({"file_path": "new.txt", "content": "x"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert!(r.output.starts_with("Created new.txt"), "{}", r.output);
    assert!(
        r.output
            .ends_with("\n[rewind] warning: this change cannot be rewound: the disk is full"),
        "{}",
        r.output
    );
    assert_eq!(ws.read("new.txt"), b"x");
    let r = ws
        .run("run_shell_command", json!({"command": "echo hi > out.txt"}))
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert_eq!(r.output.matches("[rewind]").count(), 1, "{}", r.output);
    assert_eq!(ws.read("out.txt"), b"hi\n");
}

#[tokio::test]
async fn shell_commands_are_bracketed_and_notices_reach_the_result() {
    let mut ws = Ws::new();
    let t = with(
        &mut ws,
        Recorder {
            notices: vec!["big.bin: not kept for rewind (a binary file)".into()],
            ..Recorder::default()
        },
    );
    let r = ws
        .run("run_shell_command", json!({"command": "echo hi"}))
        .await;
    assert!(
        r.output
            .ends_with("\n[rewind] big.bin: not kept for rewind (a binary file)"),
        "{}",
        r.output
    );
    // A failing command is bracketed too; so is the start of a background one.
    ws.run("run_shell_command", json!({"command": "exit 3"}))
        .await;
    ws.run(
        "run_shell_command",
        json!({"command": "sleep 0.1", "is_background": true}),
    )
    .await;
    let seen = t.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            Seen::Before,
            Seen::After(7),
            Seen::Before,
            Seen::After(7),
            Seen::Before,
            Seen::After(7)
        ]
    );
}

#[tokio::test]
async fn without_a_tracker_nothing_is_added() {
    let ws = Ws::new();
    let r = ws
        .run("run_shell_command", json!({"command": "echo hi"}))
        .await;
    assert!(!r.output.contains("[rewind]"), "{}", r.output);
}
