//! The transcript pager (Ctrl+T): the whole conversation with nothing truncated, in the
//! alternate screen; ↑/↓/PgUp/PgDn/g/G scroll, q or Esc closes. The subagent pager (Ctrl+O)
//! is the same view with its own title over one subagent's transcript; ←/→ ask for the
//! previous or next subagent.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::wrap::wrap_lines;

#[derive(Debug, Clone, PartialEq)]
pub struct Pager {
    lines: Vec<Line<'static>>,
    /// Top line; `None` follows the end.
    scroll: Option<usize>,
    page: usize,
    /// The footer's label.
    title: String,
    /// Extra keys named in the footer.
    hint: Option<String>,
}

/// What a key did in the pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagerKey {
    Close,
    Handled,
    /// ← : the previous document (the subagent pager shows the previous subagent).
    Previous,
    /// → : the next document.
    Next,
}

impl Pager {
    /// `lines` are logical lines; they are wrapped at render time.
    pub fn new(lines: Vec<Line<'static>>) -> Self {
        Self {
            lines,
            scroll: None,
            page: 20,
            title: "Transcript".into(),
            hint: None,
        }
    }

    /// The footer's label instead of "Transcript".
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// More keys to name in the footer (e.g. "←/→ other subagents").
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn set_lines(&mut self, lines: Vec<Line<'static>>) {
        self.lines = lines;
    }

    pub fn handle_key(&mut self, key: KeyEvent, total_rows: usize) -> PagerKey {
        let max = total_rows.saturating_sub(self.page);
        let cur = self.scroll.unwrap_or(max).min(max);
        let set = |s: &mut Self, v: usize| s.scroll = if v >= max { None } else { Some(v) };
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return PagerKey::Close,
            KeyCode::Char('t' | 'o') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return PagerKey::Close;
            }
            KeyCode::Left => return PagerKey::Previous,
            KeyCode::Right => return PagerKey::Next,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return PagerKey::Close;
            }
            KeyCode::Up | KeyCode::Char('k') => set(self, cur.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Enter => set(self, cur + 1),
            KeyCode::PageUp | KeyCode::Char('b') => set(self, cur.saturating_sub(self.page)),
            KeyCode::PageDown | KeyCode::Char(' ') | KeyCode::Char('f') => {
                set(self, cur + self.page)
            }
            KeyCode::Home | KeyCode::Char('g') => set(self, 0),
            KeyCode::End | KeyCode::Char('G') => self.scroll = None,
            _ => {}
        }
        PagerKey::Handled
    }

    /// Wrapped rows for `width` (the caller passes their count back to `handle_key`).
    pub fn rows(&self, width: u16) -> Vec<Line<'static>> {
        wrap_lines(&self.lines, width as usize)
    }

    pub fn render(&mut self, area: Rect, buf: &mut Buffer) -> usize {
        let rows = self.rows(area.width);
        let body_h = area.height.saturating_sub(1) as usize;
        self.page = body_h.max(1);
        let max = rows.len().saturating_sub(body_h);
        let top = self.scroll.unwrap_or(max).min(max);
        for (i, line) in rows.iter().skip(top).take(body_h).enumerate() {
            line.clone()
                .render(Rect::new(area.x, area.y + i as u16, area.width, 1), buf);
        }
        let pct = if rows.len() <= body_h {
            100
        } else {
            (top + body_h) * 100 / rows.len()
        };
        let extra = self
            .hint
            .as_ref()
            .map(|h| format!(" · {h}"))
            .unwrap_or_default();
        let footer = Line::from(vec![
            Span::styled(
                format!(" {} ", self.title),
                Style::default().add_modifier(Modifier::REVERSED),
            ),
            Span::styled(
                format!(" {pct}% · ↑/↓ PgUp/PgDn g/G scroll{extra} · q or Esc to close"),
                Style::default().add_modifier(Modifier::DIM),
            ),
        ]);
        footer.render(
            Rect::new(area.x, area.bottom().saturating_sub(1), area.width, 1),
            buf,
        );
        rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::buffer_text;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn follows_the_end_and_scrolls() {
        let lines: Vec<Line<'static>> = (1..=30).map(|i| Line::from(format!("row {i}"))).collect();
        let mut p = Pager::new(lines);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 6));
        let total = p.render(buf.area, &mut buf);
        insta::assert_snapshot!(buffer_text(&buf));
        p.handle_key(key(KeyCode::Char('g')), total);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 6));
        p.render(buf.area, &mut buf);
        assert!(buffer_text(&buf).starts_with("row 1\nrow 2"));
        p.handle_key(key(KeyCode::PageDown), total);
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 6));
        p.render(buf.area, &mut buf);
        assert!(buffer_text(&buf).starts_with("row 6\n"));
        assert_eq!(
            p.handle_key(key(KeyCode::Char('q')), total),
            PagerKey::Close
        );
    }

    #[test]
    fn a_titled_pager_names_its_keys_and_asks_for_other_documents() {
        let mut p = Pager::new(vec![Line::from("general-purpose · \"find the parser\"")])
            .with_title("Subagent 2/3")
            .with_hint("←/→ other subagents");
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 3));
        p.render(buf.area, &mut buf);
        insta::assert_snapshot!(buffer_text(&buf));
        assert_eq!(p.handle_key(key(KeyCode::Left), 1), PagerKey::Previous);
        assert_eq!(p.handle_key(key(KeyCode::Right), 1), PagerKey::Next);
        let ctrl_o = KeyEvent {
            modifiers: KeyModifiers::CONTROL,
            ..key(KeyCode::Char('o'))
        };
        assert_eq!(p.handle_key(ctrl_o, 1), PagerKey::Close);
    }
}
