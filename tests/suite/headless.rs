//! `qcode -p`: streaming, output formats, stdin, large answers, what goes over the wire.

use std::process::Stdio;
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, MockUsage, Reply};

use super::harness::*;

#[test]
fn streams_answer_and_sends_the_right_request() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(
        Reply::text("Hello from the mock.\nSecond line", 3).with_usage(MockUsage::new(12, 7)),
    );
    let r = run(w.cmd_for(&mock).args(["-p", "explain this error"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "Hello from the mock.\nSecond line");
    assert_eq!(r.stderr, "");

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-key-123"));
    let body = req.body_json().unwrap();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    let msgs = messages(&body);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["role"], "system");
    let system = msgs[0]["content"].as_str().unwrap();
    assert!(
        system.contains(&format!("Working directory: {}", w.project.display())),
        "{system}"
    );
    assert_eq!(
        msgs[1],
        serde_json::json!({"role": "user", "content": "explain this error"})
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for name in [
        "read_file",
        "write_file",
        "edit",
        "list_directory",
        "glob",
        "grep_search",
        "run_shell_command",
        "todo_write",
        "web_fetch",
        "save_memory",
    ] {
        assert!(tools.contains(&name), "tool {name} offered: {tools:?}");
    }
}

#[test]
fn positional_prompt_words() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("ok", 10));
    run(w.cmd_for(&mock).args(["what", "is", "this"])).assert_code(0);
    assert_eq!(
        last_user_message(&mock.requests()[0].body_json().unwrap()),
        "what is this"
    );
}

#[test]
fn stdin_is_appended_or_is_the_prompt() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("a", 10));
    mock.enqueue(Reply::text("b", 10));
    run_with_stdin(
        w.cmd_for(&mock).args(["-p", "summarise"]),
        "line one\nline two\n",
    )
    .assert_code(0);
    run_with_stdin(&mut w.cmd_for(&mock), "just stdin\n").assert_code(0);
    let reqs = mock.requests();
    assert_eq!(
        last_user_message(&reqs[0].body_json().unwrap()),
        "summarise\n\nline one\nline two\n"
    );
    assert_eq!(
        last_user_message(&reqs[1].body_json().unwrap()),
        "just stdin\n"
    );
}

#[test]
fn json_output() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("The answer.", 4).with_usage(MockUsage::new(30, 5).cached(10)));
    let r = run(w.cmd_for(&mock).args(["-p", "q", "-o", "json"]));
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["type"], "result");
    assert_eq!(v["result"], "The answer.");
    assert_eq!(v["is_error"], false);
    assert_eq!(v["model"], "test-model");
    assert_eq!(v["usage"]["prompt_tokens"], 30);
    assert_eq!(v["usage"]["completion_tokens"], 5);
    assert_eq!(v["usage"]["cached_tokens"], 10);
    assert!(v["duration_ms"].as_u64().is_some());
}

#[test]
fn stream_json_output() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::reasoning_then_text("thinking", "Done", 2));
    let r = run(w
        .cmd_for(&mock)
        .args(["-p", "q", "--output-format", "stream-json"]));
    r.assert_code(0);
    let events: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "session_configured");
    assert_eq!(
        events[0]["schema_version"], 1,
        "the first line names the schema"
    );
    assert_eq!(types.last(), Some(&"result"));
    assert_eq!(events.last().unwrap()["schema_version"], 1);
    assert!(types.contains(&"reasoning_delta"));
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "text_delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Done");
    assert!(types.contains(&"turn_complete"));
}

fn big_answer() -> String {
    // ~100k tokens: 100k words of 3-4 characters.
    let mut s = String::with_capacity(450_000);
    for i in 0..100_000u32 {
        s.push_str(["alpha ", "beta ", "gamma ", "delta\n"][(i % 4) as usize]);
    }
    s
}

#[test]
fn large_answer_arrives_in_full_when_piped() {
    let w = World::new();
    let mock = MockServer::start();
    let answer = big_answer();
    mock.enqueue(Reply::text(&answer, 16));
    // The answer repeats itself: loop detection would (rightly) stop it.
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"loopDetection": false}}"#,
    );
    let r = run(w.cmd_for(&mock).args(["-p", "write a lot"]));
    r.assert_code(0);
    assert_eq!(r.stdout.len(), answer.len());
    assert!(r.stdout == answer);
}

#[test]
fn large_answer_through_head_stops_quietly() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text(&big_answer(), 16));
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"loopDetection": false}}"#,
    );
    let mut child = w
        .cmd_for(&mock)
        .args(["-p", "write a lot"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let head = std::process::Command::new("head")
        .args(["-c", "1000"])
        .stdin(stdout)
        .output()
        .unwrap();
    assert_eq!(head.stdout.len(), 1000);
    assert_eq!(&head.stdout[..], &big_answer().as_bytes()[..1000]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn retries_rate_limits_visibly_and_honours_retry_after() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(
        Reply::error(429, "Rate limit reached", "rate_limit_exceeded").header("Retry-After", "1"),
    );
    mock.enqueue(Reply::error(503, "overloaded", "server_error").header("Retry-After", "0"));
    mock.enqueue(Reply::text("finally", 3));
    let started = std::time::Instant::now();
    let r = run(w.cmd_for(&mock).args(["-p", "q"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "finally");
    assert_eq!(mock.requests().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured"
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert!(lines[0].contains("retrying in 1.0 s (2/5)"), "{}", lines[0]);
    assert!(lines[1].contains("(3/5)"), "{}", lines[1]);
}

#[test]
fn failure_after_output_keeps_it_and_is_not_replayed() {
    let w = World::new();
    let mock = MockServer::start();
    use qcode_test_support::mock_model::{SseItem, chunk};
    mock.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("partial answer")),
        SseItem::reset(),
    ]));
    mock.enqueue(Reply::text("SHOULD NOT APPEAR", 5));
    let r = run(w.cmd_for(&mock).args(["-p", "q", "-o", "json"]));
    assert_ne!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["is_error"], true);
    assert_eq!(v["result"], "partial answer");
    assert_eq!(
        mock.requests().len(),
        1,
        "no silent replay after output began"
    );
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
}

#[test]
fn ctrl_c_interrupts_keeps_partial_output_and_exits_130() {
    use qcode_test_support::mock_model::{SseItem, chunk};
    use std::io::Read;
    let w = World::new();
    let mock = MockServer::start();
    let mut items = vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("first words ")),
    ];
    for _ in 0..100 {
        items.push(SseItem::delay(100));
        items.push(SseItem::data_json(&chunk::text("more ")));
    }
    mock.enqueue(Reply::sse(items));
    let mut child = w
        .cmd_for(&mock)
        .args(["-p", "long answer"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 12];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"first words ");
    let started = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancelled promptly"
    );
    assert!(
        !rest.contains("more more more more more more more more more more"),
        "stream stopped: {rest}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
}

#[test]
fn words_after_help_are_a_prompt_and_a_lone_help_prints_the_help() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("Sure.", 1));
    let r = run(w.cmd_for(&mock).args(["help", "me", "write", "tests"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "Sure.");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        last_user_message(&reqs[0].body_json().unwrap()),
        "help me write tests"
    );

    let r = run(w.cmd_for(&mock).arg("help"));
    r.assert_code(0);
    assert!(r.stdout.contains("Usage: qcode"), "{}", r.stdout);
    assert_eq!(mock.requests().len(), 1, "a lone `help` sends nothing");
}

#[test]
fn a_usage_error_exits_2_as_documented() {
    let w = World::new();
    let r = run(w.cmd().args(["--no-such-flag"]));
    r.assert_code(2);
}

#[test]
fn a_local_server_works_without_a_key_and_gets_no_authorization_header() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("local answer", 1));
    let r = run(w
        .cmd()
        .env("OPENAI_BASE_URL", mock.url())
        .env("OPENAI_MODEL", "smollm2")
        .args(["--openai-api-key", "", "-p", "hi"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "local answer");
    assert_eq!(mock.requests()[0].header("authorization"), None);

    // Saved as a keyless provider with `qcode auth api-key` (empty key on stdin).
    let w = World::new();
    let r = run_with_stdin(
        w.cmd().args([
            "auth",
            "api-key",
            "--base-url",
            &mock.url(),
            "--model",
            "smollm2",
        ]),
        "\n",
    );
    r.assert_code(0);
    mock.enqueue(Reply::text("saved local", 1));
    let r = run(w.cmd().args(["-p", "hi"]));
    r.assert_code(0);
    assert_eq!(r.stdout, "saved local");
    assert_eq!(mock.requests()[1].header("authorization"), None);
}

/// CI's `timeout` and `docker stop` send SIGTERM; a closed terminal sends SIGHUP. Both end the
/// run like Ctrl-C: the shell tool's processes are killed (none is left re-parented to init),
/// the final `result` object is still written, and the exit code says which signal it was.
#[test]
fn sigterm_and_sighup_kill_the_shell_tools_processes_and_write_the_result() {
    use std::io::{BufRead, BufReader};
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let w = World::new();
        let mock = MockServer::start();
        let marker = format!("qcode-sig-{}-{}", std::process::id(), code);
        mock.enqueue(Reply::tool_calls(
            [(
                "s1",
                "run_shell_command",
                serde_json::json!({"command": format!("echo started; sleep 300 # {marker}")})
                    .to_string(),
            )],
            40,
        ));
        let mut child = w
            .cmd_for(&mock)
            .args(["-p", "x", "--yolo", "-o", "stream-json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until the command runs.
        for line in lines.by_ref() {
            if line.unwrap().contains("tool_output_delta") {
                break;
            }
        }
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}");
        let result: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
        assert_eq!(result["type"], "result", "{rest:?}");
        assert_eq!(result["exit_code"], code);
        assert_no_process_matching(&marker, signal);
    }
}

#[test]
fn a_looping_answer_is_stopped_and_kept() {
    let w = World::new();
    let mock = MockServer::start();
    let looping = format!(
        "Let me check.\n{}",
        "I will read the file again to be sure it is right. ".repeat(400)
    );
    mock.enqueue(Reply::text(&looping, 16));
    let r = run(w.cmd_for(&mock).args(["-p", "fix it", "-o", "json"]));
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let kept = v["result"].as_str().unwrap();
    // Stopped early (about ten repeats), the text so far kept, the user told.
    assert!(kept.starts_with("Let me check.\nI will read"), "{kept}");
    assert!(kept.len() < 2_000, "stopped early: {} bytes", kept.len());
    assert!(
        r.stderr.contains("kept repeating the same passage"),
        "{}",
        r.stderr
    );
    assert_eq!(mock.requests().len(), 1, "no retry, no follow-up");

    // Turned off, the same answer arrives in full.
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"loopDetection": false}}"#,
    );
    mock.enqueue(Reply::text(&looping, 16));
    let r = run(w.cmd_for(&mock).args(["-p", "fix it"]));
    r.assert_code(0);
    assert_eq!(r.stdout, looping);
}
