//! The form an MCP server asks the user to fill in (`elicitation/create`): who asks (the
//! server's configured name), its message, and one row per field of its schema — text,
//! number, integer (typed), yes/no (Space), a choice (←/→), several choices (←/→ and Space).
//! The schema's defaults are filled in (SEP-1034), nothing else is. Enter checks the types
//! and the required fields ([`qcode_protocol::elicitation::validate`]) before accepting;
//! Ctrl+D declines, Esc cancels.
//!
//! Everything shown comes from the server: the texts arrive free of control characters, and
//! the dialog says plainly that the request is the server's, not qcode's.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use qcode_protocol::elicitation::{self, ElicitationAnswer, Field, FieldKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use serde_json::{Map, Value};

use super::field::{Echo, TextField};
use super::{DialogAction, Painter, dim, title};
use crate::services::ElicitationPrompt;
use crate::wrap::wrap_line;

/// Width of the label column.
const LABEL: usize = 24;

/// What one row holds while it is edited.
#[derive(Debug, Clone, PartialEq)]
enum Input {
    /// Text, number and integer fields are typed.
    Typed(TextField),
    /// Unset until the user (or the default) says yes or no.
    Flag(Option<bool>),
    /// An index into the choices.
    Choice(Option<usize>),
    /// Which choices are picked, and the one under the cursor.
    Several { picked: Vec<bool>, at: usize },
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    field: Field,
    input: Input,
}

impl Row {
    fn new(field: Field) -> Self {
        let d = field.default.as_ref();
        let input = match &field.kind {
            FieldKind::Text { .. } => Input::Typed(TextField::new(
                d.and_then(Value::as_str).unwrap_or(""),
                Echo::Plain,
            )),
            FieldKind::Number { .. } | FieldKind::Integer { .. } => Input::Typed(TextField::new(
                &d.map(Value::to_string).unwrap_or_default(),
                Echo::Plain,
            )),
            FieldKind::Boolean => Input::Flag(d.and_then(Value::as_bool)),
            FieldKind::Choice { values, .. } => Input::Choice(
                d.and_then(Value::as_str)
                    .and_then(|s| values.iter().position(|v| v == s)),
            ),
            FieldKind::MultiChoice { values, .. } => {
                let chosen: Vec<&str> = d
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                Input::Several {
                    picked: values
                        .iter()
                        .map(|v| chosen.contains(&v.as_str()))
                        .collect(),
                    at: 0,
                }
            }
        };
        Self { field, input }
    }

    /// The row's value for the answer: `None` when left empty; an error for text that is not
    /// a number where one is needed.
    fn value(&self) -> Result<Option<Value>, String> {
        let label = &self.field.label;
        Ok(match (&self.input, &self.field.kind) {
            (Input::Typed(t), _) if t.value().trim().is_empty() => None,
            (Input::Typed(t), FieldKind::Number { .. }) => {
                let n: f64 = t
                    .value()
                    .trim()
                    .parse()
                    .map_err(|_| format!("{label} must be a number"))?;
                Some(Value::from(n))
            }
            (Input::Typed(t), FieldKind::Integer { .. }) => {
                let n: i64 = t
                    .value()
                    .trim()
                    .parse()
                    .map_err(|_| format!("{label} must be a whole number"))?;
                Some(Value::from(n))
            }
            (Input::Typed(t), _) => Some(Value::from(t.value())),
            (Input::Flag(b), _) => b.map(Value::from),
            (Input::Choice(i), FieldKind::Choice { values, .. }) => i
                .and_then(|i| values.get(i))
                .map(|v| Value::from(v.clone())),
            (Input::Several { picked, .. }, FieldKind::MultiChoice { values, .. }) => {
                let chosen: Vec<Value> = values
                    .iter()
                    .zip(picked)
                    .filter(|(_, p)| **p)
                    .map(|(v, _)| Value::from(v.clone()))
                    .collect();
                (!chosen.is_empty()).then_some(Value::Array(chosen))
            }
            (Input::Choice(_) | Input::Several { .. }, _) => None,
        })
    }

    fn labels(&self) -> &[String] {
        match &self.field.kind {
            FieldKind::Choice { labels, .. } | FieldKind::MultiChoice { labels, .. } => labels,
            _ => &[],
        }
    }

    /// ←/→ and Space on a non-text row; returns whether the key was used.
    fn handle_key(&mut self, key: KeyEvent) -> bool {
        let count = self.labels().len();
        match &mut self.input {
            Input::Typed(t) => t.handle_key(key),
            Input::Flag(b) => match key.code {
                KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right => {
                    *b = Some(!b.unwrap_or(false));
                    true
                }
                KeyCode::Char('y') => {
                    *b = Some(true);
                    true
                }
                KeyCode::Char('n') => {
                    *b = Some(false);
                    true
                }
                _ => false,
            },
            Input::Choice(i) => match key.code {
                KeyCode::Right | KeyCode::Char(' ') => {
                    *i = Some(i.map_or(0, |i| (i + 1) % count));
                    true
                }
                KeyCode::Left => {
                    *i = Some(i.map_or(count - 1, |i| (i + count - 1) % count));
                    true
                }
                _ => false,
            },
            Input::Several { picked, at } => match key.code {
                KeyCode::Right => {
                    *at = (*at + 1) % count;
                    true
                }
                KeyCode::Left => {
                    *at = (*at + count - 1) % count;
                    true
                }
                KeyCode::Char(' ') => {
                    if let Some(p) = picked.get_mut(*at) {
                        *p = !*p;
                    }
                    true
                }
                _ => false,
            },
        }
    }
}

/// The elicitation dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationForm {
    /// The request's id (its answer goes back with it).
    pub id: u64,
    server: String,
    message: String,
    rows: Vec<Row>,
    focus: usize,
    /// Why the last Enter was refused.
    error: Option<String>,
}

impl ElicitationForm {
    pub fn new(prompt: ElicitationPrompt) -> Self {
        Self {
            id: prompt.id,
            server: prompt.server,
            message: prompt.message,
            rows: prompt.fields.into_iter().map(Row::new).collect(),
            focus: 0,
            error: None,
        }
    }

    /// The answer Enter would give: the filled-in values, checked.
    fn submission(&self) -> Result<Map<String, Value>, String> {
        let mut values = Map::new();
        for row in &self.rows {
            if let Some(v) = row.value()? {
                values.insert(row.field.name.clone(), v);
            }
        }
        let fields: Vec<Field> = self.rows.iter().map(|r| r.field.clone()).collect();
        elicitation::validate(&fields, &values)
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> DialogAction {
        let answer = |answer| DialogAction::AnswerElicitation {
            id: self.id,
            answer,
        };
        match key.code {
            KeyCode::Esc => return answer(ElicitationAnswer::Cancel),
            KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return answer(ElicitationAnswer::Decline);
            }
            KeyCode::Enter if key.modifiers.is_empty() => {
                return match self.submission() {
                    Ok(values) => answer(ElicitationAnswer::Accept(values)),
                    Err(why) => {
                        self.error = Some(why);
                        DialogAction::None
                    }
                };
            }
            KeyCode::Tab | KeyCode::Down if !self.rows.is_empty() => {
                self.focus = (self.focus + 1) % self.rows.len();
            }
            KeyCode::BackTab | KeyCode::Up if !self.rows.is_empty() => {
                self.focus = (self.focus + self.rows.len() - 1) % self.rows.len();
            }
            _ => {
                if let Some(row) = self.rows.get_mut(self.focus) {
                    row.handle_key(key);
                }
            }
        }
        DialogAction::None
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(Row {
            input: Input::Typed(t),
            ..
        }) = self.rows.get_mut(self.focus)
        {
            t.insert_str(text);
        }
    }

    fn message_lines(&self, width: u16) -> Vec<Line<'static>> {
        wrap_line(
            &Line::from(format!("  {}", self.message)),
            width.max(10) as usize,
        )
    }

    /// Rows the dialog would like at `width`.
    pub fn desired_height(&self, width: u16) -> u16 {
        // Title, warning, message, a blank, the fields, description or error, footer.
        (2 + self.message_lines(width).len() + 1 + self.rows.len() + 2) as u16
    }

    /// Draws the form; returns the cursor while a typed field has the focus.
    pub fn render(&self, area: Rect, buf: &mut Buffer) -> Option<Position> {
        let mut p = Painter::new(area, buf);
        p.line(title(&format!(
            "MCP server `{}` asks for input",
            self.server
        )));
        p.line(Line::from(Span::styled(
            "  This request comes from the server, not from qcode: do not give it passwords or keys.",
            Style::default().fg(Color::Yellow),
        )));
        for l in self.message_lines(area.width) {
            p.line(l);
        }
        p.line(Line::from(""));
        let mut cursor = None;
        for (i, row) in self.rows.iter().enumerate() {
            let Some(r) = p.row() else { break };
            let focused = i == self.focus;
            let style = if focused {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let star = if row.field.required { "*" } else { "" };
            let label: String = format!("{}{star}", row.field.label)
                .chars()
                .take(LABEL - 3)
                .collect();
            Line::from(vec![
                Span::styled(if focused { "› " } else { "  " }, style),
                Span::styled(format!("{label:<w$}", w = LABEL - 2), style),
            ])
            .render(r, p.buf());
            let value_area = Rect::new(
                r.x + LABEL as u16,
                r.y,
                r.width.saturating_sub(LABEL as u16),
                1,
            );
            match &row.input {
                Input::Typed(t) => {
                    let pos = t.render(value_area, p.buf(), Style::default());
                    if focused {
                        cursor = Some(pos);
                    }
                }
                Input::Flag(b) => {
                    let text = match b {
                        Some(true) => "[x] yes",
                        Some(false) => "[ ] no",
                        None => "[ ] (not set)",
                    };
                    Line::from(text).render(value_area, p.buf());
                }
                Input::Choice(c) => {
                    let shown = c
                        .and_then(|c| row.labels().get(c))
                        .map_or("(none)", String::as_str);
                    Line::from(format!("‹ {shown} ›")).render(value_area, p.buf());
                }
                Input::Several { picked, at } => {
                    let spans: Vec<Span> = row
                        .labels()
                        .iter()
                        .zip(picked)
                        .enumerate()
                        .map(|(j, (l, on))| {
                            let mark = if *on { "[x]" } else { "[ ]" };
                            let s = if focused && j == *at {
                                Style::default().add_modifier(Modifier::REVERSED)
                            } else {
                                Style::default()
                            };
                            Span::styled(format!("{mark} {l}  "), s)
                        })
                        .collect();
                    Line::from(spans).render(value_area, p.buf());
                }
            }
        }
        match (&self.error, self.rows.get(self.focus)) {
            (Some(e), _) => p.line(Line::from(Span::styled(
                format!("  {e}"),
                Style::default().fg(Color::Red),
            ))),
            (None, Some(row)) => {
                let mut hint = row.field.description.clone().unwrap_or_default();
                if let FieldKind::Text {
                    format: Some(f), ..
                } = &row.field.kind
                {
                    hint = format!("{hint} ({f})").trim().to_string();
                }
                p.line(Line::from(Span::styled(format!("  {hint}"), dim())));
            }
            (None, None) => {}
        }
        p.footer("Enter accept · Ctrl+D decline · Esc cancel · Tab next field · Space/←→ choose");
        cursor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::buffer_text;
    use serde_json::json;

    fn prompt() -> ElicitationPrompt {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "title": "Name", "default": "John Doe"},
            "age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 150},
            "agree": {"type": "boolean", "title": "Agree", "default": true},
            "status": {"type": "string", "title": "Status", "enum": ["active", "inactive"]},
            "fish": {"type": "array", "title": "Fish",
                     "items": {"anyOf": [{"const": "f1", "title": "Tuna"}, {"const": "f2", "title": "Trout"}]}}
        }, "required": ["age"]});
        ElicitationPrompt {
            id: 7,
            server: "srv".into(),
            message: "Tell us about you".into(),
            fields: elicitation::parse_schema(&schema).unwrap(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn focus(form: &mut ElicitationForm, name: &str) {
        while form.rows[form.focus].field.name != name {
            form.handle_key(key(KeyCode::Tab));
        }
    }

    #[test]
    fn the_form_shows_who_asks_with_defaults_filled_in() {
        let form = ElicitationForm::new(prompt());
        let area = Rect::new(0, 0, 100, form.desired_height(100));
        let mut buf = Buffer::empty(area);
        form.render(area, &mut buf);
        insta::assert_snapshot!(buffer_text(&buf));
    }

    #[test]
    fn enter_checks_types_and_required_fields_before_accepting() {
        let mut form = ElicitationForm::new(prompt());
        // Age is required: refused, with the reason shown.
        assert_eq!(form.handle_key(key(KeyCode::Enter)), DialogAction::None);
        assert_eq!(form.error.as_deref(), Some("Age is required"));
        focus(&mut form, "age");
        for c in "4x".chars() {
            form.handle_key(key(KeyCode::Char(c)));
        }
        form.handle_key(key(KeyCode::Enter));
        assert_eq!(form.error.as_deref(), Some("Age must be a whole number"));
        form.handle_key(key(KeyCode::Backspace));
        focus(&mut form, "status");
        form.handle_key(key(KeyCode::Left));
        focus(&mut form, "fish");
        form.handle_key(key(KeyCode::Right));
        form.handle_key(key(KeyCode::Char(' ')));
        focus(&mut form, "agree");
        form.handle_key(key(KeyCode::Char(' ')));
        let DialogAction::AnswerElicitation {
            id,
            answer: ElicitationAnswer::Accept(values),
        } = form.handle_key(key(KeyCode::Enter))
        else {
            panic!("expected an accept");
        };
        assert_eq!(id, 7);
        assert_eq!(
            Value::Object(values),
            json!({"name": "John Doe", "age": 4, "agree": false, "status": "inactive", "fish": ["f2"]})
        );
    }

    #[test]
    fn esc_cancels_and_ctrl_d_declines() {
        let mut form = ElicitationForm::new(prompt());
        assert_eq!(
            form.handle_key(key(KeyCode::Esc)),
            DialogAction::AnswerElicitation {
                id: 7,
                answer: ElicitationAnswer::Cancel
            }
        );
        assert_eq!(
            form.handle_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)),
            DialogAction::AnswerElicitation {
                id: 7,
                answer: ElicitationAnswer::Decline
            }
        );
    }
}
