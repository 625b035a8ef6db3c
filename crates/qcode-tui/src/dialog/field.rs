//! A one-line text input for dialogs, optionally masked (API keys: shown as `•`, never in
//! clear).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::wrap::str_width;

/// Whether the value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    Plain,
    Masked,
}

/// Longest mask drawn (the mask does not reveal long keys' exact length beyond this).
const MAX_MASK: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct TextField {
    chars: Vec<char>,
    /// Cursor position in chars.
    cursor: usize,
    echo: Echo,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.echo {
            Echo::Plain => f
                .debug_struct("TextField")
                .field("value", &self.value())
                .finish(),
            Echo::Masked => f
                .debug_struct("TextField")
                .field("value", &"[redacted]")
                .finish(),
        }
    }
}

impl TextField {
    pub fn new(value: &str, echo: Echo) -> Self {
        let chars: Vec<char> = value.chars().collect();
        Self {
            cursor: chars.len(),
            chars,
            echo,
        }
    }

    pub fn value(&self) -> String {
        self.chars.iter().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn set(&mut self, value: &str) {
        *self = Self::new(value, self.echo);
    }

    /// Inserts text (newlines and control characters dropped).
    pub fn insert_str(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Editing keys; returns true when the key was used.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.chars.truncate(self.cursor),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.chars.len(),
            KeyCode::Char(_) if ctrl => return false,
            KeyCode::Char(c) => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            KeyCode::Backspace | KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            _ => return false,
        }
        true
    }

    /// What is drawn: the value, or one `•` per character (at most [`MAX_MASK`]).
    fn shown(&self) -> (String, usize) {
        match self.echo {
            Echo::Plain => {
                let before: String = self.chars[..self.cursor].iter().collect();
                (self.value(), str_width(&before))
            }
            Echo::Masked => {
                let n = self.chars.len().min(MAX_MASK);
                ("•".repeat(n), self.cursor.min(MAX_MASK))
            }
        }
    }

    /// Draws the value in one row, scrolled so the cursor stays visible; returns where the
    /// cursor is.
    pub fn render(&self, area: Rect, buf: &mut Buffer, style: Style) -> Position {
        let (text, cursor_col) = self.shown();
        let width = area.width.saturating_sub(1) as usize;
        let skip_cols = cursor_col.saturating_sub(width);
        let mut col = 0;
        let visible: String = text
            .chars()
            .filter(|c| {
                let w = str_width(&c.to_string());
                col += w;
                col > skip_cols
            })
            .collect();
        Line::from(Span::styled(visible, style)).render(area, buf);
        let x = area.x + (cursor_col - skip_cols).min(width) as u16;
        Position::new(x, area.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn edits_and_masks() {
        let mut f = TextField::new("", Echo::Masked);
        for c in "sk-secret".chars() {
            assert!(f.handle_key(key(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        f.handle_key(key(KeyCode::Backspace, KeyModifiers::NONE));
        assert_eq!(f.value(), "sk-secre");
        assert_eq!(format!("{f:?}"), "TextField { value: \"[redacted]\" }");
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
        let pos = f.render(buf.area, &mut buf, Style::default());
        let text = crate::testutil::buffer_text(&buf);
        assert_eq!(text, "••••••••");
        assert_eq!(pos, Position::new(8, 0));
        f.handle_key(key(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert!(f.is_empty());
    }

    #[test]
    fn long_values_scroll_to_the_cursor() {
        let mut f = TextField::new("https://example.com/v1", Echo::Plain);
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        let pos = f.render(buf.area, &mut buf, Style::default());
        assert_eq!(crate::testutil::buffer_text(&buf), "le.com/v1");
        assert_eq!(pos.x, 9);
        f.handle_key(key(KeyCode::Home, KeyModifiers::NONE));
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        f.render(buf.area, &mut buf, Style::default());
        assert_eq!(crate::testutil::buffer_text(&buf), "https://ex");
    }
}
