//! Runs the interactive TUI against a scripted fake engine, for trying the UI by hand (e.g. in
//! tmux) before the real engine is wired in: `cargo run -p qcode-tui --example fake_engine`.
//! Every prompt gets reasoning, a streamed markdown answer, a shell tool call with output and
//! an edit that asks for approval. `Esc` interrupts.

use std::time::Duration;

use qcode_protocol::{
    ApprovalDetails, ApprovalMode, AuthKind, Event, FinishReason, Op, ReviewDecision, TodoItem,
    TodoStatus, ToolStatus, TurnOutcome, Usage,
};
use qcode_tui::TuiOptions;
use tokio::sync::mpsc::{Sender, UnboundedReceiver};

const ANSWER: &str = "## Plan\n\nI looked at **the layout** and found the issue in `src/lib.rs`:\n\n1. The parser drops the last line.\n2. The tests never cover it.\n\n| File | Change |\n|------|--------|\n| src/lib.rs | fix loop bound |\n| tests/all.rs | add a case |\n\n```rust\nfn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{:?}\", x);\n}\n```\n\nSee [the docs](https://doc.rust-lang.org/std/) for details. 完成了！\n";

struct Fake {
    ops: UnboundedReceiver<Op>,
    events: Sender<Event>,
    model: String,
    mode: ApprovalMode,
    total: Usage,
    turn: u64,
}

enum Flow {
    Continue,
    Interrupted,
    Quit,
}

impl Fake {
    /// Waits while the front end's queue is full, as the real engine does.
    async fn send(&self, e: Event) {
        let _ = self.events.send(e).await;
    }

    async fn configured(&self) {
        self.send(Event::SessionConfigured {
            model: self.model.clone(),
            auth: AuthKind::QwenOauth,
            approval_mode: self.mode,
            cwd: ".".into(),
            context_window: Some(131_072),
            session_id: None,
        })
        .await;
    }

    /// Handles ops that arrive while a turn runs; returns Interrupted on Esc.
    async fn poll(&mut self) -> Flow {
        while let Ok(op) = self.ops.try_recv() {
            match self.apply(op).await {
                Flow::Continue => {}
                other => return other,
            }
        }
        Flow::Continue
    }

    async fn apply(&mut self, op: Op) -> Flow {
        match op {
            Op::Interrupt => return Flow::Interrupted,
            Op::Shutdown => return Flow::Quit,
            Op::SetModel { model } => {
                self.model = model;
                self.configured().await;
            }
            Op::SetApprovalMode { mode } => self.mode = mode,
            Op::ClearHistory => self.send(Event::HistoryCleared).await,
            Op::SetSystemPrompt { .. } => self.send(Event::SystemPromptUpdated).await,
            Op::Compact => {
                self.send(Event::Compacted {
                    before_tokens: self.total.prompt_tokens,
                    after_tokens: 1200,
                    summary: "Earlier work, summarised.".into(),
                    replaced: 0,
                    messages: Vec::new(),
                })
                .await
            }
            Op::UserTurn { .. }
            | Op::ModelForNextTurn { .. }
            | Op::ApprovalDecision { .. }
            | Op::SwitchAuth { .. } => {}
        }
        Flow::Continue
    }

    async fn pause(&mut self, ms: u64) -> Flow {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.poll().await
    }

    async fn turn(&mut self, prompt: &str) -> Flow {
        self.turn += 1;
        let turn_id = self.turn;
        self.send(Event::TurnStarted { turn_id }).await;
        self.send(Event::RequestStarted {
            turn_id,
            request: 1,
        })
        .await;
        for chunk in [
            "Let me think about ",
            "how to answer \"",
            prompt,
            "\".\nFirst I will read the code, ",
            "then run the tests.",
        ] {
            self.send(Event::ReasoningDelta { text: chunk.into() })
                .await;
            if let f @ (Flow::Interrupted | Flow::Quit) = self.pause(120).await {
                return f;
            }
        }
        self.send(Event::TodoUpdate {
            todos: vec![
                TodoItem {
                    id: "1".into(),
                    content: "Read the code".into(),
                    status: TodoStatus::Completed,
                },
                TodoItem {
                    id: "2".into(),
                    content: "Fix the loop".into(),
                    status: TodoStatus::InProgress,
                },
            ],
        })
        .await;
        self.send(Event::ToolCallBegin {
            call_id: "t1".into(),
            name: "shell".into(),
            summary: "Shell: cargo test".into(),
            arguments: serde_json::json!({"command": "cargo test"}),
        })
        .await;
        for i in 1..=8 {
            self.send(Event::ToolOutputDelta {
                call_id: "t1".into(),
                chunk: format!("test case_{i} ... ok\n"),
            })
            .await;
            if let f @ (Flow::Interrupted | Flow::Quit) = self.pause(100).await {
                return f;
            }
        }
        self.send(Event::ToolCallEnd {
            call_id: "t1".into(),
            name: "shell".into(),
            status: ToolStatus::Success,
            output: (1..=8).map(|i| format!("test case_{i} ... ok\n")).collect(),
            diff: None,
            duration_ms: 812,
        })
        .await;
        let diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -10,4 +10,4 @@\n fn parse(lines: &[&str]) {\n-    for i in 0..lines.len() - 1 {\n+    for i in 0..lines.len() {\n         handle(lines[i]);\n     }\n".to_string();
        self.send(Event::ToolCallBegin {
            call_id: "t2".into(),
            name: "edit".into(),
            summary: "Edit src/lib.rs".into(),
            arguments: serde_json::json!({}),
        })
        .await;
        self.send(Event::ApprovalRequest {
            request_id: "r1".into(),
            call_id: "t2".into(),
            tool: "edit".into(),
            details: ApprovalDetails::Edit {
                path: "src/lib.rs".into(),
                diff: diff.clone(),
            },
        })
        .await;
        let decision = loop {
            match self.ops.recv().await {
                Some(Op::ApprovalDecision { decision, .. }) => break decision,
                Some(Op::Interrupt) => return Flow::Interrupted,
                Some(Op::Shutdown) | None => return Flow::Quit,
                Some(other) => {
                    let _ = self.apply(other).await;
                }
            }
        };
        let status = match decision {
            ReviewDecision::AllowOnce | ReviewDecision::AllowForSession => ToolStatus::Success,
            ReviewDecision::Deny { .. } => ToolStatus::Denied,
        };
        self.send(Event::ToolCallEnd {
            call_id: "t2".into(),
            name: "edit".into(),
            status,
            output: "edited".into(),
            diff: Some(diff),
            duration_ms: 3,
        })
        .await;
        self.send(Event::RequestStarted {
            turn_id,
            request: 2,
        })
        .await;
        let chars: Vec<char> = ANSWER.chars().collect();
        for chunk in chars.chunks(4) {
            self.send(Event::TextDelta {
                text: chunk.iter().collect(),
            })
            .await;
            if let f @ (Flow::Interrupted | Flow::Quit) = self.pause(8).await {
                return f;
            }
        }
        self.send(Event::ResponseComplete {
            finish: FinishReason::Stop,
        })
        .await;
        let usage = Usage {
            prompt_tokens: 9_000 * self.turn,
            completion_tokens: 400,
            total_tokens: 9_000 * self.turn + 400,
            cached_tokens: 0,
            reasoning_tokens: 50,
        };
        self.total.add(&usage);
        self.send(Event::Usage {
            usage,
            total: self.total,
        })
        .await;
        Flow::Continue
    }

    async fn run(mut self) {
        self.configured().await;
        while let Some(op) = self.ops.recv().await {
            let flow = match op {
                Op::UserTurn { text } => {
                    let flow = self.turn(&text).await;
                    let outcome = match flow {
                        Flow::Interrupted => TurnOutcome::Interrupted,
                        Flow::Continue | Flow::Quit => TurnOutcome::Completed,
                    };
                    self.send(Event::TurnComplete {
                        turn_id: self.turn,
                        outcome,
                    })
                    .await;
                    flow
                }
                other => self.apply(other).await,
            };
            if matches!(flow, Flow::Quit) {
                self.send(Event::ShutdownComplete).await;
                return;
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let (handle, ends) = qcode_protocol::queue_pair();
    let fake = Fake {
        ops: ends.ops,
        events: ends.events,
        model: "qwen3-coder-plus".into(),
        mode: ApprovalMode::Default,
        total: Usage::default(),
        turn: 0,
    };
    tokio::spawn(fake.run());
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let mut options = TuiOptions::new(cwd, env!("CARGO_PKG_VERSION"));
    options.model = "qwen3-coder-plus".into();
    options.models = vec![
        "qwen3-coder-plus".into(),
        "qwen3-coder-flash".into(),
        "qwen3-max".into(),
    ];
    options.history_file = std::env::temp_dir().join("qcode-fake-history.jsonl").into();
    match qcode_tui::run(handle, options).await {
        Ok(exit) => println!("exit: {:?} · {} turns", exit.reason, exit.stats.turns),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
