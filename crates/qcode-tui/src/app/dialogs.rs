//! Dialogs and service calls: opening `/auth`, `/model`, `/privacy` and the `/init`
//! confirmation, carrying out their actions, running [`crate::Services`] calls on spawned tasks
//! and applying their replies (which arrive as [`AppEvent::Service`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::KeyEvent;
use qcode_protocol::{AuthKind, LoginEvent, Op, Problem};
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use super::dialog_stack::PendingSwitch;
use super::{App, AppEvent};
use crate::dialog::{
    AuthChooser, Dialog, DialogAction, ElicitationForm, KeyForm, LoginView, ModelPicker,
    PrivacyView,
};
use crate::services::{PrivacyStatus, RefreshedPrompt, Services, UsageStatistics};
use crate::transcript::{Cell, NoticeKind};

/// Audit-log events the privacy view shows.
const PRIVACY_LOG_LINES: usize = 10;

/// A finished (or progressing) service call.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceReply {
    Models(Result<Vec<String>, Problem>),
    Login(LoginEvent),
    /// Where the credentials were saved, or why signing in failed.
    LoginDone(Result<String, Problem>),
    /// The key form's model, and where the key was saved or why it was not.
    KeySaved {
        model: String,
        result: Result<String, Problem>,
    },
    Privacy(PrivacyStatus),
    PrivacySet(Result<String, Problem>),
    MemoryShown(String),
    /// `/mcp`'s text.
    McpShown(String),
    /// `/mcp reconnect NAME`: the server's new state, or why it could not be reconnected.
    McpReconnected(Result<String, Problem>),
    /// `/mcp login NAME`: a line to show while it runs (the URL to open among them).
    McpLoginProgress(String),
    /// `/mcp login NAME`: signed in and reconnected (what to show), or the exact failure.
    McpLoginDone(u64, Result<String, Problem>),
    MemoryAdded(Result<String, Problem>),
    MemoryRefreshed(Result<RefreshedPrompt, Problem>),
    /// `/resume`: this project's sessions.
    Sessions(Result<Vec<crate::SessionEntry>, Problem>),
    /// `/export`: where it wrote.
    Exported(Result<String, Problem>),
    /// `/rename`: the confirmation.
    Renamed(Result<String, Problem>),
    /// `/rewind`: the prompts of this session.
    RewindPoints(Result<Vec<crate::RewindEntry>, Problem>),
    /// `/agents`: the subagent definitions.
    Agents(Result<crate::AgentListing, Problem>),
    /// The custom commands and MCP prompts.
    CustomCommands(crate::CustomCommands),
    /// A custom command or MCP prompt expanded (or why not); `suggestion` is the built-in
    /// named if it turns out to be no command at all.
    CommandExpanded {
        request: crate::CommandRequest,
        suggestion: Option<&'static str>,
        result: Result<crate::CommandExpansion, Problem>,
    },
    /// `/skills`.
    Skills(crate::SkillList),
    /// An MCP server asks for input.
    Elicitation(crate::services::ElicitationPrompt),
}

impl App {
    pub(crate) fn services(&mut self, command: &str) -> Option<Arc<dyn Services>> {
        let s = self.options.services.clone();
        if s.is_none() {
            self.notice(
                NoticeKind::Error,
                format!("/{command} is not available in this session"),
                None,
            );
        }
        s
    }

    /// Opens `dialog` (closing the one open) and closes the popup; returns its id.
    pub(crate) fn open_dialog(&mut self, dialog: Dialog) -> u64 {
        self.cancel_open_elicitation();
        let id = self.dialogs.open(dialog);
        self.prompt.close_popup();
        self.dirty = true;
        id
    }

    /// Closes the dialog, cancelling a sign-in that is still running.
    pub(crate) fn close_dialog(&mut self) -> bool {
        self.cancel_open_elicitation();
        self.dialogs.close()
    }

    // ---- MCP elicitation -------------------------------------------------------------------

    /// Starts waiting for the servers' requests for input (each becomes a dialog).
    pub(crate) fn listen_for_elicitations(&mut self) {
        let (Some(s), Ok(h)) = (
            self.options.services.clone(),
            tokio::runtime::Handle::try_current(),
        ) else {
            return;
        };
        let tx = self.app_tx.clone();
        h.spawn(async move {
            while let Some(prompt) = s.next_elicitation().await {
                let reply = ServiceReply::Elicitation(prompt);
                if tx.send(AppEvent::Service { id: 0, reply }).is_err() {
                    break;
                }
            }
        });
    }

    /// Shows a request for input now, or after the one being answered.
    fn elicitation_arrived(&mut self, prompt: crate::services::ElicitationPrompt) {
        if matches!(self.dialogs.get(), Some(Dialog::Elicitation(_))) {
            self.waiting_elicitations.push_back(prompt);
        } else {
            self.open_dialog(Dialog::Elicitation(ElicitationForm::new(prompt)));
        }
    }

    fn answer_elicitation(
        &mut self,
        id: u64,
        answer: qcode_protocol::elicitation::ElicitationAnswer,
    ) {
        if let Some(s) = &self.options.services {
            s.answer_elicitation(id, answer);
        }
        self.dialogs.close();
        if let Some(next) = self.waiting_elicitations.pop_front() {
            self.open_dialog(Dialog::Elicitation(ElicitationForm::new(next)));
        }
    }

    /// An elicitation dialog closed without an answer (another dialog replaced it) is
    /// cancelled, so the server's call is never left waiting.
    fn cancel_open_elicitation(&mut self) {
        if let Some(Dialog::Elicitation(form)) = self.dialogs.get()
            && let Some(s) = &self.options.services
        {
            s.answer_elicitation(
                form.id,
                qcode_protocol::elicitation::ElicitationAnswer::Cancel,
            );
        }
    }

    /// Runs `work` on the runtime and delivers its reply for dialog `id`.
    pub(crate) fn spawn_reply<F>(&mut self, id: u64, work: F)
    where
        F: Future<Output = ServiceReply> + Send + 'static,
    {
        let tx = self.app_tx.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    let reply = work.await;
                    let _ = tx.send(AppEvent::Service { id, reply });
                });
            }
            Err(_) => self.notice(
                NoticeKind::Error,
                "Cannot run this command here (no async runtime)",
                None,
            ),
        }
    }

    // ---- /auth ---------------------------------------------------------------------------

    pub(crate) fn open_auth(&mut self, reason: Option<String>) {
        if self.services("auth").is_some() {
            self.open_dialog(Dialog::AuthChooser(AuthChooser::new(reason)));
        }
    }

    fn start_qwen_login(&mut self) {
        let Some(s) = self.services("auth") else {
            return;
        };
        let cancel = CancellationToken::new();
        let id = self.open_dialog(Dialog::QwenLogin(LoginView::new(cancel.clone())));
        let tx = self.app_tx.clone();
        self.spawn_reply(id, async move {
            let (progress, mut events) = unbounded_channel();
            let login = s.qwen_login(cancel, progress);
            tokio::pin!(login);
            let result = loop {
                tokio::select! {
                    biased;
                    Some(event) = events.recv() => {
                        let _ = tx.send(AppEvent::Service { id, reply: ServiceReply::Login(event) });
                    }
                    r = &mut login => break r,
                }
            };
            while let Ok(event) = events.try_recv() {
                let _ = tx.send(AppEvent::Service {
                    id,
                    reply: ServiceReply::Login(event),
                });
            }
            ServiceReply::LoginDone(result)
        });
    }

    fn open_key_form(&mut self) {
        if let Some(s) = self.services("auth") {
            self.open_dialog(Dialog::ApiKey(KeyForm::new(s.provider_presets())));
        }
    }

    fn switch_auth(&mut self, auth: AuthKind, model: Option<String>) {
        self.send(Op::SwitchAuth { auth });
        self.dialogs.expect_switch(PendingSwitch { auth, model });
    }

    /// The engine answered an auth switch with `SessionConfigured`.
    pub(crate) fn auth_switched(&mut self, auth: AuthKind, model: &str) {
        let Some(pending) = self.dialogs.take_switch() else {
            return;
        };
        if pending.auth != auth {
            return;
        }
        self.notice(
            NoticeKind::Info,
            format!("Now using {} · model {model}", auth.as_str()),
            None,
        );
        if let Some(chosen) = pending.model
            && chosen != model
        {
            self.set_model(&chosen);
        }
    }

    /// The engine refused a switch (its error is shown as usual).
    pub(crate) fn auth_switch_failed(&mut self) {
        let _ = self.dialogs.take_switch();
    }

    // ---- /model --------------------------------------------------------------------------

    pub(crate) fn open_model_dialog(&mut self, services: Arc<dyn Services>) {
        let id = self.open_dialog(Dialog::Model(ModelPicker::new(&self.status.model)));
        // The method shown is the one the engine last reported (`SessionConfigured`).
        let auth = self.status.auth;
        self.spawn_reply(id, async move {
            ServiceReply::Models(services.list_models(auth).await)
        });
    }

    // ---- /privacy ------------------------------------------------------------------------

    pub(crate) fn open_privacy(&mut self) {
        let Some(s) = self.services("privacy") else {
            return;
        };
        let id = self.open_dialog(Dialog::Privacy(PrivacyView::new()));
        self.spawn_reply(id, async move {
            ServiceReply::Privacy(s.privacy_status(PRIVACY_LOG_LINES).await)
        });
    }

    /// `/privacy on|off`: changes the setting without opening the view.
    pub(crate) fn privacy_set(&mut self, choice: UsageStatistics) {
        if let Some(s) = self.services("privacy") {
            self.spawn_reply(0, async move {
                ServiceReply::PrivacySet(s.set_usage_statistics(choice).await)
            });
        }
    }

    // ---- /memory -------------------------------------------------------------------------

    pub(crate) fn memory_command(&mut self, args: &str) {
        let (sub, rest) = match args.split_once(char::is_whitespace) {
            Some((a, b)) => (a, b.trim()),
            None => (args, ""),
        };
        match sub {
            "" | "show" | "list" => {
                if let Some(s) = self.services("memory") {
                    self.spawn_reply(0, async move {
                        ServiceReply::MemoryShown(s.memory_show().await)
                    });
                }
            }
            "add" if rest.is_empty() => self.notice(
                NoticeKind::Error,
                "Nothing to remember",
                Some("usage: /memory add <fact>".into()),
            ),
            "add" => {
                if let Some(s) = self.services("memory") {
                    let fact = rest.to_string();
                    self.spawn_reply(0, async move {
                        ServiceReply::MemoryAdded(s.memory_add(fact).await)
                    });
                }
            }
            "refresh" | "reload" => self.memory_refresh(),
            other => self.notice(
                NoticeKind::Error,
                format!("Unknown /memory subcommand \"{other}\""),
                Some("use /memory show, /memory add <fact> or /memory refresh".into()),
            ),
        }
    }

    // ---- /mcp ----------------------------------------------------------------------------

    /// `/mcp` lists the servers; `/mcp reconnect NAME` restarts one; `/mcp login NAME` signs
    /// in to one.
    pub(crate) fn mcp_command(&mut self, args: &str) {
        let mut words = args.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (None, _, _) | (Some("list"), None, _) => {
                if let Some(s) = self.services("mcp") {
                    self.spawn_reply(
                        0,
                        async move { ServiceReply::McpShown(s.mcp_status().await) },
                    );
                }
            }
            (Some("reconnect"), Some(name), None) => {
                if let Some(s) = self.services("mcp") {
                    let name = name.to_string();
                    self.notice(
                        NoticeKind::Info,
                        format!("Reconnecting MCP server `{name}`…"),
                        None,
                    );
                    self.spawn_reply(0, async move {
                        ServiceReply::McpReconnected(s.mcp_reconnect(name).await)
                    });
                }
            }
            (Some("login"), Some(name), None) => self.start_mcp_login(name.to_string()),
            (Some("login"), _, _) => self.notice(
                NoticeKind::Error,
                "/mcp login needs the name of one server",
                Some("/mcp lists them; then /mcp login NAME".into()),
            ),
            (Some("reconnect"), _, _) => self.notice(
                NoticeKind::Error,
                "/mcp reconnect needs the name of one server",
                Some("/mcp lists them; then /mcp reconnect NAME".into()),
            ),
            (Some(other), _, _) => self.notice(
                NoticeKind::Error,
                format!("Unknown /mcp subcommand \"{other}\""),
                Some("use /mcp, /mcp reconnect NAME or /mcp login NAME".into()),
            ),
        }
    }

    /// Runs `/mcp login NAME` in the background: its lines (the URL to open) become notices
    /// as they come; Esc / Ctrl-C cancel it ([`App::cancel_mcp_login`]).
    fn start_mcp_login(&mut self, name: String) {
        if self.mcp_login.is_some() {
            self.notice(
                NoticeKind::Error,
                "A sign-in is already waiting for its browser",
                Some("Esc cancels it".into()),
            );
            return;
        }
        let Some(s) = self.services("mcp") else {
            return;
        };
        let cancel = CancellationToken::new();
        self.mcp_logins += 1;
        let login_id = self.mcp_logins;
        self.mcp_login = Some((login_id, cancel.clone()));
        self.set_hint("Esc cancels the sign-in");
        let tx = self.app_tx.clone();
        self.spawn_reply(0, async move {
            let (progress, mut lines) = unbounded_channel();
            let login = s.mcp_login(name, cancel, progress);
            tokio::pin!(login);
            let send = |line| {
                let _ = tx.send(AppEvent::Service {
                    id: 0,
                    reply: ServiceReply::McpLoginProgress(line),
                });
            };
            let result = loop {
                tokio::select! {
                    biased;
                    Some(line) = lines.recv() => send(line),
                    r = &mut login => break r,
                }
            };
            while let Ok(line) = lines.try_recv() {
                send(line);
            }
            ServiceReply::McpLoginDone(login_id, result)
        });
    }

    /// Esc / Ctrl-C while a `/mcp login` waits: cancels it; false if none is running.
    pub(crate) fn cancel_mcp_login(&mut self) -> bool {
        match self.mcp_login.take() {
            Some((_, cancel)) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    fn memory_refresh(&mut self) {
        if let Some(s) = self.services("memory") {
            self.spawn_reply(0, async move {
                ServiceReply::MemoryRefreshed(s.memory_refresh().await)
            });
        }
    }

    /// The engine confirmed a new system prompt.
    pub(crate) fn system_prompt_updated(&mut self) {
        if let Some(n) = self.dialogs.take_refresh() {
            let files = if n == 1 { "file" } else { "files" };
            self.notice(
                NoticeKind::Info,
                format!("Memory refreshed: {n} context {files} loaded"),
                None,
            );
        }
    }

    // ---- keys and replies ----------------------------------------------------------------

    /// Keys while a dialog is open; returns false when none is.
    pub(crate) fn dialog_key(&mut self, key: KeyEvent) -> bool {
        let Some(dialog) = self.dialogs.get_mut() else {
            return false;
        };
        let action = dialog.handle_key(key);
        self.apply_dialog_action(action);
        true
    }

    pub(crate) fn dialog_paste(&mut self, text: &str) -> bool {
        match self.dialogs.get_mut() {
            Some(d) => {
                d.paste(text);
                true
            }
            None => false,
        }
    }

    fn apply_dialog_action(&mut self, action: DialogAction) {
        match action {
            DialogAction::None => {}
            DialogAction::Close => {
                self.close_dialog();
            }
            DialogAction::ChooseQwen => self.start_qwen_login(),
            DialogAction::ChooseApiKey => self.open_key_form(),
            DialogAction::BackToChooser => self.open_auth(None),
            DialogAction::CancelLogin => {
                self.close_dialog();
                self.notice(NoticeKind::Info, "Sign-in cancelled", None);
            }
            DialogAction::SaveKey(input) => {
                let Some(s) = self.services("auth") else {
                    return;
                };
                let id = self.dialogs.current_id();
                let model = input.model.clone();
                self.spawn_reply(id, async move {
                    ServiceReply::KeySaved {
                        model,
                        result: s.save_api_key(input).await,
                    }
                });
            }
            DialogAction::PickModel(model) => {
                self.close_dialog();
                self.set_model(&model);
            }
            DialogAction::SetUsageStatistics(choice) => {
                let Some(s) = self.services("privacy") else {
                    return;
                };
                let id = self.dialogs.current_id();
                self.spawn_reply(id, async move {
                    ServiceReply::PrivacySet(s.set_usage_statistics(choice).await)
                });
            }
            DialogAction::ConfirmInit => {
                self.close_dialog();
                self.send_init();
            }
            DialogAction::CommandShell(decision) => self.command_shell_decided(decision),
            DialogAction::AnswerElicitation { id, answer } => self.answer_elicitation(id, answer),
        }
    }

    pub(crate) fn handle_service_reply(&mut self, id: u64, reply: ServiceReply) {
        let current = self.dialogs.is_current(id);
        match reply {
            ServiceReply::CustomCommands(list) => self.custom_commands_listed(list),
            ServiceReply::CommandExpanded {
                request,
                suggestion,
                result,
            } => self.custom_expanded(request, suggestion, result),
            ServiceReply::Skills(skills) => self.skills_listed(skills),
            ServiceReply::Sessions(result) => self.sessions_listed(result),
            ServiceReply::Elicitation(prompt) => self.elicitation_arrived(prompt),
            ServiceReply::Exported(result) => self.session_result("Export", result),
            ServiceReply::Renamed(result) => self.session_result("Rename", result),
            ServiceReply::RewindPoints(result) => self.rewind_points_listed(result),
            ServiceReply::Agents(result) => self.agents_listed(result),
            ServiceReply::Models(result) => {
                if let (true, Some(Dialog::Model(p))) = (current, self.dialogs.get_mut()) {
                    p.loaded(result);
                }
            }
            ServiceReply::Login(event) => {
                if let (true, Some(Dialog::QwenLogin(v))) = (current, self.dialogs.get_mut()) {
                    v.apply(event, Instant::now());
                }
            }
            ServiceReply::LoginDone(result) => {
                if !current {
                    return;
                }
                match result {
                    Ok(saved) => {
                        self.close_dialog();
                        self.notice(
                            NoticeKind::Info,
                            format!("Signed in with Qwen OAuth · credentials saved to {saved}"),
                            None,
                        );
                        self.switch_auth(AuthKind::QwenOauth, None);
                    }
                    Err(e) => {
                        let e = e.one_line();
                        if let Some(Dialog::QwenLogin(v)) = self.dialogs.get_mut() {
                            v.fail(e.clone());
                        }
                        self.notice(NoticeKind::Error, format!("Qwen sign-in failed: {e}"), None);
                    }
                }
            }
            ServiceReply::KeySaved { model, result } => match result {
                // Saved even if the form was closed meanwhile: the session follows the file.
                Ok(saved) => {
                    if current {
                        self.close_dialog();
                    }
                    self.notice(
                        NoticeKind::Info,
                        format!("The API key works · saved to {saved}"),
                        None,
                    );
                    self.switch_auth(AuthKind::Openai, Some(model));
                }
                Err(e) => match (current, self.dialogs.get_mut()) {
                    (true, Some(Dialog::ApiKey(f))) => f.fail(e.one_line()),
                    _ => self.notice(
                        NoticeKind::Error,
                        format!("The API key was not saved: {}", e.one_line()),
                        None,
                    ),
                },
            },
            ServiceReply::Privacy(status) => {
                if let (true, Some(Dialog::Privacy(v))) = (current, self.dialogs.get_mut()) {
                    v.status = Some(status);
                }
            }
            ServiceReply::PrivacySet(result) => {
                match &result {
                    Ok(m) => self.notice(NoticeKind::Info, m.clone(), None),
                    Err(e) => self.notice(NoticeKind::Error, e.one_line(), None),
                }
                if let (true, Some(Dialog::Privacy(v))) = (current, self.dialogs.get_mut()) {
                    v.message = Some(result);
                    if let Some(s) = self.options.services.clone() {
                        self.spawn_reply(id, async move {
                            ServiceReply::Privacy(s.privacy_status(PRIVACY_LOG_LINES).await)
                        });
                    }
                }
            }
            ServiceReply::MemoryShown(text) | ServiceReply::McpShown(text) => {
                let lines = text
                    .lines()
                    .map(|l| ratatui::text::Line::from(l.to_string()))
                    .collect();
                self.emit_cell(Cell::Info { lines });
            }
            ServiceReply::MemoryAdded(Ok(message)) => {
                self.notice(NoticeKind::Info, message, None);
                self.memory_refresh();
            }
            ServiceReply::McpLoginProgress(line) => {
                self.notice(NoticeKind::Info, line, None);
            }
            ServiceReply::McpLoginDone(login_id, result) => {
                // A sign-in cancelled before this one ended after it started: not its end.
                if self
                    .mcp_login
                    .as_ref()
                    .is_some_and(|(id, _)| *id == login_id)
                {
                    self.mcp_login = None;
                }
                match result {
                    Ok(message) => self.notice(NoticeKind::Info, message, None),
                    Err(e) => self.notice(NoticeKind::Error, e.one_line(), None),
                }
            }
            ServiceReply::McpReconnected(Ok(message)) => {
                self.notice(NoticeKind::Info, message, None);
            }
            ServiceReply::MemoryAdded(Err(e))
            | ServiceReply::MemoryRefreshed(Err(e))
            | ServiceReply::McpReconnected(Err(e)) => {
                self.notice(NoticeKind::Error, e.one_line(), None);
            }
            ServiceReply::MemoryRefreshed(Ok(refreshed)) => {
                self.dialogs.expect_refresh(refreshed.files.len());
                self.send(Op::SetSystemPrompt {
                    text: refreshed.system_prompt,
                });
            }
        }
    }
}
