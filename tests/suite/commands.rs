//! Custom commands headless: `qcode -p "/name args"` expands user and project commands (the
//! wire shows the expansion); `@{…}` follows read_file's rules, `!{…}` the approval mode and
//! folder trust; an unknown `/word` is sent as it is; statistics see only `custom`.

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

fn sent(w: &World, args: &[&str]) -> (Run, Vec<String>) {
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 2));
    let out = run(w.cmd_for(&mock).args(args));
    let prompts = mock
        .requests()
        .iter()
        .map(|r| {
            last_user_message(&r.body_json().unwrap())
                .trim_end()
                .to_string()
        })
        .collect();
    (out, prompts)
}

#[test]
fn user_and_project_commands_expand_with_every_substitution() {
    let w = World::new();
    w.write(
        "project/src/main.rs",
        "fn main() { println!(\"MAIN-BODY\"); }\n",
    );
    w.write(
        "home/.qcode/commands/review.md",
        "---\ndescription: Review a file\nargument-hint: <path>\n---\nReview @{$1} ($2). All: {{args}} | $ARGUMENTS\n",
    );
    let (out, prompts) = sent(&w, &["-p", "/review src/main.rs \"with care\""]);
    out.assert_code(0);
    assert_eq!(prompts.len(), 1);
    let p = &prompts[0];
    assert!(p.starts_with("Review "), "{p}");
    assert!(p.contains("MAIN-BODY"), "{p}");
    assert!(p.contains("(with care)"), "{p}");
    assert!(
        p.contains("All: src/main.rs \"with care\" | src/main.rs \"with care\""),
        "{p}"
    );
    assert!(!p.contains("@{"), "{p}");

    // Namespaces, the TOML form, and a project command overriding the user's.
    w.write(
        "project/.qcode/commands/git/commit.md",
        "Write a commit message for $ARGUMENTS.\n",
    );
    w.write(
        "project/.qwen/commands/legacy.toml",
        "description = \"old\"\nprompt = \"Legacy prompt for {{args}}\"\n",
    );
    w.write(
        "project/.qcode/commands/review.md",
        "PROJECT REVIEW of $1\n",
    );
    let (_, prompts) = sent(&w, &["-p", "/git:commit the parser fix"]);
    assert_eq!(prompts, ["Write a commit message for the parser fix."]);
    let (_, prompts) = sent(&w, &["-p", "/legacy x y"]);
    assert_eq!(prompts, ["Legacy prompt for x y"]);
    let (_, prompts) = sent(&w, &["-p", "/review a.rs"]);
    assert_eq!(prompts, ["PROJECT REVIEW of a.rs"]);
}

#[test]
fn an_unknown_slash_word_is_sent_as_text() {
    let w = World::new();
    let (out, prompts) = sent(&w, &["-p", "/nosuch thing"]);
    out.assert_code(0);
    assert_eq!(prompts, ["/nosuch thing"]);
}

#[test]
fn file_inclusion_stays_in_the_workspace() {
    let w = World::new();
    w.write("outside.txt", "OUTSIDE-SECRET\n");
    w.write("home/.qcode/commands/peek.md", "Look: @{../outside.txt}\n");
    let (out, prompts) = sent(&w, &["-p", "/peek"]);
    out.assert_code(42);
    assert!(prompts.is_empty(), "something was sent: {prompts:?}");
    assert!(
        out.stderr
            .contains("/peek: cannot include @{../outside.txt}"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("outside the workspace"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("OUTSIDE-SECRET"));
}

#[test]
fn shell_output_follows_the_approval_mode() {
    let w = World::new();
    w.write("home/.qcode/commands/branch.md", "Branch: !{echo on-$1}\n");
    let (out, prompts) = sent(&w, &["-p", "/branch main"]);
    out.assert_code(42);
    assert!(prompts.is_empty());
    assert!(
        out.stderr
            .contains("/branch: !{echo on-'main'} was not run"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--yolo"), "{}", out.stderr);

    let (out, prompts) = sent(&w, &["-p", "/branch main", "--yolo"]);
    out.assert_code(0);
    assert_eq!(prompts.len(), 1);
    assert!(prompts[0].starts_with("Branch: on-main"), "{prompts:?}");

    // Pre-approved like a shell call of the model would be.
    let (out, prompts) = sent(
        &w,
        &[
            "-p",
            "/branch dev",
            "--allowed-tools",
            "run_shell_command(echo)",
        ],
    );
    out.assert_code(0);
    assert_eq!(prompts, ["Branch: on-dev"]);

    // A failing command is an error before anything is sent.
    w.write("home/.qcode/commands/fails.md", "X !{exit 3}\n");
    let (out, prompts) = sent(&w, &["-p", "/fails", "--yolo"]);
    out.assert_code(42);
    assert!(prompts.is_empty());
    assert!(
        out.stderr.contains("/fails: !{exit 3} failed"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_untrusted_projects_shell_command_refuses_with_the_trust_message() {
    let w = World::new();
    let marker = w.dir.path().join("ran");
    w.write(
        "project/.qcode/commands/boom.md",
        &format!("!{{touch '{}'}} done\n", marker.display()),
    );
    let (out, prompts) = sent(&w, &["-p", "/boom", "--yolo"]);
    out.assert_code(42);
    assert!(prompts.is_empty());
    assert!(!marker.exists());
    assert!(out.stderr.contains("qcode trust"), "{}", out.stderr);

    let (out, _) = sent(&w, &["-p", "/boom", "--yolo", "--trust"]);
    out.assert_code(0);
    assert!(marker.exists());
}

#[test]
fn usage_statistics_record_custom_commands_as_custom_only() {
    let w = World::new();
    w.write("home/.qcode/commands/secretname.md", "Do the thing.\n");
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 2));
    run(w
        .cmd_for(&mock)
        .env_remove("DO_NOT_TRACK")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .args(["-p", "/secretname now"]))
    .assert_code(0);
    let audit =
        std::fs::read_to_string(w.home.join(".qcode").join(qcode_telemetry::AUDIT_LOG_FILE))
            .unwrap_or_default();
    let line = audit
        .lines()
        .find(|l| l.contains("qcode.slash_command"))
        .unwrap_or_else(|| panic!("no slash command event in the audit log:\n{audit}"));
    assert!(line.contains("custom"), "{line}");
    assert!(!audit.contains("secretname"), "{audit}");
}

#[test]
fn a_commands_model_is_used_for_its_request_headless() {
    let w = World::new();
    w.write(
        "home/.qcode/commands/fast.md",
        "---\nmodel: fast-model\n---\nBe quick about $1.\n",
    );
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 2));
    run(w.cmd_for(&mock).args(["-p", "/fast tests"])).assert_code(0);
    run(w.cmd_for(&mock).args(["-p", "no command"])).assert_code(0);
    let bodies: Vec<serde_json::Value> = mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["model"], "fast-model");
    assert_eq!(
        last_user_message(&bodies[0]).trim_end(),
        "Be quick about tests."
    );
    assert_eq!(bodies[1]["model"], "test-model");
}
