//! Hooks with real processes: stdin of every event, exit codes, JSON decisions, timeouts that
//! kill the whole group, parallel runs, `disableAllHooks`, trust and the environment.

use std::path::Path;
use std::time::Duration;

use qcode_extensions::Scope;
use qcode_extensions::hooks::{
    DEFAULT_TIMEOUT, EventPayload, HookConfig, HookEnv, HookEvent, HookRunner, HookSettings,
    HookStatus, SessionFacts, Verdict,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::support::{TRUSTED, UNTRUSTED};

fn scope(scope: Scope, trust: qcode_extensions::Trust, hooks: Value) -> HookSettings {
    HookSettings {
        scope,
        trust,
        hooks,
        disable_all_hooks: false,
    }
}

fn user(hooks: Value) -> HookSettings {
    scope(Scope::User, TRUSTED, hooks)
}

fn one(event: &str, matcher: &str, command: &str) -> Value {
    json!({event: [{"matcher": matcher, "hooks": [{"type": "command", "command": command}]}]})
}

fn runner(dir: &Path, scopes: &[HookSettings]) -> HookRunner {
    let cfg = HookConfig::from_settings(scopes);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    HookRunner::new(
        cfg,
        HookEnv::core_from_process(),
        SessionFacts {
            session_id: "sess-1".into(),
            transcript_path: "/tmp/t.jsonl".into(),
            cwd: dir.display().to_string(),
        },
    )
}

fn pre_tool(name: &str) -> EventPayload {
    EventPayload::PreToolUse {
        tool_name: name.into(),
        tool_input: json!({"path": "a.txt"}),
    }
}

async fn go(r: &HookRunner, p: &EventPayload) -> qcode_extensions::hooks::HookOutcome {
    r.run(p, &CancellationToken::new()).await
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_event_gets_its_fields_on_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let mut hooks = serde_json::Map::new();
    for e in HookEvent::ALL {
        hooks.insert(
            e.as_str().into(),
            json!([{"hooks": [{"type": "command", "command": format!("cat > {}.json", e.as_str())}]}]),
        );
    }
    let r = runner(tmp.path(), &[user(Value::Object(hooks))]);
    let cases = [
        (
            EventPayload::SessionStart {
                source: "startup".into(),
            },
            json!({"source": "startup"}),
        ),
        (
            EventPayload::UserPromptSubmit {
                prompt: "fix it".into(),
            },
            json!({"prompt": "fix it"}),
        ),
        (
            pre_tool("write_file"),
            json!({"tool_name": "write_file", "tool_input": {"path": "a.txt"}}),
        ),
        (
            EventPayload::PostToolUse {
                tool_name: "write_file".into(),
                tool_input: json!({"path": "a.txt"}),
                tool_response: json!({"ok": true}),
            },
            json!({"tool_name": "write_file", "tool_input": {"path": "a.txt"}, "tool_response": {"ok": true}}),
        ),
        (
            EventPayload::Notification {
                message: "qcode needs your approval".into(),
                notification_type: "permission_prompt".into(),
            },
            json!({"message": "qcode needs your approval", "notification_type": "permission_prompt"}),
        ),
        (
            EventPayload::Stop {
                stop_hook_active: false,
            },
            json!({"stop_hook_active": false}),
        ),
        (
            EventPayload::PreCompact {
                trigger: "manual".into(),
                custom_instructions: "keep tests".into(),
            },
            json!({"trigger": "manual", "custom_instructions": "keep tests"}),
        ),
        (
            EventPayload::SessionEnd {
                reason: "exit".into(),
            },
            json!({"reason": "exit"}),
        ),
    ];
    for (payload, extra) in cases {
        let event = payload.event();
        let out = go(&r, &payload).await;
        assert_eq!(out.runs.len(), 1, "{event:?}");
        assert_eq!(out.runs[0].status, HookStatus::Success, "{:?}", out.runs[0]);
        assert_eq!(out.verdict, Verdict::Proceed);
        let mut want = json!({
            "session_id": "sess-1",
            "transcript_path": "/tmp/t.jsonl",
            "cwd": tmp.path().display().to_string(),
            "hook_event_name": event.as_str(),
        });
        want.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(
            read_json(&tmp.path().join(format!("{}.json", event.as_str()))),
            want
        );
    }
}

#[tokio::test]
async fn matcher_is_a_whole_name_regex_and_empty_matches_all() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = json!({"PreToolUse": [
        {"matcher": "run_shell_command|write_file", "hooks": [{"type": "command", "command": "echo x >> narrow"}]},
        {"matcher": "", "hooks": [{"type": "command", "command": "echo x >> all"}]},
        {"matcher": "mcp__.*", "hooks": [{"type": "command", "command": "echo x >> mcp"}]}
    ]});
    let r = runner(tmp.path(), &[user(hooks)]);
    for t in [
        "write_file",
        "read_file",
        "write_file_extra",
        "mcp__github__create_issue",
    ] {
        go(&r, &pre_tool(t)).await;
    }
    let lines =
        |f: &str| std::fs::read_to_string(tmp.path().join(f)).map_or(0, |s| s.lines().count());
    assert_eq!(lines("narrow"), 1);
    assert_eq!(lines("all"), 4);
    assert_eq!(lines("mcp"), 1);
}

#[tokio::test]
async fn exit_2_blocks_with_stderr_and_other_codes_warn() {
    let tmp = tempfile::tempdir().unwrap();
    let r = runner(
        tmp.path(),
        &[user(one(
            "PreToolUse",
            "",
            "echo 'no writes to prod' >&2; exit 2",
        ))],
    );
    let out = go(&r, &pre_tool("write_file")).await;
    assert_eq!(out.runs[0].status, HookStatus::Blocked);
    assert_eq!(
        out.verdict,
        Verdict::Block {
            reason: "no writes to prod".into()
        }
    );

    let r = runner(
        tmp.path(),
        &[user(one(
            "UserPromptSubmit",
            "",
            "echo careful >&2; exit 1",
        ))],
    );
    let out = go(&r, &EventPayload::UserPromptSubmit { prompt: "p".into() }).await;
    assert_eq!(out.runs[0].status, HookStatus::Failed { code: Some(1) });
    assert_eq!(out.verdict, Verdict::Proceed);
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].contains("exit code 1") && out.warnings[0].contains("careful"));
}

#[tokio::test]
async fn json_permission_decisions_fold_deny_over_ask_over_allow() {
    let tmp = tempfile::tempdir().unwrap();
    let decide = |d: &str| {
        format!(
            r#"echo '{{"hookSpecificOutput": {{"hookEventName": "PreToolUse", "permissionDecision": "{d}", "permissionDecisionReason": "because {d}"}}}}'"#
        )
    };
    let group = |cmds: &[String]| json!({"PreToolUse": [{"hooks": cmds.iter().map(|c| json!({"type": "command", "command": c})).collect::<Vec<_>>()}]});
    let r = runner(tmp.path(), &[user(group(&[decide("allow")]))]);
    assert_eq!(
        go(&r, &pre_tool("x")).await.verdict,
        Verdict::Allow {
            reason: "because allow".into()
        }
    );
    let r = runner(
        tmp.path(),
        &[user(group(&[decide("allow"), decide("ask")]))],
    );
    assert_eq!(
        go(&r, &pre_tool("x")).await.verdict,
        Verdict::Ask {
            reason: "because ask".into()
        }
    );
    let r = runner(
        tmp.path(),
        &[user(group(&[
            decide("deny"),
            decide("ask"),
            decide("allow"),
        ]))],
    );
    assert_eq!(
        go(&r, &pre_tool("x")).await.verdict,
        Verdict::Block {
            reason: "because deny".into()
        }
    );
    // A block (exit 2 or decision: block) wins over an allow.
    let block = r#"echo '{"decision": "block", "reason": "policy says no"}'"#.to_string();
    let r = runner(tmp.path(), &[user(group(&[decide("allow"), block]))]);
    let out = go(&r, &pre_tool("x")).await;
    assert_eq!(
        out.verdict,
        Verdict::Block {
            reason: "policy says no".into()
        }
    );
    assert_eq!(out.runs[1].json.as_ref().unwrap()["decision"], "block");
    // An unknown decision is a warning, not a decision.
    let r = runner(tmp.path(), &[user(group(&[decide("maybe")]))]);
    let out = go(&r, &pre_tool("x")).await;
    assert_eq!(out.verdict, Verdict::Proceed);
    assert!(out.warnings[0].contains("maybe"));
}

#[tokio::test]
async fn stdout_and_additional_context_reach_the_model_for_prompt_and_start() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = json!({
        "UserPromptSubmit": [{"hooks": [
            {"type": "command", "command": "echo 'branch: main'"},
            {"type": "command", "command": r#"echo '{"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": "tests are slow"}}'"#}
        ]}],
        "PreToolUse": [{"hooks": [{"type": "command", "command": "echo 'not context'"}]}]
    });
    let r = runner(tmp.path(), &[user(hooks)]);
    let out = go(&r, &EventPayload::UserPromptSubmit { prompt: "p".into() }).await;
    assert_eq!(out.additional_context, ["branch: main", "tests are slow"]);
    let out = go(&r, &pre_tool("x")).await;
    assert!(out.additional_context.is_empty());
    assert_eq!(out.runs[0].stdout, "not context\n");
}

fn alive(pid: &str) -> bool {
    // A zombie nobody reaps (PID 1 of a container may not) is dead for our purpose.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

/// Whether the process is gone within two seconds (the kill is sent before `run` returns;
/// this only allows for the kernel's bookkeeping, it is not a timing assertion).
fn gone_soon(pid: &str) -> bool {
    for _ in 0..100 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[tokio::test]
async fn a_hung_hook_is_killed_with_its_children_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = json!({"Stop": [{"hooks": [
        {"type": "command", "command": "sleep 30 & echo $! > grandchild.pid; wait", "timeout": 0.5},
        {"type": "command", "command": "echo fine"}
    ]}]});
    let r = runner(tmp.path(), &[user(hooks)]);
    let out = go(
        &r,
        &EventPayload::Stop {
            stop_hook_active: false,
        },
    )
    .await;
    assert_eq!(
        out.runs[0].status,
        HookStatus::TimedOut {
            after: Duration::from_millis(500)
        }
    );
    assert_eq!(out.runs[1].status, HookStatus::Success);
    assert!(
        out.warnings[0].contains("did not finish within 0.5 s"),
        "{:?}",
        out.warnings
    );
    let pid = std::fs::read_to_string(tmp.path().join("grandchild.pid")).unwrap();
    assert!(gone_soon(pid.trim()), "grandchild {pid} still running");
}

#[tokio::test]
async fn a_background_child_holding_the_output_does_not_hang_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let r = runner(
        tmp.path(),
        &[user(one(
            "Stop",
            "",
            "sleep 30 & echo $! > bg.pid; echo done",
        ))],
    );
    let out = go(
        &r,
        &EventPayload::Stop {
            stop_hook_active: false,
        },
    )
    .await;
    assert_eq!(out.runs[0].status, HookStatus::Success);
    assert_eq!(out.runs[0].stdout, "done\n");
    let pid = std::fs::read_to_string(tmp.path().join("bg.pid")).unwrap();
    assert!(
        gone_soon(pid.trim()),
        "background child {pid} still running"
    );
}

#[tokio::test]
async fn hooks_of_one_event_run_in_parallel() {
    let tmp = tempfile::tempdir().unwrap();
    // Each hook marks its start, sleeps, then records whether the other had started: run one
    // after the other, the first could never see the second's start marker.
    let h = |me: &str, other: &str| json!({"type": "command", "command": format!("touch {me}.start; sleep 0.3; if [ -e {other}.start ]; then echo yes > {me}.saw; fi; touch {me}.end")});
    let hooks = json!({"PostToolUse": [{"hooks": [h("a", "b")]}, {"hooks": [h("b", "a")]}]});
    let r = runner(tmp.path(), &[user(hooks)]);
    let out = go(
        &r,
        &EventPayload::PostToolUse {
            tool_name: "x".into(),
            tool_input: json!({}),
            tool_response: json!("ok"),
        },
    )
    .await;
    assert!(out.runs.iter().all(|r| r.status == HookStatus::Success));
    assert!(
        tmp.path().join("a.saw").exists(),
        "a finished before b started"
    );
    assert!(
        tmp.path().join("b.saw").exists(),
        "b finished before a started"
    );
    assert!(tmp.path().join("a.end").exists() && tmp.path().join("b.end").exists());
}

#[tokio::test]
async fn disable_all_hooks_turns_them_off_but_not_from_an_untrusted_project() {
    let tmp = tempfile::tempdir().unwrap();
    let mut off = user(one("SessionEnd", "", "touch ran"));
    off.disable_all_hooks = true;
    let r = runner(tmp.path(), &[off]);
    assert!(!r.has_hooks(HookEvent::SessionEnd));
    let out = go(
        &r,
        &EventPayload::SessionEnd {
            reason: "exit".into(),
        },
    )
    .await;
    assert!(out.runs.is_empty());
    assert!(!tmp.path().join("ran").exists());

    let mut project_off = scope(Scope::Project, UNTRUSTED, Value::Null);
    project_off.disable_all_hooks = true;
    let r = runner(
        tmp.path(),
        &[user(one("SessionEnd", "", "touch ran")), project_off],
    );
    go(
        &r,
        &EventPayload::SessionEnd {
            reason: "exit".into(),
        },
    )
    .await;
    assert!(
        tmp.path().join("ran").exists(),
        "the user's hook still runs"
    );
}

#[tokio::test]
async fn untrusted_project_hooks_are_skipped_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let r = runner(
        tmp.path(),
        &[
            scope(
                Scope::Project,
                UNTRUSTED,
                one("PreToolUse", "", "touch project-ran; exit 2"),
            ),
            user(one("PreToolUse", "", "touch user-ran")),
        ],
    );
    let out = go(&r, &pre_tool("write_file")).await;
    assert!(!tmp.path().join("project-ran").exists());
    assert!(tmp.path().join("user-ran").exists());
    assert_eq!(out.runs[0].status, HookStatus::SkippedUntrusted);
    assert_eq!(out.verdict, Verdict::Proceed);
    assert!(
        out.warnings[0].contains("not trusted"),
        "{:?}",
        out.warnings
    );
    // Trusted, it runs.
    let r = runner(
        tmp.path(),
        &[scope(
            Scope::Project,
            TRUSTED,
            one("PreToolUse", "", "touch project-ran"),
        )],
    );
    go(&r, &pre_tool("write_file")).await;
    assert!(tmp.path().join("project-ran").exists());
}

#[tokio::test]
async fn the_environment_is_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = HookConfig::from_settings(&[user(one("Notification", "", "env > env.txt"))]);
    let parent: Vec<(String, String)> = std::env::vars()
        .chain([
            ("OPENAI_API_KEY".to_string(), "sk-parent-secret".to_string()),
            ("LC_ALL".to_string(), "C".to_string()),
            ("PATH".to_string(), std::env::var("PATH").unwrap()),
        ])
        .collect();
    let r = HookRunner::new(
        cfg,
        HookEnv::core_from(parent),
        SessionFacts {
            session_id: "s".into(),
            transcript_path: "t".into(),
            cwd: tmp.path().display().to_string(),
        },
    );
    go(
        &r,
        &EventPayload::Notification {
            message: "m".into(),
            notification_type: "idle_prompt".into(),
        },
    )
    .await;
    let env = std::fs::read_to_string(tmp.path().join("env.txt")).unwrap();
    assert!(!env.contains("sk-parent-secret"), "{env}");
    assert!(!env.contains("OPENAI_API_KEY"));
    assert!(
        !env.contains("CARGO_"),
        "the test process's variables stay out: {env}"
    );
    assert!(env.lines().any(|l| l.starts_with("PATH=")));
    assert!(env.lines().any(|l| l == "LC_ALL=C"));
    assert!(
        env.lines()
            .any(|l| l == format!("QCODE_PROJECT_DIR={}", tmp.path().display()))
    );
    // Even asked for explicitly, a secret-looking name is dropped.
    let e = HookEnv::new([
        ("GITHUB_TOKEN".into(), "ghp".into()),
        ("MY_VAR".into(), "1".into()),
    ]);
    assert_eq!(e.vars(), [("MY_VAR".to_string(), "1".to_string())]);
}

#[tokio::test]
async fn cancelling_kills_running_hooks() {
    let tmp = tempfile::tempdir().unwrap();
    let r = runner(
        tmp.path(),
        &[user(one("Stop", "", "echo $$ > hook.pid; sleep 30"))],
    );
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let pidfile = tmp.path().join("hook.pid");
    let p2 = pidfile.clone();
    tokio::spawn(async move {
        while !p2.exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        c2.cancel();
    });
    let out = r
        .run(
            &EventPayload::Stop {
                stop_hook_active: true,
            },
            &cancel,
        )
        .await;
    assert_eq!(out.runs[0].status, HookStatus::Cancelled);
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert!(gone_soon(pid.trim()), "hook {pid} still running");
}

#[test]
fn settings_problems_are_reported_per_entry() {
    let cfg = HookConfig::from_settings(&[
        user(json!({
            "PreToolUse": [
                {"matcher": "(", "hooks": [{"type": "command", "command": "x"}]},
                {"matcher": "ok", "hooks": [{"type": "prompt", "prompt": "x"}, {"type": "command"}, {"type": "command", "command": "y", "timeout": -1}, {"type": "command", "command": "z", "timeout": 5}]}
            ],
            "BeforeEverything": [],
            "Stop": {}
        })),
        scope(Scope::Project, TRUSTED, json!("nope")),
    ]);
    let p = cfg.problems.join("\n");
    assert!(
        p.contains("hooks.PreToolUse[0]: matcher `(` is not a valid regular expression"),
        "{p}"
    );
    assert!(
        p.contains("hooks.PreToolUse[1].hooks[0]: type `prompt` is not supported"),
        "{p}"
    );
    assert!(
        p.contains("hooks.PreToolUse[1].hooks[1]: `command` is missing"),
        "{p}"
    );
    assert!(
        p.contains("hooks.PreToolUse[1].hooks[2]: `timeout` must be a positive number"),
        "{p}"
    );
    assert!(p.contains("hooks.BeforeEverything is not an event"), "{p}");
    assert!(
        p.contains("user settings: hooks.Stop must be a list"),
        "{p}"
    );
    assert!(
        p.contains("project settings: `hooks` must be an object"),
        "{p}"
    );
    assert_eq!(cfg.hooks.len(), 1);
    assert_eq!(cfg.hooks[0].timeout, Duration::from_secs(5));
    assert_eq!(cfg.hooks[0].command, "z");
    assert!(DEFAULT_TIMEOUT == Duration::from_secs(60));
}

#[tokio::test]
async fn session_start_matches_its_source_and_its_stdout_is_context() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = json!({"SessionStart": [
        {"matcher": "startup", "hooks": [{"type": "command", "command": "echo 'fresh start'"}]},
        {"matcher": "resume|compact", "hooks": [{"type": "command", "command": "echo 'welcome back'"}]}
    ]});
    let r = runner(tmp.path(), &[user(hooks)]);
    let out = go(
        &r,
        &EventPayload::SessionStart {
            source: "startup".into(),
        },
    )
    .await;
    assert_eq!(out.additional_context, ["fresh start"]);
    let out = go(
        &r,
        &EventPayload::SessionStart {
            source: "resume".into(),
        },
    )
    .await;
    assert_eq!(out.additional_context, ["welcome back"]);
    let out = go(
        &r,
        &EventPayload::SessionStart {
            source: "clear".into(),
        },
    )
    .await;
    assert!(out.runs.is_empty());
}

#[tokio::test]
async fn a_flood_of_output_is_capped_and_does_not_stall_the_hook() {
    let tmp = tempfile::tempdir().unwrap();
    let r = runner(
        tmp.path(),
        &[user(one(
            "PostToolUse",
            "",
            "head -c 1000000 /dev/zero | tr '\\0' x; echo done > finished",
        ))],
    );
    let out = go(
        &r,
        &EventPayload::PostToolUse {
            tool_name: "x".into(),
            tool_input: json!({}),
            tool_response: json!(null),
        },
    )
    .await;
    assert_eq!(out.runs[0].status, HookStatus::Success);
    assert_eq!(
        out.runs[0].stdout.len(),
        qcode_extensions::hooks::MAX_OUTPUT_BYTES
    );
    assert!(
        tmp.path().join("finished").exists(),
        "the hook wrote everything and finished"
    );
}

#[tokio::test]
async fn a_hook_that_cannot_start_is_reported() {
    let r = runner(
        Path::new("/nonexistent/qcode-test-dir"),
        &[user(one("Stop", "", "true"))],
    );
    let out = go(
        &r,
        &EventPayload::Stop {
            stop_hook_active: false,
        },
    )
    .await;
    assert!(
        matches!(out.runs[0].status, HookStatus::NotStarted { .. }),
        "{:?}",
        out.runs[0]
    );
    assert!(
        out.warnings[0].contains("could not start"),
        "{:?}",
        out.warnings
    );
    assert_eq!(out.verdict, Verdict::Proceed);
}
