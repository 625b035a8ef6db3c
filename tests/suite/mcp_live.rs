//! MCP in a live session: a long call's progress in the TUI's tool cell and as `stream-json`
//! events (never in the transcript), and `/mcp reconnect` bringing back a server killed
//! mid-session. Against the real server-everything (see `mcp.rs`; without it: a loud SKIP).

use std::path::Path;
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::{Value, json};

use super::harness::*;
use super::mcp::{chat_bodies, everything, linked_entry, tool_result, user_settings};
use super::pty::{Pty, keys};

/// A session's environment for the mock model.
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

/// server-everything configured as `everything` for `w`; returns its process marker.
fn configure(w: &World, package: &Path, tag: &str) -> String {
    let (entry, marker) = linked_entry(w, package, tag);
    user_settings(
        w,
        json!({ "everything": { "command": "node", "args": [entry, "stdio"] } }),
        json!({}),
    );
    marker
}

fn long_operation(mock: &MockServer, duration: u32, steps: u32) {
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__trigger-long-running-operation",
            json!({ "duration": duration, "steps": steps }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("operation finished", 4));
}

/// The process ids of this test's server (found by its marker).
fn server_pids(marker: &str) -> Vec<String> {
    std::process::Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `stream-json` carries every progress notification that passed the throttle as a
/// `tool_progress` event of the call (the last one always), and the transcript records none.
#[test]
fn progress_of_an_mcp_call_is_streamed_but_never_recorded() {
    let Some(package) = everything("progress_of_an_mcp_call_is_streamed_but_never_recorded") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "progress-json");
    let mock = MockServer::start();
    long_operation(&mock, 1, 4);
    let out = w
        .cmd_for(&mock)
        .args(["-p", "run it", "--yolo", "-o", "stream-json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let progress: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "tool_progress")
        .collect();
    assert!(!progress.is_empty(), "{stdout}");
    assert!(
        progress
            .iter()
            .all(|p| p["call_id"] == "m1" && p["total"] == 4.0)
    );
    assert_eq!(progress.last().unwrap()["progress"], 4.0, "{stdout}");
    let values: Vec<f64> = progress
        .iter()
        .map(|p| p["progress"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    // Progress comes between the call's start and its end.
    let position = |kind: &str| events.iter().position(|e| e["type"] == kind).unwrap();
    let first_progress = events
        .iter()
        .position(|e| e["type"] == "tool_progress")
        .unwrap();
    assert!(position("tool_call_begin") < first_progress);
    assert!(first_progress < position("tool_call_end"));
    assert!(tool_result(&chat_bodies(&mock)[1]).contains("Long running operation completed"));

    let transcripts = super::sessions::transcripts(&w.home);
    assert_eq!(transcripts.len(), 1, "{transcripts:?}");
    let recorded = std::fs::read_to_string(&transcripts[0]).unwrap();
    assert!(recorded.contains("Long running operation completed"));
    assert!(!recorded.contains("tool_progress"), "{recorded}");
    assert!(!recorded.contains("\"progress\""), "{recorded}");
    assert_no_process_matching(&marker, "after the run");
}

/// The running call's cell shows `▸ done/total` while server-everything's operation runs.
#[test]
fn the_tool_cell_shows_the_progress_of_a_running_mcp_call() {
    let Some(package) = everything("the_tool_cell_shows_the_progress_of_a_running_mcp_call") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "progress-tui");
    let mock = MockServer::start();
    long_operation(&mock, 6, 6);
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env_for(&w, &mock),
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    t.send("run it");
    t.send(keys::ENTER);
    let screen = t.wait_until("a progress line", |s| {
        (1..6).any(|i| s.contains(&format!("▸ {i}/6")))
    });
    assert!(
        screen.contains("trigger-long-running-operation"),
        "{screen}"
    );
    t.wait_for_transcript("operation finished");
    // The finished cell in the scrollback has no progress line.
    let text = t.full_text();
    let done = text
        .lines()
        .skip_while(|l| !l.contains("✓"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!done.contains('▸'), "{done}");
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}

/// Types a slash command and runs it.
fn slash(t: &Pty, command: &str) {
    t.send(command);
    t.wait_for_text(&format!("› {command}"));
    t.send(keys::ENTER);
}

/// Runs `/mcp` until its listing contains `needle` (after `before` earlier listings);
/// returns how many listings the transcript holds then.
fn list_until(t: &Pty, before: usize, needle: &str) -> usize {
    for attempt in 1..=40 {
        slash(t, "/mcp");
        t.wait_until("the /mcp listing", |_| {
            t.full_text().matches("MCP servers").count() >= before + attempt
        });
        let text = t.full_text();
        if text.contains(needle) {
            return before + attempt;
        }
        assert!(attempt < 40, "never {needle:?}: {text}");
        std::thread::sleep(Duration::from_millis(250));
    }
    unreachable!()
}

/// A server killed mid-session shows as failed (with its stderr tail) in `/mcp`;
/// `/mcp reconnect` starts it again, the next call works, and nothing is left at exit.
#[test]
fn slash_mcp_reconnect_brings_back_a_killed_server() {
    let Some(package) = everything("slash_mcp_reconnect_brings_back_a_killed_server") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "reconnect");
    let mock = MockServer::start();
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env_for(&w, &mock),
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    // Connected first (so it is killed mid-session, not while starting).
    let listings = list_until(&t, 0, "everything (stdio, user settings): connected, ");
    let first = server_pids(&marker);
    assert!(!first.is_empty());
    for pid in &first {
        std::process::Command::new("kill")
            .args(["-KILL", pid])
            .status()
            .unwrap();
    }
    list_until(&t, listings, "everything (stdio, user settings): failed: ");
    let text = t.full_text();
    assert!(text.contains("killed by signal 9"), "{text}");
    assert!(text.contains("Starting default (STDIO) server"), "{text}");
    assert!(text.contains("/mcp reconnect NAME"), "{text}");

    slash(&t, "/mcp reconnect everything");
    let text = t.wait_for_transcript("Reconnected MCP server `everything`: connected, ");
    assert!(text.contains(" tools"), "{text}");
    let second = server_pids(&marker);
    assert!(!second.is_empty() && second.iter().all(|p| !first.contains(p)));

    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__echo",
            json!({ "message": "after the reconnect" }).to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("echoed again", 4));
    t.send("call echo");
    t.send(keys::ENTER);
    t.wait_for_transcript("echoed again");
    let bodies = chat_bodies(&mock);
    assert!(
        bodies[0]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|tool| tool["function"]["name"] == "mcp__everything__echo"),
        "the reconnected server's tools are offered"
    );
    assert!(
        tool_result(&bodies[1]).contains("after the reconnect"),
        "{bodies:?}"
    );
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}

fn elicitation_call(mock: &MockServer) {
    mock.enqueue(Reply::tool_calls(
        [(
            "m1",
            "mcp__everything__trigger-elicitation-request",
            "{}".to_string(),
        )],
        9,
    ));
    mock.enqueue(Reply::text("asked", 4));
}

/// server-everything asks for input mid-call: the dialog names the server, shows the form
/// with the schema's defaults, and what the user typed goes back (checked) as `accept`.
#[test]
fn an_elicitation_is_answered_in_the_tui_dialog() {
    let Some(package) = everything("an_elicitation_is_answered_in_the_tui_dialog") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "elicit-tui");
    let mock = MockServer::start();
    elicitation_call(&mock);
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env_for(&w, &mock),
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    t.send("ask me");
    t.send(keys::ENTER);
    let screen = t.wait_for_text("MCP server `everything` asks for input");
    assert!(
        screen.contains("comes from the server, not from qcode"),
        "{screen}"
    );
    assert!(
        screen.contains("Please provide inputs for the following fields"),
        "{screen}"
    );
    // SEP-1034: the defaults are filled in.
    assert!(
        screen.contains("It was a dark and stormy night."),
        "{screen}"
    );
    // `name` is required: Enter on the empty form is refused, with the reason.
    t.send(keys::ENTER);
    t.wait_for_text("String is required");
    // Fields are in name order: birthdate, check, email, firstLine, homepage, integer,
    // legacyTitledEnum, name.
    for _ in 0..7 {
        t.send("\t");
    }
    t.send("Ada Lovelace");
    t.wait_for_text("Ada Lovelace");
    t.send(keys::ENTER);
    t.wait_for_transcript("asked");
    let result = tool_result(&chat_bodies(&mock)[1]);
    assert!(
        result.contains("User provided the requested information"),
        "{result}"
    );
    assert!(result.contains("- Name: Ada Lovelace"), "{result}");
    assert!(result.contains("- Favorite Integer: 42"), "{result}");
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}

/// Esc in the dialog cancels: the server hears `cancel`.
#[test]
fn esc_cancels_an_elicitation() {
    let Some(package) = everything("esc_cancels_an_elicitation") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "elicit-esc");
    let mock = MockServer::start();
    elicitation_call(&mock);
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env_for(&w, &mock),
        &w.project,
    );
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    t.send("ask me");
    t.send(keys::ENTER);
    t.wait_for_text("MCP server `everything` asks for input");
    t.send(keys::ESC);
    t.wait_for_transcript("asked");
    let result = tool_result(&chat_bodies(&mock)[1]);
    assert!(
        result.contains("User cancelled the elicitation dialog"),
        "{result}"
    );
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_no_process_matching(&marker, "after Ctrl+D");
}

/// Headless, nobody can answer: declined, with a warning naming the server.
#[test]
fn a_headless_run_declines_an_elicitation_with_a_warning() {
    let Some(package) = everything("a_headless_run_declines_an_elicitation_with_a_warning") else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "elicit-headless");
    let mock = MockServer::start();
    elicitation_call(&mock);
    let out = w
        .cmd_for(&mock)
        .args(["-p", "ask me", "--yolo"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("MCP server `everything` asked for input"),
        "{stderr}"
    );
    assert!(stderr.contains("declined"), "{stderr}");
    let result = tool_result(&chat_bodies(&mock)[1]);
    assert!(result.contains("User declined"), "{result}");
    assert_no_process_matching(&marker, "after the run");
}

/// `qcode mcp probe` declines a request for input with a warning; `--elicitation
/// accept-defaults` accepts the form's defaults, but not when a required field has none.
#[test]
fn probe_declines_elicitations_unless_told_to_accept_the_defaults() {
    let Some(package) =
        everything("probe_declines_elicitations_unless_told_to_accept_the_defaults")
    else {
        return;
    };
    let w = World::new();
    let marker = configure(&w, &package, "elicit-probe");
    let mock = MockServer::start();
    let probe = |extra: &[&str]| {
        let out = w
            .cmd_for(&mock)
            .args([
                "mcp",
                "probe",
                "everything",
                "--call",
                "trigger-elicitation-request",
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, stdout, stderr) = probe(&[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("User declined"), "{stdout}");
    assert!(
        stderr.contains("warning: MCP server `everything` asked for input"),
        "{stderr}"
    );
    // server-everything's form requires `name` (titled "String"), which has no default.
    let (code, stdout, stderr) = probe(&["--elicitation", "accept-defaults"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("User declined"), "{stdout}");
    assert!(stderr.contains("declined: String is required"), "{stderr}");
    let (code, _, stderr) = probe(&["--elicitation", "sometimes"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("accept-defaults"), "{stderr}");
    assert_no_process_matching(&marker, "after the probes");
}
