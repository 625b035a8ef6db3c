//! [`RunningTurn`]: what is in flight — the engine's turn (reasoning, the streaming answer,
//! running tools), the approval questions it asked, prompts queued behind it, and local
//! `!command`s. Everything here is live; finished output is committed to the transcript.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use qcode_protocol::ToolStatus;
use ratatui::text::Line;

use super::transcript::Separation;
use crate::approval::ApprovalModal;
use crate::markdown::Highlighter;
use crate::transcript::{Cell, MarkdownStream, ToolCell, ToolProgressLine, ToolState};

/// The engine's turn while it runs.
#[derive(Debug)]
pub(crate) struct Turn {
    pub started: Instant,
    pub stream: Option<MarkdownStream>,
    pub reasoning: Option<(String, Instant)>,
    pub tools: Vec<ToolCell>,
    /// Whether lines of the current answer were already written to the scrollback.
    pub answer_started: bool,
}

impl Turn {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            stream: None,
            reasoning: None,
            tools: Vec::new(),
            answer_started: false,
        }
    }
}

/// A user message waiting for the running turn to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueuedTurn {
    /// What is sent to the model.
    pub text: String,
    /// What the transcript shows for it (a custom command shows what was typed).
    pub shown: String,
    /// A custom command's model for that turn only.
    pub model: Option<String>,
}

impl QueuedTurn {
    pub fn plain(text: String) -> Self {
        Self {
            shown: text.clone(),
            text,
            model: None,
        }
    }
}

/// The end of a streamed answer: its remaining lines and its markdown (if it had any text).
#[derive(Debug)]
pub(crate) struct FinishedAnswer {
    pub lines: Vec<Line<'static>>,
    pub separation: Separation,
    pub markdown: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct RunningTurn {
    turn: Option<Turn>,
    /// Prompts typed while a turn runs, sent when it ends.
    queued: VecDeque<QueuedTurn>,
    /// Approval questions, the first one shown.
    approvals: VecDeque<ApprovalModal>,
    /// Local `!command`s running.
    shells: Vec<String>,
}

impl RunningTurn {
    pub fn is_running(&self) -> bool {
        self.turn.is_some()
    }

    pub fn current(&self) -> Option<&Turn> {
        self.turn.as_ref()
    }

    /// The running turn, started now if none is (the engine's `TurnStarted` may come after
    /// its first output, or a prompt was just sent).
    pub fn start(&mut self) -> &mut Turn {
        self.turn.get_or_insert_with(Turn::new)
    }

    /// Ends the turn: how long it ran. Open approval questions are dropped with it.
    pub fn finish(&mut self) -> Option<Duration> {
        self.approvals.clear();
        self.turn.take().map(|t| t.started.elapsed())
    }

    /// True while something animates (spinner, elapsed time).
    pub fn animating(&self) -> bool {
        self.turn.is_some() || !self.shells.is_empty()
    }

    // ---- reasoning and the answer --------------------------------------------------------

    pub fn push_reasoning(&mut self, text: &str) {
        let r = self
            .start()
            .reasoning
            .get_or_insert_with(|| (String::new(), Instant::now()));
        r.0.push_str(text);
    }

    /// Ends the reasoning shown live: its one-line summary cell, unless it was empty.
    pub fn take_reasoning(&mut self) -> Option<Cell> {
        let (text, started) = self.turn.as_mut()?.reasoning.take()?;
        if text.trim().is_empty() {
            return None;
        }
        let secs = started.elapsed().as_secs().max(1);
        Some(Cell::Reasoning { text, secs })
    }

    /// Adds answer text; returns the lines that became stable and how they join the scrollback.
    pub fn push_text(
        &mut self,
        text: &str,
        width: usize,
        hl: &Highlighter,
    ) -> Option<(Vec<Line<'static>>, Separation)> {
        let turn = self.start();
        let stream = turn.stream.get_or_insert_with(MarkdownStream::new);
        if text.contains("```") && !hl.is_ready() {
            hl.start_loading(|| {});
        }
        if !stream.push(text) {
            return None;
        }
        let lines = stream.take_stable(width, Some(hl));
        if lines.is_empty() {
            return None;
        }
        let separation = if turn.answer_started {
            Separation::Attached
        } else {
            Separation::BlankLine
        };
        turn.answer_started = true;
        Some((lines, separation))
    }

    /// Ends the streamed answer, if one is streaming.
    pub fn finish_answer(&mut self, width: usize, hl: &Highlighter) -> Option<FinishedAnswer> {
        let turn = self.turn.as_mut()?;
        let mut stream = turn.stream.take()?;
        let separation = if std::mem::take(&mut turn.answer_started) {
            Separation::Attached
        } else {
            Separation::BlankLine
        };
        let lines = stream.finish(width, Some(hl));
        Some(FinishedAnswer {
            lines,
            separation,
            markdown: (!stream.is_empty()).then(|| stream.source().to_string()),
        })
    }

    // ---- tools ---------------------------------------------------------------------------

    pub fn begin_tool(&mut self, cell: ToolCell) {
        self.start().tools.push(cell);
    }

    /// Whether the tool call `call_id` is still shown live.
    pub fn has_tool(&self, call_id: &str) -> bool {
        self.turn
            .as_ref()
            .is_some_and(|t| t.tools.iter().any(|c| c.call_id == call_id))
    }

    pub fn tool_output(&mut self, call_id: &str, chunk: &str) {
        if let Some(t) = self.start().tools.iter_mut().find(|t| t.call_id == call_id) {
            t.output.push_str(chunk);
        }
    }

    /// A running tool reported progress (the latest replaces the one shown).
    pub fn tool_progress(&mut self, call_id: &str, progress: ToolProgressLine) {
        if let Some(t) = self.start().tools.iter_mut().find(|t| t.call_id == call_id) {
            t.progress = Some(progress);
        }
    }

    /// The cell of a tool call that ended (a new one if its start was never seen).
    pub fn end_tool(&mut self, call_id: &str, name: &str) -> ToolCell {
        let turn = self.start();
        match turn.tools.iter().position(|t| t.call_id == call_id) {
            Some(i) => turn.tools.remove(i),
            None => ToolCell::new(call_id, name, name),
        }
    }

    /// Tools still shown live, those still running marked cancelled (the turn ended).
    pub fn take_tools(&mut self) -> Vec<ToolCell> {
        let mut tools = self
            .turn
            .as_mut()
            .map(|t| std::mem::take(&mut t.tools))
            .unwrap_or_default();
        for t in &mut tools {
            if t.state == ToolState::Running {
                t.state = ToolState::Done(ToolStatus::Cancelled);
            }
        }
        tools
    }

    // ---- queued prompts ------------------------------------------------------------------

    pub fn queue(&mut self, turn: QueuedTurn) {
        self.queued.push_back(turn);
    }

    pub fn next_queued(&mut self) -> Option<QueuedTurn> {
        self.queued.pop_front()
    }

    pub fn queued_len(&self) -> usize {
        self.queued.len()
    }

    // ---- approvals -----------------------------------------------------------------------

    pub fn ask(&mut self, modal: ApprovalModal) {
        self.approvals.push_back(modal);
    }

    /// The question shown now.
    pub fn approval(&self) -> Option<&ApprovalModal> {
        self.approvals.front()
    }

    pub fn approval_mut(&mut self) -> Option<&mut ApprovalModal> {
        self.approvals.front_mut()
    }

    pub fn waiting_for_approval(&self) -> bool {
        !self.approvals.is_empty()
    }

    /// Removes the question shown now (it was answered).
    pub fn answered(&mut self) -> Option<ApprovalModal> {
        self.approvals.pop_front()
    }

    /// A decision arrived from the engine; returns whether a question was still open for it.
    pub fn decided(&mut self, request_id: &str) -> bool {
        let before = self.approvals.len();
        self.approvals.retain(|a| a.request_id != request_id);
        before != self.approvals.len()
    }

    // ---- local shell commands ------------------------------------------------------------

    pub fn shell_started(&mut self, command: &str) {
        self.shells.push(command.to_string());
    }

    pub fn shell_done(&mut self, command: &str) {
        if let Some(i) = self.shells.iter().position(|c| c == command) {
            self.shells.remove(i);
        }
    }

    pub fn shells(&self) -> &[String] {
        &self.shells
    }
}

#[cfg(test)]
mod tests {
    use qcode_protocol::ApprovalDetails;

    use super::*;

    fn modal(id: &str) -> ApprovalModal {
        ApprovalModal::new(
            id,
            "call",
            "run_shell_command",
            ApprovalDetails::Shell {
                command: "ls".into(),
                directory: "/".into(),
            },
        )
    }

    #[test]
    fn answer_lines_start_a_block_then_attach_and_the_rest_comes_at_the_end() {
        let hl = Highlighter::new();
        let mut t = RunningTurn::default();
        assert!(
            t.push_text("first line\n\nsecond", 40, &hl)
                .is_some_and(|(lines, sep)| sep == Separation::BlankLine
                    && lines[0].to_string() == "first line")
        );
        assert!(t.is_running(), "output starts a turn");
        let rest = t.finish_answer(40, &hl).unwrap();
        assert_eq!(rest.separation, Separation::Attached);
        assert_eq!(rest.markdown.as_deref(), Some("first line\n\nsecond"));
        assert!(t.finish_answer(40, &hl).is_none(), "finished once");
    }

    #[test]
    fn empty_reasoning_leaves_no_cell() {
        let mut t = RunningTurn::default();
        t.push_reasoning("  ");
        assert!(t.take_reasoning().is_none());
        t.push_reasoning("thinking");
        assert!(
            matches!(t.take_reasoning(), Some(Cell::Reasoning { text, .. }) if text == "thinking")
        );
    }

    #[test]
    fn tools_still_running_when_the_turn_ends_are_cancelled() {
        let mut t = RunningTurn::default();
        t.begin_tool(ToolCell::new("c1", "run_shell_command", "ls"));
        t.begin_tool(ToolCell::new("c2", "read_file", "a.rs"));
        t.tool_output("c1", "out");
        let ended = t.end_tool("c2", "read_file");
        assert_eq!(ended.call_id, "c2");
        let left = t.take_tools();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].output, "out");
        assert_eq!(left[0].state, ToolState::Done(ToolStatus::Cancelled));
    }

    #[test]
    fn approvals_are_answered_in_order_and_dropped_with_the_turn() {
        let mut t = RunningTurn::default();
        t.start();
        t.ask(modal("r1"));
        t.ask(modal("r2"));
        assert_eq!(t.approval().map(|m| m.request_id.as_str()), Some("r1"));
        assert!(
            t.decided("r2"),
            "a policy decision closes a queued question"
        );
        assert!(!t.decided("r2"));
        assert_eq!(t.answered().map(|m| m.request_id), Some("r1".into()));
        t.ask(modal("r3"));
        assert!(t.waiting_for_approval());
        assert!(t.finish().is_some());
        assert!(!t.waiting_for_approval());
        assert!(!t.is_running());
    }

    #[test]
    fn queued_prompts_and_shells() {
        let mut t = RunningTurn::default();
        t.queue(QueuedTurn::plain("a".into()));
        t.queue(QueuedTurn::plain("b".into()));
        assert_eq!(t.queued_len(), 2);
        assert_eq!(t.next_queued().map(|q| q.text).as_deref(), Some("a"));
        t.shell_started("ls");
        assert!(t.animating());
        t.shell_done("ls");
        assert!(!t.animating());
    }
}
