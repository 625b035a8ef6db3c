//! Sessions in the interactive TUI, end to end in a pty against the mock model: `-c` shows the
//! old conversation and resends it, `-r` without an id opens the picker, `/export`, `/rename`,
//! `/rewind` (conversation side), and `-c` with nothing to continue.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::Value;

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

/// `qcode ARGS` in a pty against `mock`, once the status line is drawn.
fn start(w: &World, mock: &MockServer, args: &[&str]) -> Pty {
    let t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        args,
        &env_for(w, mock),
        &w.project,
    );
    t.wait_for_text("test-model · openai");
    t
}

#[track_caller]
fn quit(t: &mut Pty) {
    t.wait_for_text(PROMPT);
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0, "exit code after Ctrl+D");
}

/// Types a slash command and runs it with Enter.
fn command(t: &Pty, text: &str) {
    t.send(text);
    t.wait_for_text(&format!("› {text}"));
    t.send(keys::ENTER);
}

/// A headless turn (records a session).
fn headless(w: &World, mock: &MockServer, args: &[&str], answer: &str) {
    mock.enqueue(Reply::text(answer, 3));
    run(w.cmd_for(mock).args(args)).assert_code(0);
}

fn transcripts(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(projects) = std::fs::read_dir(home.join(".qcode").join("projects")) else {
        return out;
    };
    for project in projects.flatten() {
        if let Ok(chats) = std::fs::read_dir(project.path().join("chats")) {
            out.extend(chats.flatten().map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (role, content) of every message after the system prompt of the last chat request.
fn last_conversation(mock: &MockServer) -> Vec<(String, String)> {
    let body = mock
        .requests()
        .iter()
        .rev()
        .find(|r| r.path.ends_with("/chat/completions"))
        .unwrap()
        .body_json()
        .unwrap();
    messages(&body)
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

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(r, c)| (r.to_string(), c.to_string()))
        .collect()
}

/// The titles of the picker's rows on `screen` (rows say "N turn(s)").
fn picker_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|l| l.contains(" turn"))
        .map(|l| {
            l.trim_start_matches(['›', ' '])
                .split("  ")
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn session_list(w: &World) -> Vec<Value> {
    let r = run(w.cmd().args(["sessions", "list", "--json"]));
    r.assert_code(0);
    serde_json::from_str::<Value>(&r.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn interactive_continue_shows_the_conversation_and_resends_it_exactly() {
    let w = World::new();
    let mock = MockServer::start();
    headless(&w, &mock, &["-p", "first question"], "first answer");
    let mut t = start(&w, &mock, &["-c"]);
    let screen = t.wait_for_text("resumed ");
    let id = transcripts(&w.home)[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        screen.contains(&format!("resumed {}", &id[..8])),
        "{screen}"
    );
    let text = t.wait_for_transcript("first answer");
    assert!(text.contains("› first question"), "{text}");
    mock.enqueue(Reply::text("second answer", 3));
    t.send_line("second question");
    t.wait_for_transcript("second answer");
    assert_eq!(
        last_conversation(&mock),
        pairs(&[
            ("user", "first question"),
            ("assistant", "first answer"),
            ("user", "second question"),
        ])
    );
    quit(&mut t);
    assert_eq!(
        transcripts(&w.home).len(),
        1,
        "appended to the same session"
    );
}

#[test]
fn resume_without_an_id_opens_the_picker_and_switches_to_the_chosen_session() {
    let w = World::new();
    let mock = MockServer::start();
    headless(&w, &mock, &["-p", "alpha question"], "alpha answer");
    // Listing orders by the last record's time (milliseconds): keep the two apart.
    std::thread::sleep(std::time::Duration::from_millis(20));
    headless(&w, &mock, &["-p", "beta question"], "beta answer");
    // Headless, -r needs an id.
    let r = run(w.cmd_for(&mock).args(["-r", "-p", "hello"]));
    r.assert_code(42);
    assert!(
        r.stderr.contains("--resume needs a session id"),
        "{}",
        r.stderr
    );

    let mut t = start(&w, &mock, &["-r"]);
    let screen = t.wait_for_text("Resume a session");
    let beta = screen.find("beta question").unwrap();
    let alpha = screen.find("alpha question").unwrap();
    assert!(beta < alpha, "newest first:\n{screen}");
    assert!(screen.contains("1 turn"), "{screen}");
    // Typing filters.
    t.send("alp");
    t.wait_until("only alpha listed", |s| {
        picker_rows(s) == ["alpha question"]
    });
    t.send(keys::ENTER);
    t.wait_for_text("resumed ");
    t.wait_for_transcript("alpha answer");
    t.wait_for_text(PROMPT);
    mock.enqueue(Reply::text("more alpha", 3));
    t.send_line("and then?");
    t.wait_for_transcript("more alpha");
    assert_eq!(
        last_conversation(&mock),
        pairs(&[
            ("user", "alpha question"),
            ("assistant", "alpha answer"),
            ("user", "and then?"),
        ])
    );
    // /resume inside the session switches again.
    command(&t, "/resume");
    t.wait_for_text("Resume a session");
    t.send("beta");
    t.wait_until("only beta listed", |s| picker_rows(s) == ["beta question"]);
    t.send(keys::ENTER);
    t.wait_for_transcript("beta answer");
    t.wait_for_text(PROMPT);
    mock.enqueue(Reply::text("more beta", 3));
    t.send_line("next?");
    t.wait_for_transcript("more beta");
    assert_eq!(
        last_conversation(&mock),
        pairs(&[
            ("user", "beta question"),
            ("assistant", "beta answer"),
            ("user", "next?"),
        ])
    );
    quit(&mut t);
    assert_eq!(transcripts(&w.home).len(), 2, "no new session was started");
}

#[test]
fn export_writes_a_private_file_once_and_rename_sets_the_title() {
    let w = World::new();
    let mock = MockServer::start();
    headless(&w, &mock, &["-p", "first question"], "first answer");
    let id = session_list(&w)[0]["id"].as_str().unwrap().to_string();
    let mut t = start(&w, &mock, &["-c"]);
    command(&t, "/export");
    t.wait_for_transcript("Exported this session to");
    let file = w.project.join(format!("qcode-session-{}.md", &id[..8]));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("first question") && text.contains("first answer"),
        "{text}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    command(&t, "/export");
    t.wait_for_transcript("already exists; not overwritten");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "left as it was"
    );
    t.send("/export out.json");
    t.send(keys::ENTER);
    t.wait_for_transcript("out.json");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(w.project.join("out.json")).unwrap())
            .unwrap();
    assert_eq!(json["messages"][0]["content"], "first question");

    t.send("/rename Parser work");
    t.send(keys::ENTER);
    t.wait_for_transcript("Session renamed to \"Parser work\"");
    quit(&mut t);
    let list = session_list(&w);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], "Parser work");
}

#[test]
fn rename_without_recording_says_so() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &["--no-chat-recording"]);
    t.send("/rename Something");
    t.send(keys::ENTER);
    t.wait_for_transcript("this session is not recorded");
    quit(&mut t);
    assert!(transcripts(&w.home).is_empty());
}

#[test]
fn rewind_conversation_only_cuts_the_transcript_and_puts_the_prompt_back() {
    let w = World::new();
    let mock = MockServer::start();
    headless(&w, &mock, &["-p", "one"], "answer one");
    headless(&w, &mock, &["-c", "-p", "two"], "answer two");
    let mut t = start(&w, &mock, &["-c"]);
    t.wait_for_transcript("answer two");
    command(&t, "/rewind");
    let screen = t.wait_for_text("Rewind to before which prompt?");
    assert!(
        screen.find("2. two").unwrap() < screen.find("1. one").unwrap(),
        "newest first:\n{screen}"
    );
    t.send(keys::ENTER);
    t.wait_for_text("before prompt 2: restore what?");
    t.send("\x1b[B"); // Down: conversation only
    t.send(keys::ENTER);
    t.wait_for_transcript("Rewound to before prompt 2");
    t.wait_for_text("› two");
    let files = transcripts(&w.home);
    assert_eq!(files.len(), 1);
    let users: Vec<String> = records(&files[0])
        .iter()
        .filter(|r| r["type"] == "user")
        .map(|r| r["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(users, ["one"], "the transcript is cut before prompt 2");
    mock.enqueue(Reply::text("answer two again", 3));
    t.send(keys::ENTER);
    t.wait_for_transcript("answer two again");
    assert_eq!(
        last_conversation(&mock),
        pairs(&[
            ("user", "one"),
            ("assistant", "answer one"),
            ("user", "two")
        ])
    );
    quit(&mut t);
}

#[test]
fn interactive_continue_without_a_session_starts_a_new_one_with_a_notice() {
    let w = World::new();
    let mock = MockServer::start();
    let mut t = start(&w, &mock, &["-c"]);
    t.wait_for_transcript("No earlier session in this project to continue");
    mock.enqueue(Reply::text("fresh answer", 3));
    t.send_line("hello");
    t.wait_for_transcript("fresh answer");
    assert_eq!(last_conversation(&mock), pairs(&[("user", "hello")]));
    quit(&mut t);
    assert_eq!(transcripts(&w.home).len(), 1);
}

/// Turn 2 of the recorded session changed `a.txt` from "old" to "new" (checkpoints made through
/// the library, as the edit tools make them).
fn session_with_a_changed_file(w: &World, mock: &MockServer) -> (String, PathBuf) {
    headless(w, mock, &["-p", "one"], "answer one");
    headless(w, mock, &["-c", "-p", "two"], "answer two");
    let id = session_list(w)[0]["id"].as_str().unwrap().to_string();
    let file = w.project.join("a.txt");
    std::fs::write(&file, "old\n").unwrap();
    let mut checkpoints = qcode_session::Checkpoints::open(
        &w.home.join(".qcode").join("file-history"),
        &id,
        &w.project,
    )
    .unwrap();
    checkpoints.before_write(2, &file).unwrap();
    std::fs::write(&file, "new\n").unwrap();
    checkpoints.finish_turn(2).unwrap();
    (id, file)
}

#[test]
fn rewind_code_and_conversation_restores_the_file_and_cuts_the_transcript() {
    let w = World::new();
    let mock = MockServer::start();
    let (_, file) = session_with_a_changed_file(&w, &mock);
    let mut t = start(&w, &mock, &["-c"]);
    t.wait_for_transcript("answer two");
    command(&t, "/rewind");
    let screen = t.wait_for_text("Rewind to before which prompt?");
    assert!(screen.contains("1 file: a.txt"), "{screen}");
    t.send(keys::ENTER);
    t.wait_for_text("code and conversation");
    t.send(keys::ENTER);
    let text = t.wait_for_transcript("Rewound to before prompt 2");
    assert!(text.contains("restored a.txt"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
    let files = transcripts(&w.home);
    let users = records(&files[0])
        .iter()
        .filter(|r| r["type"] == "user")
        .count();
    assert_eq!(users, 1);
    t.wait_for_text("› two");
    // Clear the prompt put back (Ctrl+U) so that Ctrl+D quits.
    t.send("\x15");
    quit(&mut t);
}

#[test]
fn rewind_over_a_file_changed_outside_asks_and_overwrites_when_confirmed() {
    let w = World::new();
    let mock = MockServer::start();
    let (_, file) = session_with_a_changed_file(&w, &mock);
    std::fs::write(&file, "changed by hand\n").unwrap();
    let mut t = start(&w, &mock, &["-c"]);
    t.wait_for_transcript("answer two");
    command(&t, "/rewind");
    t.wait_for_text("Rewind to before which prompt?");
    t.send(keys::ENTER);
    t.wait_for_text("code and conversation");
    t.send(keys::ENTER);
    t.wait_for_text("Overwrite the files changed outside qcode?");
    t.wait_for_transcript("changed outside qcode since its last change: a.txt");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "changed by hand\n",
        "nothing touched before the answer"
    );
    assert_eq!(
        records(&transcripts(&w.home)[0])
            .iter()
            .filter(|r| r["type"] == "user")
            .count(),
        2
    );
    t.send("\x1b[A"); // Up: overwrite
    t.send(keys::ENTER);
    t.wait_for_transcript("Rewound to before prompt 2");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
    t.wait_for_text("› two");
    t.send("\x15");
    quit(&mut t);
}
