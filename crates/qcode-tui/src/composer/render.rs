//! Layout of the composer: character wrapping by display width (CJK and emoji take two
//! columns), the `› ` prompt, highlighted paste placeholders, and the exact cursor cell so the
//! terminal's cursor (and an IME popup) sits where the user types.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_segmentation::UnicodeSegmentation;

use super::Composer;
use crate::wrap::str_width;

const PROMPT: &str = "› ";
const PROMPT_WIDTH: u16 = 2;
const HINT: &str = "Ask anything · / commands · @ files · ! shell";

/// Rows of the composer and where the cursor is (row, column), before scrolling.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposerLayout {
    pub rows: Vec<Line<'static>>,
    pub cursor: (u16, u16),
}

/// Lays the composer out for `width` columns.
pub fn layout(c: &Composer, width: u16) -> ComposerLayout {
    let prompt_style = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let avail = width.saturating_sub(PROMPT_WIDTH).max(1) as usize;
    if c.text().is_empty() {
        return ComposerLayout {
            rows: vec![Line::from(vec![
                Span::styled(PROMPT, prompt_style),
                Span::styled(HINT, Style::default().add_modifier(Modifier::DIM)),
            ])],
            cursor: (0, PROMPT_WIDTH),
        };
    }
    let placeholder_ranges: Vec<(usize, usize)> = c
        .placeholder_labels()
        .iter()
        .filter_map(|l| c.text().find(l).map(|i| (i, i + l.len())))
        .collect();
    let paste_style = Style::default().fg(Color::Magenta);
    let mut rows: Vec<Vec<Span<'static>>> = vec![vec![Span::styled(PROMPT, prompt_style)]];
    let mut col = 0usize;
    let mut cursor = None;
    for (i, g) in c.text().grapheme_indices(true) {
        if i == c.cursor() {
            if col >= avail {
                rows.push(vec![Span::raw("  ")]);
                col = 0;
            }
            cursor = Some((rows.len() - 1, col));
        }
        if g == "\n" || g == "\r\n" {
            rows.push(vec![Span::raw("  ")]);
            col = 0;
            continue;
        }
        let w = str_width(g);
        if col + w > avail {
            rows.push(vec![Span::raw("  ")]);
            col = 0;
        }
        let style = if placeholder_ranges.iter().any(|&(s, e)| i >= s && i < e) {
            paste_style
        } else {
            Style::default()
        };
        let text = if g == "\t" {
            "    ".to_string()
        } else {
            g.to_string()
        };
        col += if g == "\t" { 4 } else { w };
        if let Some(row) = rows.last_mut() {
            let extend = row.len() > 1;
            match row.last_mut() {
                Some(last) if last.style == style && extend => {
                    last.content.to_mut().push_str(&text)
                }
                _ => row.push(Span::styled(text, style)),
            }
        }
    }
    let cursor = cursor.unwrap_or_else(|| {
        if col >= avail {
            rows.push(vec![Span::raw("  ")]);
            col = 0;
        }
        (rows.len() - 1, col)
    });
    ComposerLayout {
        rows: rows.into_iter().map(Line::from).collect(),
        cursor: (cursor.0 as u16, cursor.1 as u16 + PROMPT_WIDTH),
    }
}

impl ComposerLayout {
    /// Height to show: all rows, at most `max_rows`.
    pub fn height(&self, max_rows: u16) -> u16 {
        (self.rows.len() as u16).clamp(1, max_rows.max(1))
    }

    /// Draws the rows that keep the cursor visible; returns the screen position of the cursor.
    pub fn render(&self, area: Rect, buf: &mut Buffer) -> Position {
        let visible = area.height as usize;
        let cursor_row = self.cursor.0 as usize;
        let first = if cursor_row >= visible {
            cursor_row + 1 - visible
        } else {
            0
        };
        for (i, row) in self.rows.iter().skip(first).take(visible).enumerate() {
            row.clone()
                .render(Rect::new(area.x, area.y + i as u16, area.width, 1), buf);
        }
        Position::new(
            area.x + self.cursor.1.min(area.width.saturating_sub(1)),
            area.y + (cursor_row - first) as u16,
        )
    }
}
