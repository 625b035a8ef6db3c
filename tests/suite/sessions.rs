//! Session transcripts end to end: recording, `--continue`, `--resume`, recording off.

use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

/// Every transcript under `$QCODE_HOME/projects/*/chats/`.
fn transcripts(home: &Path) -> Vec<PathBuf> {
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
