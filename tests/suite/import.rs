//! `qcode import qwen|claude` end to end: a sample `~/.qwen` / `~/.claude` → the dry run (plan
//! printed, nothing written), the real run (settings and files on disk, 0600 / 0700, no secret
//! in any output or file), a second run that changes nothing, `--force`, and malformed input.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use super::harness::*;

const SECRETS: &[&str] = &[
    "sk-live-canary-0001",
    "ghp_canary0002abcdefghijklmn",
    "canary-bearer-0003",
    "canary-env-0004",
    "canary-claude-0005",
];

/// Every file under `dir` with its bytes (symlinks not followed).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                out.insert(p.display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn settings(w: &World) -> Value {
    let text = std::fs::read_to_string(w.home.join(".qcode/settings.json")).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&stripped).unwrap()
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds the secret {s}:\n{text}");
    }
}

#[track_caller]
fn assert_no_secret_on_disk(dir: &Path) {
    for (path, bytes) in snapshot(dir) {
        assert_no_secret(&path, &String::from_utf8_lossy(&bytes));
    }
}

fn import(w: &World, args: &[&str]) -> Run {
    let out = run(w.cmd().arg("import").args(args));
    assert_no_secret("stdout", &out.stdout);
    assert_no_secret("stderr", &out.stderr);
    out
}

#[track_caller]
fn has_line(out: &Run, start: &str) {
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim_start().starts_with(start)),
        "no line starting with {start:?}:\n{}",
        out.stdout
    );
}

/// A Qwen Code setup in the nested v2 shape, with commands (Markdown and TOML, a namespace), a
/// skill folder with a script, an agent, a global QWEN.md, secrets and things qcode lacks.
fn sample_qwen(w: &World) {
    w.write(
        "home/.qwen/settings.json",
        &format!(
            r#"{{
  // Qwen Code v2 settings
  "model": {{ "name": "qwen3-coder-plus", "maxSessionTurns": 40 }},
  "tools": {{ "approvalMode": "auto-edit", "allowed": ["run_shell_command(git status)"], "sandbox": true }},
  "context": {{ "fileName": ["QWEN.md", "CONTEXT.md"] }},
  "security": {{ "auth": {{ "selectedType": "openai", "apiKey": "{}" }} }},
  "ui": {{ "theme": "GitHub" }},
  "mcpServers": {{
    "github": {{ "command": "npx", "args": ["-y", "gh-mcp"], "env": {{ "GITHUB_TOKEN": "{}", "LOG_LEVEL": "debug" }} }},
    "remote": {{ "httpUrl": "https://mcp.example.test/mcp", "headers": {{ "Authorization": "Bearer {}" }} }},
    "local": {{ "command": "./local-server" }}
  }},
  "hooks": {{
    "PreToolUse": [{{ "matcher": "run_shell_command", "hooks": [{{ "type": "command", "command": "~/.qwen/hooks/guard.sh", "timeout": 10 }}] }}],
    "BeforeModel": [{{ "hooks": [{{ "type": "command", "command": "true" }}] }}]
  }},
}}
"#,
            SECRETS[0], SECRETS[1], SECRETS[2]
        ),
    );
    w.write(
        "home/.qwen/commands/git/commit.md",
        "---\ndescription: Commit message\n---\nWrite a commit message for {{args}}\n",
    );
    w.write(
        "home/.qwen/commands/review.toml",
        "description = \"Review\"\nprompt = \"Review {{args}}\"\n",
    );
    w.write(
        "home/.qwen/skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Reads PDFs\n---\nRun scripts/extract.sh\n",
    );
    let script = w.write(
        "home/.qwen/skills/pdf/scripts/extract.sh",
        "#!/bin/sh\necho pdf\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.write(
        "home/.qwen/agents/tester.md",
        "---\nname: tester\ndescription: Writes tests\n---\nYou write tests.\n",
    );
    w.write("home/.qwen/QWEN.md", "Always answer in English.\n");
    w.write(
        "home/.qwen/.env",
        &format!("OPENAI_API_KEY={}\n", SECRETS[0]),
    );
}

#[test]
fn import_qwen_dry_run_then_real_run_then_idempotent_then_force() {
    let w = World::new();
    sample_qwen(&w);
    // qcode already has a comment, a theme and a different `local` server.
    let existing = "{\n  // mine\n  \"ui\": { \"theme\": \"dark\" },\n  \"mcpServers\": { \"local\": { \"command\": \"./other\" } }\n}\n";
    let file = w.write("home/.qcode/settings.json", existing);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let qwen_before = snapshot(&w.home.join(".qwen"));

    // Dry run: the plan, nothing written.
    let dry = import(&w, &["qwen", "--dry-run"]);
    dry.assert_code(0);
    for line in [
        "take     model.name = \"qwen3-coder-plus\"",
        "take     model.maxSessionTurns = 40",
        "take     tools.approvalMode = auto-edit",
        "take     MCP server github (stdio)",
        "take     MCP server remote (http)",
        "keep     MCP server local (stdio): qcode already has a different one",
        "take     hooks.PreToolUse (1 command)",
        "skip     hooks.BeforeModel: qcode has no `BeforeModel` hook event",
        "skip     security.auth.apiKey: looks like a secret",
        "skip     tools.sandbox: qcode has no sandbox setting",
        "skip     ui.theme:",
        "take     tools.allowed += run_shell_command(git status)",
        "take     context.fileName += QWEN.md, CONTEXT.md",
        "take     command /git:commit (git/commit.md)",
        "take     command /review (review.toml)",
        "take     skill pdf (2 files)",
        "take     agent tester.md",
        "take     context file QWEN.md",
        "skip     ~/.qwen/.env: not copied: it may hold keys",
    ] {
        has_line(&dry, line);
    }
    assert!(
        dry.stdout
            .contains("set GITHUB_TOKEN in your environment or ~/.qcode/.env"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("set REMOTE_TOKEN"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing was written"), "{}", dry.stdout);
    assert_eq!(
        std::fs::read_to_string(w.home.join(".qcode/settings.json")).unwrap(),
        existing
    );
    assert_eq!(
        snapshot(&w.home.join(".qcode")).len(),
        1,
        "dry run wrote files"
    );

    // The real run.
    let real = import(&w, &["qwen"]);
    real.assert_code(0);
    assert!(real.stdout.contains("Imported 14 ("), "{}", real.stdout);
    let v = settings(&w);
    assert_eq!(v["model"]["name"], "qwen3-coder-plus");
    assert_eq!(v["model"]["maxSessionTurns"], 40);
    assert_eq!(v["tools"]["approvalMode"], "auto-edit");
    assert_eq!(
        v["tools"]["allowed"],
        json!(["run_shell_command(git status)"])
    );
    assert_eq!(
        v["context"]["fileName"],
        json!(["QWEN.md", "AGENTS.md", "CONTEXT.md"])
    );
    assert_eq!(v["security"]["auth"]["selectedType"], "openai");
    assert!(v["security"]["auth"].get("apiKey").is_none());
    assert_eq!(v["ui"]["theme"], "dark", "qcode's own value stays");
    assert_eq!(
        v["mcpServers"]["github"],
        json!({"command": "npx", "args": ["-y", "gh-mcp"],
               "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}", "LOG_LEVEL": "debug"}})
    );
    assert_eq!(
        v["mcpServers"]["remote"]["headers"]["Authorization"],
        "Bearer ${REMOTE_TOKEN}"
    );
    assert_eq!(v["mcpServers"]["local"], json!({"command": "./other"}));
    assert_eq!(
        v["hooks"]["PreToolUse"],
        json!([{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "~/.qwen/hooks/guard.sh", "timeout": 10}]}])
    );
    assert!(v["hooks"].get("BeforeModel").is_none());
    let text = std::fs::read_to_string(w.home.join(".qcode/settings.json")).unwrap();
    assert!(text.contains("// mine"), "comments kept: {text}");
    let q = w.home.join(".qcode");
    assert_eq!(
        std::fs::read_to_string(q.join("commands/git/commit.md")).unwrap(),
        "---\ndescription: Commit message\n---\nWrite a commit message for {{args}}\n"
    );
    assert!(q.join("commands/review.toml").is_file());
    assert!(q.join("skills/pdf/SKILL.md").is_file());
    assert_eq!(
        std::fs::read_to_string(q.join("agents/tester.md")).unwrap(),
        "---\nname: tester\ndescription: Writes tests\n---\nYou write tests.\n"
    );
    assert_eq!(
        std::fs::read_to_string(q.join("QWEN.md")).unwrap(),
        "Always answer in English.\n"
    );
    // The settings file existed: it keeps the mode its owner gave it (the writer's rule).
    assert_eq!(mode(&q.join("settings.json")), 0o644);
    for f in [
        "commands/git/commit.md",
        "commands/review.toml",
        "skills/pdf/SKILL.md",
        "agents/tester.md",
        "QWEN.md",
    ] {
        assert_eq!(mode(&q.join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(&q.join("skills/pdf/scripts/extract.sh")), 0o700);
    for d in ["commands", "commands/git", "skills", "skills/pdf", "agents"] {
        assert_eq!(mode(&q.join(d)), 0o700, "{d}");
    }
    assert_no_secret_on_disk(&q);
    assert_eq!(
        snapshot(&w.home.join(".qwen")),
        qwen_before,
        "~/.qwen was modified"
    );

    // The imported setup is what qcode reads: no settings warning, the command is found.
    let listed = run(w.cmd().args(["mcp", "get", "github"]));
    listed.assert_code(0);
    assert!(
        !listed.stderr.contains("unknown"),
        "settings warnings: {}",
        listed.stderr
    );

    // A second run changes nothing and says so.
    let on_disk = snapshot(&q);
    let again = import(&w, &["qwen"]);
    again.assert_code(0);
    // (The `local` server differs and is kept, so it says what --force would do.)
    assert!(
        again
            .stdout
            .contains("Nothing written (14 already there, 1 kept, 5 skipped); --force replaces"),
        "{}",
        again.stdout
    );
    has_line(&again, "same     model.name = \"qwen3-coder-plus\"");
    has_line(&again, "same     skill pdf (2 files): already in qcode");
    assert_eq!(snapshot(&q), on_disk, "a second run wrote something");

    // An edited copy is kept without --force and replaced with it.
    std::fs::write(q.join("commands/review.toml"), "prompt = \"mine\"\n").unwrap();
    let kept = import(&w, &["qwen"]);
    has_line(&kept, "keep     command /review (review.toml)");
    assert_eq!(
        std::fs::read_to_string(q.join("commands/review.toml")).unwrap(),
        "prompt = \"mine\"\n"
    );
    let forced = import(&w, &["qwen", "--force"]);
    forced.assert_code(0);
    has_line(&forced, "replace  command /review (review.toml)");
    has_line(&forced, "replace  MCP server local (stdio)");
    assert!(forced.stdout.contains("Imported 2 ("), "{}", forced.stdout);
    assert_eq!(
        std::fs::read_to_string(q.join("commands/review.toml")).unwrap(),
        "description = \"Review\"\nprompt = \"Review {{args}}\"\n"
    );
    assert_eq!(
        settings(&w)["mcpServers"]["local"],
        json!({"command": "./local-server"})
    );
    assert_no_secret_on_disk(&q);
}

/// The flat legacy keys of older Qwen Code / Gemini CLI settings map onto the same qcode keys.
#[test]
fn import_qwen_reads_the_flat_legacy_shape() {
    let w = World::new();
    w.write(
        "home/.qwen/settings.json",
        &format!(
            r#"{{"model": "qwen-max", "approvalMode": "yolo", "contextFileName": "GEMINI.md",
                "allowedTools": ["read_file"], "selectedAuthType": "qwen-oauth",
                "usageStatisticsEnabled": false, "theme": "Dracula", "vimMode": true,
                "mcpServers": {{"db": {{"command": "db-mcp", "env": {{"DB_PASSWORD": "{}"}}}}}}}}"#,
            SECRETS[3]
        ),
    );
    let out = import(&w, &["qwen"]);
    out.assert_code(0);
    has_line(
        &out,
        "skip     theme: qcode's themes are auto, dark and light",
    );
    has_line(&out, "skip     vimMode: qcode has no equivalent setting");
    assert!(out.stdout.contains("set DB_PASSWORD"), "{}", out.stdout);
    let v = settings(&w);
    assert_eq!(v["model"]["name"], "qwen-max");
    assert_eq!(v["tools"]["approvalMode"], "yolo");
    assert_eq!(
        v["context"]["fileName"],
        json!(["QWEN.md", "AGENTS.md", "GEMINI.md"])
    );
    assert_eq!(v["tools"]["allowed"], json!(["read_file"]));
    assert_eq!(v["security"]["auth"]["selectedType"], "qwen-oauth");
    assert_eq!(v["privacy"]["usageStatisticsEnabled"], false);
    assert_eq!(
        v["mcpServers"]["db"]["env"]["DB_PASSWORD"],
        "${DB_PASSWORD}"
    );
    assert_no_secret_on_disk(&w.home.join(".qcode"));
}

fn sample_claude(w: &World) {
    w.write(
        "home/.claude/settings.json",
        &format!(
            r#"{{
  "model": "claude-sonnet-4-5",
  "permissions": {{
    "allow": ["Bash(git diff:*)", "Bash(npm test)", "Read", "Read(./secrets/**)", "mcp__github__get_issue"],
    "deny": ["Bash(rm:*)"],
    "defaultMode": "acceptEdits"
  }},
  "env": {{ "ANTHROPIC_API_KEY": "{}", "DEBUG": "1" }},
  "hooks": {{
    "PostToolUse": [{{ "matcher": "Edit|Write|Task", "hooks": [{{ "type": "command", "command": "prettier --write ." }}] }}],
    "SubagentStop": [{{ "hooks": [{{ "type": "command", "command": "true" }}] }}]
  }},
  "statusLine": {{ "type": "command", "command": "echo hi" }}
}}
"#,
            SECRETS[4]
        ),
    );
    w.write(
        "home/.claude.json",
        &format!(
            r#"{{"numStartups": 3,
                "mcpServers": {{"docs": {{"type": "http", "url": "https://docs.example.test/mcp",
                                          "headers": {{"Authorization": "Bearer {}"}}}},
                               "fs": {{"type": "stdio", "command": "fs-mcp", "args": ["/tmp"]}}}},
                "projects": {{"/somewhere": {{"mcpServers": {{"p": {{"command": "p"}}}}}}}}}}"#,
            SECRETS[2]
        ),
    );
    w.write(
        "home/.claude/commands/fix-issue.md",
        "Fix issue $ARGUMENTS\n",
    );
    w.write(
        "home/.claude/skills/changelog/SKILL.md",
        "---\nname: changelog\ndescription: Writes changelogs\n---\nBody\n",
    );
    w.write(
        "home/.claude/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews\n---\nReview.\n",
    );
    w.write("home/.claude/CLAUDE.md", "Prefer small commits.\n");
}

#[test]
fn import_claude_dry_run_then_real_run_then_idempotent() {
    let w = World::new();
    sample_claude(&w);
    let before = snapshot(&w.home);

    let dry = import(&w, &["claude", "--dry-run"]);
    dry.assert_code(0);
    for line in [
        "take     model.name = \"claude-sonnet-4-5\"",
        "take     tools.approvalMode = auto-edit",
        "skip     permissions.allow Bash(npm test): an exact command",
        "skip     permissions.allow Read(./secrets/**): qcode's allow-list has no path or domain rules",
        "skip     permissions.deny: qcode has no deny list",
        "skip     env ANTHROPIC_API_KEY: looks like a secret",
        "skip     env DEBUG: qcode takes no environment variables from settings",
        "take     hooks.PostToolUse (1 command)",
        "skip     hooks.SubagentStop: qcode has no `SubagentStop` hook event",
        "skip     statusLine.type: qcode's status line is not configurable",
        "take     MCP server docs (http)",
        "take     MCP server fs (stdio)",
        "skip     ~/.claude.json: 1 project-scope MCP server(s): only user-scope servers are imported",
        "take     tools.allowed += run_shell_command(git diff), read_file, mcp__github__get_issue",
        "take     context.fileName += CLAUDE.md",
        "take     command /fix-issue (fix-issue.md)",
        "take     skill changelog (1 file)",
        "take     agent reviewer.md",
        "take     context file CLAUDE.md",
    ] {
        has_line(&dry, line);
    }
    assert!(dry.stdout.contains("set DOCS_TOKEN"), "{}", dry.stdout);
    assert_eq!(snapshot(&w.home), before, "the dry run wrote something");

    import(&w, &["claude"]).assert_code(0);
    let v = settings(&w);
    assert_eq!(v["model"]["name"], "claude-sonnet-4-5");
    assert_eq!(v["tools"]["approvalMode"], "auto-edit");
    assert_eq!(
        v["tools"]["allowed"],
        json!([
            "run_shell_command(git diff)",
            "read_file",
            "mcp__github__get_issue"
        ])
    );
    assert_eq!(
        v["context"]["fileName"],
        json!(["QWEN.md", "AGENTS.md", "CLAUDE.md"])
    );
    assert_eq!(
        v["hooks"]["PostToolUse"],
        json!([{"matcher": "edit|write_file", "hooks": [{"type": "command", "command": "prettier --write ."}]}])
    );
    assert_eq!(
        v["mcpServers"]["docs"],
        json!({"type": "http", "url": "https://docs.example.test/mcp",
               "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}})
    );
    assert_eq!(
        v["mcpServers"]["fs"],
        json!({"type": "stdio", "command": "fs-mcp", "args": ["/tmp"]})
    );
    assert!(v.get("env").is_none());
    let q = w.home.join(".qcode");
    assert_eq!(
        std::fs::read_to_string(q.join("CLAUDE.md")).unwrap(),
        "Prefer small commits.\n"
    );
    assert!(q.join("commands/fix-issue.md").is_file());
    assert!(q.join("skills/changelog/SKILL.md").is_file());
    assert_eq!(mode(&q.join("agents/reviewer.md")), 0o600);
    assert_eq!(
        mode(&q.join("settings.json")),
        0o600,
        "a new settings file is private"
    );
    assert_no_secret_on_disk(&q);
    // Claude Code's files are unchanged.
    let after = snapshot(&w.home);
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }

    let on_disk = snapshot(&q);
    let again = import(&w, &["claude"]);
    again.assert_code(0);
    assert!(
        again.stdout.contains("Nothing to import"),
        "{}",
        again.stdout
    );
    assert_eq!(snapshot(&q), on_disk);
}

/// A settings file that is not JSON is an error naming the file and the line; nothing is
/// written, even what the other files would have brought.
#[test]
fn malformed_input_is_an_error_naming_file_and_line_and_nothing_is_written() {
    let w = World::new();
    w.write("home/.qwen/commands/a.md", "A\n");
    w.write(
        "home/.qwen/settings.json",
        "{\n  \"model\": { \"name\": \"m\" },\n  \"tools\": { oops }\n}\n",
    );
    let out = import(&w, &["qwen"]);
    out.assert_code(52);
    assert!(
        out.stderr.contains(".qwen/settings.json:3:"),
        "{}",
        out.stderr
    );
    assert!(!w.home.join(".qcode").exists(), "something was written");

    let w = World::new();
    w.write("home/.claude/settings.json", "{\"model\": \"m\"}");
    w.write("home/.claude.json", "{\"mcpServers\": {\n\n  \"x\": [}\n");
    let out = import(&w, &["claude"]);
    out.assert_code(52);
    assert!(out.stderr.contains(".claude.json:3:"), "{}", out.stderr);
    assert!(!w.home.join(".qcode").exists(), "something was written");

    // Nothing there at all.
    let w = World::new();
    let out = import(&w, &["qwen"]);
    out.assert_code(42);
    assert!(
        out.stderr.contains("no Qwen Code setup found"),
        "{}",
        out.stderr
    );
}

/// Links that leave their folder are not followed (the skill or command is skipped with the
/// reason), oversized files are refused, and a hook whose command holds a secret is not copied.
#[test]
fn links_outside_big_files_and_secret_hooks_are_skipped() {
    let w = World::new();
    let outside = w.write("elsewhere/private.txt", "private notes\n");
    w.write(
        "home/.qwen/skills/leaky/SKILL.md",
        "---\nname: leaky\ndescription: d\n---\nB\n",
    );
    std::os::unix::fs::symlink(&outside, w.home.join(".qwen/skills/leaky/notes.txt")).unwrap();
    std::fs::create_dir_all(w.home.join(".qwen/commands")).unwrap();
    std::os::unix::fs::symlink(&outside, w.home.join(".qwen/commands/stolen.md")).unwrap();
    w.write("home/.qwen/commands/huge.md", &"x".repeat(300 * 1024));
    w.write("home/.qwen/commands/ok.md", "fine\n");
    w.write(
        "home/.qwen/settings.json",
        r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "curl -H 'Authorization: Bearer canary-bearer-0003' https://x"}]}]}}"#,
    );
    let out = import(&w, &["qwen"]);
    out.assert_code(0);
    has_line(
        &out,
        "skip     skill leaky: notes.txt: a link that leads outside its folder is not followed",
    );
    has_line(
        &out,
        "skip     command /stolen (stolen.md): a link that leads outside its folder is not followed",
    );
    has_line(&out, "skip     command /huge (huge.md): too large");
    has_line(&out, "take     command /ok (ok.md)");
    has_line(
        &out,
        "skip     hooks.Stop: no hook qcode can run ([0].hooks[0]: its command seems to hold a secret",
    );
    let q = w.home.join(".qcode");
    assert!(!q.join("skills/leaky").exists());
    assert!(!q.join("commands/stolen.md").exists());
    assert!(q.join("commands/ok.md").is_file());
    assert_no_secret_on_disk(&q);
    for (path, bytes) in snapshot(&q) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("private notes"),
            "{path}"
        );
    }
}

/// What was imported is what qcode then uses: the copied command expands (headless), the skill
/// is listed in the system prompt, the global QWEN.md is in it, and the imported allow rule
/// lets a shell call run without asking.
#[test]
fn an_imported_setup_is_what_the_next_session_uses() {
    use qcode_test_support::mock_model::{MockServer, Reply};
    let w = World::new();
    w.write(
        "home/.qwen/settings.json",
        r#"{"tools": {"allowed": ["run_shell_command(touch)"]}}"#,
    );
    w.write(
        "home/.qwen/commands/git/commit.md",
        "---\ndescription: Commit message\n---\nWrite a commit message for {{args}}\n",
    );
    w.write(
        "home/.qwen/skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Reads PDF files carefully\n---\nBody\n",
    );
    w.write("home/.qwen/QWEN.md", "Imported memory: answer briefly.\n");
    import(&w, &["qwen"]).assert_code(0);

    let mock = MockServer::start();
    let marker = w.dir.path().join("marker");
    mock.enqueue(Reply::tool_calls(
        [(
            "s1".to_string(),
            "run_shell_command".to_string(),
            json!({"command": format!("touch '{}'", marker.display())}).to_string(),
        )],
        5,
    ));
    mock.enqueue(Reply::text("done", 2));
    run(w.cmd_for(&mock).args(["-p", "/git:commit the parser fix"])).assert_code(0);
    let first = mock.requests()[0].body_json().unwrap();
    assert_eq!(
        last_user_message(&first),
        "Write a commit message for the parser fix\n"
    );
    let system = messages(&first)[0]["content"].as_str().unwrap().to_string();
    assert!(system.contains("Reads PDF files carefully"), "{system}");
    assert!(
        system.contains("Imported memory: answer briefly."),
        "{system}"
    );
    assert!(
        marker.exists(),
        "the imported allow rule did not approve the call"
    );
}
