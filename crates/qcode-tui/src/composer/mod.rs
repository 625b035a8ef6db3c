//! The prompt composer: a small multi-line editor with readline keys, history, and large
//! pastes collapsed to `[pasted N lines]` placeholders (sent in full).

mod history;
mod render;

pub use history::{HISTORY_CAP, History};
pub use render::{ComposerLayout, layout};

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_segmentation::UnicodeSegmentation;

/// Pastes with more lines or characters than this become placeholders.
const PASTE_LINES: usize = 5;
const PASTE_CHARS: usize = 1000;

/// What a key did to the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposerResult {
    /// The user pressed Enter on a non-empty prompt: the full text (placeholders expanded).
    Submitted(String),
    /// The text or cursor changed.
    Changed,
    /// Not a composer key; the caller may handle it.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Paste {
    label: String,
    content: String,
}

#[derive(Debug, Default)]
pub struct Composer {
    text: String,
    /// Byte offset, always on a grapheme boundary.
    cursor: usize,
    pastes: Vec<Paste>,
    kill: String,
    pub history: History,
}

fn is_word_char(g: &str) -> bool {
    g.chars().any(|c| c.is_alphanumeric() || c == '_')
}

impl Composer {
    pub fn new(history_file: Option<PathBuf>) -> Self {
        Self {
            history: History::new(history_file),
            ..Self::default()
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the whole text and puts the cursor at the end.
    pub fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
        self.pastes.retain(|p| text.contains(&p.label));
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.pastes.clear();
    }

    /// Labels of paste placeholders currently in the text (for highlighting).
    pub fn placeholder_labels(&self) -> Vec<&str> {
        self.pastes.iter().map(|p| p.label.as_str()).collect()
    }

    /// The text with placeholders replaced by what was pasted.
    pub fn expanded_text(&self) -> String {
        let mut out = self.text.clone();
        for p in &self.pastes {
            if let Some(i) = out.find(&p.label) {
                out.replace_range(i..i + p.label.len(), &p.content);
            }
        }
        out
    }

    pub fn insert_str(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    /// Inserts pasted text; large pastes become a placeholder.
    pub fn paste(&mut self, raw: &str) {
        let text = raw.replace("\r\n", "\n").replace('\r', "\n");
        let lines = text.lines().count();
        if lines > PASTE_LINES || text.chars().count() > PASTE_CHARS {
            let base = if lines > 1 {
                format!("[pasted {lines} lines")
            } else {
                format!("[pasted {} chars", text.chars().count())
            };
            let mut label = format!("{base}]");
            let mut n = 2;
            while self.text.contains(&label) || self.pastes.iter().any(|p| p.label == label) {
                label = format!("{base} #{n}]");
                n += 1;
            }
            self.insert_str(&label);
            self.pastes.push(Paste {
                label,
                content: text,
            });
        } else {
            self.insert_str(&text);
        }
    }

    /// Replaces the text between `start` and the cursor (used by completions).
    pub fn replace_before_cursor(&mut self, start: usize, with: &str) {
        let start = start.min(self.cursor);
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
    }

    fn prev_boundary(&self, from: usize) -> usize {
        self.text[..from]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, from: usize) -> usize {
        self.text[from..]
            .graphemes(true)
            .next()
            .map_or(from, |g| from + g.len())
    }

    fn word_left(&self, from: usize) -> usize {
        let mut pos = from;
        let gs: Vec<(usize, &str)> = self.text[..from].grapheme_indices(true).collect();
        let mut i = gs.len();
        while i > 0 && !is_word_char(gs[i - 1].1) {
            i -= 1;
            pos = gs[i].0;
        }
        while i > 0 && is_word_char(gs[i - 1].1) {
            i -= 1;
            pos = gs[i].0;
        }
        pos
    }

    fn word_right(&self, from: usize) -> usize {
        let mut pos = from;
        let mut it = self.text[from..].graphemes(true).peekable();
        while let Some(g) = it.next_if(|g| !is_word_char(g)) {
            pos += g.len();
        }
        while let Some(g) = it.next_if(|g| is_word_char(g)) {
            pos += g.len();
        }
        pos
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..]
            .find('\n')
            .map_or(self.text.len(), |i| self.cursor + i)
    }

    /// Removes `start..end`; text deleted by a kill command is kept for Ctrl+Y.
    fn delete_range(&mut self, start: usize, end: usize, deleted: Deleted) {
        if start >= end {
            return;
        }
        if deleted == Deleted::ToKillBuffer {
            self.kill = self.text[start..end].to_string();
        }
        self.text.replace_range(start..end, "");
        self.cursor = start;
        let text = &self.text;
        self.pastes.retain(|p| text.contains(&p.label));
    }

    /// A placeholder ending exactly at the cursor (deleted as a unit by Backspace).
    fn placeholder_before_cursor(&self) -> Option<usize> {
        let before = &self.text[..self.cursor];
        self.pastes
            .iter()
            .find(|p| before.ends_with(&p.label))
            .map(|p| self.cursor - p.label.len())
    }

    fn placeholder_after_cursor(&self) -> Option<usize> {
        let after = &self.text[self.cursor..];
        self.pastes
            .iter()
            .find(|p| after.starts_with(&p.label))
            .map(|p| self.cursor + p.label.len())
    }

    /// Moves the cursor one visual line up/down within the text; false at the first/last line.
    fn move_vertical(&mut self, direction: Vertical) -> bool {
        let start = self.line_start();
        let col = unicode_width::UnicodeWidthStr::width(&self.text[start..self.cursor]);
        let (line_start, line_end) = if direction == Vertical::Up {
            if start == 0 {
                return false;
            }
            let prev_end = start - 1;
            let prev_start = self.text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
            (prev_start, prev_end)
        } else {
            let end = self.line_end();
            if end == self.text.len() {
                return false;
            }
            let next_start = end + 1;
            let next_end = self.text[next_start..]
                .find('\n')
                .map_or(self.text.len(), |i| next_start + i);
            (next_start, next_end)
        };
        let mut pos = line_start;
        let mut w = 0;
        for g in self.text[line_start..line_end].graphemes(true) {
            let gw = unicode_width::UnicodeWidthStr::width(g);
            if w + gw > col {
                break;
            }
            w += gw;
            pos += g.len();
        }
        self.cursor = pos;
        true
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) -> ComposerResult {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Enter if shift || alt || ctrl => self.insert_str("\n"),
            KeyCode::Enter => {
                if self.text.trim().is_empty() {
                    return ComposerResult::Ignored;
                }
                let full = self.expanded_text();
                self.history.push(&self.text.clone());
                self.clear();
                return ComposerResult::Submitted(full);
            }
            KeyCode::Char('j') if ctrl => self.insert_str("\n"),
            KeyCode::Char('a') if ctrl => self.cursor = self.line_start(),
            KeyCode::Char('e') if ctrl => self.cursor = self.line_end(),
            KeyCode::Char('b') if ctrl => self.cursor = self.prev_boundary(self.cursor),
            KeyCode::Char('f') if ctrl => self.cursor = self.next_boundary(self.cursor),
            KeyCode::Char('w') if ctrl => self.delete_range(
                self.word_left(self.cursor),
                self.cursor,
                Deleted::ToKillBuffer,
            ),
            KeyCode::Char('u') if ctrl => {
                let start = self.line_start();
                let start = if start == self.cursor {
                    self.prev_boundary(start)
                } else {
                    start
                };
                self.delete_range(start, self.cursor, Deleted::ToKillBuffer);
            }
            KeyCode::Char('k') if ctrl => {
                let end = self.line_end();
                let end = if end == self.cursor {
                    self.next_boundary(end)
                } else {
                    end
                };
                self.delete_range(self.cursor, end, Deleted::ToKillBuffer);
            }
            KeyCode::Char('y') if ctrl => {
                let k = self.kill.clone();
                self.insert_str(&k);
            }
            KeyCode::Char('h') if ctrl => return self.backspace(),
            KeyCode::Char('b') if alt => self.cursor = self.word_left(self.cursor),
            KeyCode::Char('f') if alt => self.cursor = self.word_right(self.cursor),
            KeyCode::Char('d') if alt => self.delete_range(
                self.cursor,
                self.word_right(self.cursor),
                Deleted::ToKillBuffer,
            ),
            KeyCode::Char(_) if ctrl || alt => return ComposerResult::Ignored,
            KeyCode::Char(c) => {
                let mut buf = [0u8; 4];
                self.insert_str(c.encode_utf8(&mut buf));
                self.history.stop_browsing();
            }
            KeyCode::Backspace if ctrl || alt => self.delete_range(
                self.word_left(self.cursor),
                self.cursor,
                Deleted::ToKillBuffer,
            ),
            KeyCode::Backspace => return self.backspace(),
            KeyCode::Delete => {
                let end = self
                    .placeholder_after_cursor()
                    .unwrap_or_else(|| self.next_boundary(self.cursor));
                self.delete_range(self.cursor, end, Deleted::Dropped);
            }
            KeyCode::Left if ctrl || alt => self.cursor = self.word_left(self.cursor),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_right(self.cursor),
            KeyCode::Left => self.cursor = self.prev_boundary(self.cursor),
            KeyCode::Right => self.cursor = self.next_boundary(self.cursor),
            KeyCode::Home if ctrl => self.cursor = 0,
            KeyCode::End if ctrl => self.cursor = self.text.len(),
            KeyCode::Home => self.cursor = self.line_start(),
            KeyCode::End => self.cursor = self.line_end(),
            KeyCode::Up => {
                if !self.history.is_browsing() && self.move_vertical(Vertical::Up) {
                    return ComposerResult::Changed;
                }
                let current = self.text.clone();
                match self.history.older(&current) {
                    Some(entry) => self.set_text(&entry),
                    None => return ComposerResult::Ignored,
                }
            }
            KeyCode::Down => {
                if !self.history.is_browsing() && self.move_vertical(Vertical::Down) {
                    return ComposerResult::Changed;
                }
                match self.history.newer() {
                    Some(entry) => self.set_text(&entry),
                    None => return ComposerResult::Ignored,
                }
            }
            _ => return ComposerResult::Ignored,
        }
        ComposerResult::Changed
    }

    fn backspace(&mut self) -> ComposerResult {
        let start = self
            .placeholder_before_cursor()
            .unwrap_or_else(|| self.prev_boundary(self.cursor));
        self.delete_range(start, self.cursor, Deleted::Dropped);
        ComposerResult::Changed
    }
}

/// Where deleted text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deleted {
    /// Kept for Ctrl+Y (Ctrl+W/U/K, Alt+D, Alt+Backspace).
    ToKillBuffer,
    /// Gone (Backspace, Delete, a completion replacing what was typed).
    Dropped,
}

/// A cursor move between lines of a multi-line prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vertical {
    Up,
    Down,
}

#[cfg(test)]
mod tests;
