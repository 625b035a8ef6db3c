//! Terminal input: global keys, the approval modal, popups, the composer, and submission.

use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use qcode_protocol::Op;

use super::prompt::{CtrlC, PopupKind, Refresh};
use super::turn::QueuedTurn;
use super::{App, AppEvent, CTRL_C_WINDOW, Effect};
use crate::ExitReason;
use crate::composer::ComposerResult;
use crate::files;
use crate::pager::{Pager, PagerKey};
use crate::slash;
use crate::transcript::{Cell, NoticeKind};

/// How a completion from the popup was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// Tab: put it into the prompt.
    Insert,
    /// Enter: put it in and, for a command that needs nothing more, run it.
    Submit,
}

impl App {
    pub fn handle_terminal_event(&mut self, event: TermEvent) {
        self.dirty = true;
        match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            TermEvent::Key(_) => {}
            TermEvent::Paste(text) => {
                if let Some(modal) = self.running.approval_mut() {
                    modal.paste(&text);
                } else if self.dialog_paste(&text) {
                } else {
                    self.prompt.composer_mut().paste(&text);
                    self.update_popup();
                }
            }
            TermEvent::Resize(w, _) => self.set_width(w),
            TermEvent::FocusGained | TermEvent::FocusLost | TermEvent::Mouse(_) => {}
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(pager) = self.dialogs.pager_mut() {
            let total = pager.rows(self.width).len();
            match pager.handle_key(key, total) {
                PagerKey::Close => {
                    self.dialogs.close_pager();
                    self.subagents.stop_viewing();
                    self.effects.push(Effect::ClosePager);
                }
                PagerKey::Previous if self.subagents.viewing().is_some() => {
                    self.switch_subagent_pager(-1);
                }
                PagerKey::Next if self.subagents.viewing().is_some() => {
                    self.switch_subagent_pager(1);
                }
                PagerKey::Handled | PagerKey::Previous | PagerKey::Next => {}
            }
            return;
        }
        match key.code {
            KeyCode::Char('c') if ctrl => return self.ctrl_c(),
            KeyCode::Char('d')
                if ctrl
                    && self.prompt.composer().is_empty()
                    && !self.running.waiting_for_approval()
                    && !self.dialogs.is_open() =>
            {
                self.quit(ExitReason::UserQuit);
                return;
            }
            KeyCode::Char('z') if ctrl => return self.effects.push(Effect::Suspend),
            KeyCode::Char('l') if ctrl => return self.effects.push(Effect::ClearScreen),
            KeyCode::Char('t') if ctrl => {
                self.dialogs.open_pager(Pager::new(self.pager_lines()));
                self.effects.push(Effect::OpenPager);
                return;
            }
            KeyCode::Char('o') if ctrl => return self.open_subagent_pager(),
            _ => {}
        }
        if let Some(modal) = self.running.approval_mut() {
            if let Some(decision) = modal.handle_key(key)
                && let Some(modal) = self.running.answered()
            {
                self.send(Op::ApprovalDecision {
                    request_id: modal.request_id.clone(),
                    decision: decision.clone(),
                });
                if let Some(asker) = &modal.asker {
                    self.subagent_answered(asker, &modal.tool, &decision);
                }
                self.emit_cell(Cell::Decision {
                    tool: modal.subject(),
                    decision,
                });
            }
            return;
        }
        if self.dialog_key(key) {
            return;
        }
        if self.prompt.popup().is_some() && self.popup_key(key) {
            return;
        }
        match key.code {
            KeyCode::Esc => {
                if self.cancel_mcp_login() {
                    return;
                }
                if self.running.is_running() {
                    self.send(Op::Interrupt);
                }
                return;
            }
            KeyCode::BackTab => {
                let mode = self.status.approval_mode.next();
                self.set_approval_mode(mode);
                return;
            }
            _ => {}
        }
        match self.prompt.composer_mut().handle_key(key) {
            ComposerResult::Submitted(text) => {
                self.prompt.close_popup();
                self.submit(text);
            }
            ComposerResult::Changed => self.update_popup(),
            ComposerResult::Ignored => {}
        }
    }

    fn ctrl_c(&mut self) {
        let denied = self.running.answered();
        if let Some(modal) = &denied {
            let decision = qcode_protocol::ReviewDecision::Deny { message: None };
            self.send(Op::ApprovalDecision {
                request_id: modal.request_id.clone(),
                decision: decision.clone(),
            });
            if let Some(asker) = &modal.asker {
                self.subagent_answered(asker, &modal.tool, &decision);
            }
            self.emit_cell(Cell::Decision {
                tool: modal.subject(),
                decision,
            });
        }
        if denied.is_none() && self.close_dialog() {
            return;
        }
        if denied.is_none() && self.cancel_mcp_login() {
            return;
        }
        if self.running.is_running() {
            self.send(Op::Interrupt);
            return;
        }
        if self.prompt.close_popup() {
            return;
        }
        if !self.prompt.composer().is_empty() {
            self.prompt.composer_mut().clear();
            return;
        }
        match self.prompt.ctrl_c(Instant::now(), CTRL_C_WINDOW) {
            CtrlC::Exit => self.quit(ExitReason::UserQuit),
            CtrlC::Armed => self.set_hint("Press Ctrl+C again to exit"),
        }
    }

    pub(crate) fn quit(&mut self, reason: ExitReason) {
        if self.running.is_running() {
            self.send(Op::Interrupt);
        }
        self.send(Op::Shutdown);
        self.exit = Some(reason);
    }

    pub(crate) fn set_approval_mode(&mut self, mode: qcode_protocol::ApprovalMode) {
        self.status.approval_mode = mode;
        self.send(Op::SetApprovalMode { mode });
        self.set_hint(&format!("Approval mode: {}", mode.as_str()));
    }

    /// Handles a submitted prompt: a slash command, a local `!command`, or a user turn.
    pub(crate) fn submit(&mut self, text: String) {
        let trimmed = text.trim();
        if let Some(parsed) = slash::parse(trimmed) {
            match parsed {
                slash::Parsed::Command { spec, args } => {
                    let args = args.to_string();
                    self.run_command(spec.command, &args);
                }
                slash::Parsed::Unknown { name, suggestion } => {
                    let args = trimmed
                        .trim_start()
                        .strip_prefix('/')
                        .and_then(|r| r.split_once(char::is_whitespace))
                        .map_or("", |(_, a)| a.trim());
                    self.run_custom(name, args, suggestion);
                }
            }
            return;
        }
        if let Some(cmd) = trimmed.strip_prefix('!') {
            let cmd = cmd.trim().to_string();
            if !cmd.is_empty() {
                self.run_shell(cmd);
            }
            return;
        }
        // `//text` sends `/text` to the model.
        let text = match text.trim_start().strip_prefix("//") {
            Some(rest) => format!("/{rest}"),
            None => text,
        };
        self.send_or_queue(QueuedTurn::plain(text));
    }

    /// Sends a user message now, or after the running turn.
    pub(crate) fn send_or_queue(&mut self, turn: QueuedTurn) {
        if self.running.is_running() {
            self.running.queue(turn);
            self.set_hint("Queued; it will be sent when the current turn ends");
            return;
        }
        self.start_queued(turn);
    }

    pub(crate) fn start_turn(&mut self, text: String) {
        self.start_queued(QueuedTurn::plain(text));
    }

    pub(crate) fn start_queued(&mut self, turn: QueuedTurn) {
        let QueuedTurn { text, shown, model } = turn;
        self.emit_cell(Cell::User { text: shown });
        if let Some(model) = model {
            self.send(Op::ModelForNextTurn { model });
        }
        self.send(Op::UserTurn { text });
        self.running.start();
    }

    fn run_shell(&mut self, command: String) {
        self.running.shell_started(&command);
        let cwd = self.options.cwd.clone();
        let tx = self.app_tx.clone();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.running.shell_done(&command);
            self.notice(NoticeKind::Error, "Cannot run a shell command here", None);
            return;
        };
        handle.spawn(async move {
            let result = tokio::process::Command::new("bash")
                .arg("-c")
                .arg(&command)
                .current_dir(&cwd)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output()
                .await;
            let (output, exit_code) = match result {
                Ok(out) => {
                    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                    text.push_str(&String::from_utf8_lossy(&out.stderr));
                    (text, out.status.code())
                }
                Err(e) => (format!("could not run bash: {e}"), Some(127)),
            };
            let _ = tx.send(AppEvent::ShellDone {
                command,
                output,
                exit_code,
            });
        });
    }

    /// Keys for an open popup; returns true when consumed.
    fn popup_key(&mut self, key: KeyEvent) -> bool {
        let Some((kind, popup)) = self.prompt.popup_mut() else {
            return false;
        };
        match key.code {
            KeyCode::Up => popup.up(),
            KeyCode::Down => popup.down(),
            KeyCode::Char('p') if key.modifiers.contains(KeyModifiers::CONTROL) => popup.up(),
            KeyCode::Char('n') if key.modifiers.contains(KeyModifiers::CONTROL) => popup.down(),
            KeyCode::Esc => {
                self.prompt.close_popup();
            }
            KeyCode::Tab => {
                let kind = kind.clone();
                let value = popup.selected().map(|i| i.value.clone());
                if let Some(v) = value {
                    self.accept_completion(&kind, &v, Accept::Insert);
                }
            }
            KeyCode::Enter if key.modifiers.is_empty() => {
                let kind = kind.clone();
                let value = popup.selected().map(|i| i.value.clone());
                match value {
                    Some(v) => self.accept_completion(&kind, &v, Accept::Submit),
                    // A filter that matches no session: keep the picker (Esc closes it).
                    None if matches!(kind, PopupKind::Sessions { .. }) => {}
                    None => {
                        self.prompt.close_popup();
                        return false;
                    }
                }
            }
            _ => return false,
        }
        true
    }

    fn accept_completion(&mut self, kind: &PopupKind, value: &str, accept: Accept) {
        match kind {
            PopupKind::Slash => {
                let typed_args = self
                    .prompt
                    .composer()
                    .text()
                    .split_once(' ')
                    .map(|(_, a)| a.trim().to_string())
                    .unwrap_or_default();
                self.prompt.close_popup();
                let needs_args = slash::find(value).is_some_and(|s| !s.args.is_empty())
                    || self
                        .prompt
                        .custom()
                        .iter()
                        .any(|c| c.name == value && !c.argument_hint.is_empty());
                if accept == Accept::Submit
                    && (!needs_args
                        || !typed_args.is_empty()
                        || matches!(
                            value,
                            "model" | "approval-mode" | "memory" | "privacy" | "export" | "mcp"
                        ))
                {
                    self.prompt.composer_mut().clear();
                    self.submit(format!("/{value} {typed_args}").trim().to_string());
                } else {
                    self.prompt.composer_mut().set_text(&format!("/{value} "));
                }
            }
            PopupKind::Files { start } => {
                let start = *start;
                self.prompt
                    .composer_mut()
                    .replace_before_cursor(start, &format!("@{value} "));
                self.prompt.close_popup();
            }
            PopupKind::Model => {
                self.prompt.close_popup();
                self.set_model(value);
            }
            PopupKind::ApprovalMode => {
                self.prompt.close_popup();
                if let Some(mode) = qcode_protocol::ApprovalMode::parse(value) {
                    self.set_approval_mode(mode);
                }
            }
            PopupKind::Sessions { .. } => self.resume_chosen(value),
            PopupKind::Rewind { all } => self.rewind_turn_chosen(all, value),
            PopupKind::RewindScope { turn, prompt } => {
                self.rewind_scope_chosen(*turn, prompt.clone(), value)
            }
            PopupKind::RewindConfirm { conflict } => self.rewind_confirmed(conflict.clone(), value),
        }
    }

    /// Opens, updates or closes the slash / `@` popup after the composer changed.
    pub(crate) fn update_popup(&mut self) {
        match self.prompt.refresh_popup() {
            Refresh::NeedsFileIndex => {
                self.start_file_index();
                let _ = self.prompt.refresh_popup();
            }
            Refresh::CommandsOpened => self.refresh_custom_commands(),
            Refresh::Done => {}
        }
    }

    fn start_file_index(&mut self) {
        self.prompt.files_indexing();
        let tx = self.app_tx.clone();
        let cwd = self.options.cwd.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(move || {
                    let _ = tx.send(AppEvent::FilesIndexed(files::walk(&cwd, files::MAX_FILES)));
                });
            }
            Err(_) => self
                .prompt
                .files_indexed(files::walk(&cwd, files::MAX_FILES)),
        }
    }
}
