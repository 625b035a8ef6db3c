//! Hooks end to end: every event's stdin, what their output changes on the wire, blocking,
//! JSON decisions, a hung hook, parallel hooks, `disableAllHooks`, untrusted project hooks.

use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;

fn call(id: &str, name: &str, args: Value) -> (String, String, String) {
    (id.to_string(), name.to_string(), args.to_string())
}

fn tool_results(body: &Value) -> Vec<String> {
    messages(body)
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `{"EVENT": [{"matcher": M, "hooks": [{"type": "command", "command": C, …}]}]}`.
fn hook(event: &str, matcher: &str, command: &str) -> Value {
    json!({event: [{"matcher": matcher, "hooks": [{"type": "command", "command": command}]}]})
}

fn settings(w: &World, rel: &str, value: Value) {
    w.write(rel, &value.to_string());
}

/// A command that appends its stdin (one JSON object) as a line to `<log>/<event>.jsonl`.
fn recorder(log: &Path, event: &str) -> String {
    let file = log.join(format!("{event}.jsonl"));
    format!("cat >> '{0}'; echo >> '{0}'", file.display())
}

fn lines(log: &Path, event: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(log.join(format!("{event}.jsonl"))).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn hook_events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "hook")
        .collect()
}

fn log_dir(w: &World) -> PathBuf {
    let log = w.dir.path().join("log");
    std::fs::create_dir_all(&log).unwrap();
    log
}

#[test]
fn every_event_gets_its_fields_and_output_reaches_the_model() {
    let w = World::new();
    let mock = MockServer::start();
    let log = log_dir(&w);
    let mut all = serde_json::Map::new();
    for event in [
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "Notification",
        "SessionEnd",
    ] {
        let h = hook(event, "", &recorder(&log, event));
        all.extend(h.as_object().unwrap().clone());
    }
    all.insert(
        "SessionStart".into(),
        json!([{"hooks": [
            {"type": "command", "command": format!("{}; echo START-CONTEXT-7", recorder(&log, "SessionStart"))},
            {"type": "command", "command": format!("env > '{}'", log.join("env.txt").display())}
        ]}]),
    );
    all.insert(
        "UserPromptSubmit".into(),
        json!([{"hooks": [{"type": "command", "command": format!("{}; echo PROMPT-CONTEXT-8", recorder(&log, "UserPromptSubmit"))}]}]),
    );
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({ "hooks": Value::Object(all) }),
    );
    mock.enqueue(Reply::tool_calls(
        [call(
            "s1",
            "run_shell_command",
            json!({"command": "echo shell-said-hi"}),
        )],
        5,
    ));
    mock.enqueue(Reply::text("all done", 2));
    let out = run(w.cmd_for(&mock).args([
        "-p",
        "do the thing",
        "--yolo",
        "--output-format",
        "stream-json",
    ]));
    out.assert_code(0);

    let reqs = mock.requests();
    let first = reqs[0].body_json().unwrap();
    let system = messages(&first)[0]["content"].as_str().unwrap().to_string();
    assert!(system.contains("START-CONTEXT-7"), "{system}");
    let user = last_user_message(&first);
    assert!(user.starts_with("do the thing"), "{user}");
    assert!(user.contains("PROMPT-CONTEXT-8"), "{user}");

    let cwd = std::fs::canonicalize(&w.project).unwrap();
    for event in [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "Notification",
        "SessionEnd",
    ] {
        let got = lines(&log, event);
        assert_eq!(got.len(), 1, "{event}: {got:?}\n{}", out.stderr);
        let v = &got[0];
        assert_eq!(v["hook_event_name"], event);
        assert!(
            !v["session_id"].as_str().unwrap().is_empty(),
            "{event}: {v}"
        );
        assert!(
            v["transcript_path"].as_str().unwrap().ends_with(".jsonl"),
            "{event}: {v}"
        );
        assert_eq!(
            std::fs::canonicalize(v["cwd"].as_str().unwrap()).unwrap(),
            cwd,
            "{event}"
        );
    }
    assert_eq!(lines(&log, "SessionStart")[0]["source"], "startup");
    assert_eq!(lines(&log, "UserPromptSubmit")[0]["prompt"], "do the thing");
    let pre = &lines(&log, "PreToolUse")[0];
    assert_eq!(pre["tool_name"], "run_shell_command");
    assert_eq!(pre["tool_input"]["command"], "echo shell-said-hi");
    let post = &lines(&log, "PostToolUse")[0];
    assert_eq!(post["tool_name"], "run_shell_command");
    assert_eq!(post["tool_input"]["command"], "echo shell-said-hi");
    assert!(
        post["tool_response"]["output"]
            .as_str()
            .unwrap()
            .contains("shell-said-hi"),
        "{post}"
    );
    assert_eq!(post["tool_response"]["status"], "success");
    assert_eq!(lines(&log, "Stop")[0]["stop_hook_active"], false);
    let note = &lines(&log, "Notification")[0];
    assert_eq!(note["notification_type"], "idle_prompt");
    assert!(!note["message"].as_str().unwrap().is_empty());
    assert_eq!(lines(&log, "SessionEnd")[0]["reason"], "exit");

    // The hook environment never holds qcode's secrets.
    let env = std::fs::read_to_string(log.join("env.txt")).unwrap();
    assert!(!env.contains("sk-test-key-123"), "{env}");
    assert!(!env.contains("OPENAI_API_KEY"), "{env}");
    assert!(env.contains("QCODE_PROJECT_DIR="), "{env}");

    // What the hooks did is in stream-json (SessionEnd runs after the result is written).
    let events = hook_events(&out.stdout);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["hook_event"].as_str().unwrap())
        .collect();
    for event in [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
    ] {
        assert!(names.contains(&event), "{event} not in {names:?}");
    }
    assert!(
        events
            .iter()
            .all(|e| e["status"] == "success" && e["scope"] == "user")
    );
}

#[test]
fn exit_2_blocks_a_tool_call_and_stderr_is_the_result() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("marker");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("PreToolUse", "run_shell_command|write_file", "echo 'no shell today' >&2; exit 2")}),
    );
    mock.enqueue(Reply::tool_calls(
        [call(
            "s1",
            "run_shell_command",
            json!({"command": format!("touch '{}'", marker.display())}),
        )],
        5,
    ));
    mock.enqueue(Reply::text("ok", 2));
    run(w.cmd_for(&mock).args(["-p", "x", "--yolo"])).assert_code(0);
    assert!(!marker.exists(), "the blocked call ran");
    let body = mock.requests()[1].body_json().unwrap();
    assert_eq!(tool_results(&body), ["no shell today"]);
}

#[test]
fn a_blocking_prompt_hook_keeps_the_prompt_from_the_model() {
    let w = World::new();
    let mock = MockServer::start();
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("UserPromptSubmit", "", "echo 'prompts mentioning secrets are refused' >&2; exit 2")}),
    );
    mock.enqueue(Reply::text("should not be asked", 2));
    let out = run(w.cmd_for(&mock).args(["-p", "the secret plan"]));
    out.assert_code(42);
    assert!(mock.requests().is_empty(), "the prompt was sent");
    assert!(
        out.stderr
            .contains("prompts mentioning secrets are refused"),
        "{}",
        out.stderr
    );
}

fn decision(kind: &str) -> String {
    let json = json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": kind, "permissionDecisionReason": format!("policy says {kind}")}});
    format!("echo '{json}'")
}

fn shell_run(w: &World, mock: &MockServer, marker: &Path, extra: &[&str]) -> String {
    mock.enqueue(Reply::tool_calls(
        [call(
            "s1",
            "run_shell_command",
            json!({"command": format!("touch '{}'", marker.display())}),
        )],
        5,
    ));
    mock.enqueue(Reply::text("ok", 2));
    let mut args = vec!["-p", "x"];
    args.extend_from_slice(extra);
    run(w.cmd_for(mock).args(&args)).assert_code(0);
    let reqs = mock.requests();
    tool_results(&reqs[reqs.len() - 1].body_json().unwrap())
        .pop()
        .unwrap()
}

#[test]
fn json_allow_skips_approval_deny_blocks_ask_asks_even_in_yolo() {
    // allow: a shell call default headless would deny runs.
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("allowed");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("PreToolUse", "", &decision("allow"))}),
    );
    shell_run(&w, &mock, &marker, &[]);
    assert!(marker.exists(), "allow did not skip the approval");

    // deny: blocked in yolo, the reason is the result.
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("denied");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("PreToolUse", "", &decision("deny"))}),
    );
    let result = shell_run(&w, &mock, &marker, &["--yolo"]);
    assert!(!marker.exists());
    assert_eq!(result, "policy says deny");

    // ask: forces the question in yolo; headless cannot ask, so the call is denied.
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("asked");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("PreToolUse", "", &decision("ask"))}),
    );
    let result = shell_run(&w, &mock, &marker, &["--yolo"]);
    assert!(!marker.exists());
    assert!(result.contains("asks for the user's approval"), "{result}");
    assert!(result.contains("policy says ask"), "{result}");
}

#[test]
fn a_hung_hook_is_killed_and_the_session_goes_on() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("late");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "timeout": 0.5,
            "command": format!("sleep 30; touch '{}'", marker.display())}]}]}}),
    );
    mock.enqueue(Reply::text("fine", 2));
    let out = run(w
        .cmd_for(&mock)
        .args(["-p", "x", "--output-format", "stream-json"]));
    out.assert_code(0);
    assert_eq!(mock.requests().len(), 1);
    let events = hook_events(&out.stdout);
    assert_eq!(events.len(), 1, "{}", out.stdout);
    assert_eq!(events[0]["status"], "timed_out");
    assert!(
        out.stdout.contains("did not finish within 0.5 s"),
        "{}",
        out.stdout
    );
    assert_no_process_matching("sleep 30; touch", "after the hung hook");
    assert!(!marker.exists());
}

#[test]
fn hooks_of_one_event_run_in_parallel() {
    let w = World::new();
    let mock = MockServer::start();
    let d = w.dir.path();
    // Each waits for the other's file: both succeed only when they run at the same time.
    let waits = |mine: &str, theirs: &str| {
        format!(
            "touch '{0}/{mine}'; i=0; while [ ! -f '{0}/{theirs}' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -f '{0}/{theirs}' ]",
            d.display()
        )
    };
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": {"UserPromptSubmit": [{"hooks": [
            {"type": "command", "command": waits("a", "b")},
            {"type": "command", "command": waits("b", "a")}
        ]}]}}),
    );
    mock.enqueue(Reply::text("fine", 2));
    let out = run(w
        .cmd_for(&mock)
        .args(["-p", "x", "--output-format", "stream-json"]));
    out.assert_code(0);
    let events = hook_events(&out.stdout);
    assert_eq!(events.len(), 2, "{}", out.stdout);
    assert!(
        events.iter().all(|e| e["status"] == "success"),
        "{events:?}"
    );
}

#[test]
fn disable_all_hooks_turns_them_off() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("ran");
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"disableAllHooks": true, "hooks": hook("UserPromptSubmit", "", &format!("touch '{}'", marker.display()))}),
    );
    mock.enqueue(Reply::text("fine", 2));
    let out = run(w
        .cmd_for(&mock)
        .args(["-p", "x", "--output-format", "stream-json"]));
    out.assert_code(0);
    assert!(!marker.exists());
    assert!(hook_events(&out.stdout).is_empty());
}

#[test]
fn an_untrusted_projects_hooks_never_run_and_cannot_disable_the_users() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("pwned");
    let user_marker = w.dir.path().join("user-hook-ran");
    settings(
        &w,
        "project/.qcode/settings.json",
        json!({"disableAllHooks": true, "hooks": hook("PreToolUse", "", &format!("touch '{}'", marker.display()))}),
    );
    settings(
        &w,
        "home/.qcode/settings.json",
        json!({"hooks": hook("UserPromptSubmit", "", &format!("touch '{}'", user_marker.display()))}),
    );
    mock.enqueue(Reply::tool_calls(
        [call("r1", "list_directory", json!({"path": "."}))],
        5,
    ));
    mock.enqueue(Reply::text("fine", 2));
    let out = run(w.cmd_for(&mock).args(["-p", "x"]));
    out.assert_code(0);
    assert!(!marker.exists(), "an untrusted project's hook ran");
    assert!(
        user_marker.exists(),
        "the project switched off the user's hooks"
    );
    let settings_file = w.project.join(".qcode/settings.json");
    assert!(
        out.stderr
            .contains(&format!("hooks ({})", settings_file.display()))
            && out.stderr.contains("disableAllHooks")
            && out.stderr.contains("qcode trust"),
        "{}",
        out.stderr
    );

    // Trusted, the same project hook runs.
    let mock = MockServer::start();
    mock.enqueue(Reply::tool_calls(
        [call("r1", "list_directory", json!({"path": "."}))],
        5,
    ));
    mock.enqueue(Reply::text("fine", 2));
    settings(
        &w,
        "project/.qcode/settings.json",
        json!({"hooks": hook("PreToolUse", "", &format!("touch '{}'", marker.display()))}),
    );
    run(w.cmd_for(&mock).args(["-p", "x", "--trust"])).assert_code(0);
    assert!(marker.exists(), "a trusted project's hook did not run");
}

/// Every transcript line of `type` hook under `$QCODE_HOME/projects/*/chats/`, and the
/// transcripts' text.
fn transcript_hooks(home: &Path) -> (Vec<Value>, String) {
    let mut text = String::new();
    for project in std::fs::read_dir(home.join(".qcode/projects"))
        .unwrap()
        .flatten()
    {
        for chat in std::fs::read_dir(project.path().join("chats"))
            .unwrap()
            .flatten()
        {
            text.push_str(&std::fs::read_to_string(chat.path()).unwrap());
        }
    }
    let hooks = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "hook")
        .collect();
    (hooks, text)
}

/// Hook runs are `hook` records in the transcript (redacted: a secret in a hook's command or
/// reason is never written), `qcode sessions show` lists them, and a resumed session does not
/// send them to the model.
#[test]
fn hook_runs_are_in_the_transcript_and_sessions_show_but_not_resent() {
    let w = World::new();
    let mock = MockServer::start();
    let marker = w.dir.path().join("marker");
    let mut hooks = hook(
        "PreToolUse",
        "run_shell_command",
        "echo 'blocked: token=tok-canary-5521' >&2; exit 2",
    );
    hooks.as_object_mut().unwrap().extend(
        hook("Stop", "", "AUDIT_TOKEN=tok-canary-5522 true")
            .as_object()
            .unwrap()
            .clone(),
    );
    settings(&w, "home/.qcode/settings.json", json!({ "hooks": hooks }));
    mock.enqueue(Reply::tool_calls(
        [call(
            "s1",
            "run_shell_command",
            json!({"command": format!("touch '{}'", marker.display())}),
        )],
        5,
    ));
    mock.enqueue(Reply::text("ok", 2));
    run(w.cmd_for(&mock).args(["-p", "x", "--yolo"])).assert_code(0);
    assert!(!marker.exists(), "the blocked call ran");

    let (records, text) = transcript_hooks(&w.home);
    // The block reason is also the tool result the model saw (conversation, recorded as such);
    // the hook records themselves hold no secret, and the Stop hook's is nowhere.
    assert!(
        !Value::Array(records.clone())
            .to_string()
            .contains("tok-canary"),
        "{records:?}"
    );
    assert!(
        !text.contains("tok-canary-5522"),
        "a secret reached the transcript:\n{text}"
    );
    let summary: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r["event"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["scope"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "PreToolUse".to_string(),
                "blocked".to_string(),
                "user".to_string()
            ),
            (
                "Stop".to_string(),
                "success".to_string(),
                "user".to_string()
            ),
        ]
    );
    assert_eq!(records[0]["message"], "blocked: token=***");
    assert_eq!(records[1]["command"], "AUDIT_TOKEN=*** true");

    let id = records_session_id(&text);
    let shown = run(w.cmd().args(["sessions", "show", &id]));
    shown.assert_code(0);
    assert!(
        shown
            .stdout
            .contains("[hook PreToolUse (user) echo 'blocked: token=***' >&2; exit 2: blocked — blocked: token=***]"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("[hook Stop (user) AUDIT_TOKEN=*** true: success]")
    );
    let md = run(w
        .cmd()
        .args(["sessions", "export", &id, "--format", "markdown"]));
    md.assert_code(0);
    assert!(
        md.stdout
            .contains("_Hook Stop (user) `AUDIT_TOKEN=*** true`: success._"),
        "{}",
        md.stdout
    );
    assert!(!md.stdout.contains("tok-canary-5522"));

    // Resumed: the history sent is the conversation only.
    mock.enqueue(Reply::text("again", 2));
    run(w.cmd_for(&mock).args(["-p", "y", "-c"])).assert_code(0);
    let reqs = mock.requests();
    let sent = reqs.last().unwrap().body_json().unwrap().to_string();
    assert!(
        !sent.contains("AUDIT_TOKEN") && !sent.contains("\"hook\""),
        "{sent}"
    );
    assert!(
        sent.contains("blocked: token=tok-canary-5521"),
        "the tool result is history: {sent}"
    );
}

fn records_session_id(text: &str) -> String {
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header["id"].as_str().unwrap().to_string()
}
