//! The `/model` picker: the provider's models (loaded in the background), filtered as you
//! type; when listing fails, the error is shown and the typed name is used.

use crossterm::event::{KeyCode, KeyEvent};
use qcode_protocol::Problem;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::field::{Echo, TextField};
use super::{DialogAction, Painter, dim, title};

/// Rows of models shown at most.
const MAX_ROWS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelsState {
    Loading,
    Ready(Vec<String>),
    Failed(String),
}

#[derive(Debug)]
pub struct ModelPicker {
    current: String,
    filter: TextField,
    pub state: ModelsState,
    selected: usize,
}

impl ModelPicker {
    pub fn new(current: &str) -> Self {
        Self {
            current: current.to_string(),
            filter: TextField::new("", Echo::Plain),
            state: ModelsState::Loading,
            selected: 0,
        }
    }

    pub fn is_loading(&self) -> bool {
        self.state == ModelsState::Loading
    }

    /// The list arrived (or failed).
    pub fn loaded(&mut self, result: Result<Vec<String>, Problem>) {
        self.state = match result {
            Ok(mut models) => {
                models.sort();
                models.dedup();
                self.selected = models.iter().position(|m| *m == self.current).unwrap_or(0);
                ModelsState::Ready(models)
            }
            Err(e) => ModelsState::Failed(e.one_line()),
        };
    }

    fn visible(&self) -> Vec<&str> {
        let ModelsState::Ready(models) = &self.state else {
            return Vec::new();
        };
        let f = self.filter.value().to_lowercase();
        models
            .iter()
            .filter(|m| m.to_lowercase().contains(&f))
            .map(String::as_str)
            .collect()
    }

    pub fn paste(&mut self, text: &str) {
        self.filter.insert_str(text.trim());
        self.selected = 0;
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        let n = self.visible().len();
        match key.code {
            KeyCode::Esc => DialogAction::Close,
            KeyCode::Up if n > 0 => {
                self.selected = (self.selected + n - 1) % n;
                DialogAction::None
            }
            KeyCode::Down if n > 0 => {
                self.selected = (self.selected + 1) % n;
                DialogAction::None
            }
            KeyCode::Enter => {
                if let Some(m) = self.visible().get(self.selected) {
                    return DialogAction::PickModel((*m).to_string());
                }
                let typed = self.filter.value().trim().to_string();
                if typed.is_empty() {
                    DialogAction::None
                } else {
                    DialogAction::PickModel(typed)
                }
            }
            _ => {
                if self.filter.handle_key(key) {
                    self.selected = 0;
                }
                DialogAction::None
            }
        }
    }

    fn error_lines(message: &str, width: u16) -> Vec<Line<'static>> {
        crate::wrap::wrap_lines(
            &[
                Line::from(Span::styled(
                    format!("    ✗ Cannot list models: {message}"),
                    Style::default().fg(Color::Red),
                )),
                Line::from(Span::styled(
                    "    Type a model name and press Enter.",
                    dim(),
                )),
            ],
            width as usize,
        )
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        let body = match &self.state {
            ModelsState::Loading => 1,
            ModelsState::Failed(e) => Self::error_lines(e, width).len(),
            ModelsState::Ready(_) => self.visible().len().clamp(1, MAX_ROWS),
        };
        (3 + body) as u16
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) -> Option<Position> {
        let mut p = Painter::new(area, buf);
        p.line(Line::from(vec![
            title("Model").spans[0].clone(),
            Span::styled(format!(" · now {}", self.current), dim()),
        ]));
        let mut cursor = None;
        if let Some(row) = p.row() {
            Span::styled("  Find: ", dim()).render(row, p.buf());
            let input = Rect::new(row.x + 8, row.y, row.width.saturating_sub(8), 1);
            if self.filter.is_empty() {
                Span::styled("type to filter or enter any model name", dim())
                    .render(input, p.buf());
            }
            cursor = Some(self.filter.render(input, p.buf(), Style::default()));
        }
        match &self.state {
            ModelsState::Loading => {
                p.line(Line::from(Span::styled("    Loading models…", dim())));
            }
            ModelsState::Failed(e) => {
                for l in Self::error_lines(e, area.width) {
                    p.line(l);
                }
            }
            ModelsState::Ready(_) => {
                let visible = self.visible();
                if visible.is_empty() {
                    p.line(Line::from(Span::styled(
                        "    no listed model matches; Enter uses the typed name",
                        dim(),
                    )));
                }
                let rows = (p.room() as usize).clamp(1, MAX_ROWS);
                let first = (self.selected + 1).saturating_sub(rows);
                for (i, m) in visible.iter().enumerate().skip(first).take(rows) {
                    let selected = i == self.selected;
                    let style = if selected {
                        Style::default()
                            .fg(Color::Cyan)
                            .add_modifier(Modifier::BOLD)
                    } else {
                        Style::default()
                    };
                    let mut spans = vec![
                        Span::styled(if selected { "  › " } else { "    " }, style),
                        Span::styled((*m).to_string(), style),
                    ];
                    if *m == self.current {
                        spans.push(Span::styled("  current", dim()));
                    }
                    p.line(Line::from(spans));
                }
            }
        }
        p.footer("↑/↓ choose · Enter select · Esc cancel");
        cursor
    }
}
