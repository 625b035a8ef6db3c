//! `/auth`: the chooser between Qwen OAuth and an API key, and the Qwen sign-in view (user
//! code, URL, QR code, countdown; Esc cancels).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use qcode_protocol::LoginEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use tokio_util::sync::CancellationToken;

use super::{DialogAction, Painter, dim, title};
use crate::wrap::wrap_lines;

/// The two sign-in methods, in the order shown.
const CHOICES: [(&str, &str); 2] = [
    (
        "Qwen OAuth",
        "sign in with your qwen.ai account in a browser",
    ),
    (
        "OpenAI-compatible API key",
        "DashScope, OpenRouter, DeepSeek, local servers…",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChooser {
    pub selected: usize,
    /// Why the dialog opened by itself (first start without credentials).
    pub reason: Option<String>,
}

impl AuthChooser {
    pub fn new(reason: Option<String>) -> Self {
        Self {
            selected: 0,
            reason,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        match key.code {
            KeyCode::Up | KeyCode::Down | KeyCode::Char('k' | 'j') | KeyCode::Tab => {
                self.selected = 1 - self.selected;
                DialogAction::None
            }
            KeyCode::Char('1') => DialogAction::ChooseQwen,
            KeyCode::Char('2') => DialogAction::ChooseApiKey,
            KeyCode::Enter if self.selected == 0 => DialogAction::ChooseQwen,
            KeyCode::Enter => DialogAction::ChooseApiKey,
            KeyCode::Esc => DialogAction::Close,
            _ => DialogAction::None,
        }
    }

    pub fn desired_height(&self) -> u16 {
        4 + u16::from(self.reason.is_some())
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let mut p = Painter::new(area, buf);
        p.line(title("Sign in · how should qcode reach a model?"));
        if let Some(reason) = &self.reason {
            p.line(Line::from(Span::styled(
                format!("  {reason}"),
                Style::default().fg(Color::Yellow),
            )));
        }
        for (i, (name, description)) in CHOICES.iter().enumerate() {
            let selected = i == self.selected;
            let style = if selected {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            p.line(Line::from(vec![
                Span::styled(if selected { "› " } else { "  " }, style),
                Span::styled(format!("{}. {name:<27}", i + 1), style),
                Span::styled(description.to_string(), dim()),
            ]));
        }
        p.footer("↑/↓ choose · Enter continue · Esc close");
    }
}

/// Where a Qwen sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// Asking the server for a device code.
    Starting,
    Waiting {
        url: String,
        code: String,
        qr: Vec<String>,
        deadline: Instant,
        browser_opened: bool,
        slow_down: bool,
    },
    Failed(String),
}

#[derive(Debug)]
pub struct LoginView {
    pub state: LoginState,
    /// Cancels the running sign-in.
    pub cancel: CancellationToken,
}

impl LoginView {
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            state: LoginState::Starting,
            cancel,
        }
    }

    /// Applies a progress event received at `now`.
    pub fn apply(&mut self, event: LoginEvent, now: Instant) {
        match event {
            LoginEvent::DeviceCode {
                verification_url,
                user_code,
                qr_lines,
                expires_in,
                browser_opened,
            } => {
                self.state = LoginState::Waiting {
                    url: verification_url,
                    code: user_code,
                    qr: qr_lines,
                    deadline: now + expires_in,
                    browser_opened,
                    slow_down: false,
                };
            }
            LoginEvent::Waiting { seconds_left } => {
                if let LoginState::Waiting { deadline, .. } = &mut self.state {
                    *deadline = now + Duration::from_secs(seconds_left);
                }
            }
            LoginEvent::SlowDown { seconds_left, .. } => {
                if let LoginState::Waiting {
                    deadline,
                    slow_down,
                    ..
                } = &mut self.state
                {
                    *deadline = now + Duration::from_secs(seconds_left);
                    *slow_down = true;
                }
            }
        }
    }

    pub fn fail(&mut self, message: String) {
        self.state = LoginState::Failed(message);
    }

    pub fn animating(&self) -> bool {
        matches!(
            self.state,
            LoginState::Starting | LoginState::Waiting { .. }
        )
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        match (&self.state, key.code) {
            (LoginState::Failed(_), KeyCode::Enter) => DialogAction::BackToChooser,
            (LoginState::Failed(_), KeyCode::Esc) => DialogAction::Close,
            (LoginState::Starting | LoginState::Waiting { .. }, KeyCode::Esc) => {
                DialogAction::CancelLogin
            }
            _ => DialogAction::None,
        }
    }

    /// Everything but the QR code, wrapped to `width`.
    fn text_lines(&self, width: u16, now: Instant) -> Vec<Line<'static>> {
        let mut out = vec![title("Sign in with Qwen")];
        match &self.state {
            LoginState::Starting => {
                out.push(Line::from("  Requesting a sign-in code…"));
            }
            LoginState::Waiting {
                url,
                code,
                deadline,
                browser_opened,
                slow_down,
                ..
            } => {
                out.push(Line::from(
                    "  Open this page in a browser and approve the request:",
                ));
                out.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(url.clone(), Style::default().fg(Color::Cyan)),
                ]));
                out.push(Line::from(vec![
                    Span::raw("  Code: "),
                    Span::styled(code.clone(), Style::default().add_modifier(Modifier::BOLD)),
                ]));
                if *browser_opened {
                    out.push(Line::from(Span::styled(
                        "  Opened the page in your browser.",
                        dim(),
                    )));
                }
                let left = deadline.saturating_duration_since(now);
                // Round up so a fresh 600 s code shows 10:00.
                let secs = left.as_millis().div_ceil(1000) as u64;
                let mut waiting = format!(
                    "  Waiting for approval · {}:{:02} left",
                    secs / 60,
                    secs % 60
                );
                if *slow_down {
                    waiting.push_str(" · the server asked to check less often");
                }
                out.push(Line::from(Span::styled(waiting, dim())));
            }
            LoginState::Failed(message) => {
                out.push(Line::from(Span::styled(
                    format!("  ✗ Sign-in failed: {message}"),
                    Style::default().fg(Color::Red),
                )));
            }
        }
        wrap_lines(&out, width as usize)
    }

    fn qr(&self) -> &[String] {
        match &self.state {
            LoginState::Waiting { qr, .. } => qr,
            LoginState::Starting | LoginState::Failed(_) => &[],
        }
    }

    fn footer(&self) -> &'static str {
        match self.state {
            LoginState::Failed(_) => "Enter choose again · Esc close",
            LoginState::Starting | LoginState::Waiting { .. } => "Esc cancel",
        }
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        let qr = self.qr();
        let qr_rows = if qr.is_empty() { 0 } else { qr.len() + 1 };
        (self.text_lines(width, Instant::now()).len() + qr_rows + 1) as u16
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, now: Instant) {
        let text = self.text_lines(area.width, now);
        let qr = self.qr();
        let (status, head) = match self.state {
            // The countdown line goes below the QR code.
            LoginState::Waiting { .. } => text
                .split_last()
                .map_or((None, &text[..]), |(s, h)| (Some(s), h)),
            LoginState::Starting | LoginState::Failed(_) => (None, &text[..]),
        };
        let mut p = Painter::new(area, buf);
        for l in head {
            p.line(l.clone());
        }
        let qr_width = qr.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let fits = p.room() as usize > qr.len() + usize::from(status.is_some())
            && (area.width as usize) >= qr_width + 2;
        if !qr.is_empty() {
            if fits {
                p.line(Line::from(Span::styled(
                    "  Or scan this code with your phone:",
                    dim(),
                )));
                for l in qr {
                    p.line(Line::from(format!("  {l}")));
                }
            } else {
                p.line(Line::from(Span::styled(
                    "  (make the terminal larger to see a QR code)",
                    dim(),
                )));
            }
        }
        if let Some(s) = status {
            p.line(s.clone());
        }
        p.footer(self.footer());
    }
}
