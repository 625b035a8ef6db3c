use std::io::Write;

use qcode_exec::{Output, OutputFormat, run};
use qcode_protocol::queue_pair;
use qcode_protocol::{
    ApprovalMode, AuthKind, ErrorKind, Event, FinishReason, Op, ToolStatus, TurnOutcome, Usage,
};
use tokio::sync::mpsc::unbounded_channel;

/// Plays `script` as the engine's events once the UserTurn arrives; returns (code, out, err, ops seen).
async fn play(format: OutputFormat, script: Vec<Event>) -> (i32, String, String, Vec<Op>) {
    play_on(format, script, Screen::Pipe).await
}

/// Whether stdout and stderr are terminals.
#[derive(Clone, Copy, PartialEq)]
enum Screen {
    Pipe,
    Terminal,
}

async fn play_on(
    format: OutputFormat,
    script: Vec<Event>,
    screen: Screen,
) -> (i32, String, String, Vec<Op>) {
    let (mut handle, ends) = queue_pair();
    let (mut op_rx, ev_tx) = (ends.ops, ends.events);
    let (_int_tx, mut int_rx) = unbounded_channel();
    let engine = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(op) = op_rx.recv().await {
            let stop = matches!(op, Op::Shutdown);
            if matches!(op, Op::UserTurn { .. }) {
                for ev in script.iter().cloned() {
                    ev_tx.send(ev).await.unwrap();
                }
            }
            seen.push(op);
            if stop {
                ev_tx.send(Event::ShutdownComplete).await.unwrap();
                break;
            }
        }
        seen
    });
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run(
        &mut handle,
        "hi".into(),
        format,
        Output {
            out: &mut out,
            err: &mut err,
            stdout_is_tty: screen == Screen::Terminal,
            stderr_is_tty: screen == Screen::Terminal,
        },
        &mut int_rx,
    )
    .await;
    drop(handle);
    let seen = engine.await.unwrap();
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        seen,
    )
}

fn configured() -> Event {
    Event::SessionConfigured {
        model: "m1".into(),
        auth: AuthKind::Openai,
        approval_mode: ApprovalMode::Default,
        cwd: "/w".into(),
        context_window: None,
        session_id: None,
    }
}

fn usage(n: u64) -> Event {
    let u = Usage {
        prompt_tokens: n,
        completion_tokens: 2,
        total_tokens: n + 2,
        ..Default::default()
    };
    Event::Usage { usage: u, total: u }
}

fn tool_round() -> Vec<Event> {
    vec![
        configured(),
        Event::TurnStarted { turn_id: 1 },
        Event::RequestStarted {
            turn_id: 1,
            request: 1,
        },
        Event::TextDelta {
            text: "Let me look".into(),
        },
        Event::ToolCallBegin {
            call_id: "c1".into(),
            name: "read_file".into(),
            summary: "Read a.txt".into(),
            arguments: serde_json::json!({}),
        },
        Event::ToolCallEnd {
            call_id: "c1".into(),
            name: "read_file".into(),
            status: ToolStatus::Success,
            output: "x".into(),
            diff: None,
            duration_ms: 1,
        },
        Event::RequestStarted {
            turn_id: 1,
            request: 2,
        },
        Event::TextDelta {
            text: "Done.".into(),
        },
        usage(10),
        Event::ResponseComplete {
            finish: FinishReason::Stop,
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Completed,
        },
    ]
}

#[tokio::test]
async fn text_answer_on_stdout_tools_on_stderr() {
    let (code, out, err, ops) = play(OutputFormat::Text, tool_round()).await;
    assert_eq!(code, 0);
    assert_eq!(out, "Let me look\nDone.");
    assert_eq!(err, "● Read a.txt\n");
    assert!(matches!(ops[0], Op::UserTurn { ref text } if text == "hi"));
    assert!(matches!(ops.last().unwrap(), Op::Shutdown));
}

/// Model text and tool errors that try to set the terminal title or write the clipboard are
/// shown as text only on a terminal; a pipe gets every byte.
#[tokio::test]
async fn escape_sequences_reach_a_terminal_only_as_text() {
    let hostile = "ok\u{1b}]0;pwned\u{7}\u{1b}]52;c;aGk=\u{7}\u{1b}[1mbold\u{1b}[0m";
    let script = || {
        vec![
            configured(),
            Event::TextDelta {
                text: hostile[..8].to_string(),
            },
            Event::TextDelta {
                text: hostile[8..].to_string(),
            },
            Event::ToolCallBegin {
                call_id: "c1".into(),
                name: "run_shell_command".into(),
                summary: "Run \u{1b}]0;x\u{7}ls".into(),
                arguments: serde_json::json!({}),
            },
            Event::ToolCallEnd {
                call_id: "c1".into(),
                name: "run_shell_command".into(),
                status: ToolStatus::Error,
                output: "boom\u{1b}]52;c;aGk=\u{7}".into(),
                diff: None,
                duration_ms: 1,
            },
            Event::TurnComplete {
                turn_id: 1,
                outcome: TurnOutcome::Completed,
            },
        ]
    };
    let (_, out, err, _) = play_on(OutputFormat::Text, script(), Screen::Terminal).await;
    assert_eq!(out, "ok\u{1b}[1mbold\u{1b}[0m\n");
    assert!(!err.contains('\u{7}') && !err.contains("]52;"), "{err:?}");
    assert!(err.contains("boom"), "{err:?}");
    let (_, out, _, _) = play_on(OutputFormat::Text, script(), Screen::Pipe).await;
    assert_eq!(out, hostile, "a pipe gets the bytes exactly");
}

#[tokio::test]
async fn json_summary() {
    let (code, out, err, _) = play(OutputFormat::Json, tool_round()).await;
    assert_eq!(code, 0);
    assert_eq!(err, "");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["type"], "result");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["result"], "Let me look\nDone.");
    assert_eq!(v["is_error"], false);
    assert_eq!(v["model"], "m1");
    assert_eq!(v["num_requests"], 2);
    assert_eq!(v["tool_calls"], 1);
    assert_eq!(v["usage"]["prompt_tokens"], 10);
    assert!(v["duration_ms"].is_u64());
}

#[tokio::test]
async fn stream_json_is_one_event_per_line() {
    let (code, out, _, _) = play(OutputFormat::StreamJson, tool_round()).await;
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), tool_round().len() + 1);
    assert_eq!(lines[0]["type"], "session_configured");
    assert_eq!(lines[0]["model"], "m1");
    assert_eq!(
        lines[0]["schema_version"], 1,
        "the first line names the schema"
    );
    assert_eq!(qcode_exec::SCHEMA_VERSION, 1);
    assert!(
        lines[1..lines.len() - 1]
            .iter()
            .all(|l| l.get("schema_version").is_none()),
        "only the first line and the result carry it"
    );
    assert_eq!(lines.last().unwrap()["schema_version"], 1);
    assert_eq!(lines[3]["type"], "text_delta");
    assert_eq!(lines[3]["text"], "Let me look");
    assert_eq!(lines[4]["type"], "tool_call_begin");
    assert_eq!(lines.last().unwrap()["type"], "result");
}

#[tokio::test]
async fn stream_json_first_line_carries_the_schema_version_whatever_it_is() {
    let script = vec![
        Event::Warning {
            message: "w".into(),
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Completed,
        },
    ];
    let (_, out, _, _) = play(OutputFormat::StreamJson, script).await;
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"type": "warning", "message": "w", "schema_version": 1})
    );
    assert_eq!(lines[1]["type"], "turn_complete");
    assert!(lines[1].get("schema_version").is_none());
}

#[tokio::test]
async fn failure_keeps_partial_output_and_maps_exit_code() {
    let script = vec![
        configured(),
        Event::RequestStarted {
            turn_id: 1,
            request: 1,
        },
        Event::TextDelta {
            text: "partial".into(),
        },
        Event::Error {
            kind: ErrorKind::Auth,
            message: "401 Unauthorized: bad key".into(),
            hint: Some("check OPENAI_API_KEY".into()),
        },
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Failed,
        },
    ];
    let (code, out, err, _) = play(OutputFormat::Text, script.clone()).await;
    assert_eq!(code, 41);
    assert_eq!(out, "partial\n");
    assert_eq!(
        err,
        "error: 401 Unauthorized: bad key\nhint: check OPENAI_API_KEY\n"
    );

    let (code, out, _, _) = play(OutputFormat::Json, script).await;
    assert_eq!(code, 41);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["is_error"], true);
    assert_eq!(v["result"], "partial");
    assert_eq!(v["error"]["kind"], "auth");
    assert_eq!(v["exit_code"], 41);
}

#[tokio::test]
async fn turn_limit_and_interrupted_codes() {
    let limit = vec![
        configured(),
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::TurnLimit,
        },
    ];
    assert_eq!(play(OutputFormat::Text, limit).await.0, 53);
    let int = vec![
        configured(),
        Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Interrupted,
        },
    ];
    assert_eq!(play(OutputFormat::Text, int).await.0, 130);
}

/// A writer that accepts `limit` bytes and then reports a broken pipe.
struct ClosingPipe {
    limit: usize,
    got: Vec<u8>,
}

impl Write for ClosingPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.got.len() >= self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "closed",
            ));
        }
        let n = buf.len().min(self.limit - self.got.len());
        self.got.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn closed_stdout_stops_quietly() {
    let (mut handle, ends) = queue_pair();
    let (mut op_rx, ev_tx) = (ends.ops, ends.events);
    let (_int_tx, mut int_rx) = unbounded_channel();
    // The engine streams until interrupted.
    let engine = tokio::spawn(async move {
        let mut interrupted = false;
        while let Some(op) = op_rx.recv().await {
            match op {
                Op::UserTurn { .. } => {
                    for _ in 0..100 {
                        ev_tx
                            .send(Event::TextDelta {
                                text: "0123456789".into(),
                            })
                            .await
                            .unwrap();
                    }
                }
                Op::Interrupt => interrupted = true,
                Op::Shutdown => {
                    ev_tx.send(Event::ShutdownComplete).await.unwrap();
                    break;
                }
                _ => {}
            }
        }
        interrupted
    });
    let mut out = ClosingPipe {
        limit: 25,
        got: Vec::new(),
    };
    let mut err = Vec::new();
    let code = run(
        &mut handle,
        "hi".into(),
        OutputFormat::Text,
        Output {
            out: &mut out,
            err: &mut err,
            stdout_is_tty: false,
            stderr_is_tty: false,
        },
        &mut int_rx,
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(out.got, b"0123456789012345678901234");
    assert_eq!(String::from_utf8(err).unwrap(), "");
    assert!(engine.await.unwrap(), "the running turn is interrupted");
}

fn hook_event(status: &str, message: Option<&str>) -> Event {
    Event::Hook {
        hook_event: "PreToolUse".into(),
        command: "./guard.sh \u{1b}]0;pwned\u{7}".into(),
        scope: "project".into(),
        status: status.into(),
        message: message.map(String::from),
    }
}

#[tokio::test]
async fn hook_runs_are_a_stderr_line_in_text_and_an_event_in_stream_json() {
    let script = || {
        vec![
            configured(),
            hook_event("blocked", Some("no rm\nsecond line")),
            Event::TurnComplete {
                turn_id: 1,
                outcome: TurnOutcome::Completed,
            },
        ]
    };
    let (code, out, err, _) = play_on(OutputFormat::Text, script(), Screen::Terminal).await;
    assert_eq!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("  hook PreToolUse (project) `./guard.sh"),
        "{err}"
    );
    assert!(err.contains("`: blocked: no rm\n"), "{err}");
    assert!(!err.contains("second line"), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains("pwned"),
        "a title sequence reached the terminal: {err:?}"
    );

    let (_, out, _, _) = play(OutputFormat::StreamJson, script()).await;
    let hook: serde_json::Value = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "hook")
        .unwrap();
    assert_eq!(
        hook,
        serde_json::json!({"type": "hook", "hook_event": "PreToolUse", "command": "./guard.sh \u{1b}]0;pwned\u{7}",
            "scope": "project", "status": "blocked", "message": "no rm\nsecond line"})
    );
}
