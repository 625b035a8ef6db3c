//! A subagent's log for the pager: every text, tool call, decision and notice it produced, as
//! transcript cells, within [`MAX_LOG_BYTES`] (the oldest entries go first).

use std::collections::VecDeque;

use qcode_protocol::{ReviewDecision, TodoItem, ToolStatus};

use super::{CUT_NOTE, MAX_LOG_BYTES, MAX_TEXT_BYTES, MAX_TOOL_OUTPUT_BYTES, one_line};
use crate::transcript::{Cell, NoticeKind, ToolCell, ToolState};

/// Log cells searched (from the newest) for the tool call an output belongs to.
const TOOL_SEARCH_DEPTH: usize = 32;

/// Everything a subagent did, for the pager, within [`MAX_LOG_BYTES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubagentLog {
    cells: VecDeque<Cell>,
    bytes: usize,
    /// Entries dropped from the front to stay within the cap.
    dropped: usize,
}

fn cell_bytes(cell: &Cell) -> usize {
    match cell {
        Cell::Assistant { markdown } => markdown.len(),
        Cell::Tool(t) => {
            t.summary.len() + t.output.len() + t.diff.as_ref().map_or(0, String::len) + 64
        }
        Cell::Notice { text, hint, .. } => text.len() + hint.as_ref().map_or(0, String::len),
        Cell::Decision { tool, .. } => tool.len() + 16,
        Cell::Todos { items } => items.iter().map(|i| i.content.len() + 8).sum(),
        Cell::User { text } | Cell::Reasoning { text, .. } => text.len(),
        Cell::Shell {
            command, output, ..
        } => command.len() + output.len(),
        Cell::Info { lines } => lines.iter().map(|l| l.width() + 8).sum(),
        Cell::Subagent(s) => s.label.len() + 32,
    }
}

/// Appends `add` to `s` while `s` stays within `cap` bytes; at the cap, what fits (on a
/// character boundary) and [`CUT_NOTE`] once.
pub(super) fn push_capped(s: &mut String, add: &str, cap: usize) {
    if s.len() >= cap {
        return;
    }
    if s.len() + add.len() <= cap {
        s.push_str(add);
        return;
    }
    let mut end = cap - s.len();
    while end > 0 && !add.is_char_boundary(end) {
        end -= 1;
    }
    s.push_str(&add[..end]);
    s.push_str(CUT_NOTE);
}

fn capped(text: &str, cap: usize) -> String {
    let mut s = String::new();
    push_capped(&mut s, text, cap);
    s
}

impl SubagentLog {
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn dropped(&self) -> usize {
        self.dropped
    }

    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter()
    }

    /// Bytes held (what the cap counts).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn push(&mut self, cell: Cell) {
        self.bytes += cell_bytes(&cell);
        self.cells.push_back(cell);
        self.trim();
    }

    /// Changes one cell, keeping the byte count right.
    fn update(&mut self, index: usize, change: impl FnOnce(&mut Cell)) {
        let Some(cell) = self.cells.get_mut(index) else {
            return;
        };
        let before = cell_bytes(cell);
        change(cell);
        self.bytes = self.bytes - before + cell_bytes(cell);
        self.trim();
    }

    fn trim(&mut self) {
        while self.bytes > MAX_LOG_BYTES && self.cells.len() > 1 {
            if let Some(first) = self.cells.pop_front() {
                self.bytes -= cell_bytes(&first);
                self.dropped += 1;
            }
        }
    }

    pub fn text(&mut self, text: &str) {
        match self.cells.back() {
            Some(Cell::Assistant { .. }) => {
                let last = self.cells.len() - 1;
                self.update(last, |c| {
                    if let Cell::Assistant { markdown } = c {
                        push_capped(markdown, text, MAX_TEXT_BYTES);
                    }
                });
            }
            _ => self.push(Cell::Assistant {
                markdown: capped(text, MAX_TEXT_BYTES),
            }),
        }
    }

    fn tool_index(&self, call_id: &str) -> Option<usize> {
        let len = self.cells.len();
        (len.saturating_sub(TOOL_SEARCH_DEPTH)..len)
            .rev()
            .find(|&i| matches!(&self.cells[i], Cell::Tool(t) if t.call_id == call_id))
    }

    pub fn tool_begin(&mut self, call_id: &str, name: &str, summary: &str) {
        self.push(Cell::Tool(Box::new(ToolCell::new(
            call_id,
            name,
            &one_line(summary),
        ))));
    }

    pub fn tool_output(&mut self, call_id: &str, chunk: &str) {
        if let Some(i) = self.tool_index(call_id) {
            self.update(i, |c| {
                if let Cell::Tool(t) = c {
                    push_capped(&mut t.output, chunk, MAX_TOOL_OUTPUT_BYTES);
                }
            });
        }
    }

    pub fn tool_end(&mut self, end: ToolEnd<'_>) {
        let i = match self.tool_index(end.call_id) {
            Some(i) => i,
            None => {
                self.push(Cell::Tool(Box::new(ToolCell::new(
                    end.call_id,
                    end.name,
                    end.name,
                ))));
                self.cells.len() - 1
            }
        };
        self.update(i, |c| {
            if let Cell::Tool(t) = c {
                t.state = ToolState::Done(end.status);
                t.output = capped(end.output, MAX_TOOL_OUTPUT_BYTES);
                t.diff = end.diff.map(|d| capped(d, MAX_TOOL_OUTPUT_BYTES));
                t.duration_ms = end.duration_ms;
            }
        });
    }

    pub fn notice(&mut self, kind: NoticeKind, text: &str, hint: Option<&str>) {
        self.push(Cell::Notice {
            kind,
            text: capped(text, MAX_TOOL_OUTPUT_BYTES),
            hint: hint.map(|h| capped(h, MAX_TOOL_OUTPUT_BYTES)),
        });
    }

    pub fn decision(&mut self, tool: &str, decision: ReviewDecision) {
        self.push(Cell::Decision {
            tool: one_line(tool),
            decision,
        });
    }

    pub fn todos(&mut self, items: Vec<TodoItem>) {
        self.push(Cell::Todos { items });
    }

    /// Tools still running when the subagent ended are shown as cancelled.
    pub(super) fn close_running_tools(&mut self) {
        for cell in &mut self.cells {
            if let Cell::Tool(t) = cell
                && t.state == ToolState::Running
            {
                t.state = ToolState::Done(ToolStatus::Cancelled);
            }
        }
    }
}

/// A tool call of the subagent that ended (the fields of `Event::ToolCallEnd`).
#[derive(Debug, Clone, Copy)]
pub struct ToolEnd<'a> {
    pub call_id: &'a str,
    pub name: &'a str,
    pub status: ToolStatus,
    pub output: &'a str,
    pub diff: Option<&'a str>,
    pub duration_ms: u64,
}
