//! The coding agent end to end: the model reads, edits, runs commands; approvals decide.

use std::time::{Duration, Instant};

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;

fn call(id: &str, name: &str, args: Value) -> (String, String, String) {
    (id.to_string(), name.to_string(), args.to_string())
}

/// The tool-result messages of a recorded request, by call id.
fn tool_results(body: &Value) -> Vec<(String, String)> {
    messages(body)
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fix_scenario(w: &World, mock: &MockServer) {
    w.write(
        "project/src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
    );
    let path = w.project.join("src/lib.rs");
    mock.enqueue(Reply::tool_calls(
        [call("c1", "read_file", json!({"file_path": path}))],
        7,
    ));
    mock.enqueue(Reply::tool_calls(
        [call(
            "c2",
            "edit",
            json!({"file_path": path, "old_string": "a - b", "new_string": "a + b"}),
        )],
        5,
    ));
    mock.enqueue(Reply::tool_calls(
        [call(
            "c3",
            "run_shell_command",
            json!({"command": "grep -c 'a + b' src/lib.rs && echo QCODE=$QCODE"}),
        )],
        9,
    ));
    mock.enqueue(Reply::text("Fixed: `add` now adds.", 4));
}

#[test]
fn reads_edits_runs_and_answers() {
    let w = World::new();
    let mock = MockServer::start();
    fix_scenario(&w, &mock);
    let r = run(w
        .cmd_for(&mock)
        .args(["-p", "fix add", "--yolo", "-o", "stream-json"]));
    r.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(w.project.join("src/lib.rs")).unwrap(),
        "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 4);
    // What the model received after each step.
    let r2 = tool_results(&reqs[1].body_json().unwrap());
    assert_eq!(r2.len(), 1);
    assert_eq!(r2[0].0, "c1");
    assert!(r2[0].1.contains("a - b"), "read_file result: {}", r2[0].1);
    let r3 = tool_results(&reqs[2].body_json().unwrap());
    assert_eq!(r3[1].0, "c2");
    assert!(
        !r3[1].1.to_lowercase().contains("error"),
        "edit result: {}",
        r3[1].1
    );
    let r4 = tool_results(&reqs[3].body_json().unwrap());
    assert_eq!(r4[2].0, "c3");
    assert!(r4[2].1.contains("1\nQCODE=1"), "shell result: {}", r4[2].1);
    // The assistant's tool-call messages went back in the wire format.
    let msgs = messages(&reqs[3].body_json().unwrap());
    let assistant_calls: Vec<&Value> = msgs.iter().filter(|m| m["role"] == "assistant").collect();
    assert_eq!(assistant_calls.len(), 3);
    assert_eq!(assistant_calls[1]["content"], "");
    assert_eq!(
        assistant_calls[1]["tool_calls"][0]["function"]["name"],
        "edit"
    );

    let events: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ends: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "tool_call_end")
        .map(|e| (e["name"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ends,
        vec![
            ("read_file", "success"),
            ("edit", "success"),
            ("run_shell_command", "success")
        ]
    );
    let edit_end = events
        .iter()
        .find(|e| e["type"] == "tool_call_end" && e["name"] == "edit")
        .unwrap();
    assert!(
        edit_end["diff"].as_str().unwrap().contains("+    a + b"),
        "{edit_end}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "approval_decided" && e["source"] == "policy")
    );
    assert_eq!(events.last().unwrap()["result"], "Fixed: `add` now adds.");
}

#[test]
fn default_headless_denies_edits_and_tells_the_model() {
    let w = World::new();
    let mock = MockServer::start();
    fix_scenario(&w, &mock);
    let r = run(w.cmd_for(&mock).args(["-p", "fix add"]));
    r.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(w.project.join("src/lib.rs")).unwrap(),
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
        "file untouched"
    );
    let reqs = mock.requests();
    let results = tool_results(&reqs[3].body_json().unwrap());
    assert!(
        results[1].1.starts_with("Denied:") && results[1].1.contains("non-interactive"),
        "{}",
        results[1].1
    );
    assert!(
        results[1].1.contains("--allowed-tools edit"),
        "{}",
        results[1].1
    );
    assert!(results[2].1.starts_with("Denied:"), "{}", results[2].1);
    assert!(r.stderr.contains("edit needs approval"), "{}", r.stderr);
}

#[test]
fn allowed_tools_pre_approve() {
    let w = World::new();
    let mock = MockServer::start();
    fix_scenario(&w, &mock);
    let r =
        run(w
            .cmd_for(&mock)
            .args(["-p", "fix add", "--allowed-tools", "edit,run_shell_command"]));
    r.assert_code(0);
    assert!(
        std::fs::read_to_string(w.project.join("src/lib.rs"))
            .unwrap()
            .contains("a + b")
    );
    let results = tool_results(&mock.requests()[3].body_json().unwrap());
    assert!(results[2].1.contains("QCODE=1"), "{}", results[2].1);
}

#[test]
fn plan_mode_refuses_writes() {
    let w = World::new();
    let mock = MockServer::start();
    fix_scenario(&w, &mock);
    run(w.cmd_for(&mock).args([
        "-p",
        "fix add",
        "--approval-mode",
        "plan",
        "--allowed-tools",
        "edit",
    ]))
    .assert_code(0);
    assert!(
        std::fs::read_to_string(w.project.join("src/lib.rs"))
            .unwrap()
            .contains("a - b")
    );
    let results = tool_results(&mock.requests()[2].body_json().unwrap());
    assert!(results[1].1.contains("plan mode"), "{}", results[1].1);
}

#[test]
fn path_escapes_need_approval_even_in_auto_edit() {
    let w = World::new();
    let mock = MockServer::start();
    let outside = w.dir.path().join("outside.txt");
    std::fs::write(&outside, "secret\n").unwrap();
    std::os::unix::fs::symlink(&outside, w.project.join("link.txt")).unwrap();
    mock.enqueue(Reply::tool_calls(
        [
            call(
                "c1",
                "write_file",
                json!({"file_path": "../outside.txt", "content": "pwned\n"}),
            ),
            call(
                "c2",
                "edit",
                json!({"file_path": "link.txt", "old_string": "secret", "new_string": "pwned"}),
            ),
        ],
        50,
    ));
    mock.enqueue(Reply::text("ok", 5));
    run(w.cmd_for(&mock).args([
        "-p",
        "x",
        "--approval-mode",
        "auto-edit",
        "--allowed-tools",
        "write_file,edit",
    ]))
    .assert_code(0);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret\n");
    let results = tool_results(&mock.requests()[1].body_json().unwrap());
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|(_, r)| r.starts_with("Denied:")),
        "{results:?}"
    );
}

#[test]
fn parallel_reads_malformed_and_unknown_calls() {
    let w = World::new();
    let mock = MockServer::start();
    w.write("project/a.txt", "alpha\n");
    w.write("project/b.txt", "beta\n");
    mock.enqueue(Reply::tool_calls(
        [
            call("r1", "read_file", json!({"file_path": "a.txt"})),
            call("r2", "read_file", json!({"file_path": "b.txt"})),
            (
                "bad".to_string(),
                "edit".to_string(),
                "{\"file_path\": \"a.txt\", \"old_str".to_string(),
            ),
            call("u1", "teleport", json!({})),
            call("m1", "read_file", json!({"path": "a.txt"})),
        ],
        6,
    ));
    mock.enqueue(Reply::text("done", 5));
    run(w.cmd_for(&mock).args(["-p", "x"])).assert_code(0);
    let results = tool_results(&mock.requests()[1].body_json().unwrap());
    let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["r1", "r2", "bad", "u1", "m1"],
        "one result per call, in order"
    );
    assert!(results[0].1.contains("alpha"));
    assert!(results[1].1.contains("beta"));
    assert!(results[2].1.contains("not valid JSON"), "{}", results[2].1);
    assert!(
        results[3].1.contains("unknown tool `teleport`"),
        "{}",
        results[3].1
    );
    assert!(results[4].1.contains("file_path"), "{}", results[4].1);
}

#[test]
fn shell_timeout_kills_the_process_group() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = format!("qcode-orphan-{}", std::process::id());
    let cmd = format!("(sleep 300; echo {marker}) & sleep 301 # {marker}");
    mock.enqueue(Reply::tool_calls(
        [call(
            "s1",
            "run_shell_command",
            json!({"command": cmd, "timeout": 700}),
        )],
        40,
    ));
    mock.enqueue(Reply::text("ok", 5));
    let start = Instant::now();
    run(w.cmd_for(&mock).args(["-p", "x", "--yolo"])).assert_code(0);
    assert!(start.elapsed() < Duration::from_secs(20));
    let results = tool_results(&mock.requests()[1].body_json().unwrap());
    assert!(
        results[0].1.to_lowercase().contains("timed out"),
        "{}",
        results[0].1
    );
    assert_no_process_matching(&marker, "after the timeout");
}

#[test]
fn turn_limit_exits_53() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [call("c1", "list_directory", json!({"path": "."}))],
        50,
    ));
    mock.enqueue(Reply::text("never", 5));
    let r = run(w
        .cmd_for(&mock)
        .args(["-p", "x", "--max-session-turns", "1"]));
    r.assert_code(53);
    assert!(r.stderr.contains("--max-session-turns"), "{}", r.stderr);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn project_context_files_reach_the_model() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("ok", 5));
    w.write("home/.qcode/QWEN.md", "GLOBAL-RULE\n");
    w.write("project/AGENTS.md", "ROOT-RULE\n@docs/more.md\n");
    w.write("project/docs/more.md", "IMPORTED-RULE\n");
    run(w.cmd_for(&mock).args(["-p", "x"])).assert_code(0);
    let body = mock.requests()[0].body_json().unwrap();
    let system = messages(&body)[0]["content"].as_str().unwrap().to_string();
    let g = system.find("GLOBAL-RULE").unwrap();
    let r = system.find("ROOT-RULE").unwrap();
    let i = system.find("IMPORTED-RULE").unwrap();
    assert!(g < r && r < i, "order global → root → import");
}

#[test]
fn the_shell_tool_never_sees_qcode_secrets() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [call("s1", "run_shell_command", json!({"command": "env"}))],
        10,
    ));
    mock.enqueue(Reply::text("ok", 2));
    run(w
        .cmd_for(&mock)
        .env("GITHUB_TOKEN", "ghp-canary-1")
        .env("AWS_SECRET_ACCESS_KEY", "aws-canary-2")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=otel-canary-3")
        .env("MY_DB_PASSWORD", "pw-canary-4")
        .env("QCODE_TEST_HARMLESS", "harmless")
        .env("CARGO_TERM_COLOR", "never")
        .args(["-p", "x", "--yolo"]))
    .assert_code(0);
    let results = tool_results(&mock.requests()[1].body_json().unwrap());
    let env = &results[0].1;
    assert!(env.contains("CARGO_TERM_COLOR=never"), "{env}");
    assert!(env.contains("QCODE=1"), "{env}");
    for canary in [
        "sk-test-key-123",
        "ghp-canary-1",
        "aws-canary-2",
        "otel-canary-3",
        "pw-canary-4",
        "OPENAI_BASE_URL",
        "QCODE_TEST_HARMLESS",
    ] {
        assert!(!env.contains(canary), "{canary} reached the shell: {env}");
    }
}

#[test]
fn tools_shell_env_settings_change_the_policy_but_not_from_an_untrusted_project() {
    let env_seen = |w: &World, mock: &MockServer| {
        mock.enqueue(Reply::tool_calls(
            [call("s1", "run_shell_command", json!({"command": "env"}))],
            10,
        ));
        mock.enqueue(Reply::text("ok", 2));
        run(w
            .cmd_for(mock)
            .env("GITHUB_TOKEN", "ghp-wanted")
            .env("NPM_TOKEN", "npm-secret")
            .args(["-p", "x", "--yolo"]))
        .assert_code(0);
        let reqs = mock.requests();
        let body = reqs[reqs.len() - 1].body_json().unwrap();
        tool_results(&body)[0].1.clone()
    };
    let w = World::new();
    let mock = MockServer::start();
    w.write(
        "home/.qcode/settings.json",
        r#"{"tools": {"shell": {"env": {"include": ["GITHUB_TOKEN"], "set": {"CI": "1"}}}}}"#,
    );
    let env = env_seen(&w, &mock);
    assert!(
        env.contains("GITHUB_TOKEN=ghp-wanted") && env.contains("CI=1"),
        "{env}"
    );
    assert!(!env.contains("npm-secret"), "{env}");

    let w = World::new();
    let mock = MockServer::start();
    w.write(
        "project/.qcode/settings.json",
        r#"{"tools": {"shell": {"env": {"include": ["*TOKEN*"]}}}}"#,
    );
    let env = env_seen(&w, &mock);
    assert!(
        !env.contains("ghp-wanted") && !env.contains("npm-secret"),
        "{env}"
    );
}
