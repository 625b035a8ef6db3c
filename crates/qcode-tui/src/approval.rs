//! The approval modal shown in the bottom pane for an `Event::ApprovalRequest`: the coloured
//! diff (scrollable) for edits, the command and directory for shell, the URL for fetches.
//! Keys: y/Enter allow once, a allow for the session, n/Esc deny, d deny with a note. A
//! subagent's question is titled with it (`general-purpose · "find the parser" asks to run: …`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use qcode_protocol::{ApprovalDetails, ReviewDecision};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::transcript::tool::diff_lines;
use crate::wrap::{str_width, wrap_lines};

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalModal {
    pub request_id: String,
    pub call_id: String,
    pub tool: String,
    pub details: ApprovalDetails,
    scroll: usize,
    /// `Some` while the user types a note for a denial.
    note: Option<String>,
    /// The subagent asking, when it is not the main session.
    pub asker: Option<Asker>,
}

/// A subagent that asks for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker {
    pub agent_id: String,
    /// `general-purpose · "find the parser"`.
    pub label: String,
}

impl ApprovalModal {
    pub fn new(request_id: &str, call_id: &str, tool: &str, details: ApprovalDetails) -> Self {
        Self {
            request_id: request_id.into(),
            call_id: call_id.into(),
            tool: tool.into(),
            details,
            scroll: 0,
            note: None,
            asker: None,
        }
    }

    /// The same question asked by a subagent: the title names it.
    pub fn asked_by(mut self, asker: Asker) -> Self {
        self.asker = Some(asker);
        self
    }

    /// What the decision line names: the tool, and the subagent that asked.
    pub fn subject(&self) -> String {
        match &self.asker {
            Some(a) => format!("{} for {}", self.tool, a.label),
            None => self.tool.clone(),
        }
    }

    fn title(&self) -> Line<'static> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let (q, what) = match &self.details {
            ApprovalDetails::Edit { path, .. } => ("Allow this edit?", path.clone()),
            ApprovalDetails::Shell { .. } => ("Allow this command?", String::new()),
            ApprovalDetails::Fetch { .. } => ("Allow this fetch?", String::new()),
            ApprovalDetails::Other { .. } => ("Allow this tool call?", String::new()),
        };
        let mut spans = vec![Span::styled(
            "? ",
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )];
        match &self.asker {
            Some(a) => {
                spans.push(Span::styled(a.label.clone(), bold.fg(Color::Magenta)));
                spans.push(Span::styled(" asks to run: ", bold));
                spans.push(Span::styled(self.tool.clone(), bold));
            }
            None => {
                spans.push(Span::styled(q, bold));
                spans.push(Span::styled(
                    format!(" {}", self.tool),
                    Style::default().add_modifier(Modifier::DIM),
                ));
            }
        }
        if !what.is_empty() {
            spans.push(Span::styled(
                format!(" · {what}"),
                Style::default().fg(Color::Cyan),
            ));
        }
        Line::from(spans)
    }

    fn body(&self) -> Vec<Line<'static>> {
        let label = Style::default().add_modifier(Modifier::DIM);
        match &self.details {
            ApprovalDetails::Edit { diff, .. } => diff_lines(diff),
            ApprovalDetails::Shell { command, directory } => {
                let mut out: Vec<Line<'static>> = command
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        let lead = if i == 0 { "$ " } else { "  " };
                        Line::from(vec![
                            Span::styled(lead, label),
                            Span::styled(
                                l.to_string(),
                                Style::default().add_modifier(Modifier::BOLD),
                            ),
                        ])
                    })
                    .collect();
                out.push(Line::from(vec![
                    Span::styled("in ", label),
                    Span::raw(directory.clone()),
                ]));
                out
            }
            ApprovalDetails::Fetch { url } => vec![Line::from(vec![
                Span::styled("GET ", label),
                Span::styled(url.clone(), Style::default().fg(Color::Blue)),
            ])],
            ApprovalDetails::Other { summary } => {
                summary.lines().map(|l| Line::from(l.to_string())).collect()
            }
        }
    }

    fn footer(&self) -> Line<'static> {
        let key = Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD);
        let dim = Style::default().add_modifier(Modifier::DIM);
        match &self.note {
            Some(note) => Line::from(vec![
                Span::styled("Note for the model: ", key),
                Span::raw(note.clone()),
            ]),
            None => Line::from(vec![
                Span::styled("y", key),
                Span::styled(" allow once  ", dim),
                Span::styled("a", key),
                Span::styled(" allow for session  ", dim),
                Span::styled("n", key),
                Span::styled(" deny  ", dim),
                Span::styled("d", key),
                Span::styled(" deny with note", dim),
            ]),
        }
    }

    /// Rows wanted for `width` (title, body, footer, and a hint line when in note mode).
    pub fn desired_height(&self, width: u16) -> u16 {
        let body = wrap_lines(&self.body(), width.saturating_sub(2) as usize).len();
        (body + 2 + usize::from(self.note.is_some())) as u16
    }

    /// Handles a key; returns the decision once the user made one.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<ReviewDecision> {
        if let Some(note) = &mut self.note {
            match key.code {
                KeyCode::Enter => {
                    let message = Some(note.trim().to_string()).filter(|m| !m.is_empty());
                    return Some(ReviewDecision::Deny { message });
                }
                KeyCode::Esc => self.note = None,
                KeyCode::Backspace => {
                    note.pop();
                }
                KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => note.clear(),
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => note.push(c),
                _ => {}
            }
            return None;
        }
        match key.code {
            KeyCode::Char('y') | KeyCode::Enter => Some(ReviewDecision::AllowOnce),
            KeyCode::Char('a') => Some(ReviewDecision::AllowForSession),
            KeyCode::Char('n') | KeyCode::Esc => Some(ReviewDecision::Deny { message: None }),
            KeyCode::Char('d') => {
                self.note = Some(String::new());
                None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll = self.scroll.saturating_sub(1);
                None
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll += 1;
                None
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(10);
                None
            }
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll += 10;
                None
            }
            _ => None,
        }
    }

    /// Appends pasted text to the note while typing one.
    pub fn paste(&mut self, text: &str) {
        if let Some(note) = &mut self.note {
            note.push_str(&text.replace(['\r', '\n'], " "));
        }
    }

    /// Draws the modal; returns the cursor position while a note is typed.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer) -> Option<Position> {
        if area.height < 2 {
            self.footer().render(area, buf);
            return None;
        }
        let bar = Style::default().fg(Color::Yellow);
        self.title()
            .render(Rect::new(area.x, area.y, area.width, 1), buf);
        let body = wrap_lines(&self.body(), area.width.saturating_sub(2) as usize);
        let extra = 2 + u16::from(self.note.is_some());
        let rows = area.height.saturating_sub(extra) as usize;
        let max_scroll = body.len().saturating_sub(rows);
        self.scroll = self.scroll.min(max_scroll);
        let hidden_after = body.len().saturating_sub(self.scroll + rows);
        for (i, line) in body.iter().skip(self.scroll).take(rows).enumerate() {
            let y = area.y + 1 + i as u16;
            let last = i + 1 == rows;
            let gutter = if last && hidden_after > 0 {
                "↓ "
            } else if i == 0 && self.scroll > 0 {
                "↑ "
            } else {
                "│ "
            };
            Span::styled(gutter, bar).render(Rect::new(area.x, y, 2, 1), buf);
            line.clone().render(
                Rect::new(area.x + 2, y, area.width.saturating_sub(2), 1),
                buf,
            );
        }
        let footer_y = area.y + 1 + rows.min(body.len()) as u16;
        let footer = self.footer();
        footer
            .clone()
            .render(Rect::new(area.x, footer_y, area.width, 1), buf);
        if self.note.is_some() {
            Line::from(Span::styled(
                "Enter to send · Esc to go back",
                Style::default().add_modifier(Modifier::DIM),
            ))
            .render(Rect::new(area.x, footer_y + 1, area.width, 1), buf);
            let x = area.x
                + (crate::wrap::line_width(&footer) as u16).min(area.width.saturating_sub(1));
            return Some(Position::new(x, footer_y));
        }
        let _ = str_width;
        None
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

    fn draw(m: &mut ApprovalModal, w: u16, h: u16) -> String {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        m.render(buf.area, &mut buf);
        buffer_text(&buf)
    }

    #[test]
    fn edit_modal_scrolls_its_diff() {
        let diff: String = "@@ -1,12 +1,12 @@\n".to_string()
            + &(1..=12)
                .map(|i| format!("-old {i}\n+new {i}\n"))
                .collect::<String>();
        let mut m = ApprovalModal::new(
            "r1",
            "c1",
            "edit",
            ApprovalDetails::Edit {
                path: "src/lib.rs".into(),
                diff,
            },
        );
        let first = draw(&mut m, 70, 8);
        insta::assert_snapshot!(first);
        m.handle_key(key(KeyCode::PageDown));
        let scrolled = draw(&mut m, 70, 8);
        assert!(scrolled.contains("↑ +new 5"), "{scrolled}");
        assert_eq!(m.desired_height(70), 27);
    }

    #[test]
    fn shell_and_fetch_modals() {
        let mut m = ApprovalModal::new(
            "r",
            "c",
            "shell",
            ApprovalDetails::Shell {
                command: "cargo test --all".into(),
                directory: "/work/p".into(),
            },
        );
        let mut f = ApprovalModal::new(
            "r",
            "c",
            "web_fetch",
            ApprovalDetails::Fetch {
                url: "https://example.com/a".into(),
            },
        );
        insta::assert_snapshot!(format!(
            "{}\n---\n{}",
            draw(&mut m, 70, 4),
            draw(&mut f, 70, 3)
        ));
    }

    #[test]
    fn write_file_modal_shows_the_new_file() {
        let mut m = ApprovalModal::new(
            "r",
            "c",
            "write_file",
            ApprovalDetails::Edit {
                path: "docs/notes.md".into(),
                diff: "--- /dev/null\n+++ b/docs/notes.md\n@@ -0,0 +1,3 @@\n+# Notes\n+\n+First entry.\n"
                    .into(),
            },
        );
        let h = m.desired_height(70);
        insta::assert_snapshot!(draw(&mut m, 70, h));
    }

    #[test]
    fn memory_and_other_tool_modals() {
        let mut memory = ApprovalModal::new(
            "r",
            "c",
            "save_memory",
            ApprovalDetails::Other {
                summary: "Remember: the user prefers tabs over spaces".into(),
            },
        );
        let mut other = ApprovalModal::new(
            "r",
            "c",
            "mcp_tool",
            ApprovalDetails::Other {
                summary: "create issue\ntitle: Parser drops the last line".into(),
            },
        );
        let (hm, ho) = (memory.desired_height(70), other.desired_height(70));
        insta::assert_snapshot!(format!(
            "{}\n---\n{}",
            draw(&mut memory, 70, hm),
            draw(&mut other, 70, ho)
        ));
    }

    #[test]
    fn multi_line_shell_command_and_the_deny_note() {
        let mut m = ApprovalModal::new(
            "r",
            "c",
            "run_shell_command",
            ApprovalDetails::Shell {
                command: "cargo build &&\ncargo test --all".into(),
                directory: "/work/p".into(),
            },
        );
        let h = m.desired_height(70);
        let asking = draw(&mut m, 70, h);
        m.handle_key(key(KeyCode::Char('d')));
        for c in "use nextest".chars() {
            m.handle_key(key(KeyCode::Char(c)));
        }
        let h = m.desired_height(70);
        let note = draw(&mut m, 70, h);
        insta::assert_snapshot!(format!("{asking}\n---\n{note}"));
    }

    #[test]
    fn keys_make_decisions() {
        let details = ApprovalDetails::Other {
            summary: "x".into(),
        };
        let mut m = ApprovalModal::new("r", "c", "t", details);
        assert_eq!(
            m.handle_key(key(KeyCode::Char('y'))),
            Some(ReviewDecision::AllowOnce)
        );
        assert_eq!(
            m.handle_key(key(KeyCode::Enter)),
            Some(ReviewDecision::AllowOnce)
        );
        assert_eq!(
            m.handle_key(key(KeyCode::Char('a'))),
            Some(ReviewDecision::AllowForSession)
        );
        assert_eq!(
            m.handle_key(key(KeyCode::Esc)),
            Some(ReviewDecision::Deny { message: None })
        );
        assert_eq!(m.handle_key(key(KeyCode::Char('d'))), None);
        for c in "use rg".chars() {
            assert_eq!(m.handle_key(key(KeyCode::Char(c))), None);
        }
        let text = draw(&mut m, 60, 4);
        assert!(text.contains("Note for the model: use rg"), "{text}");
        assert_eq!(
            m.handle_key(key(KeyCode::Enter)),
            Some(ReviewDecision::Deny {
                message: Some("use rg".into())
            })
        );
    }
}
