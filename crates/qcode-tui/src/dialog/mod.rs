//! Dialogs shown in the bottom pane in place of the prompt: the `/auth` chooser, the Qwen
//! sign-in view, the API-key form, the `/model` picker, the `/privacy` view, the `/init`
//! confirmation, a custom command's `!{…}` question and an MCP server's request for input
//! ([`elicitation`]). Each one draws itself into a `Buffer` and turns keys into a
//! [`DialogAction`]; the app carries the actions out (service calls, Ops), so dialogs hold no
//! I/O.

pub mod auth;
pub mod command_shell;
pub mod elicitation;
pub mod field;
pub mod key_form;
pub mod model;
pub mod privacy;

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::services::ApiKeyInput;

pub use auth::{AuthChooser, LoginState, LoginView};
pub use command_shell::CommandShellApproval;
pub use elicitation::ElicitationForm;
pub use key_form::KeyForm;
pub use model::ModelPicker;
pub use privacy::PrivacyView;

/// What a key in a dialog asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogAction {
    /// Nothing beyond redrawing.
    None,
    Close,
    ChooseQwen,
    ChooseApiKey,
    /// Back from a sign-in method to the chooser.
    BackToChooser,
    /// Esc during a Qwen sign-in.
    CancelLogin,
    SaveKey(ApiKeyInput),
    PickModel(String),
    SetUsageStatistics(crate::services::UsageStatistics),
    ConfirmInit,
    /// The answer to a custom command's `!{…}` question.
    CommandShell(qcode_protocol::ReviewDecision),
    /// The elicitation dialog was answered (accepted, declined or cancelled).
    AnswerElicitation {
        id: u64,
        answer: qcode_protocol::elicitation::ElicitationAnswer,
    },
}

/// The open dialog.
#[derive(Debug)]
pub enum Dialog {
    AuthChooser(AuthChooser),
    QwenLogin(LoginView),
    ApiKey(KeyForm),
    Model(ModelPicker),
    Privacy(PrivacyView),
    InitConfirm,
    /// A custom command's `!{…}` commands, asked before they run.
    CommandShell(Box<CommandShellApproval>),
    Elicitation(ElicitationForm),
}

impl Dialog {
    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        match self {
            Dialog::AuthChooser(d) => d.handle_key(key),
            Dialog::QwenLogin(d) => d.handle_key(key),
            Dialog::ApiKey(d) => d.handle_key(key),
            Dialog::Model(d) => d.handle_key(key),
            Dialog::Privacy(d) => d.handle_key(key),
            Dialog::CommandShell(d) => match d.handle_key(key) {
                Some(decision) => DialogAction::CommandShell(decision),
                None => DialogAction::None,
            },
            Dialog::Elicitation(d) => d.handle_key(key),
            Dialog::InitConfirm => match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => DialogAction::ConfirmInit,
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => DialogAction::Close,
                _ => DialogAction::None,
            },
        }
    }

    pub fn paste(&mut self, text: &str) {
        match self {
            Dialog::ApiKey(d) => d.paste(text),
            Dialog::Model(d) => d.paste(text),
            Dialog::CommandShell(d) => d.paste(text),
            Dialog::Elicitation(d) => d.paste(text),
            Dialog::AuthChooser(_)
            | Dialog::QwenLogin(_)
            | Dialog::Privacy(_)
            | Dialog::InitConfirm => {}
        }
    }

    /// True while the dialog shows something that changes with time (a countdown, loading).
    pub fn animating(&self) -> bool {
        match self {
            Dialog::QwenLogin(d) => d.animating(),
            Dialog::Model(d) => d.is_loading(),
            Dialog::ApiKey(d) => d.is_checking(),
            Dialog::AuthChooser(_)
            | Dialog::Privacy(_)
            | Dialog::InitConfirm
            | Dialog::CommandShell(_) => false,
            Dialog::Elicitation(_) => false,
        }
    }

    /// Rows the dialog would like at `width`.
    pub fn desired_height(&self, width: u16) -> u16 {
        match self {
            Dialog::AuthChooser(d) => d.desired_height(),
            Dialog::QwenLogin(d) => d.desired_height(width),
            Dialog::ApiKey(d) => d.desired_height(width),
            Dialog::Model(d) => d.desired_height(width),
            Dialog::Privacy(d) => d.desired_height(width),
            Dialog::Elicitation(d) => d.desired_height(width),
            Dialog::InitConfirm => 3,
            Dialog::CommandShell(d) => d.desired_height(width),
        }
    }

    /// Draws the dialog; returns where the cursor goes while a field is edited. `now` drives
    /// countdowns (tests pass a fixed instant).
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, now: Instant) -> Option<Position> {
        match self {
            Dialog::AuthChooser(d) => {
                d.render(area, buf);
                None
            }
            Dialog::QwenLogin(d) => {
                d.render(area, buf, now);
                None
            }
            Dialog::ApiKey(d) => d.render(area, buf),
            Dialog::Model(d) => d.render(area, buf),
            Dialog::CommandShell(d) => d.render(area, buf),
            Dialog::Elicitation(d) => d.render(area, buf),
            Dialog::Privacy(d) => {
                d.render(area, buf);
                None
            }
            Dialog::InitConfirm => {
                let mut p = Painter::new(area, buf);
                p.line(title("QWEN.md already exists"));
                p.line(Line::from(
                    "  Ask the model to review the project and update it?",
                ));
                p.footer("y update it · n or Esc cancel");
                None
            }
        }
    }
}

/// A dialog's bold title line.
pub(crate) fn title(text: &str) -> Line<'static> {
    Line::from(Span::styled(
        text.to_string(),
        Style::default().add_modifier(Modifier::BOLD),
    ))
}

pub(crate) fn dim() -> Style {
    Style::default().add_modifier(Modifier::DIM)
}

/// Draws rows top to bottom inside an area; the footer always takes the last row.
pub(crate) struct Painter<'a> {
    area: Rect,
    buf: &'a mut Buffer,
    y: u16,
}

impl<'a> Painter<'a> {
    pub fn new(area: Rect, buf: &'a mut Buffer) -> Self {
        Self {
            area,
            y: area.y,
            buf,
        }
    }

    /// Rows left above the footer.
    pub fn room(&self) -> u16 {
        self.area.bottom().saturating_sub(self.y).saturating_sub(1)
    }

    /// The next row, if there is room above the footer.
    pub fn row(&mut self) -> Option<Rect> {
        if self.room() == 0 {
            return None;
        }
        let r = Rect::new(self.area.x, self.y, self.area.width, 1);
        self.y += 1;
        Some(r)
    }

    pub fn line(&mut self, line: Line<'_>) {
        if let Some(r) = self.row() {
            line.render(r, self.buf);
        }
    }

    pub fn buf(&mut self) -> &mut Buffer {
        self.buf
    }

    pub fn footer(&mut self, text: &str) {
        if self.area.height == 0 {
            return;
        }
        let y = self.area.bottom() - 1;
        Line::from(Span::styled(text.to_string(), dim()))
            .render(Rect::new(self.area.x, y, self.area.width, 1), self.buf);
    }
}

#[cfg(test)]
mod tests;
