use std::io::Write;

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, Role};
use qcode_session::{
    INTERRUPTED_TOOL_RESULT, RecordBody, SessionError, SessionWriter, SyncPolicy, fork, load,
    transcript_path, truncate_before_turn,
};

use super::support::{call, fixture, header, mode, typical};

#[test]
fn write_then_load_round_trips() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    assert_eq!(path, transcript_path(t.path(), "s1"));
    let s = load(&path).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.header, header("s1"));
    let kinds: Vec<_> = s.records.iter().map(|r| r.body.kind()).collect();
    assert_eq!(
        kinds,
        [
            "user",
            "assistant",
            "tool_result",
            "assistant",
            "usage",
            "mode"
        ]
    );
    let seqs: Vec<_> = s.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert!(
        s.records
            .iter()
            .all(|r| r.ts.len() == 24 && r.ts.ends_with('Z'))
    );
    let h = s.history();
    assert_eq!(h.len(), 4);
    assert_eq!(h[0], ChatMessage::user("Read the README\nand summarise it"));
    assert_eq!(h[1].tool_calls[0].id, "call_1");
    assert_eq!(h[1].reasoning.as_deref(), Some("I should read it."));
    assert_eq!(
        h[2],
        ChatMessage::tool_result("call_1", "# qcode\nA terminal assistant.")
    );
    assert_eq!(h[3], ChatMessage::assistant("It is a terminal assistant."));
    let state = s.state();
    assert_eq!(state.approval_mode, ApprovalMode::AutoEdit);
    assert_eq!(state.model, "qwen3-coder-plus");
    assert_eq!(s.turns(), 1);
}

#[test]
fn every_line_has_type_ts_and_seq() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    for line in std::fs::read_to_string(&path).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["type"].is_string() && v["ts"].is_string() && v["seq"].is_u64(),
            "{line}"
        );
    }
}

#[test]
fn files_are_private() {
    let t = tempfile::tempdir().unwrap();
    let project = t.path().join("home/.qcode/projects/p");
    let path = typical(&project, "s1");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&project), 0o700);
}

#[test]
fn an_existing_session_is_never_clobbered() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    let before = std::fs::read(&path).unwrap();
    let err = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap_err();
    assert!(matches!(err, SessionError::Io { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_session() {
    let t = tempfile::tempdir().unwrap();
    let w = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap();
    let s = load(w.path()).unwrap();
    let err = SessionWriter::resume(&s, SyncPolicy::FlushOnly).unwrap_err();
    assert!(matches!(err, SessionError::InUse { .. }), "{err}");
    drop(w);
    SessionWriter::resume(&s, SyncPolicy::FlushOnly).unwrap();
}

#[test]
fn torn_last_line_is_skipped_with_one_warning_and_resume_continues_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(
        br#"{"seq":7,"ts":"2026-12-01T10:00:00.000Z","type":"assistant","content":"half a rep"#,
    )
    .unwrap();
    drop(f);
    let s = load(&path).unwrap();
    assert_eq!(s.records.len(), 6);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].line, 8);
    assert!(s.warnings[0].reason.contains("torn"));
    assert!(!s.warnings[0].to_string().contains("half a rep"));
    // Resuming cuts the torn bytes and continues the sequence.
    let mut w = SessionWriter::resume(&s, SyncPolicy::Durable).unwrap();
    assert_eq!(w.next_seq(), 7);
    w.user("next").unwrap();
    drop(w);
    let s = load(&path).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.records.last().unwrap().seq, 7);
    assert_eq!(s.turns(), 2);
}

#[test]
fn truncation_at_every_byte_of_the_last_line_keeps_every_earlier_record() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    let mut w = SessionWriter::resume(&load(&path).unwrap(), SyncPolicy::FlushOnly).unwrap();
    w.append(RecordBody::Assistant {
        content: "a final answer with \"quotes\", ünïcödé and \\ escapes".into(),
        reasoning: None,
        tool_calls: vec![call("c9", "shell", r#"{"command":"ls"}"#)],
    })
    .unwrap();
    drop(w);
    let full = std::fs::read(&path).unwrap();
    let last_start = full[..full.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let cut_path = t.path().join("cut.jsonl");
    for cut in last_start..full.len() {
        std::fs::write(&cut_path, &full[..cut]).unwrap();
        let s = load(&cut_path).unwrap();
        assert_eq!(s.records.len(), 6, "cut at {cut}");
        let expected_warnings = usize::from(cut > last_start);
        assert_eq!(s.warnings.len(), expected_warnings, "cut at {cut}");
        assert_eq!(s.history().len(), 4, "cut at {cut}");
    }
    std::fs::write(&cut_path, &full).unwrap();
    assert_eq!(load(&cut_path).unwrap().records.len(), 7);
}

#[test]
fn an_invalid_line_in_the_middle_is_skipped_with_its_line_number_only() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/s1.jsonl");
    fixture(
        &path,
        "s1",
        vec![RecordBody::User {
            content: "hello".into(),
        }],
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"seq\":2,\"type\":\"user\",\"content\":\"SECRET-ish garbage\n");
    text.push_str(
        "{\"seq\":3,\"ts\":\"x\",\"type\":\"nonsense\",\"content\":\"more private text\"}\n",
    );
    text.push_str(
        "{\"seq\":4,\"ts\":\"2026-12-01T10:09:00.000Z\",\"type\":\"user\",\"content\":\"after\"}\n",
    );
    std::fs::write(&path, text).unwrap();
    let s = load(&path).unwrap();
    assert_eq!(s.user_prompts(), ["hello", "after"]);
    let lines: Vec<_> = s.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3, 4]);
    for w in &s.warnings {
        let text = w.to_string();
        assert!(
            !text.contains("SECRET") && !text.contains("private"),
            "{text}"
        );
    }
}

#[test]
fn a_file_that_is_not_a_transcript_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("x.jsonl");
    std::fs::write(&path, "not json\n").unwrap();
    assert!(matches!(
        load(&path),
        Err(SessionError::NotATranscript { .. })
    ));
    std::fs::write(&path, "").unwrap();
    assert!(matches!(
        load(&path),
        Err(SessionError::NotATranscript { .. })
    ));
}

#[test]
fn dangling_tool_calls_are_answered_as_interrupted() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/s1.jsonl");
    fixture(
        &path,
        "s1",
        vec![
            RecordBody::User {
                content: "do two things".into(),
            },
            RecordBody::Assistant {
                content: String::new(),
                reasoning: None,
                tool_calls: vec![call("a", "read_file", "{}"), call("b", "shell", "{}")],
            },
            RecordBody::ToolResult {
                tool_call_id: "a".into(),
                content: "ok".into(),
            },
            // The session crashed while `b` ran; the user resumed and typed again.
            RecordBody::User {
                content: "again".into(),
            },
            RecordBody::Assistant {
                content: String::new(),
                reasoning: None,
                tool_calls: vec![call("c", "shell", "{}")],
            },
            // A stray result answering nothing is dropped.
            RecordBody::ToolResult {
                tool_call_id: "zzz".into(),
                content: "stray".into(),
            },
        ],
    );
    let h = load(&path).unwrap().history();
    let shape: Vec<(Role, Option<&str>, &str)> = h
        .iter()
        .map(|m| (m.role, m.tool_call_id.as_deref(), m.content.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (Role::User, None, "do two things"),
            (Role::Assistant, None, ""),
            (Role::Tool, Some("a"), "ok"),
            (Role::Tool, Some("b"), INTERRUPTED_TOOL_RESULT),
            (Role::User, None, "again"),
            (Role::Assistant, None, ""),
            (Role::Tool, Some("c"), INTERRUPTED_TOOL_RESULT),
        ]
    );
}

#[test]
fn compression_replaces_the_history_it_summarised() {
    let t = tempfile::tempdir().unwrap();
    let mut w = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap();
    w.user("one").unwrap();
    w.message(&ChatMessage::assistant("1")).unwrap();
    w.user("two").unwrap();
    w.message(&ChatMessage::assistant("2")).unwrap();
    assert_eq!(w.message(&ChatMessage::system("sys")).unwrap(), None);
    let replacement = vec![
        ChatMessage::user("[Summary of the earlier part of this conversation]\none and two"),
        ChatMessage::assistant("Understood. I will continue from this summary."),
    ];
    w.compression("one and two", 2, replacement.clone())
        .unwrap();
    w.user("three").unwrap();
    w.message(&ChatMessage::assistant("3")).unwrap();
    // A compression without its messages falls back to the summary as a user message.
    w.compression("everything", 5, vec![]).unwrap();
    w.user("four").unwrap();
    let s = load(w.path()).unwrap();
    let h = s.history();
    assert_eq!(
        h,
        [
            ChatMessage::user("[Summary of the earlier part of this conversation]\neverything"),
            ChatMessage::assistant("3"),
            ChatMessage::user("four"),
        ]
    );
    // Before the second compression the history was the replacement + the kept messages.
    let err = truncate_before_turn(w.path(), 3).unwrap_err();
    assert!(matches!(err, SessionError::InUse { .. }), "{err}");
    drop(w);
    truncate_before_turn(&s.path, 3).unwrap();
    let h = load(&s.path).unwrap().history();
    let mut expected = replacement;
    expected.extend([ChatMessage::user("two"), ChatMessage::assistant("2")]);
    assert_eq!(h, expected);
}

#[test]
fn switches_and_title_set_the_state() {
    let t = tempfile::tempdir().unwrap();
    let mut w = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap();
    w.model("qwen3-max").unwrap();
    w.auth(AuthKind::Openai).unwrap();
    w.mode(ApprovalMode::Plan).unwrap();
    w.title("Fix the parser").unwrap();
    let state = load(w.path()).unwrap().state();
    assert_eq!(state.model, "qwen3-max");
    assert_eq!(state.auth, AuthKind::Openai);
    assert_eq!(state.approval_mode, ApprovalMode::Plan);
    assert_eq!(state.title.as_deref(), Some("Fix the parser"));
}

#[test]
fn truncate_before_turn_cuts_the_conversation_back() {
    let t = tempfile::tempdir().unwrap();
    let mut w = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap();
    for i in 1..=3 {
        w.user(&format!("prompt {i}")).unwrap();
        w.message(&ChatMessage::assistant(format!("answer {i}")))
            .unwrap();
    }
    let path = w.path().to_path_buf();
    drop(w);
    assert!(matches!(
        truncate_before_turn(&path, 4),
        Err(SessionError::NoSuchTurn { turn: 4, turns: 3 })
    ));
    assert!(truncate_before_turn(&path, 0).is_err());
    assert_eq!(truncate_before_turn(&path, 2).unwrap(), 4);
    assert_eq!(mode(&path), 0o600);
    let s = load(&path).unwrap();
    assert_eq!(s.user_prompts(), ["prompt 1"]);
    assert_eq!(s.header.id, "s1");
    // Resume continues from there.
    let mut w = SessionWriter::resume(&s, SyncPolicy::FlushOnly).unwrap();
    w.user("prompt 2 again").unwrap();
    drop(w);
    assert_eq!(
        load(&path).unwrap().user_prompts(),
        ["prompt 1", "prompt 2 again"]
    );
}

#[test]
fn fork_copies_under_a_new_id() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "orig");
    let forked = fork(&path, "copy").unwrap();
    assert_eq!(forked, transcript_path(t.path(), "copy"));
    assert_eq!(mode(&forked), 0o600);
    let a = load(&path).unwrap();
    let b = load(&forked).unwrap();
    assert_eq!(b.header.id, "copy");
    assert_eq!(b.header.forked_from.as_deref(), Some("orig"));
    assert_eq!(a.records, b.records);
    assert_eq!(a.history(), b.history());
    // Appending to the fork leaves the original alone.
    let mut w = SessionWriter::resume(&b, SyncPolicy::FlushOnly).unwrap();
    w.user("only in the fork").unwrap();
    assert_eq!(load(&path).unwrap().turns(), 1);
    assert!(
        fork(&path, "copy").is_err(),
        "an existing id is not overwritten"
    );
}

#[test]
fn a_transcript_never_contains_credentials() {
    let t = tempfile::tempdir().unwrap();
    let path = typical(t.path(), "s1");
    let mut w = SessionWriter::resume(&load(&path).unwrap(), SyncPolicy::FlushOnly).unwrap();
    w.auth(AuthKind::Openai).unwrap();
    w.model("qwen3-coder-plus").unwrap();
    w.title("t").unwrap();
    w.compression("summary", 1, vec![]).unwrap();
    drop(w);
    let text = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "Authorization",
        "authorization",
        "Bearer",
        "api_key",
        "apiKey",
        "token\"",
    ] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn a_second_header_is_skipped_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/s1.jsonl");
    fixture(
        &path,
        "s1",
        vec![
            RecordBody::User {
                content: "a".into(),
            },
            RecordBody::Header(header("other")),
        ],
    );
    let s = load(&path).unwrap();
    assert_eq!(s.header.id, "s1");
    assert_eq!(s.records.len(), 1);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].line, 3);
}

#[test]
fn tool_messages_are_recorded_as_results() {
    let t = tempfile::tempdir().unwrap();
    let mut w = SessionWriter::create(t.path(), header("s1"), SyncPolicy::FlushOnly).unwrap();
    w.user("go").unwrap();
    let assistant = ChatMessage {
        tool_calls: vec![call("c1", "shell", "{}")],
        ..ChatMessage::assistant("")
    };
    w.message(&assistant).unwrap();
    w.message(&ChatMessage::tool_result("c1", "done")).unwrap();
    let h = load(w.path()).unwrap().history();
    assert_eq!(
        h,
        [
            ChatMessage::user("go"),
            assistant,
            ChatMessage::tool_result("c1", "done")
        ]
    );
}

#[test]
fn compression_counts_the_interrupted_results_the_engine_had() {
    // Session 1 crashed while call `a` ran; it was resumed (the engine's history then had the
    // interrupted result) and later compressed the first 4 messages: user, assistant(a),
    // tool(a, interrupted), user.
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/s1.jsonl");
    fixture(
        &path,
        "s1",
        vec![
            RecordBody::User {
                content: "first".into(),
            },
            RecordBody::Assistant {
                content: String::new(),
                reasoning: None,
                tool_calls: vec![call("a", "shell", "{}")],
            },
            RecordBody::User {
                content: "second".into(),
            },
            RecordBody::Assistant {
                content: "answer".into(),
                reasoning: None,
                tool_calls: vec![],
            },
            RecordBody::Compression {
                summary: "s".into(),
                replaced: 4,
                messages: vec![ChatMessage::user("summary")],
            },
        ],
    );
    let h = load(&path).unwrap().history();
    assert_eq!(
        h,
        [
            ChatMessage::user("summary"),
            ChatMessage::assistant("answer")
        ]
    );
}

/// A transcript large enough to be parsed in several ranges loads exactly like it is read line
/// by line: every record in order, damaged lines reported with their file line numbers, a torn
/// last line skipped — wherever the range boundaries fall (lines of varied lengths, one line
/// longer than a whole range).
#[test]
fn a_large_transcript_parsed_in_ranges_loads_like_a_small_one() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/big.jsonl");
    let mut bodies = Vec::new();
    for i in 0..3000 {
        let pad = "x".repeat((i * 37) % 900);
        bodies.push(RecordBody::User {
            content: format!("prompt {i} {pad}"),
        });
        if i == 1500 {
            // Longer than half the file: a range (of 2 or more) holds nothing but its middle.
            bodies.push(RecordBody::ToolResult {
                tool_call_id: "none".into(),
                content: "y".repeat(6_000_000),
            });
        }
    }
    fixture(&path, "big", bodies);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let lines_before_damage = text.lines().count();
    text.push_str("not json at all\n");
    text.push_str("{\"seq\":9999,\"ts\":\"2026-12-01T11:00:00.000Z\",\"type\":\"user\",\"content\":\"last\"}\n");
    text.push_str("{\"seq\":10000,\"ts\":\"2026-12-01T11:00:00.000Z\",\"type\":\"us");
    std::fs::write(&path, &text).unwrap();
    assert!(text.len() > 7 * 1024 * 1024);
    let s = load(&path).unwrap();
    let prompts = s.user_prompts();
    assert_eq!(prompts.len(), 3001);
    for (i, p) in prompts[..3000].iter().enumerate() {
        assert!(
            p.starts_with(&format!("prompt {i} ")),
            "record {i} out of order: {p:.20}"
        );
    }
    assert_eq!(prompts[3000], "last");
    assert_eq!(s.records.len(), 3002);
    let warned: Vec<_> = s.warnings.iter().map(|w| w.line).collect();
    assert_eq!(warned, [lines_before_damage + 1, lines_before_damage + 3]);
    assert_eq!(s.last_seq, Some(9999));
    assert_eq!(s.file_len, text.len() as u64);
    assert_eq!(s.complete_len, text.rfind('\n').unwrap() as u64 + 1);
    assert_eq!(s.clone().into_history(), s.history());
}
