//! The `/privacy` view: the notice, whether usage statistics are on, where they go, and the
//! newest audit-log events exactly as exported; `o` / `f` turn them on or off (persisted).

use crossterm::event::{KeyCode, KeyEvent};
use qcode_protocol::Problem;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

use super::{DialogAction, Painter, dim, title};
use crate::services::{PrivacyStatus, UsageStatistics};
use crate::wrap::wrap_lines;

/// Rows the view asks for at most (it scrolls).
const MAX_HEIGHT: usize = 24;

#[derive(Debug, Default)]
pub struct PrivacyView {
    pub status: Option<PrivacyStatus>,
    /// The answer to the last on/off change.
    pub message: Option<Result<String, Problem>>,
    scroll: usize,
}

impl PrivacyView {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        match key.code {
            KeyCode::Char('o') => DialogAction::SetUsageStatistics(UsageStatistics::On),
            KeyCode::Char('f') => DialogAction::SetUsageStatistics(UsageStatistics::Off),
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll = self.scroll.saturating_sub(1);
                DialogAction::None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll += 1;
                DialogAction::None
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(10);
                DialogAction::None
            }
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll += 10;
                DialogAction::None
            }
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => DialogAction::Close,
            _ => DialogAction::None,
        }
    }

    fn body(&self, width: u16) -> Vec<Line<'static>> {
        let mut out: Vec<Line<'static>> = Vec::new();
        match &self.status {
            None => out.push(Line::from(Span::styled(
                "  Reading the privacy settings…",
                dim(),
            ))),
            Some(s) => {
                out.extend(s.text.lines().map(|l| Line::from(format!("  {l}"))));
                out.push(Line::default());
                if s.log.is_empty() {
                    out.push(Line::from(Span::styled(
                        "  No usage events recorded yet.",
                        dim(),
                    )));
                } else {
                    out.push(Line::from(format!(
                        "  Latest {} events, exactly as sent:",
                        s.log.len()
                    )));
                    out.extend(
                        s.log
                            .iter()
                            .map(|l| Line::from(Span::styled(format!("    {l}"), dim()))),
                    );
                }
            }
        }
        match &self.message {
            None => {}
            Some(Ok(m)) => out.push(Line::from(Span::styled(
                format!("  ✓ {m}"),
                Style::default().fg(Color::Green),
            ))),
            Some(Err(e)) => out.push(Line::from(Span::styled(
                format!("  ✗ {}", e.one_line()),
                Style::default().fg(Color::Red),
            ))),
        }
        wrap_lines(&out, width as usize)
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        (self.body(width).len() + 2).min(MAX_HEIGHT) as u16
    }

    pub fn render(&mut self, area: Rect, buf: &mut Buffer) {
        let body = self.body(area.width);
        let rows = area.height.saturating_sub(2) as usize;
        self.scroll = self.scroll.min(body.len().saturating_sub(rows));
        let mut p = Painter::new(area, buf);
        p.line(title("Privacy · usage statistics"));
        for l in body.iter().skip(self.scroll).take(rows) {
            p.line(l.clone());
        }
        let more = if body.len() > rows {
            " · ↑/↓ scroll"
        } else {
            ""
        };
        p.footer(&format!("o turn on · f turn off{more} · Esc close"));
    }
}
