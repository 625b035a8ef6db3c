//! The interactive session through the real binary in a pseudo-terminal (see [`super::pty`]):
//! what is drawn, what is sent to the mock model, approvals, cancelling mid-stream, exiting,
//! and the terminal being restored (modes and escape sequences).

use std::path::Path;

use qcode_test_support::mock_model::{MockServer, RecordedRequest, Reply, SseItem, chunk};
use qcode_test_support::oauth_server::{OAuthServer, OAuthServerOptions};
use serde_json::Value;

use super::harness::*;
use super::pty::{Pty, keys};

/// The composer's placeholder: the prompt is drawn and empty.
const PROMPT: &str = "› Ask anything";
/// The status line for the mock: model · authentication · approval mode.
const STATUS: &str = "test-model · openai · default";

/// The harness environment (PATH, HOME, usage statistics off, the mock's OPENAI_*).
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

/// `qcode` in a pty against `mock`, waiting until the prompt and status line are drawn.
fn start(w: &World, mock: &MockServer) -> Pty {
    let t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &[],
        &env_for(w, mock),
        &w.project,
    );
    t.wait_until("the prompt and the status line", |s| {
        s.contains(PROMPT) && s.contains(STATUS)
    });
    t
}

/// The chat requests the mock received, as JSON bodies.
fn chat_bodies(mock: &MockServer) -> Vec<Value> {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r: &RecordedRequest| r.body_json().unwrap())
        .collect()
}

/// (role, content) of every message after the system prompt.
fn conversation(body: &Value) -> Vec<(String, String)> {
    messages(body)
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_string(),
                m["content"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Exits with Ctrl+D and checks the exit code.
#[track_caller]
fn quit(t: &mut Pty) {
    t.wait_for_text(PROMPT);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0, "exit code after Ctrl+D");
}

/// The sequences the TUI writes when it leaves the terminal, in this order: pop the keyboard
/// enhancement flags, bracketed paste off, cursor shown.
const RESTORE: [&str; 3] = ["\x1b[<1u", "\x1b[?2004l", "\x1b[?25h"];

/// Checks that the bytes written after the last synchronized frame leave the TUI's modes, that
/// those modes had been entered at start, and that the pty is back in cooked mode.
#[track_caller]
fn assert_restored(t: &Pty) {
    let raw = String::from_utf8_lossy(&t.raw()).into_owned();
    for entered in ["\x1b[?2004h", "\x1b[>1u"] {
        assert!(raw.contains(entered), "never entered {entered:?}");
    }
    let last_frame_end = raw
        .rfind("\x1b[?2026l")
        .expect("no synchronized frame was drawn");
    let tail = &raw[last_frame_end..];
    let mut at = 0;
    for seq in RESTORE {
        let found = tail[at..]
            .find(seq)
            .unwrap_or_else(|| panic!("{seq:?} missing (in order) after the last frame: {tail:?}"));
        at += found + seq.len();
    }
    assert_eq!(
        t.local_modes(),
        (true, true),
        "the terminal is not back in cooked mode (ICANON, ECHO)"
    );
}

#[test]
fn prompt_streams_a_markdown_answer_and_sends_the_typed_text() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text(
        "The parser drops **the last line** and `lines.len() - 1` is why.",
        6,
    ));
    let mut t = start(&w, &mock);
    let screen = t.screen_text();
    assert!(screen.contains(">_ qcode"), "welcome line:\n{screen}");
    assert_eq!(t.local_modes(), (false, false), "raw mode while running");

    t.send_line("why does the parser drop lines?");
    let text = t.wait_for_transcript("lines.len() - 1 is why.");
    assert!(
        text.contains("The parser drops the last line and lines.len() - 1 is why."),
        "markdown not rendered as expected:\n{text}"
    );
    assert!(!text.contains("**"), "asterisks left in:\n{text}");
    assert!(!text.contains('`'), "backticks left in:\n{text}");
    assert!(
        text.contains("› why does the parser drop lines?"),
        "the prompt is echoed in the transcript:\n{text}"
    );

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-test-key-123")
    );
    let body = requests[0].body_json().unwrap();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(last_user_message(&body), "why does the parser drop lines?");
    assert_eq!(
        conversation(&body),
        vec![("user".into(), "why does the parser drop lines?".into())]
    );
    quit(&mut t);
}

#[test]
fn help_lists_the_commands_without_asking_the_model() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock);
    t.send("/help");
    t.wait_for_text("Show keys and commands");
    t.send(keys::ENTER);
    let text = t.wait_for_transcript("/quit");
    for command in [
        "/help",
        "/model",
        "/quit",
        "/clear",
        "/approval-mode",
        "/stats",
    ] {
        assert!(text.contains(command), "{command} not listed:\n{text}");
    }
    assert!(text.contains("Ctrl+T"), "keys not listed:\n{text}");
    quit(&mut t);
    assert!(chat_bodies(&mock).is_empty(), "/help reached the model");
}

/// The model asks to write `notes.txt`, then answers "Done." after the tool result.
fn script_write(mock: &MockServer) {
    mock.enqueue(Reply::tool_calls(
        [(
            "call_w1",
            "write_file",
            r#"{"file_path": "notes.txt", "content": "written by the model\n"}"#,
        )],
        10,
    ));
    mock.enqueue(Reply::text("Done writing.", 5));
}

/// The tool message answering `call_w1` in the second request.
fn tool_result(mock: &MockServer) -> String {
    let bodies = chat_bodies(mock);
    assert_eq!(bodies.len(), 2, "expected the tool round trip");
    let msgs = messages(&bodies[1]);
    let tool = msgs
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("no tool message");
    assert_eq!(tool["tool_call_id"], "call_w1");
    tool["content"].as_str().unwrap().to_string()
}

#[test]
fn approving_an_edit_writes_the_file() {
    let w = World::new();
    let mock = MockServer::start();
    script_write(&mock);
    let mut t = start(&w, &mock);
    t.send_line("write the notes");
    let screen = t.wait_for_text("Allow this edit?");
    assert!(
        screen.contains("notes.txt"),
        "modal names the file:\n{screen}"
    );
    assert!(
        screen.contains("+written by the model"),
        "diff shown:\n{screen}"
    );
    assert!(
        !w.project.join("notes.txt").exists(),
        "written before approval"
    );
    t.send("y");
    let text = t.wait_for_transcript("Done writing.");
    assert!(text.contains("Allowed"), "decision recorded:\n{text}");
    assert_eq!(
        std::fs::read_to_string(w.project.join("notes.txt")).unwrap(),
        "written by the model\n"
    );
    let result = tool_result(&mock);
    assert_eq!(result, "Created notes.txt (1 lines).");
    quit(&mut t);
}

#[test]
fn denying_an_edit_leaves_the_file_absent() {
    let w = World::new();
    let mock = MockServer::start();
    script_write(&mock);
    let mut t = start(&w, &mock);
    t.send_line("write the notes");
    t.wait_for_text("Allow this edit?");
    t.send("n");
    let text = t.wait_for_transcript("Done writing.");
    assert!(text.contains("Denied"), "decision recorded:\n{text}");
    assert!(!w.project.join("notes.txt").exists());
    let result = tool_result(&mock);
    assert!(result.starts_with("Denied"), "tool result: {result}");
    quit(&mut t);
}

#[test]
fn esc_cancels_a_streaming_answer_and_the_next_prompt_is_sent() {
    let w = World::new();
    let mock = MockServer::start();
    // First words at once, then one more word every 100 ms for ~10 s.
    let mut items = vec![
        SseItem::data_json(&chunk::role()),
        SseItem::Raw(chunk::text_line("Streaming the first words")),
    ];
    for _ in 0..100 {
        items.push(SseItem::delay(100));
        items.push(SseItem::Raw(chunk::text_line(" and more")));
    }
    items.push(SseItem::data_json(&chunk::finish("stop")));
    items.push(SseItem::done());
    mock.enqueue(Reply::sse(items));
    mock.enqueue(Reply::text("Second answer.", 5));

    let mut t = start(&w, &mock);
    t.send_line("first prompt");
    t.wait_for_text("Streaming the first words");
    t.send(keys::ESC);
    let text = t.wait_for_transcript("Interrupted");
    assert!(
        text.contains("Streaming the first words"),
        "partial answer kept:\n{text}"
    );
    t.wait_for_text(PROMPT);

    t.send_line("second prompt");
    t.wait_for_transcript("Second answer.");
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 2);
    let second = conversation(&bodies[1]);
    // History stays valid: the prompt, the partial answer kept as it was shown, the new
    // prompt; no dangling tool calls.
    assert_eq!(second.len(), 3, "{second:?}");
    assert_eq!(second[0], ("user".into(), "first prompt".into()));
    assert_eq!(second[1].0, "assistant");
    assert!(
        second[1].1.starts_with("Streaming the first words"),
        "{second:?}"
    );
    assert_eq!(second[2], ("user".into(), "second prompt".into()));
    assert!(
        messages(&bodies[1])
            .iter()
            .all(|m| m.get("tool_calls").is_none())
    );
    quit(&mut t);
}

#[test]
fn quit_command_exits_zero_and_restores_the_terminal() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock);
    assert_eq!(t.local_modes(), (false, false), "raw mode while running");
    t.send("/quit");
    t.wait_for_text("› /quit");
    t.send(keys::ENTER);
    assert_eq!(t.wait_exit(), 0);
    assert_restored(&t);
    assert!(chat_bodies(&mock).is_empty());
}

#[test]
fn ctrl_d_on_an_empty_prompt_exits_zero_and_restores_the_terminal() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock);
    // Not on a non-empty prompt: Ctrl+D there does nothing.
    t.send("draft");
    t.wait_for_text("› draft");
    t.send(keys::CTRL_D);
    // Clear the prompt (Ctrl+U), then Ctrl+D exits.
    t.send("\x15");
    t.wait_for_text(PROMPT);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_restored(&t);
}

#[test]
fn sigterm_exits_and_restores_the_terminal() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock);
    assert_eq!(t.local_modes(), (false, false), "raw mode while running");
    t.signal("TERM");
    assert_eq!(
        t.wait_exit(),
        143,
        "128 + SIGTERM, like a process the signal killed"
    );
    assert_restored(&t);
}

/// A terminal that goes away (its window closed, its tmux session killed) ends the session:
/// SIGHUP arrives and the terminal's reads fail or never return; qcode exits with 129 and
/// leaves no process behind.
#[test]
fn a_terminal_that_hangs_up_ends_the_session() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock);
    t.wait_for_text(PROMPT);
    let pid = t.pid();
    t.hang_up();
    assert_eq!(t.wait_exit(), 129, "128 + SIGHUP");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "qcode still running after its terminal hung up"
    );
}

/// `/auth` → Qwen OAuth against the real OAuth peer (skipped when its node modules are
/// missing, like the headless OAuth tests): approving the shown code switches the running
/// session from the environment's API key to the OAuth token and its `resource_url` host.
#[test]
fn auth_switches_from_a_key_to_qwen_oauth_and_the_next_request_carries_its_token() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = OAuthServer::start_or_skip(OAuthServerOptions {
        access_ttl: 3600,
        resource_url: Some(mock.url()),
        ..OAuthServerOptions::default()
    })
    .unwrap() else {
        return;
    };
    mock.enqueue(Reply::text("Signed-in answer.", 5));
    let mut env = env_for(&w, &mock);
    env.push(("QCODE_QWEN_OAUTH_BASE_URL".into(), oauth.base_url()));
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &[],
        &env,
        &w.project,
    );
    t.wait_for_text(STATUS);
    t.send("/auth");
    t.wait_for_text("› /auth");
    t.send(keys::ENTER);
    t.wait_for_text("2. OpenAI-compatible API key");
    t.send("1");
    let screen = t.wait_for_text("Code: ");
    let code = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("Code: "))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        screen.contains(&format!("user_code={code}")),
        "the page to open carries the code {code:?}:\n{screen}"
    );
    oauth.approve(&code).unwrap();
    t.wait_until("the status line after sign-in", |s| {
        s.contains("coder-model · qwen-oauth · default")
    });
    let text = t.wait_for_transcript("Now using qwen-oauth · model coder-model");
    assert!(text.contains("Signed in with Qwen OAuth"), "{text}");
    assert!(
        mock.requests().is_empty(),
        "the model was asked before a prompt was sent"
    );

    t.send_line("hello after sign-in");
    t.wait_for_transcript("Signed-in answer.");
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(w.home.join(".qwen/oauth_creds.json")).unwrap(),
    )
    .unwrap();
    let token = creds["access_token"].as_str().unwrap();
    assert_ne!(token, "sk-test-key-123");
    let requests = mock.requests();
    assert_eq!(
        requests.len(),
        1,
        "one chat request to the resource_url host"
    );
    let req = &requests[0];
    assert!(req.path.ends_with("/chat/completions"), "{}", req.path);
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(req.header("x-dashscope-authtype"), Some("qwen-oauth"));
    let body = req.body_json().unwrap();
    assert_eq!(body["model"], "coder-model");
    assert_eq!(last_user_message(&body), "hello after sign-in");
    // The token is never drawn.
    assert!(
        !t.full_text().contains(token),
        "the access token is on screen"
    );
    quit(&mut t);
}

/// With usage statistics on, the first interactive start shows the privacy notice once; the
/// next start does not; an opted-out start never does.
#[test]
fn privacy_notice_is_shown_on_the_first_start_only() {
    let w = World::new();
    let mock = MockServer::start();
    let dead = format!(
        "http://127.0.0.1:{}",
        qcode_test_support::process::free_port().unwrap()
    );
    let stats_on = |w: &World| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = env_for(w, &mock)
            .into_iter()
            .filter(|(k, _)| k != "DO_NOT_TRACK")
            .collect();
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), dead.clone()));
        env
    };
    let notice = "anonymous usage statistics";
    let run = |env: &[(String, String)]| -> String {
        let mut t = Pty::spawn(Path::new(env!("CARGO_BIN_EXE_qcode")), &[], env, &w.project);
        t.wait_until("the prompt", |s| s.contains(PROMPT));
        let seen = t.full_text();
        quit(&mut t);
        seen
    };
    // Opted out: no notice, and no marker written.
    let first_opted_out = run(&env_for(&w, &mock));
    assert!(!first_opted_out.contains(notice), "{first_opted_out}");
    let first = run(&stats_on(&w));
    assert!(first.contains(notice), "{first}");
    assert!(
        first.contains("qcode privacy off") || first.contains("/privacy"),
        "{first}"
    );
    let second = run(&stats_on(&w));
    assert!(!second.contains(notice), "{second}");
}

/// In an untrusted folder whose settings want more (here yolo), the session asks once, listing
/// exactly what the files would set; yes trusts the folder (and the settings apply), no is
/// remembered and not asked again.
#[test]
fn an_untrusted_folder_is_asked_about_once() {
    for (answer, rule, mode) in [
        ("y", "TRUST_FOLDER", "yolo"),
        ("n", "DO_NOT_TRUST", "default"),
    ] {
        let w = World::new();
        let mock = MockServer::start();
        w.write(
            "project/.qcode/settings.json",
            r#"{"tools": {"approvalMode": "yolo"}}"#,
        );
        let t = Pty::spawn(
            Path::new(env!("CARGO_BIN_EXE_qcode")),
            &[],
            &env_for(&w, &mock),
            &w.project,
        );
        let screen = t.wait_for_text("Trust this folder");
        assert!(screen.contains("tools.approvalMode = \"yolo\""), "{screen}");
        t.send_line(answer);
        t.wait_until("the prompt with the chosen mode", |s| {
            s.contains(PROMPT) && s.contains(&format!("test-model · openai · {mode}"))
        });
        let rules: Value = serde_json::from_str(
            &std::fs::read_to_string(w.home.join(".qcode/trustedFolders.json")).unwrap(),
        )
        .unwrap();
        let key = std::fs::canonicalize(&w.project)
            .unwrap()
            .display()
            .to_string();
        assert_eq!(rules[&key], rule);
        drop(t);
        // Not asked again.
        let t = Pty::spawn(
            Path::new(env!("CARGO_BIN_EXE_qcode")),
            &[],
            &env_for(&w, &mock),
            &w.project,
        );
        t.wait_until("the prompt with the remembered mode", |s| {
            s.contains(PROMPT) && s.contains(&format!("test-model · openai · {mode}"))
        });
        assert!(!t.full_text().contains("Trust this folder"));
    }
}

#[test]
fn an_interactive_session_is_recorded_and_a_headless_run_continues_it() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("Interactive answer.", 6));
    let mut t = start(&w, &mock);
    t.send_line("an interactive question");
    t.wait_for_transcript("Interactive answer.");
    quit(&mut t);

    mock.enqueue(Reply::text("headless answer", 4));
    run(w.cmd_for(&mock).args(["-c", "-p", "and now headless"])).assert_code(0);
    let bodies = chat_bodies(&mock);
    assert_eq!(
        conversation(bodies.last().unwrap()),
        vec![
            ("user".into(), "an interactive question".into()),
            ("assistant".into(), "Interactive answer.".into()),
            ("user".into(), "and now headless".into()),
        ]
    );
}
