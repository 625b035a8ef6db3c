use qcode_protocol::ApprovalMode;
use qcode_session::{ExportFormat, RecordBody, export, load, show};

use super::support::{call, fixture};

fn session() -> (tempfile::TempDir, qcode_session::LoadedSession) {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("chats/s1.jsonl");
    fixture(
        &path,
        "s1",
        vec![
            RecordBody::User {
                content: "Fix the failing test".into(),
            },
            RecordBody::Assistant {
                content: "Let me look.".into(),
                reasoning: Some("thinking".into()),
                tool_calls: vec![call(
                    "c1",
                    "run_shell_command",
                    r#"{"command":"cargo test","description":"run the tests"}"#,
                )],
            },
            RecordBody::ToolResult {
                tool_call_id: "c1".into(),
                content: format!("test result: FAILED\n{}", "x".repeat(700)),
            },
            RecordBody::Assistant {
                content: String::new(),
                reasoning: None,
                tool_calls: vec![call(
                    "c2",
                    "edit",
                    r#"{"path":"src/lib.rs","old":"a","new":"b"}"#,
                )],
            },
            RecordBody::Mode {
                mode: ApprovalMode::AutoEdit,
            },
            RecordBody::User {
                content: "Thanks".into(),
            },
            RecordBody::Assistant {
                content: "Done: the test passes.".into(),
                reasoning: None,
                tool_calls: vec![],
            },
            RecordBody::Title {
                title: "Failing test".into(),
            },
        ],
    );
    let s = load(&path).unwrap();
    (t, s)
}

#[test]
fn markdown() {
    let (_t, s) = session();
    insta::assert_snapshot!(export(&s, ExportFormat::Markdown).unwrap());
}

#[test]
fn json() {
    let (_t, s) = session();
    let text = export(&s, ExportFormat::Json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["header"]["id"], "s1");
    // The interrupted edit is answered in the exported messages too.
    assert_eq!(v["messages"].as_array().unwrap().len(), 7);
    insta::assert_snapshot!(text);
}

#[test]
fn jsonl_is_the_records_as_stored() {
    let (_t, s) = session();
    let text = export(&s, ExportFormat::Jsonl).unwrap();
    assert_eq!(text, std::fs::read_to_string(&s.path).unwrap());
}

#[test]
fn show_text() {
    let (_t, s) = session();
    insta::assert_snapshot!(show(&s));
}

#[test]
fn format_names() {
    assert_eq!(ExportFormat::parse("md"), Some(ExportFormat::Markdown));
    assert_eq!(ExportFormat::parse("JSON"), Some(ExportFormat::Json));
    assert_eq!(ExportFormat::parse("jsonl"), Some(ExportFormat::Jsonl));
    assert_eq!(ExportFormat::parse("pdf"), None);
}
