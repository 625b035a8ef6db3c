//! A small selection list drawn above the composer: slash commands, `@` file matches, and
//! pickers (model, approval mode).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::wrap::str_width;

/// Rows shown at most.
pub const MAX_ROWS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopupItem {
    /// What is inserted / chosen.
    pub value: String,
    /// What is shown (defaults to the value).
    pub label: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Popup {
    pub title: Option<String>,
    pub items: Vec<PopupItem>,
    pub selected: usize,
    /// Shown when there are no items.
    pub empty_text: String,
}

impl Popup {
    pub fn new(items: Vec<PopupItem>) -> Self {
        Self {
            items,
            ..Self::default()
        }
    }

    pub fn with_title(mut self, title: &str) -> Self {
        self.title = Some(title.to_string());
        self
    }

    pub fn up(&mut self) {
        if !self.items.is_empty() {
            self.selected = (self.selected + self.items.len() - 1) % self.items.len();
        }
    }

    pub fn down(&mut self) {
        if !self.items.is_empty() {
            self.selected = (self.selected + 1) % self.items.len();
        }
    }

    pub fn selected(&self) -> Option<&PopupItem> {
        self.items.get(self.selected)
    }

    /// Replaces the items, keeping the selection in range.
    pub fn set_items(&mut self, items: Vec<PopupItem>) {
        self.items = items;
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }

    pub fn height(&self) -> u16 {
        let rows = self.items.len().clamp(1, MAX_ROWS);
        (rows + usize::from(self.title.is_some())) as u16
    }
}

impl Widget for &Popup {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut y = area.y;
        if let Some(t) = &self.title {
            Line::from(Span::styled(
                t.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ))
            .render(Rect::new(area.x, y, area.width, 1), buf);
            y += 1;
        }
        if self.items.is_empty() {
            Line::from(Span::styled(
                format!("  {}", self.empty_text),
                Style::default().add_modifier(Modifier::DIM),
            ))
            .render(Rect::new(area.x, y, area.width, 1), buf);
            return;
        }
        let rows = (area.bottom().saturating_sub(y)) as usize;
        let first = if self.selected >= rows {
            self.selected + 1 - rows
        } else {
            0
        };
        let label_width = self
            .items
            .iter()
            .map(|i| str_width(&i.label))
            .max()
            .unwrap_or(0)
            .min(area.width as usize / 2);
        for (i, item) in self.items.iter().enumerate().skip(first).take(rows) {
            let selected = i == self.selected;
            let marker = if selected { "› " } else { "  " };
            let style = if selected {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let pad = label_width.saturating_sub(str_width(&item.label));
            let line = Line::from(vec![
                Span::styled(marker, style),
                Span::styled(item.label.clone(), style),
                Span::raw(" ".repeat(pad + 2)),
                Span::styled(
                    item.description.clone(),
                    Style::default().add_modifier(Modifier::DIM),
                ),
            ]);
            line.render(Rect::new(area.x, y, area.width, 1), buf);
            y += 1;
        }
    }
}
