//! Custom commands, MCP prompts and `/skills` in the interactive TUI, end to end in a pty
//! against the mock model: the completion popup shows a command with its hint and source, a
//! typed command expands as headless does and its `model` is used for that turn only (on the
//! wire), `!{…}` asks first (allowed: its output is in the prompt; declined: nothing is sent,
//! nothing runs), an edited or added file is picked up without a restart, an untrusted
//! project's `!{…}` command never runs, an MCP prompt of the real server-everything is sent,
//! and `/skills` lists the skills with where they come from.

use std::path::Path;
use std::time::{Duration, Instant};

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;
use super::pty::{Pty, keys};

/// The composer's placeholder: the prompt is drawn and empty.
const PROMPT: &str = "› Ask anything";

fn env_for(w: &World, mock: &MockServer) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
    ]
}

fn start(w: &World, mock: &MockServer, args: &[&str]) -> Pty {
    mock.set_default_reply(Reply::text("ok", 2));
    let t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        args,
        &env_for(w, mock),
        &w.project,
    );
    t.wait_for_text("test-model · openai");
    t.wait_for_text(PROMPT);
    t
}

#[track_caller]
fn quit(t: &mut Pty) {
    t.wait_for_text(PROMPT);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0, "exit code after Ctrl+D");
}

fn chat_bodies(mock: &MockServer) -> Vec<Value> {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body_json().unwrap())
        .collect()
}

/// Waits until the mock has received `n` chat requests; returns them.
#[track_caller]
fn wait_requests(t: &Pty, mock: &MockServer, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + super::pty::WAIT;
    loop {
        let bodies = chat_bodies(mock);
        if bodies.len() >= n {
            return bodies;
        }
        assert!(
            Instant::now() < deadline,
            "{} chat requests, waiting for {n}; the screen:\n{}",
            bodies.len(),
            t.screen_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Types `text` (a slash command) and sends it (Enter on the popup runs the command typed).
fn submit(t: &Pty, text: &str) {
    t.send(text);
    t.wait_for_text(&format!("› {text}"));
    t.send(keys::ENTER);
}

#[test]
fn a_typed_custom_command_expands_like_headless_with_its_model_for_one_turn() {
    let w = World::new();
    w.write(
        "project/src/main.rs",
        "fn main() { println!(\"MAIN-BODY\"); }\n",
    );
    w.write(
        "home/.qcode/commands/review.md",
        "---\ndescription: Review a file\nargument-hint: <path>\nmodel: review-model\n---\nReview @{$1} ($2). All: {{args}}\n",
    );
    // A built-in name always wins; the clash is reported once.
    w.write("home/.qcode/commands/help.md", "Not the help.\n");
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &[]);
    t.wait_for_transcript("is a built-in name");
    // The popup lists it with its hint, description and source.
    t.send("/rev");
    let screen = t.wait_for_text("/review <path>");
    assert!(screen.contains("Review a file [user]"), "{screen}");
    // Tab completes the name (it takes arguments, so Enter would too, without sending).
    t.send("\t");
    t.wait_for_text("› /review");
    t.send("src/main.rs \"with care\"");
    t.wait_for_text("› /review src/main.rs \"with care\"");
    t.send(keys::ENTER);
    let bodies = wait_requests(&t, &mock, 1);
    let sent = last_user_message(&bodies[0]);
    assert!(sent.starts_with("Review "), "{sent}");
    assert!(sent.contains("MAIN-BODY"), "{sent}");
    assert!(
        sent.contains("(with care). All: src/main.rs \"with care\""),
        "{sent}"
    );
    assert_eq!(bodies[0]["model"], "review-model", "the command's model");
    // The transcript shows what was typed.
    t.wait_for_transcript("/review src/main.rs \"with care\"");
    t.wait_for_text(PROMPT);
    t.send_line("plain question");
    let bodies = wait_requests(&t, &mock, 2);
    assert_eq!(
        bodies[1]["model"], "test-model",
        "the session's model is back"
    );
    assert_eq!(last_user_message(&bodies[1]), "plain question");
    // A missing file is an error shown before anything is sent.
    submit(&t, "/review nosuch.rs");
    t.wait_for_transcript("nothing was sent");
    t.wait_for_text(PROMPT);
    submit(&t, "/help");
    let text = t.wait_for_transcript("Custom commands and MCP prompts");
    assert!(text.contains("/review <path>"), "{text}");
    assert_eq!(text.matches("is a built-in name").count(), 1, "{text}");
    quit(&mut t);
    assert_eq!(chat_bodies(&mock).len(), 2, "/help is the built-in");
}

#[test]
fn a_shell_command_in_a_command_asks_first_and_declining_sends_nothing() {
    let w = World::new();
    let marker = w.dir.path().join("ran-declined");
    w.write(
        "project/.qcode/commands/status.md",
        "---\ndescription: Show the status\n---\nStatus: !{echo SHELL-OUT-$1}\n",
    );
    w.write(
        "project/.qcode/commands/touchy.md",
        &format!("Touched: !{{touch '{}'}}\n", marker.display()),
    );
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &["--trust"]);
    submit(&t, "/status x");
    let screen = t.wait_for_text("Allow this command?");
    assert!(screen.contains("/status"), "{screen}");
    assert!(screen.contains("echo SHELL-OUT-'x'"), "{screen}");
    assert!(chat_bodies(&mock).is_empty(), "nothing before the answer");
    t.send("y");
    let bodies = wait_requests(&t, &mock, 1);
    assert_eq!(
        last_user_message(&bodies[0]).trim_end(),
        "Status: SHELL-OUT-x"
    );

    t.wait_for_text(PROMPT);
    submit(&t, "/touchy");
    t.wait_for_text("Allow this command?");
    t.send("n");
    t.wait_for_transcript("/touchy cancelled");
    t.wait_for_text(PROMPT);
    assert!(!marker.exists(), "a declined command never runs");
    assert_eq!(chat_bodies(&mock).len(), 1, "declined: nothing was sent");

    // In yolo it runs without asking, as a shell call would.
    submit(&t, "/approval-mode yolo");
    t.wait_for_text("Approval mode: yolo");
    submit(&t, "/status y");
    let bodies = wait_requests(&t, &mock, 2);
    assert_eq!(
        last_user_message(&bodies[1]).trim_end(),
        "Status: SHELL-OUT-y"
    );
    quit(&mut t);
}

#[test]
fn an_edited_or_added_command_file_is_picked_up_without_a_restart() {
    let w = World::new();
    let file = w.write("home/.qcode/commands/note.md", "First version.\n");
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &[]);
    submit(&t, "/note");
    let bodies = wait_requests(&t, &mock, 1);
    assert_eq!(last_user_message(&bodies[0]).trim_end(), "First version.");
    t.wait_for_text(PROMPT);
    std::fs::write(&file, "The second, longer version.\n").unwrap();
    w.write(
        "home/.qcode/commands/fresh.md",
        "---\nargument-hint: <topic>\n---\nFresh $1\n",
    );
    submit(&t, "/note");
    let bodies = wait_requests(&t, &mock, 2);
    assert_eq!(
        last_user_message(&bodies[1]).trim_end(),
        "The second, longer version."
    );
    t.wait_for_text(PROMPT);
    t.send("/fre");
    t.wait_for_text("/fresh <topic>");
    // Ctrl+C closes the popup, then clears the prompt.
    t.send("\x03");
    t.wait_until("the popup closed", |s| !s.contains("<topic>"));
    t.send("\x03");
    quit(&mut t);
}

#[test]
fn an_untrusted_projects_shell_command_never_runs_and_is_shown_as_not_loaded() {
    let w = World::new();
    let marker = w.dir.path().join("pwned");
    w.write(
        "project/.qcode/commands/boom.md",
        &format!(
            "---\ndescription: Harmless\n---\n!{{touch '{}'}} done\n",
            marker.display()
        ),
    );
    w.write("project/.qcode/commands/plain.md", "Plain project text.\n");
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &["--yolo"]);
    t.send("/bo");
    let screen = t.wait_for_text("/boom");
    assert!(screen.contains("not loaded"), "{screen}");
    assert!(screen.contains("not trusted"), "{screen}");
    t.send("om");
    t.wait_for_text("› /boom");
    t.send(keys::ENTER);
    let text = t.wait_for_transcript("nothing was sent");
    assert!(text.contains("which is not trusted; run `qcode"), "{text}");
    t.wait_for_text(PROMPT);
    assert!(!marker.exists(), "an untrusted project's !{{}} never runs");
    assert!(chat_bodies(&mock).is_empty());
    // Its commands without shell still expand (the trust rules).
    submit(&t, "/plain");
    let bodies = wait_requests(&t, &mock, 1);
    assert_eq!(
        last_user_message(&bodies[0]).trim_end(),
        "Plain project text."
    );
    quit(&mut t);
}

/// The events of the local usage-statistics audit log.
fn audit(w: &World) -> String {
    std::fs::read_to_string(w.home.join(".qcode").join(qcode_telemetry::AUDIT_LOG_FILE))
        .unwrap_or_default()
}

/// A pty session with usage statistics on (exported nowhere reachable; the audit log keeps
/// what would be sent).
fn start_recording_statistics(w: &World, mock: &MockServer) -> Pty {
    mock.set_default_reply(Reply::text("ok", 2));
    let mut env: Vec<(String, String)> = env_for(w, mock)
        .into_iter()
        .filter(|(k, _)| k != "DO_NOT_TRACK")
        .collect();
    env.push((
        "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
        "http://127.0.0.1:9".into(),
    ));
    let t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &[],
        &env,
        &w.project,
    );
    t.wait_for_text("test-model · openai");
    t
}

#[test]
fn usage_statistics_see_custom_commands_as_custom_and_skills_by_name() {
    let w = World::new();
    w.write("home/.qcode/commands/secretname.md", "Do the thing.\n");
    let mock = MockServer::start();
    let mut t = start_recording_statistics(&w, &mock);
    t.wait_for_text(PROMPT);
    submit(&t, "/secretname now");
    wait_requests(&t, &mock, 1);
    t.wait_for_text(PROMPT);
    submit(&t, "/skills");
    t.wait_for_transcript("No skills are loaded");
    quit(&mut t);
    let log = audit(&w);
    let commands: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("qcode.slash_command"))
        .collect();
    assert_eq!(commands.len(), 2, "{log}");
    assert!(commands[0].contains("\"custom\""), "{log}");
    assert!(commands[1].contains("\"skills\""), "{log}");
    assert!(!log.contains("secretname"), "{log}");
}

#[test]
fn an_mcp_prompt_is_sent_as_the_user_message() {
    let Some(package) = super::mcp::everything("an_mcp_prompt_is_sent_as_the_user_message") else {
        return;
    };
    let w = World::new();
    let (entry, _marker) = super::mcp::linked_entry(&w, &package, "prompt");
    super::mcp::user_settings(
        &w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"] } }),
        json!({}),
    );
    let mock = MockServer::start();
    let mut t = start_recording_statistics(&w, &mock);
    t.wait_for_text(PROMPT);
    // A missing required argument is an error, and nothing is sent.
    t.send("/mcp__everything__args-prompt ");
    t.wait_for_text("› /mcp__everything__args-prompt");
    t.send(keys::ENTER);
    let text = t.wait_for_transcript("nothing was sent");
    assert!(text.contains("`city`"), "{text}");
    t.wait_for_text(PROMPT);
    t.send("/mcp__everything__ar");
    t.wait_for_text("/mcp__everything__args-prompt <city> [state]");
    t.send("gs-prompt state=TX 'San Antonio'");
    t.wait_for_text("› /mcp__everything__args-prompt state=TX 'San Antonio'");
    t.send(keys::ENTER);
    let bodies = wait_requests(&t, &mock, 1);
    assert_eq!(
        last_user_message(&bodies[0]),
        "What's weather in San Antonio, TX?"
    );
    quit(&mut t);
    // Statistics see `custom` only: never the server's or the prompt's name.
    let log = audit(&w);
    assert!(
        log.lines()
            .any(|l| l.contains("qcode.slash_command") && l.contains("\"custom\"")),
        "{log}"
    );
    assert!(
        !log.contains("args-prompt") && !log.contains("everything"),
        "{log}"
    );
}

#[test]
fn skills_lists_the_sessions_skills_and_where_they_come_from() {
    let w = World::new();
    w.write(
        "home/.qcode/skills/pdf-tools/SKILL.md",
        "---\nname: pdf-tools\ndescription: Work with PDF files\n---\nUse pdftotext.\n",
    );
    w.write(
        "project/.agents/skills/release/SKILL.md",
        "---\nname: release\ndescription: Cut a release\n---\nTag it.\n",
    );
    let mock = MockServer::start();
    // Untrusted: the project's skill is not loaded, and /skills says so.
    let mut t = start(&w, &mock, &[]);
    submit(&t, "/skills");
    let text = t.wait_for_transcript("Work with PDF files");
    assert!(text.contains("pdf-tools"), "{text}");
    assert!(text.contains("not trusted"), "{text}");
    assert!(!text.contains("Cut a release"), "{text}");
    quit(&mut t);
    let mut t = start(&w, &mock, &["--trust"]);
    submit(&t, "/skills");
    let text = t.wait_for_transcript("Cut a release");
    let row = text
        .lines()
        .find(|l| l.contains("Cut a release"))
        .unwrap_or_default();
    assert!(row.contains("project .agents"), "{row}");
    quit(&mut t);
    assert!(chat_bodies(&mock).is_empty(), "/skills reached the model");
}
