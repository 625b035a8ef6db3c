//! Session transcripts end to end: recording, `--continue`, `--resume`, recording off.

use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

/// Every transcript under `$QCODE_HOME/projects/*/chats/`.
pub(super) fn transcripts(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(projects) = std::fs::read_dir(home.join(".qcode").join("projects")) else {
        return out;
    };
    for project in projects.flatten() {
        if let Ok(chats) = std::fs::read_dir(project.path().join("chats")) {
            out.extend(chats.flatten().map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_headless_run_is_recorded() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("The answer.", 4));
    run(w.cmd_for(&mock).args(["-p", "the question"])).assert_code(0);
    let files = transcripts(&w.home);
    assert_eq!(files.len(), 1, "{files:?}");
    let records = lines(&files[0]);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["header", "user", "usage", "assistant"],
        "{records:#?}"
    );
    assert_eq!(records[0]["model"], "test-model");
    assert_eq!(records[1]["content"], "the question");
    assert_eq!(records[3]["content"], "The answer.");
}

#[test]
fn recording_off_writes_nothing() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("a", 4));
    mock.enqueue(Reply::text("b", 4));
    run(w.cmd_for(&mock).args(["--no-chat-recording", "-p", "q"])).assert_code(0);
    w.write(
        "home/.qcode/settings.json",
        r#"{ "general": { "chatRecording": false } }"#,
    );
    run(w.cmd_for(&mock).args(["-p", "q"])).assert_code(0);
    assert!(transcripts(&w.home).is_empty());
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn a_project_file_cannot_turn_recording_back_on() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("a", 4));
    w.write(
        "home/.qcode/settings.json",
        r#"{ "general": { "chatRecording": false } }"#,
    );
    w.write(
        "project/.qcode/settings.json",
        r#"{ "general": { "chatRecording": true } }"#,
    );
    run(w.cmd_for(&mock).args(["--trust", "-p", "q"])).assert_code(0);
    assert!(transcripts(&w.home).is_empty());
}

/// `(role, content, tool_call_id, [tool call ids])` of a request's messages after the system
/// prompt.
fn conversation(body: &serde_json::Value) -> Vec<(String, String, Option<String>, Vec<String>)> {
    messages(body)
        .iter()
        .skip(1)
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap_or("").to_string(),
                m["tool_call_id"].as_str().map(str::to_string),
                m["tool_calls"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| c["id"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn last_body(mock: &MockServer) -> serde_json::Value {
    mock.requests().last().unwrap().body_json().unwrap()
}

#[test]
fn continue_resends_the_exact_previous_history_and_appends_to_the_same_transcript() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("first answer", 4));
    run(w.cmd_for(&mock).args(["-p", "first question"])).assert_code(0);
    let first = last_body(&mock);
    mock.enqueue(Reply::text("second answer", 4));
    let r = run(w
        .cmd_for(&mock)
        .args(["-c", "-o", "json", "-p", "second question"]));
    r.assert_code(0);
    let second = last_body(&mock);
    let mut expected = conversation(&first);
    expected.push(("assistant".into(), "first answer".into(), None, vec![]));
    expected.push(("user".into(), "second question".into(), None, vec![]));
    assert_eq!(conversation(&second), expected);
    assert_eq!(
        messages(&second)[0],
        messages(&first)[0],
        "same system prompt"
    );

    let files = transcripts(&w.home);
    assert_eq!(files.len(), 1, "continued, not a new session: {files:?}");
    let id = files[0].file_stem().unwrap().to_str().unwrap().to_string();
    let result: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(result["session_id"], id.as_str());
    let contents: Vec<String> = lines(&files[0])
        .iter()
        .filter_map(|r| r["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        contents,
        [
            "first question",
            "first answer",
            "second question",
            "second answer"
        ]
    );
}

#[test]
fn resume_by_prefix_picks_the_right_session() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("answer A", 4));
    run(w.cmd_for(&mock).args(["-p", "question A"])).assert_code(0);
    let a = transcripts(&w.home);
    mock.enqueue(Reply::text("answer B", 4));
    run(w.cmd_for(&mock).args(["-p", "question B"])).assert_code(0);
    let a_id = a[0].file_stem().unwrap().to_str().unwrap().to_string();
    assert_eq!(transcripts(&w.home).len(), 2);

    mock.enqueue(Reply::text("again", 4));
    let r = run(w
        .cmd_for(&mock)
        .args(["--resume", &a_id[..8], "-o", "stream-json", "-p", "more"]));
    r.assert_code(0);
    let sent = conversation(&last_body(&mock));
    let contents: Vec<&str> = sent.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(contents, ["question A", "answer A", "more"]);
    let configured: serde_json::Value =
        serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(configured["type"], "session_configured");
    assert_eq!(configured["session_id"], a_id.as_str());
}

#[test]
fn a_tool_call_session_resumes_with_valid_history() {
    let w = World::new();
    std::fs::write(w.project.join("notes.txt"), "hello\n").unwrap();
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [(
            "call_1",
            "read_file",
            serde_json::json!({"path": "notes.txt"}).to_string(),
        )],
        10,
    ));
    mock.enqueue(Reply::text("it says hello", 4));
    run(w.cmd_for(&mock).args(["-p", "read notes"])).assert_code(0);
    let before = last_body(&mock);
    mock.enqueue(Reply::text("ok", 4));
    run(w.cmd_for(&mock).args(["-c", "-p", "thanks"])).assert_code(0);
    let sent = conversation(&last_body(&mock));
    let mut expected = conversation(&before);
    expected.push(("assistant".into(), "it says hello".into(), None, vec![]));
    expected.push(("user".into(), "thanks".into(), None, vec![]));
    assert_eq!(sent, expected);
    assert_eq!(sent[1].3, ["call_1"], "{sent:#?}");
    assert_eq!(sent[2].0, "tool");
    assert_eq!(sent[2].2.as_deref(), Some("call_1"));
}

#[test]
fn a_torn_last_line_still_continues() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("first answer", 4));
    run(w.cmd_for(&mock).args(["-p", "first question"])).assert_code(0);
    let file = transcripts(&w.home).remove(0);
    let len = std::fs::metadata(&file).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(len - 5).unwrap();
    drop(f);

    mock.enqueue(Reply::text("second answer", 4));
    run(w.cmd_for(&mock).args(["-c", "-p", "second question"])).assert_code(0);
    let sent = conversation(&last_body(&mock));
    // The torn last record (the answer) is lost; the rest is resent.
    assert_eq!(sent.first().unwrap().1, "first question");
    assert_eq!(sent.last().unwrap().1, "second question");
    // Every line of the continued transcript is whole again.
    let records = lines(&file);
    assert_eq!(records.last().unwrap()["content"], "second answer");
}

#[test]
fn continue_without_a_session_is_an_input_error() {
    let w = World::new();
    let mock = MockServer::start();
    let r = run(w.cmd_for(&mock).args(["--continue", "-p", "hi"]));
    r.assert_code(42);
    assert!(r.stderr.contains("no session to continue"), "{}", r.stderr);
    let r = run(w.cmd_for(&mock).args(["--resume", "nope", "-p", "hi"]));
    r.assert_code(42);
    assert!(r.stderr.contains("no session matches"), "{}", r.stderr);
    assert!(mock.requests().is_empty());
}

#[test]
fn transcripts_are_private_and_hold_no_key() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("answer", 4));
    run(w.cmd_for(&mock).args(["-p", "q"])).assert_code(0);
    let file = transcripts(&w.home).remove(0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("sk-test-key-123"), "{text}");
}

#[test]
fn continue_keeps_the_sessions_model_and_mode_unless_a_flag_overrides() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("a", 4));
    run(w
        .cmd_for(&mock)
        .args(["--approval-mode", "auto-edit", "-m", "model-one", "-p", "q"]))
    .assert_code(0);
    let configured = |r: &Run| -> serde_json::Value {
        serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap()
    };
    mock.enqueue(Reply::text("b", 4));
    let r = run(w
        .cmd_for(&mock)
        .args(["-c", "-o", "stream-json", "-p", "q2"]));
    r.assert_code(0);
    assert_eq!(configured(&r)["approval_mode"], "auto-edit");
    assert_eq!(configured(&r)["model"], "model-one");
    assert_eq!(last_body(&mock)["model"], "model-one");
    mock.enqueue(Reply::text("c", 4));
    let r = run(w.cmd_for(&mock).args([
        "-c",
        "--approval-mode",
        "plan",
        "-m",
        "model-two",
        "-o",
        "stream-json",
        "-p",
        "q3",
    ]));
    r.assert_code(0);
    assert_eq!(configured(&r)["approval_mode"], "plan");
    assert_eq!(last_body(&mock)["model"], "model-two");
    // The switch is recorded: a later --continue keeps it.
    mock.enqueue(Reply::text("d", 4));
    let r = run(w
        .cmd_for(&mock)
        .args(["-c", "-o", "stream-json", "-p", "q4"]));
    assert_eq!(configured(&r)["approval_mode"], "plan");
    assert_eq!(last_body(&mock)["model"], "model-two");
}

/// A transcript of another project, last written `days` days ago.
fn old_transcript(w: &World, name: &str, days: u32) -> PathBuf {
    let path = w
        .home
        .join(format!(".qcode/projects/elsewhere/chats/{name}.jsonl"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{}\n").unwrap();
    let status = std::process::Command::new("touch")
        .arg("-d")
        .arg(format!("{days} days ago"))
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

#[test]
fn sessions_older_than_the_retention_period_are_removed_at_start() {
    let w = World::new();
    let mock = MockServer::start();
    let old = old_transcript(&w, "old", 40);
    let recent = old_transcript(&w, "recent", 5);
    // A project file cannot shorten the retention (it would remove every project's sessions).
    w.write(
        "project/.qcode/settings.json",
        r#"{ "general": { "cleanupPeriodDays": 1 } }"#,
    );
    mock.enqueue(Reply::text("a", 4));
    run(w.cmd_for(&mock).args(["--trust", "-p", "q"])).assert_code(0);
    assert!(!old.exists(), "40 days old: removed");
    assert!(recent.exists(), "5 days old: kept");
    assert_eq!(
        transcripts(&w.home).len(),
        2,
        "the new session and the recent one"
    );

    // 0 in the user's settings keeps everything.
    let kept = old_transcript(&w, "kept", 400);
    w.write(
        "home/.qcode/settings.json",
        r#"{ "general": { "cleanupPeriodDays": 0 } }"#,
    );
    mock.enqueue(Reply::text("b", 4));
    run(w.cmd_for(&mock).args(["-p", "q"])).assert_code(0);
    assert!(kept.exists());
}

#[test]
fn sessions_can_be_listed_shown_exported_and_deleted() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("first answer", 2));
    run(w.cmd_for(&mock).args(["-p", "first question"])).assert_code(0);
    std::thread::sleep(std::time::Duration::from_millis(20));
    mock.enqueue(Reply::text("second answer", 2));
    run(w.cmd_for(&mock).args(["-p", "second question"])).assert_code(0);

    let r = run(w.cmd().args(["sessions", "list", "--json"]));
    r.assert_code(0);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for key in [
        "id",
        "path",
        "title",
        "cwd",
        "created_at",
        "updated_at",
        "turns",
        "model",
    ] {
        assert!(list[0].get(key).is_some(), "{key} missing: {}", list[0]);
    }
    assert_eq!(list[0]["title"], "second question", "newest first");
    assert_eq!(list[1]["turns"], 1);
    let old_id = list[1]["id"].as_str().unwrap().to_string();
    let text = run(w.cmd().args(["sessions", "list"])).stdout;
    assert!(
        text.contains(&old_id[..8]) && text.contains("first question"),
        "{text}"
    );

    let shown = run(w.cmd().args(["sessions", "show", &old_id[..6]]));
    shown.assert_code(0);
    assert!(shown.stdout.contains("first question") && shown.stdout.contains("first answer"));

    let jsonl = run(w
        .cmd()
        .args(["sessions", "export", &old_id, "--format", "jsonl"]));
    jsonl.assert_code(0);
    let path = list[1]["path"].as_str().unwrap();
    assert_eq!(jsonl.stdout, std::fs::read_to_string(path).unwrap());
    let out = w.dir.path().join("export.md");
    run(w
        .cmd()
        .args(["sessions", "export", &old_id, "-o"])
        .arg(&out))
    .assert_code(0);
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.contains("first question") && md.contains('#'), "{md}");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    run(w.cmd().args(["sessions", "delete", &old_id])).assert_code(0);
    assert!(!Path::new(path).exists());
    let r = run(w.cmd().args(["sessions", "list", "--json"]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    run(w.cmd().args(["sessions", "show", "zzzz-no-such"])).assert_code(42);
}

#[test]
fn fork_session_continues_a_copy_and_leaves_the_original() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("first answer", 2));
    run(w.cmd_for(&mock).args(["-p", "first question"])).assert_code(0);
    let original = transcripts(&w.home);
    assert_eq!(original.len(), 1);
    let before = std::fs::read_to_string(&original[0]).unwrap();
    mock.enqueue(Reply::text("forked answer", 2));
    run(w
        .cmd_for(&mock)
        .args(["-c", "--fork-session", "-p", "and then?"]))
    .assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&original[0]).unwrap(),
        before,
        "original untouched"
    );
    let all = transcripts(&w.home);
    assert_eq!(all.len(), 2);
    let fork = all.iter().find(|p| **p != original[0]).unwrap();
    let records = lines(fork);
    let original_id = lines(&original[0])[0]["id"].clone();
    assert_eq!(records[0]["forked_from"], original_id);
    assert!(records.iter().any(|r| r["content"] == "forked answer"));
    // The request carried the original conversation.
    let reqs = mock.requests();
    let body = reqs.last().unwrap().body_json().unwrap();
    let text = serde_json::to_string(&messages(&body)).unwrap();
    assert!(
        text.contains("first question") && text.contains("first answer"),
        "{text}"
    );
    run(w.cmd_for(&mock).args(["--fork-session", "-p", "x"])).assert_code(42);
}

/// SIGKILL while an answer streams: the transcript keeps every complete message (the prompt,
/// the tool call and its result), loses only the answer being streamed, and `--continue`
/// resends a valid history.
#[test]
fn sigkill_mid_stream_then_continue_resends_a_valid_history() {
    use qcode_test_support::mock_model::{SseItem, chunk};
    let w = World::new();
    std::fs::write(w.project.join("notes.txt"), "hello\n").unwrap();
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [(
            "call_1",
            "read_file",
            serde_json::json!({"file_path": w.project.join("notes.txt")}).to_string(),
        )],
        10,
    ));
    mock.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("the partial ans")),
        SseItem::stall(),
    ]));
    let mut child = w
        .cmd_for(&mock)
        .args(["-p", "read notes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The answer is streaming once its first text reached standard output.
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("partial") {
        let n = std::io::Read::read(&mut out, &mut buf).unwrap();
        assert!(n > 0, "qcode ended before streaming: {seen:?}");
        seen.extend_from_slice(&buf[..n]);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let file = transcripts(&w.home).remove(0);
    let kinds: Vec<String> = lines(&file)
        .iter()
        .map(|r| r["type"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.starts_with(&["header".into(), "user".into()]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"tool_result".to_string()), "{kinds:?}");

    mock.enqueue(Reply::text("done", 4));
    run(w.cmd_for(&mock).args(["-c", "-p", "go on"])).assert_code(0);
    let sent = conversation(&last_body(&mock));
    let roles: Vec<&str> = sent.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "user"], "{sent:#?}");
    assert_eq!(sent[0].1, "read notes");
    assert_eq!(sent[1].3, ["call_1"]);
    assert_eq!(sent[2].2.as_deref(), Some("call_1"));
    assert!(sent[2].1.contains("hello"), "{sent:#?}");
    assert_eq!(sent[3].1, "go on");
    assert!(
        !sent.iter().any(|m| m.1.contains("partial")),
        "the answer being streamed is lost, not half-kept: {sent:#?}"
    );
}
