//! [`Transcript`]: the committed conversation. Finished cells are kept (for the pager and
//! `/copy`) and their lines queued for the scrollback above the bottom pane; the live part of a
//! turn stays in [`super::turn::RunningTurn`] until it is committed here.

use ratatui::text::Line;

use crate::markdown::{Highlighter, Highlighting};
use crate::transcript::{Cell, Detail, MarkdownStream};

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
    pub fn push_answer(&mut self, markdown: &str) {
        self.last_answer = markdown.to_string();
        self.cells.push(Cell::Assistant {
            markdown: markdown.to_string(),
        });
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
        t.push_answer("**done**");
        t.push_cell(notice("x"), 40, None);
        t.clear();
        assert!(t.cells().is_empty());
        assert!(t.take_pending().is_empty());
        assert!(!t.written_any());
        assert_eq!(t.last_answer(), "**done**");
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
