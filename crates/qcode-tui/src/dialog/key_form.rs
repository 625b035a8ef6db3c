//! The API-key form of `/auth`: a provider preset (fills the base URL and a default model),
//! the editable base URL and model, and a masked key field. The key is never drawn in clear,
//! never logged (redacting `Debug`) and never enters the prompt history.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use qcode_protocol::ProviderPreset;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::field::{Echo, TextField};
use super::{DialogAction, Painter, dim, title};
use crate::services::ApiKeyInput;

/// The rows of the form, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Provider,
    BaseUrl,
    Model,
    Key,
}

const FIELDS: [Field; 4] = [Field::Provider, Field::BaseUrl, Field::Model, Field::Key];

/// Label column width.
const LABEL: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormState {
    Editing,
    /// The key is being checked with the provider.
    Checking,
    Error(String),
}

#[derive(Debug)]
pub struct KeyForm {
    presets: Vec<ProviderPreset>,
    /// Index into `presets`; `presets.len()` means a custom endpoint.
    preset: usize,
    base_url: TextField,
    model: TextField,
    key: TextField,
    pub focus: Field,
    pub state: FormState,
}

impl KeyForm {
    pub fn new(presets: Vec<ProviderPreset>) -> Self {
        let mut form = Self {
            preset: 0,
            base_url: TextField::new("", Echo::Plain),
            model: TextField::new("", Echo::Plain),
            key: TextField::new("", Echo::Masked),
            focus: Field::Provider,
            state: FormState::Editing,
            presets,
        };
        form.apply_preset();
        form
    }

    fn current_preset(&self) -> Option<&ProviderPreset> {
        self.presets.get(self.preset)
    }

    fn apply_preset(&mut self) {
        if let Some(p) = self.current_preset().copied() {
            self.base_url.set(p.base_url);
            self.model.set(p.default_model);
        }
    }

    /// Selects the preset with this id (for tests and a preselected provider).
    pub fn select_preset(&mut self, id: &str) {
        if let Some(i) = self.presets.iter().position(|p| p.id == id) {
            self.preset = i;
            self.apply_preset();
        }
    }

    pub fn is_checking(&self) -> bool {
        self.state == FormState::Checking
    }

    /// The check or the save failed: show why and let the user edit again.
    pub fn fail(&mut self, message: String) {
        self.state = FormState::Error(message);
    }

    fn field_mut(&mut self, f: Field) -> Option<&mut TextField> {
        match f {
            Field::Provider => None,
            Field::BaseUrl => Some(&mut self.base_url),
            Field::Model => Some(&mut self.model),
            Field::Key => Some(&mut self.key),
        }
    }

    fn move_focus(&mut self, step: isize) {
        let i = FIELDS.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let n = FIELDS.len() as isize;
        self.focus = FIELDS[((i + step).rem_euclid(n)) as usize];
    }

    fn cycle_preset(&mut self, step: isize) {
        let n = self.presets.len() as isize + 1;
        self.preset = (self.preset as isize + step).rem_euclid(n) as usize;
        self.apply_preset();
    }

    /// The values to save, or why they cannot be saved yet.
    fn submission(&self) -> Result<ApiKeyInput, String> {
        let base_url = self.base_url.value().trim().to_string();
        let model = self.model.value().trim().to_string();
        let api_key = self.key.value().trim().to_string();
        if base_url.is_empty() {
            return Err("enter the provider's base URL (e.g. https://api.example.com/v1)".into());
        }
        if model.is_empty() {
            return Err("enter a model name".into());
        }
        let needs_key = self.current_preset().is_none_or(|p| p.needs_key);
        if api_key.is_empty() && needs_key {
            return Err("enter the API key".into());
        }
        Ok(ApiKeyInput {
            base_url,
            model,
            api_key,
        })
    }

    pub fn paste(&mut self, text: &str) {
        if self.is_checking() {
            return;
        }
        let focus = self.focus;
        if let Some(f) = self.field_mut(focus) {
            f.insert_str(text.trim());
            self.edited(focus);
        }
    }

    /// Editing the URL by hand makes the provider "Custom".
    fn edited(&mut self, field: Field) {
        if field == Field::BaseUrl
            && self
                .current_preset()
                .is_some_and(|p| p.base_url != self.base_url.value())
        {
            self.preset = self.presets.len();
        }
        if matches!(self.state, FormState::Error(_)) {
            self.state = FormState::Editing;
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        if self.is_checking() {
            return match key.code {
                KeyCode::Esc => DialogAction::BackToChooser,
                _ => DialogAction::None,
            };
        }
        match key.code {
            KeyCode::Esc => return DialogAction::BackToChooser,
            KeyCode::Tab | KeyCode::Down => self.move_focus(1),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(-1),
            KeyCode::Enter if key.modifiers.is_empty() => match self.submission() {
                Ok(input) => {
                    self.state = FormState::Checking;
                    return DialogAction::SaveKey(input);
                }
                Err(why) => self.state = FormState::Error(why),
            },
            KeyCode::Left if self.focus == Field::Provider => self.cycle_preset(-1),
            KeyCode::Right | KeyCode::Char(' ') if self.focus == Field::Provider => {
                self.cycle_preset(1)
            }
            _ => {
                let focus = self.focus;
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                if let Some(f) = self.field_mut(focus)
                    && f.handle_key(key)
                    && !(ctrl && matches!(key.code, KeyCode::Char('a' | 'e')))
                {
                    self.edited(focus);
                }
            }
        }
        DialogAction::None
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        // Title, four fields, the status (wrapped), footer.
        (6 + self.status_lines(width).len()) as u16
    }

    fn status_lines(&self, width: u16) -> Vec<Line<'static>> {
        let line = match &self.state {
            FormState::Editing => Line::from(Span::styled(
                "  The key is checked with the provider first, then saved for your user only.",
                dim(),
            )),
            FormState::Checking => Line::from(Span::styled(
                "  Checking the key with the provider…",
                Style::default().fg(Color::Yellow),
            )),
            FormState::Error(e) => Line::from(Span::styled(
                format!("  ✗ {e}"),
                Style::default().fg(Color::Red),
            )),
        };
        crate::wrap::wrap_lines(&[line], width as usize)
    }

    fn label(&self, field: Field, text: &str) -> Line<'static> {
        let focused = field == self.focus && !self.is_checking();
        let style = if focused {
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        Line::from(vec![
            Span::styled(if focused { "› " } else { "  " }, style),
            Span::styled(format!("{text:<w$}", w = LABEL - 2), style),
        ])
    }

    /// Draws the form; returns the cursor while a text field has the focus.
    pub fn render(&self, area: Rect, buf: &mut Buffer) -> Option<Position> {
        let mut p = Painter::new(area, buf);
        p.line(title("OpenAI-compatible API key"));
        let mut cursor = None;
        for field in FIELDS {
            let Some(row) = p.row() else { break };
            let label = match field {
                Field::Provider => "Provider",
                Field::BaseUrl => "Base URL",
                Field::Model => "Model",
                Field::Key => "API key",
            };
            self.label(field, label).render(row, p.buf());
            let value_area = Rect::new(
                row.x + LABEL as u16,
                row.y,
                row.width.saturating_sub(LABEL as u16),
                1,
            );
            match field {
                Field::Provider => {
                    let (name, hint) = match self.current_preset() {
                        Some(pr) => (pr.label, pr.key_hint),
                        None => ("Custom", ""),
                    };
                    let hint = if hint.is_empty() {
                        String::new()
                    } else {
                        format!("  key: {hint}")
                    };
                    Line::from(vec![
                        Span::raw(format!("‹ {name} ›")),
                        Span::styled(hint, dim()),
                    ])
                    .render(value_area, p.buf());
                }
                Field::BaseUrl | Field::Model | Field::Key => {
                    let f = match field {
                        Field::BaseUrl => &self.base_url,
                        Field::Model => &self.model,
                        Field::Key | Field::Provider => &self.key,
                    };
                    if field == Field::Key && f.is_empty() {
                        Span::styled("(hidden while you type)", dim()).render(value_area, p.buf());
                    }
                    let pos = f.render(value_area, p.buf(), Style::default());
                    if field == self.focus && !self.is_checking() {
                        cursor = Some(pos);
                    }
                }
            }
        }
        for l in self.status_lines(area.width) {
            p.line(l);
        }
        p.footer(match self.state {
            FormState::Checking => "Esc back",
            FormState::Editing | FormState::Error(_) => {
                "Tab/↑/↓ field · ←/→ provider · Enter check and save · Esc back"
            }
        });
        cursor
    }
}
