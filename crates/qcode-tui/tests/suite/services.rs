//! Slash commands backed by [`Services`], driven through the app with a fake implementation
//! that records every call: /auth (key form and Qwen sign-in), /model, /memory, /privacy,
//! /init, /tools, and the dialog that opens by itself on a first start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::KeyCode;
use futures::future::BoxFuture;
use qcode_protocol::{
    ApprovalMode, AuthKind, ErrorKind, Event, LoginEvent, Op, Problem, ProviderPreset,
};
use qcode_tui::{
    AgentInfo, AgentListing, ApiKeyInput, ExitReason, Overwrite, PrivacyStatus, RefreshedPrompt,
    RewindConflict, RewindEntry, RewindScope, Services, SessionEntry, ToolInfo, UsageStatistics,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::harness::{Harness, options};

/// How the fake Qwen sign-in ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LoginEnd {
    /// Waits until cancelled.
    WaitForCancel,
    Approve,
}

struct Fake {
    calls: Mutex<Vec<String>>,
    saved: Mutex<Vec<ApiKeyInput>>,
    models: Result<Vec<String>, Problem>,
    login_end: LoginEnd,
    login_cancel: Mutex<Option<CancellationToken>>,
    usage_on: Mutex<bool>,
    used: Mutex<Vec<&'static str>>,
    /// Requests for input the fake MCP servers make, in order.
    elicitations: Mutex<std::collections::VecDeque<qcode_tui::ElicitationPrompt>>,
}

impl Fake {
    fn new(login_end: LoginEnd) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(Vec::new()),
            saved: Mutex::new(Vec::new()),
            models: Ok(vec![
                "qwen3-coder-plus".into(),
                "qwen3-max".into(),
                "qwen3-coder-flash".into(),
            ]),
            login_end,
            login_cancel: Mutex::new(None),
            usage_on: Mutex::new(true),
            used: Mutex::new(Vec::new()),
            elicitations: Mutex::new(Default::default()),
        })
    }

    fn call(&self, c: &str) {
        self.calls.lock().unwrap().push(c.to_string());
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Services for Fake {
    fn command_used(&self, name: &'static str) {
        self.used.lock().unwrap().push(name);
    }

    fn list_models(&self, auth: AuthKind) -> BoxFuture<'_, Result<Vec<String>, Problem>> {
        self.call(&format!("list_models {}", auth.as_str()));
        Box::pin(async move { self.models.clone() })
    }

    fn provider_presets(&self) -> Vec<ProviderPreset> {
        vec![ProviderPreset {
            id: "openrouter",
            label: "OpenRouter",
            base_url: "https://openrouter.ai/api/v1",
            default_model: "qwen/qwen3-coder",
            key_hint: "OPENROUTER_API_KEY",
            needs_key: true,
        }]
    }

    fn qwen_login(
        &self,
        cancel: CancellationToken,
        progress: UnboundedSender<LoginEvent>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        self.call("qwen_login");
        *self.login_cancel.lock().unwrap() = Some(cancel.clone());
        Box::pin(async move {
            let _ = progress.send(LoginEvent::DeviceCode {
                verification_url: "https://chat.qwen.ai/authorize?user_code=ABCD-1234".into(),
                user_code: "ABCD-1234".into(),
                qr_lines: vec!["█▀▀▀█".into(), "█▄▄▄█".into()],
                expires_in: Duration::from_secs(600),
                browser_opened: false,
            });
            let _ = progress.send(LoginEvent::Waiting { seconds_left: 595 });
            match self.login_end {
                LoginEnd::Approve => Ok("/home/u/.qwen/oauth_creds.json".into()),
                LoginEnd::WaitForCancel => {
                    cancel.cancelled().await;
                    Err(Problem::new(ErrorKind::Interrupted, "sign-in cancelled"))
                }
            }
        })
    }

    fn save_api_key(&self, input: ApiKeyInput) -> BoxFuture<'_, Result<String, Problem>> {
        self.call("save_api_key");
        self.saved.lock().unwrap().push(input);
        Box::pin(async { Ok("/home/u/.qcode/credentials.json".into()) })
    }

    fn privacy_status(&self, log_lines: usize) -> BoxFuture<'_, PrivacyStatus> {
        self.call(&format!("privacy_status {log_lines}"));
        let on = *self.usage_on.lock().unwrap();
        Box::pin(async move {
            PrivacyStatus {
                text: format!(
                    "Usage statistics: {}\nDestination: http://localhost:4318",
                    if on { "on" } else { "off (settings)" }
                ),
                log: vec![r#"{"event":"qcode.session_start"}"#.into()],
            }
        })
    }

    fn set_usage_statistics(
        &self,
        choice: UsageStatistics,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        let on = choice == UsageStatistics::On;
        self.call(&format!("set_usage_statistics {on}"));
        *self.usage_on.lock().unwrap() = on;
        Box::pin(async { Ok("Usage statistics are off: nothing more is recorded or sent.".into()) })
    }

    fn list_agents(&self) -> BoxFuture<'_, Result<AgentListing, Problem>> {
        self.call("list_agents");
        Box::pin(async {
            Ok(AgentListing {
                agents: vec![AgentInfo {
                    name: "reviewer".into(),
                    description: "Reviews diffs.".into(),
                    source: "project .qcode/agents/reviewer.md".into(),
                    tools: "read_file, grep".into(),
                    model: "inherit".into(),
                }],
                problems: Vec::new(),
            })
        })
    }

    fn mcp_status(&self) -> BoxFuture<'_, String> {
        self.call("mcp_status");
        Box::pin(async {
            "MCP servers\n  srv (stdio, user settings): connected, 2 tools".to_string()
        })
    }

    fn next_elicitation(&self) -> BoxFuture<'_, Option<qcode_tui::ElicitationPrompt>> {
        let next = self.elicitations.lock().unwrap().pop_front();
        Box::pin(async move { next })
    }

    fn answer_elicitation(&self, id: u64, answer: qcode_protocol::elicitation::ElicitationAnswer) {
        self.call(&format!("answer_elicitation {id} {answer:?}"));
    }

    /// `srv` shows its URL and waits until cancelled; `ok` signs in at once; others fail.
    fn mcp_login(
        &self,
        name: String,
        cancel: CancellationToken,
        progress: UnboundedSender<String>,
    ) -> BoxFuture<'_, Result<String, Problem>> {
        self.call(&format!("mcp_login {name}"));
        Box::pin(async move {
            let _ = progress.send(format!("  http://127.0.0.1:9/authorize?server={name}"));
            match name.as_str() {
                "srv" => {
                    cancel.cancelled().await;
                    Err(Problem::new(
                        ErrorKind::Interrupted,
                        "signing in to `srv` was cancelled",
                    ))
                }
                "ok" => {
                    Ok("Signed in to `ok`.\nReconnected MCP server `ok`: connected, 1 tool".into())
                }
                _ => Err(Problem::new(
                    ErrorKind::Auth,
                    format!("signing in to `{name}` failed: access_denied"),
                )),
            }
        })
    }

    fn mcp_reconnect(&self, name: String) -> BoxFuture<'_, Result<String, Problem>> {
        self.call(&format!("mcp_reconnect {name}"));
        Box::pin(async move {
            if name == "srv" {
                Ok("Reconnected MCP server `srv`: connected, 2 tools".to_string())
            } else {
                Err(Problem::new(
                    qcode_protocol::ErrorKind::Input,
                    format!("no MCP server is called `{name}`"),
                ))
            }
        })
    }

    fn memory_show(&self) -> BoxFuture<'_, String> {
        self.call("memory_show");
        Box::pin(async { "Context files:\n  /home/u/.qcode/QWEN.md".to_string() })
    }

    fn memory_add(&self, fact: String) -> BoxFuture<'_, Result<String, Problem>> {
        self.call(&format!("memory_add {fact}"));
        Box::pin(async move { Ok(format!("Saved to memory: \"{fact}\"")) })
    }

    fn list_sessions(&self) -> BoxFuture<'_, Result<Vec<SessionEntry>, Problem>> {
        self.call("list_sessions");
        let entry = |id: &str, title: &str, turns| SessionEntry {
            id: id.into(),
            title: title.into(),
            when: "2 h ago".into(),
            turns,
            first_prompt: format!("{title} please"),
        };
        Box::pin(async move {
            Ok(vec![
                entry("aaaa1111-0000", "Fix the parser", 3),
                entry("bbbb2222-0000", "Write the lexer tests", 1),
            ])
        })
    }

    fn export_session(&self, file: Option<String>) -> BoxFuture<'_, Result<String, Problem>> {
        self.call(&format!("export_session {file:?}"));
        Box::pin(async move {
            Ok(format!(
                "Exported this session to {}",
                file.unwrap_or_default()
            ))
        })
    }

    fn rename_session(&self, title: String) -> BoxFuture<'_, Result<String, Problem>> {
        self.call(&format!("rename_session {title}"));
        Box::pin(async move { Ok(format!("Session renamed to \"{title}\"")) })
    }

    fn rewind_points(&self) -> BoxFuture<'_, Result<Vec<RewindEntry>, Problem>> {
        self.call("rewind_points");
        Box::pin(async {
            Ok(vec![
                RewindEntry {
                    turn: 1,
                    prompt: "make a plan".into(),
                    files: vec![],
                },
                RewindEntry {
                    turn: 2,
                    prompt: "write the code".into(),
                    files: vec!["src/lib.rs".into()],
                },
            ])
        })
    }

    fn memory_refresh(&self) -> BoxFuture<'_, Result<RefreshedPrompt, Problem>> {
        self.call("memory_refresh");
        Box::pin(async {
            Ok(RefreshedPrompt {
                system_prompt: "NEW SYSTEM PROMPT".into(),
                files: vec!["/home/u/.qcode/QWEN.md".into(), "/p/QWEN.md".into()],
            })
        })
    }
}

fn harness(fake: &Arc<Fake>) -> Harness {
    let mut o = options();
    o.services = Some(fake.clone());
    o.tools = vec![
        ToolInfo {
            name: "read_file".into(),
            description: "Reads a file.".into(),
            permission: "read-only".into(),
        },
        ToolInfo {
            name: "run_shell_command".into(),
            description: "Runs a shell command.".into(),
            permission: "execute".into(),
        },
    ];
    Harness::with_options(o)
}

#[tokio::test]
async fn auth_key_form_validates_saves_and_switches() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/auth");
    assert!(h.frame(80, 20).contains("› 1. Qwen OAuth"));
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    assert!(h.frame(80, 20).contains("OpenAI-compatible API key"));
    for _ in 0..3 {
        h.press(KeyCode::Tab);
    }
    h.type_str("sk-or-SECRET-42");
    let frame = h.frame(80, 20);
    assert!(!frame.contains("SECRET"), "{frame}");
    h.press(KeyCode::Enter);
    h.pump_until(|h| !h.frame(80, 20).contains("API key")).await;
    assert_eq!(
        *fake.saved.lock().unwrap(),
        vec![ApiKeyInput {
            base_url: "https://openrouter.ai/api/v1".into(),
            model: "qwen/qwen3-coder".into(),
            api_key: "sk-or-SECRET-42".into(),
        }]
    );
    assert_eq!(
        h.sent(),
        vec![Op::SwitchAuth {
            auth: AuthKind::Openai
        }]
    );
    assert!(
        h.scrollback_text()
            .contains("The API key works · saved to /home/u/.qcode/credentials.json"),
        "{}",
        h.scrollback_text()
    );
    // The engine switched, but to another model (e.g. one from the environment): the model
    // chosen in the form is set.
    h.engine(Event::SessionConfigured {
        model: "gpt-4.1".into(),
        auth: AuthKind::Openai,
        approval_mode: ApprovalMode::Default,
        cwd: "/".into(),
        context_window: None,
        session_id: None,
    });
    assert_eq!(
        h.sent(),
        vec![Op::SetModel {
            model: "qwen/qwen3-coder".into()
        }]
    );
    assert!(
        h.scrollback_text()
            .contains("Now using openai · model gpt-4.1")
    );
    assert!(!h.scrollback_text().contains("SECRET"));
    assert!(
        h.app.composer().is_empty(),
        "the key never reaches the prompt"
    );
}

#[tokio::test]
async fn a_key_saved_after_the_form_was_left_still_switches() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/auth");
    h.press(KeyCode::Char('2'));
    h.press(KeyCode::BackTab);
    h.type_str("sk-1");
    h.press(KeyCode::Enter);
    assert!(
        h.frame(80, 20)
            .contains("Checking the key with the provider…")
    );
    h.press(KeyCode::Esc);
    assert!(
        h.frame(80, 20).contains("› 1. Qwen OAuth"),
        "back to the chooser"
    );
    h.pump_until(|h| h.scrollback_text().contains("The API key works"))
        .await;
    assert_eq!(
        h.sent(),
        vec![Op::SwitchAuth {
            auth: AuthKind::Openai
        }]
    );
    assert!(
        h.frame(80, 20).contains("› 1. Qwen OAuth"),
        "the chooser the user went back to stays open"
    );
}

#[tokio::test]
async fn qwen_sign_in_shows_the_code_and_esc_cancels() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/auth");
    h.press(KeyCode::Enter);
    assert!(h.frame(80, 20).contains("Requesting a sign-in code…"));
    h.pump_until(|h| h.frame(80, 20).contains("Code: ABCD-1234"))
        .await;
    let frame = h.frame(80, 20);
    assert!(
        frame.contains("https://chat.qwen.ai/authorize?user_code=ABCD-1234"),
        "{frame}"
    );
    assert!(frame.contains("█▀▀▀█"), "{frame}");
    assert!(frame.contains("left"), "{frame}");
    let cancel = fake.login_cancel.lock().unwrap().clone().unwrap();
    assert!(!cancel.is_cancelled());
    h.press(KeyCode::Esc);
    assert!(cancel.is_cancelled(), "Esc cancels the sign-in");
    assert!(h.scrollback_text().contains("Sign-in cancelled"));
    assert!(!h.frame(80, 20).contains("Sign in with Qwen"));
    assert_eq!(h.sent(), vec![], "no switch after a cancelled sign-in");
    // The cancelled sign-in's late failure is dropped, not shown.
    tokio::time::sleep(Duration::from_millis(20)).await;
    while let Ok(ev) = h.app_rx.try_recv() {
        h.app.handle_app_event(ev);
    }
    h.flush();
    assert!(!h.scrollback_text().contains("Qwen sign-in failed"));
}

#[tokio::test]
async fn qwen_sign_in_success_switches_auth() {
    let fake = Fake::new(LoginEnd::Approve);
    let mut h = harness(&fake);
    h.submit("/auth");
    h.press(KeyCode::Char('1'));
    h.pump_until(|h| h.scrollback_text().contains("Signed in with Qwen OAuth"))
        .await;
    assert_eq!(
        h.sent(),
        vec![Op::SwitchAuth {
            auth: AuthKind::QwenOauth
        }]
    );
    assert!(
        h.scrollback_text()
            .contains("credentials saved to /home/u/.qwen/oauth_creds.json")
    );
    h.engine(Event::SessionConfigured {
        model: "coder-model".into(),
        auth: AuthKind::QwenOauth,
        approval_mode: ApprovalMode::Default,
        cwd: "/".into(),
        context_window: None,
        session_id: None,
    });
    assert_eq!(h.sent(), vec![], "no model override after Qwen OAuth");
    assert!(h.scrollback_text().contains("Now using qwen-oauth"));
}

#[tokio::test]
async fn model_picker_loads_the_list_and_sends_set_model() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/model");
    assert!(h.frame(80, 20).contains("Loading models…"));
    h.pump_until(|h| h.frame(80, 20).contains("qwen3-max"))
        .await;
    assert_eq!(fake.calls(), vec!["list_models qwen-oauth"]);
    // Sorted: qwen3-coder-flash, qwen3-coder-plus (current, selected), qwen3-max.
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    assert_eq!(
        h.sent(),
        vec![Op::SetModel {
            model: "qwen3-max".into()
        }]
    );
    h.submit("/model qwen3-coder-flash");
    assert_eq!(
        h.sent(),
        vec![Op::SetModel {
            model: "qwen3-coder-flash".into()
        }]
    );
}

#[tokio::test]
async fn memory_add_refreshes_the_system_prompt() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/memory add I prefer tabs");
    h.pump_until(|h| {
        h.sent().iter().any(|op| {
            *op == Op::SetSystemPrompt {
                text: "NEW SYSTEM PROMPT".into(),
            }
        })
    })
    .await;
    assert_eq!(
        fake.calls(),
        vec!["memory_add I prefer tabs", "memory_refresh"]
    );
    assert!(
        h.scrollback_text()
            .contains("Saved to memory: \"I prefer tabs\"")
    );
    h.engine(Event::SystemPromptUpdated);
    assert!(
        h.scrollback_text()
            .contains("Memory refreshed: 2 context files loaded")
    );
    h.submit("/memory show");
    h.pump_until(|h| h.scrollback_text().contains("/home/u/.qcode/QWEN.md"))
        .await;
    h.submit("/memory add");
    assert!(h.scrollback_text().contains("usage: /memory add <fact>"));
}

#[tokio::test]
async fn privacy_off_calls_the_service_and_shows_the_new_state() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/privacy");
    h.pump_until(|h| h.frame(80, 20).contains("Usage statistics: on"))
        .await;
    assert!(
        h.frame(80, 20)
            .contains(r#"{"event":"qcode.session_start"}"#)
    );
    h.press(KeyCode::Char('f'));
    h.pump_until(|h| h.frame(80, 20).contains("Usage statistics: off (settings)"))
        .await;
    assert_eq!(
        fake.calls(),
        vec![
            "privacy_status 10",
            "set_usage_statistics false",
            "privacy_status 10"
        ]
    );
    assert!(h.frame(80, 20).contains("✓ Usage statistics are off"));
    h.press(KeyCode::Esc);
    assert!(!h.frame(80, 20).contains("Privacy"));
}

#[tokio::test]
async fn privacy_on_and_off_as_arguments() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/privacy off");
    h.pump_until(|h| h.scrollback_text().contains("Usage statistics are off"))
        .await;
    assert_eq!(fake.calls(), vec!["set_usage_statistics false"]);
    h.submit("/privacy maybe");
    assert!(
        h.scrollback_text()
            .contains("Unknown /privacy argument \"maybe\"")
    );
}

#[test]
fn first_start_without_credentials_opens_auth() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut o = options();
    o.services = Some(fake.clone());
    o.open_auth_at_start = true;
    let mut h = Harness::with_options(o);
    let frame = h.frame(80, 20);
    assert!(frame.contains("You are not signed in yet."), "{frame}");
    assert!(frame.contains("› 1. Qwen OAuth"), "{frame}");
    assert!(
        !frame.contains("Ask anything"),
        "the dialog replaces the prompt"
    );
    h.press(KeyCode::Esc);
    assert!(h.frame(80, 20).contains("Ask anything"));
}

#[test]
fn signed_out_first_start_snapshot() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut o = options();
    o.services = Some(fake.clone());
    o.open_auth_at_start = true;
    let mut h = Harness::with_options(o);
    insta::assert_snapshot!(h.frame(80, 20));
}

#[test]
fn tools_and_init() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let dir = tempfile::tempdir().unwrap();
    let mut o = options();
    o.services = Some(fake.clone());
    o.tools = vec![ToolInfo {
        name: "run_shell_command".into(),
        description: "Runs a shell command.".into(),
        permission: "execute".into(),
    }];
    o.cwd = dir.path().to_path_buf();
    let mut h = Harness::with_options(o);
    h.submit("/tools");
    assert!(
        h.scrollback_text()
            .contains("  run_shell_command  execute  Runs a shell command."),
        "{}",
        h.scrollback_text()
    );
    h.submit("/init");
    let sent = h.sent();
    assert!(
        matches!(&sent[..], [Op::UserTurn { text }] if text.contains("QWEN.md") && text.contains("Build and test")),
        "{sent:?}"
    );
    h.engine(Event::TurnComplete {
        turn_id: 1,
        outcome: qcode_protocol::TurnOutcome::Completed,
    });
    // With a QWEN.md present, /init asks first.
    std::fs::write(dir.path().join("QWEN.md"), "# old").unwrap();
    h.submit("/init");
    assert!(h.frame(80, 20).contains("QWEN.md already exists"));
    assert_eq!(h.sent(), vec![]);
    h.press(KeyCode::Char('n'));
    assert_eq!(h.sent(), vec![]);
    h.submit("/init");
    h.press(KeyCode::Char('y'));
    assert!(matches!(&h.sent()[..], [Op::UserTurn { .. }]));
}

#[test]
fn commands_without_services_say_so() {
    let mut h = Harness::new();
    h.submit("/privacy");
    assert!(
        h.scrollback_text()
            .contains("/privacy is not available in this session")
    );
}

#[test]
fn built_in_commands_are_reported_by_canonical_name_only() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/tools");
    h.submit("/exit");
    h.submit("/nonsense-secret-word");
    assert_eq!(*fake.used.lock().unwrap(), vec!["tools", "quit"]);
}

#[tokio::test]
async fn agents_lists_the_definitions_from_the_services() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/agents");
    h.pump_until(|h| h.scrollback_text().contains("Subagents (1)"))
        .await;
    let text = h.scrollback_text();
    assert!(
        text.contains("reviewer  project .qcode/agents/reviewer.md"),
        "{text}"
    );
    assert!(
        text.contains("tools: read_file, grep · model: inherit"),
        "{text}"
    );
    assert_eq!(fake.calls(), vec!["list_agents"]);
    assert_eq!(*fake.used.lock().unwrap(), vec!["agents"]);
    let mut bare = Harness::new();
    bare.submit("/agents");
    assert!(
        bare.scrollback_text()
            .contains("/agents is not available in this session")
    );
}

#[tokio::test]
async fn the_model_list_follows_the_auth_method_the_engine_reports() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.engine(Event::SessionConfigured {
        model: "qwen3-coder-plus".into(),
        auth: AuthKind::Openai,
        approval_mode: ApprovalMode::Default,
        cwd: "/".into(),
        context_window: None,
        session_id: None,
    });
    h.submit("/model");
    h.pump_until(|h| h.frame(80, 20).contains("qwen3-max"))
        .await;
    assert_eq!(fake.calls(), vec!["list_models openai"]);
}

#[tokio::test]
async fn a_failed_model_list_shows_the_problem_and_its_hint() {
    let mut fake = Fake::new(LoginEnd::WaitForCancel);
    Arc::get_mut(&mut fake).unwrap().models =
        Err(Problem::new(ErrorKind::Auth, "401 invalid key").with_hint("run /auth"));
    let mut h = harness(&fake);
    h.submit("/model");
    h.pump_until(|h| !h.frame(80, 20).contains("Loading models…"))
        .await;
    let frame = h.frame(80, 20);
    assert!(
        frame.contains("✗ Cannot list models: 401 invalid key; run /auth"),
        "{frame}"
    );
}

#[tokio::test]
async fn resume_picker_filters_and_enter_switches() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/resume");
    h.pump_until(|h| h.frame(100, 20).contains("Fix the parser"))
        .await;
    let frame = h.frame(100, 20);
    insta::assert_snapshot!("resume_picker", frame);
    assert!(frame.contains("Resume a session"), "{frame}");
    assert!(
        frame.contains("2 h ago · 3 turns · Fix the parser please"),
        "{frame}"
    );
    h.type_str("lexer");
    let frame = h.frame(100, 20);
    assert!(!frame.contains("Fix the parser"), "{frame}");
    assert!(frame.contains("Write the lexer tests"), "{frame}");
    h.type_str(" nothing");
    assert!(h.frame(100, 20).contains("no matching session"));
    h.press(KeyCode::Enter);
    assert_eq!(h.app.exit_reason(), None, "Enter on no match does nothing");
    for _ in 0.." nothing".len() {
        h.press(KeyCode::Backspace);
    }
    h.press(KeyCode::Enter);
    assert_eq!(
        h.app.exit_reason(),
        Some(ExitReason::Switch("bbbb2222-0000".into()))
    );
    assert!(h.sent().contains(&Op::Shutdown));
}

#[tokio::test]
async fn resume_picker_esc_closes_it() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut o = options();
    o.services = Some(fake.clone());
    o.open_resume_at_start = true;
    let mut h = Harness::with_options(o);
    h.pump_until(|h| h.frame(100, 20).contains("Fix the parser"))
        .await;
    h.press(KeyCode::Esc);
    assert!(!h.frame(100, 20).contains("Fix the parser"));
    assert_eq!(h.app.exit_reason(), None);
    assert_eq!(fake.calls(), vec!["list_sessions"]);
}

#[tokio::test]
async fn export_and_rename_call_the_services() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/export");
    h.pump_until(|h| h.scrollback_text().contains("Exported this session"))
        .await;
    h.submit("/export notes.md");
    h.pump_until(|h| h.scrollback_text().contains("to notes.md"))
        .await;
    // Enter on the completion puts "/rename " in the prompt (it needs a title); Enter again.
    h.submit("/rename");
    assert_eq!(h.app.composer().text(), "/rename ");
    h.press(KeyCode::Enter);
    assert!(h.scrollback_text().contains("/rename needs a title"));
    h.submit("/rename Parser work");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("Session renamed to \"Parser work\"")
    })
    .await;
    assert_eq!(
        fake.calls(),
        vec![
            "export_session None",
            "export_session Some(\"notes.md\")",
            "rename_session Parser work"
        ]
    );
}

#[tokio::test]
async fn rewind_picker_then_scope_ends_with_the_rewind() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/rewind");
    h.pump_until(|h| h.frame(100, 20).contains("write the code"))
        .await;
    let frame = h.frame(100, 20);
    insta::assert_snapshot!("rewind_picker", frame);
    // Newest first, with the files the turn changed.
    let newest = frame.find("2. write the code").unwrap();
    let oldest = frame.find("1. make a plan").unwrap();
    assert!(newest < oldest, "{frame}");
    assert!(frame.contains("1 file: src/lib.rs"), "{frame}");
    h.press(KeyCode::Enter);
    let frame = h.frame(100, 20);
    assert!(frame.contains("before prompt 2: restore what?"), "{frame}");
    h.press(KeyCode::Down);
    h.press(KeyCode::Enter);
    assert_eq!(
        h.app.exit_reason(),
        Some(ExitReason::Rewind {
            turn: 2,
            scope: RewindScope::ConversationOnly,
            overwrite: Overwrite::Refuse,
            prompt: "write the code".into(),
        })
    );
}

#[tokio::test]
async fn a_refused_rewind_asks_before_overwriting() {
    let mut o = options();
    o.rewind_conflict = Some(RewindConflict {
        turn: 3,
        scope: RewindScope::Both,
        paths: vec!["src/main.rs".into()],
    });
    let mut h = Harness::with_options(o.clone());
    assert!(h.scrollback_text().contains("src/main.rs"));
    assert!(
        h.frame(100, 20)
            .contains("Overwrite the files changed outside qcode?")
    );
    // "cancel" is preselected.
    h.press(KeyCode::Enter);
    assert_eq!(h.app.exit_reason(), None);
    assert!(h.scrollback_text().contains("Rewind cancelled"));
    let mut h = Harness::with_options(o);
    h.press(KeyCode::Up);
    h.press(KeyCode::Enter);
    assert_eq!(
        h.app.exit_reason(),
        Some(ExitReason::Rewind {
            turn: 3,
            scope: RewindScope::Both,
            overwrite: Overwrite::Confirmed,
            prompt: String::new(),
        })
    );
}

#[tokio::test]
async fn start_notices_and_initial_input_are_shown() {
    let mut o = options();
    o.start_notices = vec!["No earlier session in this project to continue".into()];
    o.initial_input = Some("write the code".into());
    o.session_label = Some("resumed 1a2b3c4d".into());
    let mut h = Harness::with_options(o);
    assert!(
        h.scrollback_text()
            .contains("No earlier session in this project to continue")
    );
    assert_eq!(h.app.composer().text(), "write the code");
    assert!(h.frame(100, 20).contains("resumed 1a2b3c4d"));
    h.engine(Event::HistoryCleared);
    assert!(
        !h.frame(100, 20).contains("resumed 1a2b3c4d"),
        "/clear starts a new session"
    );
}

#[tokio::test]
async fn slash_mcp_lists_and_reconnects_servers_through_the_services() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    // A bare `/mcp` runs from the completion popup (its argument is optional).
    h.submit("/mcp");
    h.pump_until(|h| h.scrollback_text().contains("srv (stdio, user settings)"))
        .await;
    h.submit("/mcp reconnect srv");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("Reconnected MCP server `srv`: connected, 2 tools")
    })
    .await;
    h.submit("/mcp reconnect nope");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("no MCP server is called `nope`")
    })
    .await;
    // Bad arguments never reach the services.
    h.submit("/mcp reconnect");
    assert!(
        h.scrollback_text()
            .contains("/mcp reconnect needs the name of one server")
    );
    h.submit("/mcp restart srv");
    assert!(
        h.scrollback_text()
            .contains("Unknown /mcp subcommand \"restart\"")
    );
    assert_eq!(
        fake.calls(),
        vec!["mcp_status", "mcp_reconnect srv", "mcp_reconnect nope"]
    );
}

/// `/mcp login NAME` runs in the background: its lines show as they come, the prompt stays
/// usable, Esc cancels the wait (and nothing else), success and failure are shown as they are.
#[tokio::test]
async fn slash_mcp_login_shows_its_progress_and_esc_cancels_it() {
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let mut h = harness(&fake);
    h.submit("/mcp login srv");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("http://127.0.0.1:9/authorize?server=srv")
    })
    .await;
    // The composer still takes input while the sign-in waits.
    h.type_str("draft");
    assert!(h.frame(100, 20).contains("draft"));
    h.press(KeyCode::Esc);
    h.ctrl('c');
    // Started again before the first one has ended: the first one's end leaves it running.
    h.submit("/mcp login srv");
    h.pump_until(|h| {
        let text = h.scrollback_text();
        text.contains("signing in to `srv` was cancelled")
            && text.matches("authorize?server=srv").count() == 2
    })
    .await;
    h.press(KeyCode::Esc);
    h.pump_until(|h| {
        h.scrollback_text()
            .matches("signing in to `srv` was cancelled")
            .count()
            == 2
    })
    .await;
    assert!(h.sent().is_empty(), "Esc only cancelled the sign-in");
    h.submit("/mcp login ok");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("Reconnected MCP server `ok`: connected, 1 tool")
    })
    .await;
    h.submit("/mcp login bad");
    h.pump_until(|h| {
        h.scrollback_text()
            .contains("signing in to `bad` failed: access_denied")
    })
    .await;
    // Bad arguments never reach the services.
    h.submit("/mcp login");
    h.submit("/mcp login a b");
    assert_eq!(
        h.scrollback_text()
            .matches("/mcp login needs the name of one server")
            .count(),
        2
    );
    assert_eq!(
        fake.calls(),
        vec![
            "mcp_login srv",
            "mcp_login srv",
            "mcp_login ok",
            "mcp_login bad"
        ]
    );
}

#[tokio::test]
async fn requests_for_input_open_one_dialog_at_a_time_and_every_one_is_answered() {
    use qcode_protocol::elicitation::parse_schema;
    let fake = Fake::new(LoginEnd::WaitForCancel);
    let prompt = |id, message: &str, schema| qcode_tui::ElicitationPrompt {
        id,
        server: "srv".into(),
        message: message.into(),
        fields: parse_schema(&schema).unwrap(),
    };
    {
        let mut queue = fake.elicitations.lock().unwrap();
        queue.push_back(prompt(
            1,
            "Who are you?",
            serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}},
                               "required": ["name"]}),
        ));
        queue.push_back(prompt(
            2,
            "Agree?",
            serde_json::json!({"type": "object", "properties": {"ok": {"type": "boolean"}}}),
        ));
        queue.push_back(prompt(3, "Third", serde_json::json!({"type": "object"})));
    }
    let mut h = harness(&fake);
    h.app.after_first_frame();
    h.pump_until(|h| h.frame(100, 30).contains("Who are you?"))
        .await;
    let frame = h.frame(100, 30);
    assert!(frame.contains("MCP server `srv` asks for input"), "{frame}");
    assert!(frame.contains("not from qcode"), "{frame}");
    // The others arrive while it is open, and wait until it is answered.
    while !fake.elicitations.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    while let Ok(ev) = h.app_rx.try_recv() {
        h.app.handle_app_event(ev);
    }
    assert!(h.frame(100, 30).contains("Who are you?"));
    h.press(KeyCode::Enter);
    assert!(h.frame(100, 30).contains("name is required"));
    h.type_str("Ada");
    h.press(KeyCode::Enter);
    h.pump_until(|h| h.frame(100, 30).contains("Agree?")).await;
    h.press(KeyCode::Esc);
    h.pump_until(|h| h.frame(100, 30).contains("Third")).await;
    // Closed another way (Ctrl+C closes a dialog): cancelled, the server is never left
    // waiting.
    h.ctrl('c');
    assert!(!h.frame(100, 30).contains("asks for input"));
    let answers: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("answer_elicitation"))
        .collect();
    assert_eq!(
        answers,
        vec![
            r#"answer_elicitation 1 Accept({"name": String("Ada")})"#,
            "answer_elicitation 2 Cancel",
            "answer_elicitation 3 Cancel",
        ]
    );
}
