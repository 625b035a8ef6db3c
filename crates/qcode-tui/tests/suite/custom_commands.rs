//! Custom commands and MCP prompts through the app with a fake [`Services`]: a typed command
//! is expanded by the services and sent as the user message (its model first, for that turn),
//! the transcript shows what was typed; `!{…}` asks with the shell approval dialog — declined,
//! nothing is sent; allowed, the services expand again with those commands allowed; an error
//! or an unknown name sends nothing.

use std::sync::{Arc, Mutex};

use crossterm::event::KeyCode;
use futures::future::BoxFuture;
use qcode_protocol::{AuthKind, ErrorKind, Event, LoginEvent, Op, Problem, ProviderPreset};
use qcode_tui::{
    ApiKeyInput, CommandExpansion, CommandRequest, CommandSource, CustomCommandInfo,
    CustomCommands, ExpandedPrompt, PrivacyStatus, RefreshedPrompt, RewindEntry, Services,
    SessionEntry, UsageStatistics,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::harness::{Harness, options};

#[derive(Default)]
struct Fake {
    requests: Mutex<Vec<CommandRequest>>,
    used: Mutex<usize>,
}

fn unused<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(async move { value })
}

fn no() -> Problem {
    Problem::new(ErrorKind::Input, "not in this test")
}

impl Services for Fake {
    fn list_models(&self, _auth: AuthKind) -> BoxFuture<'_, Result<Vec<String>, Problem>> {
        unused(Err(no()))
    }
    fn provider_presets(&self) -> Vec<ProviderPreset> {
        Vec::new()
    }
    fn qwen_login(
        &self,
        _cancel: CancellationToken,
        _progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn save_api_key(&self, _input: ApiKeyInput) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn privacy_status(&self, _log_lines: usize) -> BoxFuture<'_, PrivacyStatus> {
        unused(PrivacyStatus {
            text: String::new(),
            log: Vec::new(),
        })
    }
    fn set_usage_statistics(
        &self,
        _choice: UsageStatistics,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn memory_show(&self) -> BoxFuture<'_, String> {
        unused(String::new())
    }
    fn memory_add(&self, _fact: String) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, Problem>> {
        unused(Err(no()))
    }
    fn list_sessions(&self) -> BoxFuture<'_, Result<Vec<SessionEntry>, Problem>> {
        unused(Err(no()))
    }
    fn export_session(&self, _file: Option<String>) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn rename_session(&self, _title: String) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }
    fn rewind_points(&self) -> BoxFuture<'_, Result<Vec<RewindEntry>, Problem>> {
        unused(Err(no()))
    }
    fn mcp_status(&self) -> BoxFuture<'_, String> {
        unused(String::new())
    }

    fn list_agents(&self) -> BoxFuture<'_, Result<qcode_tui::AgentListing, Problem>> {
        unused(Ok(qcode_tui::AgentListing::default()))
    }

    fn mcp_reconnect(&self, _name: String) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }

    fn mcp_login(
        &self,
        _name: String,
        _cancel: tokio_util::sync::CancellationToken,
        _progress: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        unused(Err(no()))
    }

    fn next_elicitation(&self) -> BoxFuture<'_, Option<qcode_tui::ElicitationPrompt>> {
        unused(None)
    }

    fn answer_elicitation(
        &self,
        _id: u64,
        _answer: qcode_protocol::elicitation::ElicitationAnswer,
    ) {
    }

    fn custom_commands(&self) -> BoxFuture<'_, CustomCommands> {
        unused(CustomCommands {
            commands: vec![CustomCommandInfo {
                name: "fast".into(),
                description: "Quick".into(),
                argument_hint: "<what>".into(),
                source: CommandSource::Project,
                blocked: None,
            }],
            problems: vec!["command help.md: `help` is a built-in name".into()],
        })
    }

    fn expand_command(
        &self,
        request: CommandRequest,
    ) -> BoxFuture<'_, Result<CommandExpansion, Problem>> {
        self.requests.lock().unwrap().push(request.clone());
        let result = match request.name.as_str() {
            "fast" => Ok(CommandExpansion::Ready(ExpandedPrompt {
                text: format!("EXPANDED {}", request.args),
                model: Some("fast-model".into()),
            })),
            "sh" if request.approved.is_empty() => Ok(CommandExpansion::NeedsApproval {
                commands: vec!["echo hi".into()],
                directory: "/work/p".into(),
            }),
            "sh" => Ok(CommandExpansion::Ready(ExpandedPrompt {
                text: "SH-OUT".into(),
                model: None,
            })),
            "bad" => Err(Problem::new(
                ErrorKind::Input,
                "/bad: cannot include @{x}: no such file",
            )),
            _ => Ok(CommandExpansion::NotFound),
        };
        unused(result)
    }

    fn custom_command_used(&self) {
        *self.used.lock().unwrap() += 1;
    }
}

fn harness(fake: &Arc<Fake>) -> Harness {
    let mut o = options();
    o.services = Some(fake.clone());
    Harness::with_options(o)
}

/// Delivers app events until the app sent some Ops; returns them.
async fn ops(h: &mut Harness) -> Vec<Op> {
    let mut got = Vec::new();
    h.pump_until(|h| {
        got.extend(h.sent());
        !got.is_empty()
    })
    .await;
    got
}

#[tokio::test]
async fn a_custom_command_is_sent_expanded_with_its_model_first() {
    let fake = Arc::new(Fake::default());
    let mut h = harness(&fake);
    h.submit("/fast the tests");
    assert_eq!(
        ops(&mut h).await,
        vec![
            Op::ModelForNextTurn {
                model: "fast-model".into()
            },
            Op::UserTurn {
                text: "EXPANDED the tests".into()
            },
        ]
    );
    assert!(
        h.scrollback_text().contains("/fast the tests"),
        "{}",
        h.scrollback_text()
    );
    assert_eq!(*fake.used.lock().unwrap(), 1);
    let req = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(req.args, "the tests");
    assert_eq!(req.mode, qcode_protocol::ApprovalMode::Default);
}

#[tokio::test]
async fn shell_commands_are_asked_about_and_declining_sends_nothing() {
    let fake = Arc::new(Fake::default());
    let mut h = harness(&fake);
    h.submit("/sh");
    h.pump_until(|h| h.frame(80, 20).contains("Allow this command?"))
        .await;
    let frame = h.frame(80, 20);
    assert!(frame.contains("$ echo hi"), "{frame}");
    assert!(frame.contains("/sh"), "{frame}");
    h.press(KeyCode::Char('n'));
    assert!(
        h.scrollback_text().contains("/sh cancelled"),
        "{}",
        h.scrollback_text()
    );
    assert!(h.sent().is_empty(), "declined: nothing was sent");
    assert_eq!(fake.requests.lock().unwrap().len(), 1, "not expanded again");

    h.submit("/sh");
    h.pump_until(|h| h.frame(80, 20).contains("Allow this command?"))
        .await;
    h.press(KeyCode::Char('y'));
    assert_eq!(
        ops(&mut h).await,
        vec![Op::UserTurn {
            text: "SH-OUT".into()
        }]
    );
    let last = fake.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.approved, vec!["echo hi".to_string()]);
    assert!(!last.for_session);
}

#[tokio::test]
async fn errors_and_unknown_names_send_nothing_and_a_running_turn_queues_the_command() {
    let fake = Arc::new(Fake::default());
    let mut h = harness(&fake);
    h.submit("/bad");
    h.pump_until(|h| h.scrollback_text().contains("nothing was sent"))
        .await;
    assert!(h.scrollback_text().contains("cannot include @{x}"));
    h.submit("/nosuch");
    h.pump_until(|h| h.scrollback_text().contains("Unknown command /nosuch"))
        .await;
    assert!(h.sent().is_empty());
    assert_eq!(*fake.used.lock().unwrap(), 0);

    // While a turn runs, the expanded command waits for it, its model with it.
    h.submit("plain");
    assert_eq!(
        h.sent(),
        vec![Op::UserTurn {
            text: "plain".into()
        }]
    );
    h.submit("/fast later");
    h.pump_until(|h| h.frame(80, 20).contains("Queued; it will be sent"))
        .await;
    assert!(h.sent().is_empty());
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: qcode_protocol::TurnOutcome::Completed,
    });
    assert_eq!(
        h.sent(),
        vec![
            Op::ModelForNextTurn {
                model: "fast-model".into()
            },
            Op::UserTurn {
                text: "EXPANDED later".into()
            },
        ]
    );
}

#[tokio::test]
async fn the_popup_shows_the_listed_commands_and_their_problems_are_shown() {
    let fake = Arc::new(Fake::default());
    let mut h = harness(&fake);
    h.type_str("/fa");
    h.pump_until(|h| h.frame(100, 20).contains("/fast <what>"))
        .await;
    assert!(h.frame(100, 20).contains("Quick [project]"));
    assert_eq!(
        h.scrollback_text()
            .matches("`help` is a built-in name")
            .count(),
        1
    );
}
