//! The real-model tier: qcode against upstream llama.cpp's `llama-server` serving SmolLM2-135M
//! (see `qcode_test_support::llama_server`). A server nobody here wrote: real streams, real
//! errors (context overflow, a killed server), real `/v1/models` metadata. The model is tiny and
//! talks nonsense, so every assertion is on structure — exit codes, events, what reached the
//! server — never on wording. Skipped with a loud message when the packages are missing
//! locally; required in CI.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use qcode_test_support::llama_server::{LlamaServer, MODEL};
use serde_json::Value;

use super::harness::*;
use super::pty::{Pty, keys};

/// The normal server (a context the tool schemas fit in).
const N_CTX: u32 = 8192;
/// A small context, for overflows.
const SMALL_CTX: u32 = 1024;

/// `qcode` against `base_url` (no API key: a local server needs none), answers kept short.
fn cmd_for(w: &World, base_url: &str, max_tokens: u32) -> Command {
    w.write(
        "home/.qcode/settings.json",
        &format!(r#"{{"model": {{"maxTokens": {max_tokens}, "temperature": 0}}}}"#),
    );
    let mut c = w.cmd();
    c.env("OPENAI_BASE_URL", base_url)
        .env("OPENAI_MODEL", MODEL);
    c
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_streamed_answer_in_every_output_format() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::formats", N_CTX) else {
        return;
    };
    let w = World::new();
    let text = run(cmd_for(&w, &llama.base_url(), 16).args(["-p", "Say hello."]));
    text.assert_code(0);
    assert!(!text.stdout.trim().is_empty(), "{}", text.stderr);

    let json = run(cmd_for(&w, &llama.base_url(), 16).args(["-p", "Say hello.", "-o", "json"]));
    json.assert_code(0);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["is_error"], false);
    assert!(!v["result"].as_str().unwrap().is_empty());
    // llama-server reports usage: real numbers, not a made-up zero.
    assert!(v["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["num_requests"], 1);

    let stream =
        run(cmd_for(&w, &llama.base_url(), 16).args(["-p", "Say hello.", "-o", "stream-json"]));
    stream.assert_code(0);
    let events = json_lines(&stream.stdout);
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"session_configured"), "{types:?}");
    assert!(types.contains(&"text_delta"), "{types:?}");
    assert_eq!(types.last(), Some(&"result"), "{types:?}");
}

#[test]
fn the_context_window_comes_from_the_servers_model_listing() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::window", N_CTX) else {
        return;
    };
    let w = World::new();
    let out = run(cmd_for(&w, &llama.base_url(), 8).args(["-p", "Hi", "-o", "stream-json"]));
    out.assert_code(0);
    let windows: Vec<u64> = json_lines(&out.stdout)
        .iter()
        .filter(|e| e["type"] == "session_configured")
        .filter_map(|e| e["context_window"].as_u64())
        .collect();
    // `smollm2` is in no catalogue: the window is what `meta.n_ctx` says, announced before
    // the answer.
    assert_eq!(windows, vec![u64::from(llama.n_ctx())], "{}", out.stdout);
}

#[test]
fn a_conversation_that_cannot_fit_is_refused_before_it_is_sent() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::refuse", SMALL_CTX) else {
        return;
    };
    let w = World::new();
    // About 3,000 tokens for a 1,024-token window.
    let prompt = "Please summarise this text. ".repeat(450);
    let out = run(cmd_for(&w, &llama.base_url(), 8).args(["-p", &prompt, "-o", "json"]));
    out.assert_code(1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "context_too_long", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("(1024 tokens)") && message.contains("not sent"),
        "{message}"
    );
    assert_eq!(v["num_requests"], 1);
    assert!(v["usage"].is_null(), "nothing was used: {v}");
    // Said on stderr too.
    assert!(
        out.stderr.contains("error: the conversation"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_servers_overflow_error_is_recognised() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::overflow", SMALL_CTX) else {
        return;
    };
    let w = World::new();
    // A window pinned far above the server's: qcode sends, and llama.cpp answers 400
    // `exceed_context_size_error`.
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"maxTokens": 8, "contextWindow": 1000000}}"#,
    );
    let prompt = "Please summarise this text. ".repeat(450);
    let mut c = w.cmd();
    c.env("OPENAI_BASE_URL", llama.base_url())
        .env("OPENAI_MODEL", MODEL)
        .args(["-p", &prompt, "-o", "json"]);
    let out = run(&mut c);
    out.assert_code(1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "context_too_long", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too long for the model's context window"),
        "{v}"
    );
    assert!(
        v["error"]["hint"].as_str().unwrap().contains("/compress"),
        "{v}"
    );
    // One prompt, nothing to compress: said at once, no compression attempted.
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

#[test]
fn a_forced_tool_call_makes_a_round_trip_through_the_real_server() {
    let Some(llama) = LlamaServer::shared_with_tools_or_skip("real_model::tool_call", N_CTX) else {
        return;
    };
    let w = World::new();
    w.write("project/notes.txt", "The secret word is pineapple.\n");
    // A short output limit: the model's call may be cut off, which the round trip must
    // survive too (the history then carries `{}` for its arguments).
    let out = run(cmd_for(&w, &llama.base_url(), 64)
        .env("QCODE_TEST_FORCE_TOOL_CALL", "1")
        .args(["-p", "Read the file notes.txt", "-o", "stream-json"]));
    out.assert_code(0);
    let events = json_lines(&out.stdout);
    // llama.cpp parsed the model's output into a call of one of the tools qcode sent ...
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "history_appended" && e["message"]["role"] == "assistant")
        .flat_map(|e| e["message"]["tool_calls"].as_array().into_iter().flatten())
        .collect();
    assert!(!calls.is_empty(), "no tool call: {}", out.stdout);
    let builtin = [
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
        "task",
    ];
    for call in &calls {
        let name = call["name"].as_str().unwrap_or_default();
        assert!(builtin.contains(&name), "{call}");
        assert!(
            !call["id"].as_str().unwrap_or_default().is_empty(),
            "{call}"
        );
    }
    // ... qcode answered each call with a result ...
    let results = events
        .iter()
        .filter(|e| e["type"] == "history_appended" && e["message"]["role"] == "tool")
        .count();
    assert_eq!(results, calls.len(), "{}", out.stdout);
    // ... and sent them back: the server accepted the follow-up and answered it.
    let last = events.last().unwrap();
    assert_eq!(last["type"], "result", "{last}");
    assert_eq!(last["is_error"], false, "{last}");
    assert_eq!(last["num_requests"], 2, "{last}");
    assert_eq!(
        last["tool_calls"].as_u64(),
        Some(calls.len() as u64),
        "{last}"
    );
}

/// What the test-only switch puts on the wire (the mock records it): `required` when the turn
/// starts, `none` after tool results; nothing without the switch.
#[test]
fn the_forced_tool_choice_is_on_the_first_request_only() {
    use qcode_test_support::mock_model::{MockServer, Reply};
    let w = World::new();
    w.write("project/notes.txt", "hello\n");
    for forced in [true, false] {
        let mock = MockServer::start();
        mock.enqueue(Reply::tool_calls(
            [(
                "c1",
                "read_file",
                r#"{"file_path": "notes.txt"}"#.to_string(),
            )],
            5,
        ));
        mock.enqueue(Reply::text("done", 1));
        let mut cmd = w.cmd_for(&mock);
        if forced {
            cmd.env("QCODE_TEST_FORCE_TOOL_CALL", "1");
        }
        run(cmd.args(["-p", "read it"])).assert_code(0);
        let choices: Vec<Value> = mock
            .requests()
            .iter()
            .map(|r| r.body_json().unwrap()["tool_choice"].clone())
            .collect();
        let expected = if forced {
            vec![Value::from("required"), Value::from("none")]
        } else {
            vec![Value::Null, Value::Null]
        };
        assert_eq!(choices, expected);
    }
}

#[test]
fn an_unknown_model_name_is_warned_about_once() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::unknown", N_CTX) else {
        return;
    };
    let w = World::new();
    let mut c = cmd_for(&w, &llama.base_url(), 8);
    c.env("OPENAI_MODEL", "no-such-model").args(["-p", "Hi"]);
    let out = run(&mut c);
    // llama-server ignores the name and answers: never blocked.
    out.assert_code(0);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("does not list the model `no-such-model`"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].contains(MODEL),
        "names what it lists: {}",
        warnings[0]
    );
}

#[test]
fn a_server_killed_mid_answer_is_said_plainly() {
    // Its own server: this one is killed.
    let Some(port) = private_server("real_model::killed") else {
        return;
    };
    let w = World::new();
    let base = format!("http://127.0.0.1:{}/v1", port.port);
    let mut child = cmd_for(&w, &base, 4000)
        .args([
            "-p",
            "Write a very long story about a dragon.",
            "-o",
            "stream-json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no output: {seen}"
        );
        seen.push_str(&line);
        if line.contains("\"text_delta\"") {
            break;
        }
    }
    port.kill();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let result: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert_eq!(result["error"]["kind"], "stream", "{result}");
    assert_eq!(
        result["error"]["message"],
        "the server closed the connection in the middle of the answer"
    );
    // stream-json says it on stderr too, once, without library details.
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    assert!(
        !stderr.contains("hyper") && !stderr.contains("chunk size"),
        "{stderr}"
    );
}

#[test]
fn the_interactive_session_answers_with_the_real_model() {
    let Some(llama) = LlamaServer::shared_or_skip("real_model::tui", N_CTX) else {
        return;
    };
    let w = World::new();
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"maxTokens": 12, "temperature": 0}}"#,
    );
    let env = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), llama.base_url()),
        ("OPENAI_MODEL".into(), MODEL.into()),
    ];
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &[],
        &env,
        &w.project,
    );
    // The status line shows the window the server reported (8.2k of 8192).
    t.wait_for_text("smollm2 · openai");
    t.wait_until("the discovered window in the status line", |s| {
        s.contains("of 8.2k context")
    });
    t.send_line("Say hello.");
    t.wait_until("an answer and the usage", |s| {
        s.contains("Say hello.") && s.contains("tokens")
    });
    t.send(keys::CTRL_D);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
}

/// A llama-server of this test's own (for the one that is killed).
struct Private {
    port: u16,
    child: std::process::Child,
}

impl Private {
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn private_server(test: &str) -> Option<Private> {
    // The shared launcher knows whether the packages are here (and skips loudly if not).
    LlamaServer::shared_or_skip(test, N_CTX)?;
    let dir = qcode_test_support::process::repo_root().join("tests/peers/llama");
    let port = qcode_test_support::process::free_port().unwrap();
    let mut child = Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join("serve.py"))
        .arg(port.to_string())
        .arg(N_CTX.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("ready"), "{line}");
    std::thread::sleep(Duration::from_millis(10));
    Some(Private { port, child })
}
