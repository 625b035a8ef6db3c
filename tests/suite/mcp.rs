//! MCP servers in a real session: started in the background, their tools offered to the model
//! (asserted on the wire), approvals, calls, folder trust, shutdown without orphans (the
//! `qcode mcp …` commands: `mcp_cmd.rs`). Against the real server-everything (tests/peers/mcp, installed by
//! `.ci/run`); without it the peer tests print a loud SKIP (with `QCODE_REQUIRE_PEERS` or `CI`
//! set they fail instead).

use std::path::{Path, PathBuf};
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, RecordedRequest, Reply};
use serde_json::{Value, json};

use super::harness::*;

/// server-everything's package directory, or `None` (after printing why) when it may be skipped.
pub(super) fn everything(test: &str) -> Option<PathBuf> {
    qcode_test_support::mcp_peers::everything_or_skip(test)
}

/// A uniquely named link to server-everything's package, so `pgrep -f` finds exactly this
/// test's server processes; returns (entry point, marker).
pub(super) fn linked_entry(w: &World, package: &Path, tag: &str) -> (String, String) {
    let marker = format!("qcode-mcp-{tag}-{}", std::process::id());
    let link = w.dir.path().join(&marker);
    std::os::unix::fs::symlink(package, &link).unwrap();
    (link.join("dist/index.js").display().to_string(), marker)
}

/// The user's settings with `servers` as `mcpServers` (plus `extra` keys).
pub(super) fn user_settings(w: &World, servers: Value, extra: Value) {
    let mut s = json!({ "mcpServers": servers });
    if let (Some(obj), Value::Object(more)) = (s.as_object_mut(), extra) {
        obj.extend(more);
    }
    w.write("home/.qcode/settings.json", &s.to_string());
}

pub(super) fn chat_bodies(mock: &MockServer) -> Vec<Value> {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r: &RecordedRequest| r.body_json().unwrap())
        .collect()
}

fn tool_named<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["tools"]
        .as_array()?
        .iter()
        .find(|t| t["function"]["name"] == name)
}

/// The tool result the second request carried back.
pub(super) fn tool_result(body: &Value) -> String {
    messages(body)
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn echo_call(mock: &MockServer, text: &str) {
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__echo",
            json!({ "message": text }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("done", 4));
}

/// Offered on the wire with a clean schema; called in yolo; the result goes back to the model;
/// the server is gone after the run.
#[test]
fn headless_run_offers_calls_and_closes_an_mcp_server() {
    let Some(package) = everything("headless_run_offers_calls_and_closes_an_mcp_server") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "headless");
    let wire = w.dir.path().join("wire.jsonl");
    user_settings(
        &w,
        json!({ "everything": {
            "command": "sh",
            // Settings expand `$VAR`, so the paths are written out (quoted for the shell).
            "args": ["-c", format!("tee -a '{}' | exec node '{entry}' stdio", wire.display())]
        }}),
        json!({}),
    );
    let mock = MockServer::start();
    echo_call(&mock, "hello from the model");
    let r = run(w.cmd_for(&mock).args(["-p", "use echo", "--yolo"]));
    r.assert_code(0);
    assert!(r.stdout.contains("done"), "{}", r.stdout);
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let echo = tool_named(&bodies[0], "mcp__everything__echo")
        .unwrap_or_else(|| panic!("echo not offered; stderr: {}", r.stderr));
    assert!(
        !echo["function"]["description"].as_str().unwrap().is_empty(),
        "{echo}"
    );
    let params = &echo["function"]["parameters"];
    assert_eq!(params["type"], "object");
    assert!(params["properties"]["message"].is_object(), "{params}");
    assert!(!params.to_string().contains("$schema"), "{params}");
    assert!(
        tool_named(&bodies[0], "read_file").is_some(),
        "built-ins still offered"
    );
    assert!(
        tool_result(&bodies[1]).contains("hello from the model"),
        "{}",
        tool_result(&bodies[1])
    );
    let sent = std::fs::read_to_string(&wire).unwrap();
    assert!(sent.contains("\"tools/call\""), "{sent}");
    assert_no_process_matching(&marker, "after a headless run");
}

/// default mode asks, which a headless run cannot: denied with the entry that would allow it.
/// The allow-list (a tool, or `mcp__srv` for a whole server) and `trust: true` let it run.
#[test]
fn mcp_tools_need_approval_unless_allowed_or_trusted() {
    let Some(package) = everything("mcp_tools_need_approval_unless_allowed_or_trusted") else {
        return;
    };
    let cases: [(&str, bool, Option<&str>, bool); 4] = [
        ("denied", false, None, false),
        ("tool", false, Some("mcp__everything__echo"), true),
        ("server", false, Some("mcp__everything"), true),
        ("trusted", true, None, true),
    ];
    for (tag, trust, allowed, runs) in cases {
        let w = World::new();
        let (entry, marker) = linked_entry(&w, &package, tag);
        user_settings(
            &w,
            json!({ "everything": { "command": "node", "args": [entry, "stdio"], "trust": trust } }),
            json!({}),
        );
        let mock = MockServer::start();
        echo_call(&mock, "approval probe");
        let mut cmd = w.cmd_for(&mock);
        cmd.args(["-p", "use echo"]);
        if let Some(a) = allowed {
            cmd.args(["--allowed-tools", a]);
        }
        let r = run(&mut cmd);
        r.assert_code(0);
        let bodies = chat_bodies(&mock);
        let result = tool_result(&bodies[1]);
        if runs {
            assert!(result.contains("approval probe"), "{tag}: {result}");
        } else {
            assert!(
                result.contains("needs the user's approval"),
                "{tag}: {result}"
            );
            assert!(
                result.contains("--allowed-tools mcp__everything__echo"),
                "{tag}: {result}"
            );
        }
        assert_no_process_matching(&marker, tag);
    }
}

/// A project (untrusted) settings file cannot pre-approve MCP tools through `tools.allowed`.
#[test]
fn an_untrusted_project_cannot_allow_mcp_tools() {
    let Some(package) = everything("an_untrusted_project_cannot_allow_mcp_tools") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "untrusted-allow");
    user_settings(
        &w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"] } }),
        json!({}),
    );
    w.write(
        "project/.qcode/settings.json",
        &json!({ "tools": { "allowed": ["mcp__everything"] } }).to_string(),
    );
    let mock = MockServer::start();
    echo_call(&mock, "should not run");
    let r = run(w.cmd_for(&mock).args(["-p", "use echo"]));
    r.assert_code(0);
    let result = tool_result(&chat_bodies(&mock)[1]);
    assert!(result.contains("needs the user's approval"), "{result}");
    assert_no_process_matching(&marker, "untrusted allow-list");
}

/// A hostile repository's `.mcp.json` names a program: untrusted, it never runs (one warning
/// saying how to trust); with `--trust` it starts.
#[test]
fn an_untrusted_projects_mcp_server_never_runs() {
    let w = World::new();
    let touched = w.dir.path().join("touched");
    let script = w.write(
        "project/evil.sh",
        &format!("#!/bin/sh\ntouch '{}'\nexit 1\n", touched.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    w.write(
        "project/.mcp.json",
        &json!({ "mcpServers": { "evil": { "command": "./evil.sh" } } }).to_string(),
    );
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 4));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(0);
    assert!(!touched.exists(), "the untrusted project's server ran");
    assert!(
        r.stderr.contains("`evil`") && r.stderr.contains("not started: folder not trusted"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("qcode trust"), "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("not started: folder not trusted").count(),
        1,
        "one warning: {}",
        r.stderr
    );
    let r = run(w.cmd_for(&mock).args(["-p", "hi", "--trust"]));
    r.assert_code(0);
    assert!(touched.exists(), "with --trust the server starts");
    assert!(
        r.stderr.contains("MCP server `evil` is not available"),
        "one warning for the server that exited: {}",
        r.stderr
    );
}

/// A server still starting when the discovery timeout passes: the request goes on without it,
/// and the warning names it.
#[test]
fn the_first_request_goes_on_without_a_slow_server() {
    let w = World::new();
    user_settings(
        &w,
        json!({ "slow": { "command": "sh", "args": ["-c", "exec sleep 30 # qcode-mcp-slow"] } }),
        json!({ "mcp": { "discoveryTimeout": 300 } }),
    );
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 4));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(0);
    assert!(
        r.stderr.contains("`slow` still starting") && r.stderr.contains("going on without it"),
        "{}",
        r.stderr
    );
    assert_eq!(chat_bodies(&mock).len(), 1);
    assert_no_process_matching("qcode-mcp-slow", "after the run");
}

/// Usage statistics record an MCP call as tool `mcp`: never the server's or the tool's name.
#[test]
fn statistics_record_mcp_calls_without_names() {
    let Some(package) = everything("statistics_record_mcp_calls_without_names") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "stats");
    user_settings(
        &w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"] } }),
        json!({}),
    );
    let mock = MockServer::start();
    echo_call(&mock, "stats probe");
    let r = run(w
        .cmd_for(&mock)
        .env_remove("DO_NOT_TRACK")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .args(["-p", "use echo", "--yolo"]));
    r.assert_code(0);
    let audit =
        std::fs::read_to_string(w.home.join(".qcode").join(qcode_telemetry::AUDIT_LOG_FILE))
            .unwrap();
    let calls: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("qcode.tool_call"))
        .collect();
    assert_eq!(calls.len(), 1, "{audit}");
    assert!(calls[0].contains("\"mcp\""), "{}", calls[0]);
    assert!(!audit.contains("everything"), "{audit}");
    assert!(!audit.contains("echo"), "{audit}");
    assert_no_process_matching(&marker, "stats");
}

/// An interactive session with one real server, its process marker, and the mock.
fn interactive_with_server(tag: &str) -> Option<(World, MockServer, super::pty::Pty, String)> {
    let package = everything(tag)?;
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, tag);
    user_settings(
        &w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"] } }),
        json!({}),
    );
    let mock = MockServer::start();
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
    ];
    let t = super::pty::Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &[],
        &env,
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    Some((w, mock, t, marker))
}

/// `/mcp` lists the server with its state and tool count; `/quit` closes it.
#[test]
fn slash_mcp_lists_servers_and_quit_closes_them() {
    use super::pty::keys;
    let Some((_w, _mock, mut t, marker)) = interactive_with_server("slash") else {
        return;
    };
    // The server starts in the background: ask again until it is connected (it says
    // "starting" before).
    let connected = "everything (stdio, user settings): connected, ";
    for attempt in 1..=40 {
        t.send("/mcp");
        t.wait_for_text("› /mcp");
        t.send(keys::ENTER);
        let text = t.wait_until("the /mcp listing", |_| {
            t.full_text()
                .matches("everything (stdio, user settings): ")
                .count()
                >= attempt
        });
        if t.full_text().contains(connected) {
            break;
        }
        assert!(
            text.contains("everything (stdio, user settings): starting"),
            "{text}"
        );
        assert!(attempt < 40, "never connected: {text}");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(t.full_text().contains(" tools"), "{}", t.full_text());
    t.send("/quit");
    t.wait_for_text("› /quit");
    t.send(keys::ENTER);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after /quit");
}

/// SIGTERM to an interactive session closes its servers: no process left.
#[test]
fn sigterm_of_an_interactive_session_leaves_no_server() {
    let Some((_w, _mock, mut t, marker)) = interactive_with_server("sigterm") else {
        return;
    };
    // The server is up (its process exists) before the signal.
    assert!(
        qcode_test_support::process::wait_until(Duration::from_secs(20), || {
            std::process::Command::new("pgrep")
                .args(["-f", &marker])
                .output()
                .is_ok_and(|o| !o.stdout.is_empty())
        }),
        "the server never started"
    );
    t.signal("TERM");
    t.wait_exit();
    assert_no_process_matching(&marker, "after SIGTERM");
}

/// A session whose server-everything records what qcode sent it (`wire`, a `tee` in front of
/// it) and whose model first calls its two-minute operation; returns the server's process
/// marker, the wire file and the mock model.
fn long_call_session(
    w: &World,
    package: &Path,
    tag: &str,
) -> (String, std::path::PathBuf, MockServer) {
    let (entry, marker) = linked_entry(w, package, tag);
    let wire = w.dir.path().join("wire.jsonl");
    user_settings(
        w,
        json!({ "everything": {
            "command": "sh",
            "args": ["-c", format!("tee -a '{}' | exec node '{entry}' stdio", wire.display())]
        }}),
        json!({}),
    );
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__trigger-long-running-operation",
            json!({ "duration": 120, "steps": 240 }).to_string(),
        )],
        9,
    ));
    (marker, wire, mock)
}

/// Ctrl-C (SIGINT) during a long MCP call: `notifications/cancelled` goes to the server, the
/// run ends as interrupted, and the server is closed.
#[test]
fn interrupting_a_headless_run_cancels_the_mcp_call() {
    let Some(package) = everything("interrupting_a_headless_run_cancels_the_mcp_call") else {
        return;
    };
    let w = World::new();
    let (marker, wire, mock) = long_call_session(&w, &package, "cancel");
    let child = w
        .cmd_for(&mock)
        .args(["-p", "run it", "--yolo", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        qcode_test_support::process::wait_until(Duration::from_secs(30), || {
            std::fs::read_to_string(&wire).is_ok_and(|s| s.contains("\"tools/call\""))
        }),
        "the call never reached the server"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = std::fs::read_to_string(&wire).unwrap();
    assert!(sent.contains("notifications/cancelled"), "{sent}");
    assert_no_process_matching(&marker, "after the interrupt");
}

/// In default mode the approval dialog names the server, the tool and the arguments.
#[test]
fn the_approval_dialog_shows_server_tool_and_arguments() {
    use super::pty::keys;
    let Some((_w, mock, mut t, marker)) = interactive_with_server("dialog") else {
        return;
    };
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__echo",
            json!({ "message": "dialog probe" }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("echoed", 4));
    t.send("call echo");
    t.send(keys::ENTER);
    let screen = t.wait_until("the approval dialog", |s| {
        s.contains("MCP tool `echo` of server `everything`")
    });
    assert!(screen.contains("\"message\": \"dialog probe\""), "{screen}");
    t.send("y");
    t.wait_for_transcript("echoed");
    let bodies = chat_bodies(&mock);
    assert!(
        tool_result(&bodies[1]).contains("dialog probe"),
        "{bodies:?}"
    );
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}

/// `notifications/tools/list_changed` between requests: a tool the server adds during the
/// turn is offered in the following requests (tests/peers/mcp/list-changed.mjs: `add-tool`
/// registers `added`).
#[test]
fn a_tool_added_by_the_server_is_offered_in_later_requests() {
    let Some(package) = everything("a_tool_added_by_the_server_is_offered_in_later_requests")
    else {
        return;
    };
    let script = package.ancestors().nth(3).unwrap().join("list-changed.mjs");
    assert!(script.is_file(), "{}", script.display());
    let w = World::new();
    user_settings(
        &w,
        json!({ "lc": { "command": "node", "args": [script.display().to_string(), "qcode-mcp-lc"] } }),
        json!({}),
    );
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls([("m1", "mcp__lc__add-tool", "{}")], 9));
    // A second round trip that takes a moment, so the refresh that follows the notification
    // (the SDK handles notifications on tasks of their own, unordered with the call's answer)
    // has happened before the request that must offer the new tool, also on a loaded machine.
    mock.enqueue(Reply::tool_calls(
        [(
            "r1",
            "run_shell_command",
            json!({ "command": "sleep 1" }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::tool_calls([("m2", "mcp__lc__added", "{}")], 9));
    mock.enqueue(Reply::text("done", 4));
    let r = run(w.cmd_for(&mock).args(["-p", "add a tool", "--yolo"]));
    r.assert_code(0);
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 4, "{}", r.stderr);
    assert!(tool_named(&bodies[0], "mcp__lc__add-tool").is_some());
    assert!(tool_named(&bodies[0], "mcp__lc__added").is_none());
    assert!(
        tool_named(&bodies[2], "mcp__lc__added").is_some(),
        "{}",
        bodies[2]["tools"]
    );
    assert!(
        tool_result(&bodies[3]).contains("I was added"),
        "{}",
        tool_result(&bodies[3])
    );
    assert_no_process_matching("qcode-mcp-lc", "after the run");
}

/// A call that exceeds its server's `timeout` is cancelled and reported to the model as an
/// error; the session goes on.
#[test]
fn a_call_past_its_timeout_is_cancelled_and_reported() {
    let Some(package) = everything("a_call_past_its_timeout_is_cancelled_and_reported") else {
        return;
    };
    let w = World::new();
    let (entry, marker) = linked_entry(&w, &package, "timeout");
    user_settings(
        &w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"], "timeout": 300 } }),
        json!({}),
    );
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__trigger-long-running-operation",
            json!({ "duration": 120, "steps": 10 }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("gave up", 4));
    let r = run(w.cmd_for(&mock).args(["-p", "run it", "--yolo"]));
    r.assert_code(0);
    let result = tool_result(&chat_bodies(&mock)[1]);
    assert!(
        result.contains("did not finish within 0.3 s and was cancelled"),
        "{result}"
    );
    assert!(r.stdout.contains("gave up"), "{}", r.stdout);
    assert_no_process_matching(&marker, "after the run");
}

/// Esc during a long MCP call in the interactive session: `notifications/cancelled` goes to
/// the server and the call still gets a result, so the next request's history is valid.
#[test]
fn esc_cancels_an_mcp_call_and_the_history_stays_valid() {
    use super::pty::keys;
    let Some(package) = everything("esc_cancels_an_mcp_call_and_the_history_stays_valid") else {
        return;
    };
    let w = World::new();
    let (marker, wire, mock) = long_call_session(&w, &package, "esc");
    mock.enqueue(Reply::text("second answer", 4));
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
    ];
    let mut t = super::pty::Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env,
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    t.send("run it");
    t.send(keys::ENTER);
    assert!(
        qcode_test_support::process::wait_until(Duration::from_secs(30), || {
            std::fs::read_to_string(&wire).is_ok_and(|s| s.contains("\"tools/call\""))
        }),
        "the call never reached the server"
    );
    t.send(keys::ESC);
    assert!(
        qcode_test_support::process::wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&wire).is_ok_and(|s| s.contains("notifications/cancelled"))
        }),
        "no notifications/cancelled on the wire"
    );
    t.wait_until("the prompt again", |s| s.contains("Ask anything"));
    t.send("again");
    t.send(keys::ENTER);
    t.wait_for_transcript("second answer");
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 2);
    let msgs = messages(&bodies[1]);
    let call = msgs
        .iter()
        .position(|m| m["tool_calls"][0]["id"] == "m1")
        .expect("the assistant's call is in the history");
    assert_eq!(msgs[call + 1]["role"], "tool", "{msgs:?}");
    assert_eq!(msgs[call + 1]["tool_call_id"], "m1");
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}
