//! [`Transcript`]: the committed conversation. Finished cells are kept (for the pager and
//! `/copy`) and their lines queued for the scrollback above the bottom pane; the live part of a
//! turn stays in [`super::turn::RunningTurn`] until it is committed here.

use ratatui::text::Line;

use crate::markdown::{Highlighter, Highlighting};
use crate::transcript::{Cell, Detail, MarkdownStream, ToolCell, ToolState};
use qcode_protocol::ToolStatus;

/// Whether lines start a new block in the scrollback or continue the one above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Separation {
    /// A blank line before them (unless they are the first lines of the session).
    BlankLine,
    /// Directly below the previous lines (the rest of a streamed answer).
    Attached,
}

#[derive(Debug, Default)]
pub(crate) struct Transcript {
    cells: Vec<Cell>,
    /// Lines waiting to be written to the scrollback.
    pending: Vec<Line<'static>>,
    /// Whether anything was written since the start (or the last /clear).
    written_any: bool,
    /// The markdown of the last answer, for `/copy`.
    last_answer: String,
}

impl Transcript {
    /// Commits a finished cell: its compact lines go to the scrollback, the cell is kept.
    pub fn push_cell(&mut self, cell: Cell, width: usize, hl: Option<&Highlighter>) {
        let lines = cell.lines(width, hl, Detail::Compact);
        self.push_lines(lines, Separation::BlankLine);
        self.cells.push(cell);
    }

    /// Commits a finished cell directly below the previous lines (a subagent's summary under
    /// its `task` call).
    pub fn push_cell_attached(&mut self, cell: Cell, width: usize, hl: Option<&Highlighter>) {
        let lines = cell.lines(width, hl, Detail::Compact);
        self.push_lines(lines, Separation::Attached);
        self.cells.push(cell);
    }

    /// Queues lines for the scrollback.
    pub fn push_lines(&mut self, lines: Vec<Line<'static>>, separation: Separation) {
        if lines.is_empty() {
            return;
        }
        if separation == Separation::BlankLine && self.written_any {
            self.pending.push(Line::default());
        }
        self.written_any = true;
        self.pending.extend(lines);
    }

    /// Keeps a streamed answer whose lines were already written as it streamed.
    pub fn push_answer(&mut self, markdown: String) {
        self.last_answer.clone_from(&markdown);
        self.cells.push(Cell::Assistant { markdown });
    }

    /// Commits a resumed conversation as it was shown: user prompts, answers (markdown), tool
    /// calls collapsed to their one-line summary with their status. System messages are skipped.
    pub fn push_resumed(
        &mut self,
        messages: &[qcode_protocol::ChatMessage],
        width: usize,
        hl: Option<&Highlighter>,
    ) {
        use qcode_protocol::Role;
        for (i, m) in messages.iter().enumerate() {
            match m.role {
                Role::System | Role::Tool => {}
                Role::User => self.push_cell(
                    Cell::User {
                        text: m.content.clone(),
                    },
                    width,
                    hl,
                ),
                Role::Assistant => {
                    if !m.content.trim().is_empty() {
                        self.last_answer = m.content.clone();
                        self.push_cell(
                            Cell::Assistant {
                                markdown: m.content.clone(),
                            },
                            width,
                            hl,
                        );
                    }
                    for call in &m.tool_calls {
                        let result = messages[i + 1..].iter().find(|r| {
                            r.role == Role::Tool && r.tool_call_id.as_deref() == Some(&call.id)
                        });
                        let mut cell = ToolCell::new(&call.id, &call.name, &call.name);
                        cell.state = match result {
                            None => ToolState::Done(ToolStatus::Cancelled),
                            Some(r) if r.content.starts_with("Error") => {
                                ToolState::Done(ToolStatus::Error)
                            }
                            Some(_) => ToolState::Done(ToolStatus::Success),
                        };
                        self.push_cell(Cell::Tool(Box::new(cell)), width, hl);
                    }
                }
            }
        }
    }

    pub fn take_pending(&mut self) -> Vec<Line<'static>> {
        std::mem::take(&mut self.pending)
    }

    /// Forgets everything (`/clear`).
    pub fn clear(&mut self) {
        self.cells.clear();
        self.pending.clear();
        self.written_any = false;
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    pub fn written_any(&self) -> bool {
        self.written_any
    }

    pub fn last_answer(&self) -> &str {
        &self.last_answer
    }

    /// Every cell in full, then the answer still streaming, for the pager.
    pub fn full_lines(
        &self,
        width: usize,
        hl: Option<&Highlighter>,
        streaming: Option<&MarkdownStream>,
    ) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for (i, cell) in self.cells.iter().enumerate() {
            if i > 0 {
                out.push(Line::default());
            }
            out.extend(cell.lines(width, hl, Detail::Full));
        }
        if let Some(stream) = streaming {
            out.push(Line::default());
            out.extend(crate::markdown::render(
                stream.source(),
                width,
                hl,
                Highlighting::On,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::NoticeKind;

    fn notice(text: &str) -> Cell {
        Cell::Notice {
            kind: NoticeKind::Info,
            text: text.into(),
            hint: None,
        }
    }

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_kept_cell_is_small() {
        // Every cell of a long session is kept: the big variants are boxed.
        assert!(
            std::mem::size_of::<Cell>() <= 64,
            "{}",
            std::mem::size_of::<Cell>()
        );
    }

    #[test]
    fn cells_are_separated_by_one_blank_line_but_the_first_is_not() {
        let mut t = Transcript::default();
        t.push_cell(notice("one"), 40, None);
        t.push_cell(notice("two"), 40, None);
        let lines = text(&t.take_pending());
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("one"));
        assert_eq!(lines[1], "");
        assert!(lines[2].contains("two"));
        assert!(t.take_pending().is_empty(), "taken once");
        assert_eq!(t.cells().len(), 2);
    }

    #[test]
    fn attached_lines_continue_and_empty_batches_change_nothing() {
        let mut t = Transcript::default();
        t.push_lines(Vec::new(), Separation::BlankLine);
        assert!(!t.written_any());
        t.push_lines(vec![Line::from("a")], Separation::BlankLine);
        t.push_lines(vec![Line::from("b")], Separation::Attached);
        t.push_lines(vec![Line::from("c")], Separation::BlankLine);
        assert_eq!(text(&t.take_pending()), vec!["a", "b", "", "c"]);
    }

    #[test]
    fn clear_forgets_cells_but_keeps_the_last_answer_for_copy() {
        let mut t = Transcript::default();
        t.push_answer("**done**".into());
        t.push_cell(notice("x"), 40, None);
        t.clear();
        assert!(t.cells().is_empty());
        assert!(t.take_pending().is_empty());
        assert!(!t.written_any());
        assert_eq!(t.last_answer(), "**done**");
    }

    #[test]
    fn a_resumed_conversation_shows_prompts_answers_and_collapsed_tool_calls() {
        use qcode_protocol::{ChatMessage, Role, ToolCall};
        let msg = |role, content: &str| ChatMessage {
            role,
            content: content.into(),
            reasoning: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        let mut call = msg(Role::Assistant, "");
        call.tool_calls = vec![ToolCall {
            id: "c1".into(),
            name: "read_file".into(),
            arguments: "{}".into(),
        }];
        let mut result = msg(Role::Tool, "file contents");
        result.tool_call_id = Some("c1".into());
        let messages = vec![
            msg(Role::System, "system prompt"),
            msg(Role::User, "hello there"),
            call,
            result,
            msg(Role::Assistant, "**general** kenobi"),
        ];
        let mut t = Transcript::default();
        t.push_resumed(&messages, 40, None);
        let lines = text(&t.take_pending());
        let all = lines.join("\n");
        assert!(!all.contains("system prompt"), "{all}");
        assert!(all.contains("hello there"), "{all}");
        assert!(all.contains("read_file"), "{all}");
        assert!(!all.contains("file contents"), "collapsed: {all}");
        assert!(all.contains("general kenobi"), "{all}");
        assert_eq!(t.cells().len(), 3);
        assert_eq!(t.last_answer(), "**general** kenobi");
    }

    #[test]
    fn full_lines_include_the_answer_still_streaming() {
        let mut t = Transcript::default();
        t.push_cell(notice("first"), 40, None);
        let mut stream = MarkdownStream::new();
        stream.push("partial answer");
        let lines = text(&t.full_lines(40, None, Some(&stream)));
        assert!(lines[0].contains("first"), "{lines:?}");
        assert_eq!(lines[1], "");
        assert!(lines[2].contains("partial answer"), "{lines:?}");
    }
}
