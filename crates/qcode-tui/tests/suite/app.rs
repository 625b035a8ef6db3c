use crossterm::event::{KeyCode, KeyModifiers};
use qcode_protocol::{
    ApprovalDetails, ApprovalMode, ErrorKind, Event, FinishReason, Op, ReviewDecision, ToolStatus,
    TurnOutcome, Usage,
};
use qcode_tui::{AppEvent, Effect, ExitReason};

use super::harness::Harness;

fn text(t: &str) -> Event {
    Event::TextDelta { text: t.into() }
}

#[test]
fn submitting_a_prompt_sends_a_user_turn() {
    let mut h = Harness::new();
    assert!(h.scrollback_text().contains("qcode 9.9.9"), "welcome line");
    h.submit("fix the bug");
    assert_eq!(
        h.sent(),
        vec![Op::UserTurn {
            text: "fix the bug".into()
        }]
    );
    assert!(h.scrollback.iter().any(|l| l == "› fix the bug"));
    assert!(h.app.composer().is_empty());
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Completed,
    });
    h.submit("//etc/hosts is odd");
    assert_eq!(
        h.sent(),
        vec![Op::UserTurn {
            text: "/etc/hosts is odd".into()
        }]
    );
}

#[test]
fn esc_and_ctrl_c_interrupt_a_running_turn() {
    let mut h = Harness::new();
    h.submit("go");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.sent();
    h.press(KeyCode::Esc);
    assert_eq!(h.sent(), vec![Op::Interrupt]);
    h.ctrl('c');
    assert_eq!(h.sent(), vec![Op::Interrupt]);
    assert_eq!(
        h.app.exit_reason(),
        None,
        "Ctrl+C during a turn never exits"
    );
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Interrupted,
    });
    assert!(h.scrollback_text().contains("Interrupted"));
    h.press(KeyCode::Esc);
    assert_eq!(h.sent(), vec![], "Esc when idle sends nothing");
}

#[test]
fn ctrl_c_twice_or_ctrl_d_exits() {
    let mut h = Harness::new();
    h.type_str("draft");
    h.ctrl('c');
    assert!(
        h.app.composer().is_empty(),
        "first Ctrl+C clears the prompt"
    );
    h.ctrl('c');
    assert_eq!(h.app.exit_reason(), None);
    assert!(h.frame(80, 20).contains("Press Ctrl+C again to exit"));
    h.ctrl('c');
    assert_eq!(h.app.exit_reason(), Some(ExitReason::UserQuit));
    assert_eq!(h.sent(), vec![Op::Shutdown]);

    let mut h = Harness::new();
    h.type_str("x");
    h.ctrl('d');
    assert_eq!(
        h.app.exit_reason(),
        None,
        "Ctrl+D only exits on an empty prompt"
    );
    h.press(KeyCode::Backspace);
    h.ctrl('d');
    assert_eq!(h.app.exit_reason(), Some(ExitReason::UserQuit));
}

#[test]
fn shift_tab_cycles_approval_modes() {
    let mut h = Harness::new();
    h.key(KeyCode::BackTab, KeyModifiers::SHIFT);
    h.key(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(
        h.sent(),
        vec![
            Op::SetApprovalMode {
                mode: ApprovalMode::AutoEdit
            },
            Op::SetApprovalMode {
                mode: ApprovalMode::Yolo
            }
        ]
    );
    assert_eq!(h.app.status().approval_mode, ApprovalMode::Yolo);
}

#[test]
fn slash_commands_send_ops() {
    let mut h = Harness::new();
    h.submit("/model qwen3-max");
    h.submit("/compress");
    h.submit("/approval-mode plan");
    h.submit("/clear");
    assert_eq!(
        h.sent(),
        vec![
            Op::SetModel {
                model: "qwen3-max".into()
            },
            Op::Compact,
            Op::SetApprovalMode {
                mode: ApprovalMode::Plan
            },
            Op::ClearHistory
        ]
    );
    assert_eq!(h.app.take_effects(), vec![Effect::ClearScreen]);
    h.submit("/exit");
    assert_eq!(h.sent(), vec![Op::Shutdown]);
    assert_eq!(h.app.exit_reason(), Some(ExitReason::UserQuit));
}

#[test]
fn unknown_command_suggests_the_closest() {
    let mut h = Harness::new();
    h.submit("/hlep");
    assert!(
        h.scrollback_text()
            .contains("✗ Unknown command /hlep\n  hint: did you mean /help?"),
        "{}",
        h.scrollback_text()
    );
    assert_eq!(h.sent(), vec![]);
}

#[test]
fn slash_popup_filters_and_enter_runs_the_selection() {
    let mut h = Harness::new();
    h.type_str("/st");
    let frame = h.frame(80, 20);
    insta::assert_snapshot!(frame);
    h.press(KeyCode::Enter);
    assert!(
        h.scrollback_text().contains("Session stats"),
        "{}",
        h.scrollback_text()
    );
}

#[test]
fn pickers_choose_model_and_mode() {
    let mut h = Harness::new();
    h.submit("/model");
    assert!(h.frame(80, 20).contains("› qwen3-coder-plus  current"));
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    h.submit("/approval-mode");
    h.press(KeyCode::Up);
    h.press(KeyCode::Enter);
    assert_eq!(
        h.sent(),
        vec![
            Op::SetModel {
                model: "qwen3-max".into()
            },
            Op::SetApprovalMode {
                mode: ApprovalMode::Plan
            }
        ]
    );
}

#[test]
fn approval_modal_sends_decisions_and_records_them() {
    let mut h = Harness::new();
    h.submit("edit it");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(Event::ApprovalRequest {
        request_id: "r1".into(),
        call_id: "c1".into(),
        tool: "edit".into(),
        details: ApprovalDetails::Edit {
            path: "src/a.rs".into(),
            diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
        },
    });
    h.sent();
    let frame = h.frame(70, 20);
    insta::assert_snapshot!(frame);
    h.type_str("x");
    assert_eq!(
        h.sent(),
        vec![],
        "other keys do nothing while the modal is open"
    );
    h.press(KeyCode::Char('a'));
    assert_eq!(
        h.sent(),
        vec![Op::ApprovalDecision {
            request_id: "r1".into(),
            decision: ReviewDecision::AllowForSession
        }]
    );
    assert!(
        h.scrollback_text()
            .contains("✔ Allowed edit for this session")
    );

    h.engine(Event::ApprovalRequest {
        request_id: "r2".into(),
        call_id: "c2".into(),
        tool: "shell".into(),
        details: ApprovalDetails::Shell {
            command: "rm -rf build".into(),
            directory: "/p".into(),
        },
    });
    h.press(KeyCode::Char('d'));
    h.type_str("use cargo clean");
    h.press(KeyCode::Enter);
    assert_eq!(
        h.sent(),
        vec![Op::ApprovalDecision {
            request_id: "r2".into(),
            decision: ReviewDecision::Deny {
                message: Some("use cargo clean".into())
            }
        }]
    );
    assert!(
        h.scrollback_text()
            .contains("✘ Denied shell — use cargo clean")
    );
}

#[test]
fn streamed_answer_is_committed_line_by_line() {
    let mut h = Harness::new();
    h.submit("explain");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(Event::ReasoningDelta {
        text: "Thinking about it".into(),
    });
    assert!(h.frame(80, 20).contains("Thinking about it"));
    let before = h.scrollback.len();
    assert!(!h.app.streaming_answer(), "reasoning is not the answer");
    h.engine(text("# Ti"));
    assert!(h.app.streaming_answer(), "its frames may be spaced wider");
    assert_eq!(
        h.scrollback.len(),
        before + 2,
        "reasoning summary (plus separator) only"
    );
    assert!(h.scrollback.last().unwrap().starts_with("✻ Thought for"));
    assert!(
        h.frame(80, 20).contains("# Ti"),
        "partial line is live in the viewport"
    );
    h.engine(text("tle\n\nfirst line\nsec"));
    let tail: Vec<&str> = h
        .scrollback
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["", "# Title", "", "first line"]);
    h.engine(text("ond\n```rust\nfn a() {}\n"));
    assert_eq!(
        h.scrollback.last().unwrap(),
        "second",
        "the open code fence is held back"
    );
    h.engine(text("```\n"));
    assert_eq!(h.scrollback.last().unwrap(), "fn a() {}");
    h.engine(text("done"));
    h.engine(Event::ResponseComplete {
        finish: FinishReason::Stop,
    });
    assert_eq!(h.scrollback.last().unwrap(), "done");
    assert!(
        !h.app.streaming_answer(),
        "the end of the answer is drawn at once"
    );
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Completed,
    });
    h.submit("/copy");
    assert_eq!(
        h.app.take_effects(),
        vec![Effect::Copy(
            "# Title\n\nfirst line\nsecond\n```rust\nfn a() {}\n```\ndone".into()
        )]
    );
}

#[test]
fn tools_errors_retries_and_usage() {
    let mut h = Harness::new();
    h.submit("run tests");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(Event::ToolCallBegin {
        call_id: "t".into(),
        name: "shell".into(),
        summary: "Shell: cargo test".into(),
        arguments: serde_json::json!({}),
    });
    h.engine(Event::ToolOutputDelta {
        call_id: "t".into(),
        chunk: "running 3 tests\n".into(),
    });
    let live = h.frame(80, 20);
    assert!(
        live.contains("* Shell: cargo test\n  running 3 tests"),
        "{live}"
    );
    h.engine(Event::ToolCallEnd {
        call_id: "t".into(),
        name: "shell".into(),
        status: ToolStatus::Error,
        output: "running 3 tests\nFAILED".into(),
        diff: None,
        duration_ms: 1500,
    });
    assert!(
        h.scrollback_text()
            .contains("✗ Shell: cargo test · 1.5s\n  running 3 tests\n  FAILED")
    );
    h.engine(Event::Retry {
        attempt: 2,
        max_attempts: 5,
        delay_ms: 2000,
        reason: "429 Too Many Requests".into(),
    });
    h.engine(Event::Error {
        kind: ErrorKind::ContextTooLong,
        message: "The prompt is too long".into(),
        hint: None,
    });
    assert!(
        h.scrollback_text()
            .contains("↻ 429 Too Many Requests; retrying in 2.0 s (2/5)")
    );
    assert!(
        h.scrollback_text()
            .contains("✗ The prompt is too long\n  hint: run /compress or /clear to free context")
    );
    let usage = Usage {
        prompt_tokens: 42_000,
        completion_tokens: 100,
        total_tokens: 42_100,
        ..Usage::default()
    };
    h.engine(Event::Usage {
        usage,
        total: usage,
    });
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Failed,
    });
    assert!(
        h.frame(100, 20)
            .contains("42% of 100.0k context · 42.1k tokens")
    );
    assert_eq!(h.app.stats().tool_calls, 1);
    assert_eq!(h.app.stats().tool_failures, 1);
    assert_eq!(h.app.stats().errors, 1);
}

#[test]
fn prompts_typed_during_a_turn_are_queued() {
    let mut h = Harness::new();
    h.submit("one");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.submit("two");
    assert_eq!(h.sent(), vec![Op::UserTurn { text: "one".into() }]);
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Completed,
    });
    assert_eq!(h.sent(), vec![Op::UserTurn { text: "two".into() }]);
}

#[test]
fn large_paste_is_sent_in_full() {
    let mut h = Harness::new();
    let big: String = (0..50).map(|i| format!("row {i}\n")).collect();
    h.app
        .handle_terminal_event(crossterm::event::Event::Paste(big.clone()));
    assert!(h.frame(80, 20).contains("› [pasted 50 lines]"));
    h.press(KeyCode::Enter);
    assert_eq!(h.sent(), vec![Op::UserTurn { text: big }]);
}

#[test]
fn working_frame_snapshot() {
    let mut h = Harness::new();
    h.submit("hello");
    h.engine(Event::TurnStarted { turn_id: 1 });
    h.engine(text("Streaming a **partial** answ"));
    h.type_str("next question 你好");
    insta::assert_snapshot!(h.frame(72, 20));
}

#[tokio::test]
async fn bang_commands_run_locally() {
    let mut h = Harness::new();
    h.submit("!echo hi from bash");
    assert_eq!(h.sent(), vec![], "nothing goes to the model");
    let ev = tokio::time::timeout(std::time::Duration::from_secs(10), h.app_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            &ev,
            AppEvent::ShellDone {
                exit_code: Some(0),
                ..
            }
        ),
        "{ev:?}"
    );
    h.app.handle_app_event(ev);
    h.flush();
    assert!(
        h.scrollback_text()
            .contains("$ echo hi from bash\n  hi from bash"),
        "{}",
        h.scrollback_text()
    );
}

#[tokio::test]
async fn at_completion_lists_files_from_the_background_index() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "").unwrap();
    std::fs::write(dir.path().join("README.md"), "").unwrap();
    let mut o = super::harness::options();
    o.cwd = dir.path().to_path_buf();
    let mut h = Harness::with_options(o);
    h.type_str("read @mai");
    assert!(h.frame(60, 20).contains("indexing files…"));
    let ev = tokio::time::timeout(std::time::Duration::from_secs(10), h.app_rx.recv())
        .await
        .unwrap()
        .unwrap();
    h.app.handle_app_event(ev);
    assert!(h.frame(60, 20).contains("› src/main.rs"));
    h.press(KeyCode::Tab);
    assert_eq!(h.app.composer().text(), "read @src/main.rs ");
}
