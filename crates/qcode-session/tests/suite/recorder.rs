//! The recorder: events in, a transcript whose history is exactly the engine's.

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, Event, Usage};
use qcode_session::{Recorder, SessionStart, SyncPolicy, load, most_recent};

use super::support::call;

fn start() -> SessionStart {
    SessionStart {
        cwd: "/work/project".into(),
        git_branch: None,
        model: "m1".into(),
        auth: AuthKind::Openai,
        approval_mode: ApprovalMode::Default,
    }
}

fn configured(model: &str, mode: ApprovalMode) -> Event {
    Event::SessionConfigured {
        model: model.into(),
        auth: AuthKind::Openai,
        approval_mode: mode,
        cwd: "/work/project".into(),
        context_window: None,
        session_id: None,
    }
}

fn appended(m: ChatMessage) -> Event {
    Event::HistoryAppended { message: m }
}

#[test]
fn events_become_a_transcript_with_the_same_history_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Recorder::create(dir.path(), start(), SyncPolicy::FlushOnly).unwrap();
    let mut asked = ChatMessage::assistant("");
    asked.tool_calls = vec![call("c1", "read_file", "{}")];
    let events = vec![
        configured("m1", ApprovalMode::Default),
        appended(ChatMessage::user("q1")),
        Event::TextDelta { text: "x".into() },
        appended(asked.clone()),
        appended(ChatMessage::tool_result("c1", "content")),
        appended(ChatMessage::assistant("a1")),
        Event::Usage {
            usage: Usage {
                prompt_tokens: 3,
                ..Default::default()
            },
            total: Usage::default(),
        },
        appended(ChatMessage::user("q2")),
        appended(ChatMessage::assistant("a2")),
        Event::Compacted {
            before_tokens: 10,
            after_tokens: 5,
            summary: "S".into(),
            replaced: 4,
            messages: vec![ChatMessage::user("[S]"), ChatMessage::assistant("ok")],
        },
        configured("m2", ApprovalMode::AutoEdit),
        appended(ChatMessage::user("q3")),
    ];
    for ev in &events {
        r.observe(ev).unwrap();
    }
    let path = r.path().to_path_buf();
    let id = r.session_id().to_string();
    drop(r);
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.id(), id);
    assert!(loaded.warnings.is_empty());
    assert_eq!(
        loaded.history(),
        vec![
            ChatMessage::user("[S]"),
            ChatMessage::assistant("ok"),
            ChatMessage::user("q2"),
            ChatMessage::assistant("a2"),
            ChatMessage::user("q3"),
        ]
    );
    let state = loaded.state();
    assert_eq!(state.model, "m2");
    assert_eq!(state.approval_mode, ApprovalMode::AutoEdit);

    // Continuing appends to the same file.
    let mut r =
        Recorder::resume(&loaded, "/work/project".into(), None, SyncPolicy::FlushOnly).unwrap();
    assert_eq!(r.session_id(), id);
    r.observe(&configured("m2", ApprovalMode::AutoEdit))
        .unwrap();
    r.observe(&appended(ChatMessage::assistant("a3"))).unwrap();
    drop(r);
    let again = load(&path).unwrap();
    assert_eq!(again.history().last(), Some(&ChatMessage::assistant("a3")));
    assert_eq!(
        again.records.len(),
        loaded.records.len() + 1,
        "no state record repeated"
    );
}

#[test]
fn clearing_the_history_starts_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Recorder::create(dir.path(), start(), SyncPolicy::FlushOnly).unwrap();
    r.observe(&appended(ChatMessage::user("old"))).unwrap();
    let first = r.session_id().to_string();
    // Sessions are ordered by their last record's time (millisecond resolution): a clear
    // within the same millisecond as the last record would tie.
    std::thread::sleep(std::time::Duration::from_millis(3));
    r.observe(&Event::HistoryCleared).unwrap();
    r.observe(&appended(ChatMessage::user("new"))).unwrap();
    assert_ne!(r.session_id(), first);
    let path = r.path().to_path_buf();
    drop(r);
    assert_eq!(
        load(&path).unwrap().history(),
        vec![ChatMessage::user("new")]
    );
    assert_eq!(
        most_recent(dir.path()).unwrap().unwrap(),
        path,
        "the new session is the most recent"
    );
}

/// `Recorder::wants` (what the per-token path hands over) never hides an event `observe`
/// records: the events it declines leave the transcript as it was.
#[test]
fn declined_events_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Recorder::create(dir.path(), start(), SyncPolicy::FlushOnly).unwrap();
    let path = r.path().to_path_buf();
    let declined = [
        Event::TextDelta { text: "x".into() },
        Event::ReasoningDelta { text: "y".into() },
        Event::TurnStarted { turn_id: 1 },
        Event::Warning {
            message: "w".into(),
        },
        Event::SystemPromptUpdated,
    ];
    for ev in &declined {
        assert!(!Recorder::wants(ev), "{ev:?}");
        let before = std::fs::read(&path).unwrap();
        r.observe(ev).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before, "{ev:?} was recorded");
    }
    for ev in [
        appended(ChatMessage::user("hi")),
        Event::Usage {
            usage: Usage::default(),
            total: Usage::default(),
        },
        configured("m2", ApprovalMode::Plan),
    ] {
        assert!(Recorder::wants(&ev), "{ev:?}");
    }
}

fn hook(status: &str, command: &str, message: Option<&str>) -> Event {
    Event::Hook {
        hook_event: "PreToolUse".into(),
        command: command.into(),
        scope: "user".into(),
        status: status.into(),
        message: message.map(String::from),
    }
}

#[test]
fn hook_runs_are_recorded_redacted_and_left_out_of_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Recorder::create(dir.path(), start(), SyncPolicy::FlushOnly).unwrap();
    let mut asked = ChatMessage::assistant("");
    asked.tool_calls = vec![call("c1", "run_shell_command", "{}")];
    let long = "why ".repeat(200);
    let events = vec![
        appended(ChatMessage::user("q1")),
        appended(asked.clone()),
        hook(
            "blocked",
            "GUARD_TOKEN=tok-very-secret ./guard.sh",
            Some("denied: Bearer abc123secret\nsecond line"),
        ),
        hook("success", "./audit.sh", None),
        hook("failed", "./slow.sh", Some(&long)),
        appended(ChatMessage::tool_result("c1", "blocked by hook")),
        appended(ChatMessage::assistant("done")),
    ];
    for ev in &events {
        assert!(Recorder::wants(ev) || matches!(ev, Event::TextDelta { .. }));
        r.observe(ev).unwrap();
    }
    let path = r.path().to_path_buf();
    drop(r);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("tok-very-secret"), "{text}");
    assert!(!text.contains("abc123secret"), "{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "hook")
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["event"], "PreToolUse");
    assert_eq!(lines[0]["scope"], "user");
    assert_eq!(lines[0]["status"], "blocked");
    assert_eq!(lines[0]["command"], "GUARD_TOKEN=*** ./guard.sh");
    assert_eq!(lines[0]["message"], "denied: Bearer *** second line");
    assert!(lines[1].get("message").is_none(), "{}", lines[1]);
    let cut = lines[2]["message"].as_str().unwrap();
    assert!(cut.chars().count() <= 300 && cut.ends_with('…'), "{cut}");

    let loaded = load(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let mut answered = ChatMessage::assistant("");
    answered.tool_calls = asked.tool_calls.clone();
    assert_eq!(
        loaded.history(),
        vec![
            ChatMessage::user("q1"),
            answered,
            ChatMessage::tool_result("c1", "blocked by hook"),
            ChatMessage::assistant("done"),
        ],
        "hook records are not conversation"
    );
    let shown = qcode_session::show(&loaded);
    assert!(
        shown.contains("[hook PreToolUse (user) GUARD_TOKEN=*** ./guard.sh: blocked — denied: Bearer *** second line]"),
        "{shown}"
    );
    let md = qcode_session::export(&loaded, qcode_session::ExportFormat::Markdown).unwrap();
    assert!(
        md.contains("_Hook PreToolUse (user) `./audit.sh`: success._"),
        "{md}"
    );
}

/// A damaged hook line (a field missing) is skipped with a warning like any bad line; the
/// conversation around it loads and resumes unchanged, and a well-formed one round-trips.
#[test]
fn a_damaged_hook_line_is_skipped_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chats/s.jsonl");
    super::support::fixture(
        &path,
        "s",
        vec![
            qcode_session::RecordBody::User {
                content: "q".into(),
            },
            qcode_session::RecordBody::Hook {
                event: "Stop".into(),
                command: "./audit.sh".into(),
                scope: "user".into(),
                status: "success".into(),
                message: None,
            },
            qcode_session::RecordBody::Assistant {
                content: "a".into(),
                reasoning: None,
                tool_calls: vec![],
            },
        ],
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "{\"seq\":4,\"ts\":\"2026-12-01T10:04:00.000Z\",\"type\":\"hook\",\"event\":\"Stop\"}\n",
    );
    std::fs::write(&path, text).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(loaded.warnings[0].line, 5);
    assert_eq!(
        loaded.history(),
        vec![ChatMessage::user("q"), ChatMessage::assistant("a")]
    );
    assert!(
        loaded
            .records
            .iter()
            .any(|r| r.body.kind() == "hook" && r.body.as_message().is_none())
    );
}
