//! The sandbox of the commands the model runs (Linux Landlock, docs/sandbox.md): what a
//! sandboxed `run_shell_command` can and cannot do, seen on disk and in the tool result the
//! model gets back; the escalation to `sandbox: "off"`; the settings a repository cannot use to
//! switch it off; the behaviour without Landlock (simulated).
//!
//! The scratch world lives under Cargo's target temp directory rather than the system temp
//! directory: the policy makes the system temp directory writable, and a world inside it
//! would make "outside the workspace" writable too.

use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;
use super::pty::Pty;

const CREDENTIAL: &str = "sk-credential-in-the-store-4242";
const QWEN_TOKEN: &str = "qwen-refresh-token-7777";

/// Where worlds go: the target directory's scratch space, unless the checkout itself is under a
/// temp directory (a CI clone in /tmp), where the sandbox allows writes anyway; then under HOME.
fn scratch_base() -> PathBuf {
    let temp_dirs: Vec<PathBuf> = ["/tmp", "/var/tmp"]
        .iter()
        .map(PathBuf::from)
        .chain(std::env::var_os("TMPDIR").map(PathBuf::from))
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let outside_temp = |p: &Path| {
        let real = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        !temp_dirs.iter().any(|t| real.starts_with(t))
    };
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&target).unwrap();
    if outside_temp(&target) {
        return target;
    }
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    assert!(
        outside_temp(&home),
        "the sandbox tests need a scratch directory outside the temp directories"
    );
    home.join(".qcode-sandbox-tests")
}

/// A world outside the system temp directory, with a git repository as the project and both
/// credential stores present.
fn world() -> World {
    let base = scratch_base();
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();
    let home = dir.path().join("home");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let w = World { dir, home, project };
    git(&w.project, &["init", "-q"]);
    std::fs::create_dir_all(w.project.join(".git/hooks")).unwrap();
    w.write("project/.qcode/settings.json", "{}\n");
    w.write(
        "home/.qcode/credentials.json",
        &format!(
            "{{\"base_url\": \"https://example.invalid/v1\", \"api_key\": \"{CREDENTIAL}\"}}\n"
        ),
    );
    w.write(
        "home/.qwen/oauth_creds.json",
        &format!("{{\"refresh_token\": \"{QWEN_TOKEN}\"}}\n"),
    );
    w.write("home/.qcode/settings.json", "{}\n");
    w
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One shell call (with `extra` arguments), then a final answer.
fn script(mock: &MockServer, command: &str, extra: Value) {
    let mut args = json!({ "command": command });
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    mock.enqueue(Reply::tool_calls(
        [(
            "s1".to_string(),
            "run_shell_command".to_string(),
            args.to_string(),
        )],
        5,
    ));
    mock.enqueue(Reply::text("done", 1));
}

/// The tool result the model got back for the shell call.
fn shell_result(mock: &MockServer) -> String {
    let reqs = mock.requests();
    let chat: Vec<Value> = reqs
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(chat.len(), 2, "expected the tool round trip");
    messages(&chat[1])
        .iter()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str())
        .expect("no tool message")
        .to_string()
}

/// `qcode -p … --yolo` running `command` once; the run and the tool result.
fn headless(w: &World, command: &str, extra: Value, flags: &[&str]) -> (Run, String) {
    let mock = MockServer::start();
    script(&mock, command, extra);
    let mut args = vec!["-p", "go", "--yolo"];
    args.extend_from_slice(flags);
    let r = run(w.cmd_for(&mock).args(&args));
    r.assert_code(0);
    (r, shell_result(&mock))
}

#[test]
fn writes_inside_the_workspace_work_and_outside_are_denied_and_explained() {
    let w = world();
    let outside = w.dir.path().join("outside.txt");
    let (_, result) = headless(
        &w,
        &format!("echo in > inside.txt && echo out > '{}'", outside.display()),
        json!({}),
        &[],
    );
    assert_eq!(
        std::fs::read_to_string(w.project.join("inside.txt")).unwrap(),
        "in\n"
    );
    assert!(!outside.exists(), "written outside the workspace");
    assert!(result.contains("Permission denied"), "{result}");
    assert!(
        result.contains("[sandbox]")
            && result.contains(&format!("writing {}", outside.display()))
            && result.contains("sandbox: \"off\""),
        "{result}"
    );
}

#[test]
fn git_hooks_and_qcode_settings_stay_read_only_while_git_commit_works() {
    let w = world();
    let command = "touch .git/hooks/pre-commit; echo '{\"hooks\": 1}' > .qcode/settings.json; \
        echo a > a.txt && git add a.txt && \
        git -c user.email=t@example.invalid -c user.name=t commit -qm first && echo COMMITTED";
    let (_, result) = headless(&w, command, json!({}), &[]);
    assert!(result.contains("COMMITTED"), "{result}");
    assert!(result.contains("Read-only file system"), "{result}");
    assert!(!w.project.join(".git/hooks/pre-commit").exists());
    assert_eq!(
        std::fs::read_to_string(w.project.join(".qcode/settings.json")).unwrap(),
        "{}\n"
    );
    assert_eq!(git(&w.project, &["log", "--format=%s"]), "first\n");
}

#[test]
fn the_credential_stores_cannot_be_read_by_cat_cp_or_python() {
    let w = world();
    let command = "cat ~/.qcode/credentials.json; cp ~/.qwen/oauth_creds.json stolen.json; \
        python3 -c \"print(open('$HOME/.qcode/credentials.json').read())\"; \
        cat ~/.qcode/settings.json && echo SETTINGS-READABLE";
    let (r, result) = headless(&w, command, json!({}), &[]);
    assert!(!result.contains(CREDENTIAL), "{result}");
    assert!(!result.contains(QWEN_TOKEN), "{result}");
    assert!(!r.stdout.contains(CREDENTIAL) && !r.stderr.contains(CREDENTIAL));
    assert!(!w.project.join("stolen.json").exists());
    assert!(result.contains("SETTINGS-READABLE"), "{result}");
    assert!(result.contains("PermissionError"), "python: {result}");
    assert!(
        result.contains(&format!(
            "{} is a credential store",
            w.home.join(".qcode/credentials.json").display()
        )) || result.contains("are a credential store"),
        "{result}"
    );
}

#[test]
fn loopback_connections_are_refused_with_the_network_off_and_work_with_it_on() {
    let w = world();
    let target = MockServer::start();
    let command = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{} && echo CONNECTED",
        target.port()
    );
    let (_, result) = headless(&w, &command, json!({}), &[]);
    assert!(!result.contains("CONNECTED"), "{result}");
    assert!(result.contains("network access is off"), "{result}");

    w.write(
        "home/.qcode/settings.json",
        r#"{"tools": {"sandbox": {"network": true}}}"#,
    );
    let (_, result) = headless(&w, &command, json!({}), &[]);
    assert!(result.contains("CONNECTED"), "{result}");
}

#[test]
fn sandbox_off_runs_unconfined() {
    let w = world();
    let outside = w.dir.path().join("free.txt");
    let command = format!(
        "echo free > '{}' && cat ~/.qcode/credentials.json",
        outside.display()
    );
    let (_, result) = headless(&w, &command, json!({}), &["--sandbox", "off"]);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "free\n");
    assert!(result.contains(CREDENTIAL), "{result}");
}

#[test]
fn running_outside_the_sandbox_is_denied_headless_unless_allowed_by_flag() {
    let w = world();
    let outside = w.dir.path().join("escaped.txt");
    let command = format!("echo esc > '{}'", outside.display());
    let (_, result) = headless(&w, &command, json!({"sandbox": "off"}), &[]);
    assert!(!outside.exists());
    assert!(
        result.contains("outside the sandbox") && result.contains("--allow-unsandboxed"),
        "{result}"
    );

    let (_, result) = headless(
        &w,
        &command,
        json!({"sandbox": "off"}),
        &["--allow-unsandboxed"],
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "esc\n");
    assert!(result.contains("Exit code 0"), "{result}");
}

#[test]
fn running_outside_the_sandbox_asks_the_user_even_in_yolo() {
    let w = world();
    let outside = w.dir.path().join("approved.txt");
    let mock = MockServer::start();
    script(
        &mock,
        &format!("echo ok > '{}'", outside.display()),
        json!({"sandbox": "off"}),
    );
    let env = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
    ];
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env,
        &w.project,
    );
    t.wait_for_text("sandbox: workspace-write");
    t.send_line("write it");
    let screen = t.wait_for_text("Allow this command?");
    assert!(screen.contains("outside the sandbox"), "{screen}");
    assert!(!outside.exists(), "ran before the answer");
    t.send("y");
    t.wait_for_transcript("done");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "ok\n");
    t.send(super::pty::keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn without_landlock_commands_run_unsandboxed_unless_the_sandbox_was_asked_for() {
    let w = world();
    let outside = w.dir.path().join("nolandlock.txt");
    let command = format!("echo x > '{}'", outside.display());
    let simulate = |c: &mut std::process::Command| {
        c.env("QCODE_TEST_SANDBOX_UNAVAILABLE", "1");
    };

    let mock = MockServer::start();
    script(&mock, &command, json!({}));
    let mut c = w.cmd_for(&mock);
    simulate(&mut c);
    let r = run(c.args(["-p", "go", "--yolo"]));
    r.assert_code(0);
    assert!(
        outside.exists(),
        "the default runs unsandboxed without Landlock"
    );
    assert_eq!(
        r.stderr.matches("Landlock is not available").count(),
        1,
        "said once: {}",
        r.stderr
    );
    std::fs::remove_file(&outside).unwrap();

    let mock = MockServer::start();
    script(&mock, &command, json!({}));
    let mut c = w.cmd_for(&mock);
    simulate(&mut c);
    let r = run(c.args(["-p", "go", "--yolo", "--sandbox", "workspace-write"]));
    r.assert_code(0);
    assert!(!outside.exists(), "an explicit sandbox refuses instead");
    let result = shell_result(&mock);
    assert!(
        result.contains("No shell command will run") && result.contains("--sandbox off"),
        "{result}"
    );
    assert!(
        r.stderr.contains("Landlock is not available"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_hostile_repository_cannot_switch_the_sandbox_off_or_widen_it() {
    let w = world();
    let outside = w.dir.path().join("widened.txt");
    w.write(
        "project/.qcode/settings.json",
        &format!(
            r#"{{"tools": {{"sandbox": {{"mode": "off", "network": true, "writableRoots": ["{}"]}}}}}}"#,
            w.dir.path().display()
        ),
    );
    for trust in [&[][..], &["--trust"][..]] {
        let (r, result) = headless(
            &w,
            &format!("echo x > '{}'", outside.display()),
            json!({}),
            trust,
        );
        assert!(!outside.exists(), "{trust:?}: {result}");
        for key in [
            "tools.sandbox.mode",
            "tools.sandbox.network",
            "tools.sandbox.writableRoots",
        ] {
            assert!(r.stderr.contains(key), "{trust:?} {key}: {}", r.stderr);
        }
    }
}

#[test]
fn custom_command_shell_expansions_run_sandboxed() {
    let w = world();
    w.write(
        "home/.qcode/commands/leak.md",
        "Key: !{cat ~/.qcode/credentials.json}\n",
    );
    let mock = MockServer::start();
    mock.enqueue(Reply::text("never", 1));
    let r = run(w.cmd_for(&mock).args(["-p", "/leak", "--yolo"]));
    r.assert_code(42);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    assert!(!r.stderr.contains(CREDENTIAL));
    assert!(mock.requests().is_empty(), "nothing sent");
}

#[test]
fn sandbox_status_reports_the_kernel_and_the_policy_and_the_launcher_stays_hidden() {
    let w = world();
    let r = run(w.cmd().args(["sandbox", "status"]));
    r.assert_code(0);
    assert!(r.stdout.contains("Landlock: ABI "), "{}", r.stdout);
    assert!(
        r.stdout.contains("mode: workspace-write (default)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("network: off"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&w.home.join(".qcode/credentials.json").display().to_string()),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("in effect: workspace-write"),
        "{}",
        r.stdout
    );
    let r = run(w
        .cmd()
        .env("QCODE_TEST_SANDBOX_UNAVAILABLE", "1")
        .args(["sandbox", "status"]));
    r.assert_code(0);
    assert!(
        r.stdout.contains("Landlock: not available") && r.stdout.contains("in effect: unavailable"),
        "{}",
        r.stdout
    );
    let help = run(w.cmd().arg("--help"));
    assert!(help.stdout.contains("--sandbox <MODE>"), "{}", help.stdout);
    assert!(!help.stdout.contains("__sandbox"), "{}", help.stdout);
    // The launcher refuses a bad policy without running anything.
    let r = run(w.cmd().args(["__sandbox-exec", "{}", "--", "touch", "ran"]));
    r.assert_code(126);
    assert!(r.stderr.contains("invalid sandbox policy"), "{}", r.stderr);
    assert!(!w.project.join("ran").exists());
}

#[test]
fn background_commands_run_sandboxed_too() {
    let w = world();
    let outside = w.dir.path().join("bg-outside.txt");
    let mock = MockServer::start();
    let call = |id: &str, args: Value| {
        Reply::tool_calls(
            [(
                id.to_string(),
                "run_shell_command".to_string(),
                args.to_string(),
            )],
            5,
        )
    };
    mock.enqueue(call(
        "bg",
        json!({
            "command": format!("echo out > '{}'; echo in > bg-done", outside.display()),
            "is_background": true
        }),
    ));
    // The session stops its background commands when it ends: wait for this one first.
    mock.enqueue(call(
        "wait",
        json!({"command": "while [ ! -e bg-done ]; do sleep 0.05; done; echo WAITED"}),
    ));
    mock.enqueue(Reply::text("done", 1));
    run(w.cmd_for(&mock).args(["-p", "go", "--yolo"])).assert_code(0);
    assert!(w.project.join("bg-done").exists());
    assert!(
        !outside.exists(),
        "a background command wrote outside the workspace"
    );
    let reqs = mock.requests();
    let last = reqs.last().unwrap().body_json().unwrap();
    let results: Vec<String> = messages(&last)
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        results[0].starts_with("Started in the background"),
        "{results:?}"
    );
    assert!(results[1].contains("WAITED"), "{results:?}");
    let log = results[0]
        .split_whitespace()
        .map(|w| w.trim_end_matches([';', ',', '.', '`']))
        .find(|w| w.starts_with('/') && w.ends_with(".log"))
        .unwrap_or_else(|| panic!("no log file in {results:?}"));
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("Permission denied"), "{text}");
}
