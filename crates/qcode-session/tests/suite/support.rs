use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind, ToolCall};
use qcode_session::{FORMAT_VERSION, Header, Record, RecordBody, SessionWriter, SyncPolicy};

pub fn header(id: &str) -> Header {
    Header {
        format: FORMAT_VERSION,
        id: id.to_string(),
        qcode_version: "0.1.0".to_string(),
        cwd: "/work/project".to_string(),
        git_branch: Some("main".to_string()),
        model: "qwen3-coder-plus".to_string(),
        auth: AuthKind::QwenOauth,
        approval_mode: ApprovalMode::Default,
        created_at: "2026-12-01T10:00:00.000Z".to_string(),
        forked_from: None,
    }
}

pub fn call(id: &str, name: &str, args: &str) -> ToolCall {
    ToolCall {
        id: id.to_string(),
        name: name.to_string(),
        arguments: args.to_string(),
    }
}

/// A new session in `project_dir` with a typical conversation: a prompt, a tool call and its
/// result, an answer, usage, a mode switch.
pub fn typical(project_dir: &Path, id: &str) -> PathBuf {
    let mut w = SessionWriter::create(project_dir, header(id), SyncPolicy::FlushOnly).unwrap();
    w.user("Read the README\nand summarise it").unwrap();
    w.append(RecordBody::Assistant {
        content: String::new(),
        reasoning: Some("I should read it.".into()),
        tool_calls: vec![call("call_1", "read_file", r#"{"path":"README.md"}"#)],
    })
    .unwrap();
    w.tool_result("call_1", "# qcode\nA terminal assistant.")
        .unwrap();
    w.append(RecordBody::Assistant {
        content: "It is a terminal assistant.".into(),
        reasoning: None,
        tool_calls: vec![],
    })
    .unwrap();
    w.usage(qcode_protocol::Usage {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        ..Default::default()
    })
    .unwrap();
    w.mode(ApprovalMode::AutoEdit).unwrap();
    w.path().to_path_buf()
}

/// Writes `bodies` as a transcript with fixed times (for snapshots).
pub fn fixture(path: &Path, id: &str, bodies: Vec<RecordBody>) {
    let mut out = String::new();
    let all = std::iter::once(RecordBody::Header(header(id))).chain(bodies);
    for (i, body) in all.enumerate() {
        let r = Record {
            seq: i as u64,
            ts: format!("2026-12-01T10:{:02}:00.000Z", i.min(59)),
            body,
        };
        out.push_str(&serde_json::to_string(&r).unwrap());
        out.push('\n');
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}
