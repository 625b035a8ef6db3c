//! [`Subagents`]: the subagents of the session as the TUI shows them — a live block under each
//! running `task` call, the summary line each collapses to (committed to the scrollback after
//! its `task` call's cell), and the subagent pager (Ctrl+O; ←/→ switch between subagents).
//! The `impl App` part routes `Event::SubagentStarted` / `Subagent` / `SubagentFinished`: a
//! wrapped approval request opens the ordinary approval question, titled with the subagent;
//! wrapped warnings and errors become notices prefixed with it.

use std::collections::VecDeque;
use std::time::Instant;

use qcode_protocol::{DecisionSource, Event};

use super::App;
use crate::approval::{ApprovalModal, Asker};
use crate::pager::Pager;
use crate::transcript::subagent::{SubagentEnd, ToolEnd};
use crate::transcript::{Cell, NoticeKind, SubagentBlock, SubagentSummary};

/// Finished subagents kept for the pager (the oldest beyond it are forgotten; their summary
/// lines stay in the transcript).
pub(crate) const MAX_KEPT: usize = 16;
/// Live blocks drawn at most; more are counted on one line.
pub(crate) const LIVE_BLOCKS_SHOWN: usize = 8;

#[derive(Debug, Default)]
pub(crate) struct Subagents {
    /// In start order: the running ones and the finished ones kept for the pager.
    blocks: VecDeque<SubagentBlock>,
    /// The subagent the pager shows (its agent id), while it is open.
    viewing: Option<String>,
}

impl Subagents {
    pub fn start(&mut self, block: SubagentBlock) {
        if let Some(b) = self.get_mut(&block.agent_id) {
            // A repeated start keeps what the block already collected.
            b.parent_call_id = block.parent_call_id;
            b.label = block.label;
            return;
        }
        self.blocks.push_back(block);
        self.forget_old();
    }

    /// Drops the oldest committed blocks beyond [`MAX_KEPT`]; live ones always stay.
    fn forget_old(&mut self) {
        while self.blocks.len() > MAX_KEPT {
            let Some(i) = self.blocks.iter().position(|b| b.committed) else {
                return;
            };
            let gone = self.blocks.remove(i);
            if gone.is_some_and(|g| self.viewing.as_deref() == Some(g.agent_id.as_str())) {
                self.viewing = None;
            }
        }
    }

    pub fn get_mut(&mut self, agent_id: &str) -> Option<&mut SubagentBlock> {
        self.blocks.iter_mut().find(|b| b.agent_id == agent_id)
    }

    /// The block of `agent_id`, made up when its start was never seen (the events still show).
    fn block(&mut self, agent_id: &str, parent_call_id: &str) -> &mut SubagentBlock {
        let i = match self.blocks.iter().position(|b| b.agent_id == agent_id) {
            Some(i) => i,
            None => {
                self.blocks
                    .push_back(SubagentBlock::new(agent_id, parent_call_id, "subagent", ""));
                self.forget_old();
                // Committed blocks may have gone from the front: the new one is the last.
                self.blocks.len() - 1
            }
        };
        &mut self.blocks[i]
    }

    pub fn blocks(&self) -> impl Iterator<Item = &SubagentBlock> {
        self.blocks.iter()
    }

    /// Blocks still drawn live (not yet committed to the scrollback).
    pub fn live(&self) -> impl Iterator<Item = &SubagentBlock> {
        self.blocks.iter().filter(|b| !b.committed)
    }

    pub fn any_running(&self) -> bool {
        self.blocks.iter().any(SubagentBlock::is_running)
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The `task` call `parent_call_id` ended: the summaries of its finished subagents, now
    /// committed.
    pub fn commit_for(&mut self, parent_call_id: &str) -> Vec<SubagentSummary> {
        let mut out = Vec::new();
        for b in &mut self.blocks {
            if b.parent_call_id == parent_call_id && !b.committed && !b.is_running() {
                b.committed = true;
                out.push(b.summary());
            }
        }
        self.forget_old();
        out
    }

    /// The turn ended: blocks still running are cancelled (their summaries can then be
    /// committed under their `task` calls).
    pub fn cancel_running(&mut self) {
        for b in &mut self.blocks {
            if b.is_running() {
                let s = b.summary();
                b.finish(SubagentEnd::Cancelled, 0, s.duration_ms);
            }
        }
    }

    /// The turn ended: every block still live is committed (running ones as cancelled).
    pub fn commit_all(&mut self) -> Vec<SubagentSummary> {
        self.cancel_running();
        let mut out = Vec::new();
        for b in &mut self.blocks {
            if !b.committed {
                b.committed = true;
                out.push(b.summary());
            }
        }
        self.forget_old();
        out
    }

    /// Forgets the finished subagents (`/clear`); running ones stay.
    pub fn clear_finished(&mut self) {
        self.blocks.retain(|b| !b.committed);
        self.viewing = None;
    }

    // ---- the pager -----------------------------------------------------------------------

    pub fn viewing(&self) -> Option<&str> {
        self.viewing.as_deref()
    }

    pub fn stop_viewing(&mut self) {
        self.viewing = None;
    }

    /// Shows the block `step` places after (negative: before) the one shown, wrapping around;
    /// with none shown, the newest. Returns its position (0-based) and the block.
    pub fn view(&mut self, step: isize) -> Option<(usize, &SubagentBlock)> {
        let n = self.blocks.len();
        if n == 0 {
            return None;
        }
        let current = self
            .viewing
            .as_deref()
            .and_then(|id| self.blocks.iter().position(|b| b.agent_id == id));
        let i = match current {
            None => n - 1,
            Some(c) => (c as isize + step).rem_euclid(n as isize) as usize,
        };
        let b = &self.blocks[i];
        self.viewing = Some(b.agent_id.clone());
        Some((i, b))
    }
}

impl App {
    pub(crate) fn subagent_started(
        &mut self,
        agent_id: &str,
        parent_call_id: &str,
        subagent_type: &str,
        description: &str,
    ) {
        self.subagents.start(SubagentBlock::new(
            agent_id,
            parent_call_id,
            subagent_type,
            description,
        ));
    }

    pub(crate) fn subagent_finished(
        &mut self,
        agent_id: &str,
        parent_call_id: &str,
        status: &str,
        tokens: u64,
        duration_ms: u64,
    ) {
        let block = self.subagents.block(agent_id, parent_call_id);
        block.finish(SubagentEnd::parse(status), tokens, duration_ms);
        // Its `task` call already ended (events out of order): commit the line on its own.
        if !self.running.has_tool(parent_call_id) {
            let summaries = self.subagents.commit_for(parent_call_id);
            for s in summaries {
                self.emit_cell(Cell::Subagent(s));
            }
        }
    }

    /// Commits the summary lines of `parent_call_id`'s subagents, right under its cell.
    pub(crate) fn commit_subagents_of(&mut self, parent_call_id: &str) {
        for s in self.subagents.commit_for(parent_call_id) {
            self.emit_attached(Cell::Subagent(s));
        }
    }

    /// The turn ended: subagents still running are cancelled (their lines then follow their
    /// `task` cells, see `end_turn_output`).
    pub(crate) fn cancel_running_subagents(&mut self) {
        self.subagents.cancel_running();
    }

    /// The turn ended: subagents still shown live (whose `task` call was not seen) are
    /// committed.
    pub(crate) fn commit_all_subagents(&mut self) {
        for s in self.subagents.commit_all() {
            self.emit_cell(Cell::Subagent(s));
        }
    }

    /// One event of subagent `agent_id`'s engine.
    pub(crate) fn handle_subagent_event(
        &mut self,
        agent_id: &str,
        parent_call_id: &str,
        event: Event,
    ) {
        let block = self.subagents.block(agent_id, parent_call_id);
        let label = block.label.clone();
        match event {
            Event::TextDelta { text } => block.log.text(&text),
            Event::ToolCallBegin {
                call_id,
                name,
                summary,
                arguments: _,
            } => block.tool_begin(&call_id, &name, &summary),
            Event::ToolOutputDelta { call_id, chunk } => block.log.tool_output(&call_id, &chunk),
            Event::ToolCallEnd {
                call_id,
                name,
                status,
                output,
                diff,
                duration_ms,
            } => block.tool_end(ToolEnd {
                call_id: &call_id,
                name: &name,
                status,
                output: &output,
                diff: diff.as_deref(),
                duration_ms,
            }),
            Event::Usage { usage, .. } => {
                block.tokens = block.tokens.saturating_add(usage.total_tokens);
            }
            Event::TodoUpdate { todos } => block.log.todos(todos),
            Event::ApprovalRequest {
                request_id,
                call_id,
                tool,
                details,
            } => {
                self.prompt.close_popup();
                let modal =
                    ApprovalModal::new(&request_id, &call_id, &tool, details).asked_by(Asker {
                        agent_id: agent_id.to_string(),
                        label,
                    });
                self.running.ask(modal);
            }
            Event::ApprovalDecided {
                request_id,
                tool,
                decision,
                source,
                ..
            } => {
                // The user's own answers are logged when given (see `subagent_answered`).
                if source != DecisionSource::User {
                    block.log.decision(&tool, decision.clone());
                }
                if self.running.decided(&request_id) && source != DecisionSource::User {
                    self.emit_cell(Cell::Decision {
                        tool: format!("{tool} for {label}"),
                        decision,
                    });
                }
            }
            Event::Warning { message } => {
                block.log.notice(NoticeKind::Warning, &message, None);
                self.notice(NoticeKind::Warning, format!("{label}: {message}"), None);
            }
            Event::Retry {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => {
                let text = qcode_protocol::retry_notice(&reason, attempt, max_attempts, delay_ms);
                block.log.notice(NoticeKind::Retry, &text, None);
                self.notice(NoticeKind::Retry, format!("{label}: {text}"), None);
            }
            Event::Error {
                kind: _,
                message,
                hint,
            } => {
                block
                    .log
                    .notice(NoticeKind::Error, &message, hint.as_deref());
                self.notice(NoticeKind::Error, format!("{label}: {message}"), hint);
            }
            Event::Hook {
                hook_event,
                command,
                status,
                message,
                ..
            } => {
                let tail = message.map(|m| format!(": {m}")).unwrap_or_default();
                block.log.notice(
                    NoticeKind::Info,
                    &format!("hook {hook_event} `{command}`: {status}{tail}"),
                    None,
                );
            }
            // The child's own bookkeeping: its end comes as `SubagentFinished`, its history is
            // recorded by the engine, its configuration is the parent's.
            Event::SessionConfigured { .. }
            | Event::TurnStarted { .. }
            | Event::RequestStarted { .. }
            | Event::ReasoningDelta { .. }
            | Event::ResponseComplete { .. }
            | Event::ToolProgress { .. }
            | Event::TurnComplete { .. }
            | Event::HistoryAppended { .. }
            | Event::Compacted { .. }
            | Event::SystemPromptUpdated
            | Event::HistoryCleared
            | Event::ShutdownComplete => {}
            // Subagents do not start subagents (depth 1); nested events are not shown.
            Event::SubagentStarted { .. }
            | Event::Subagent { .. }
            | Event::SubagentFinished { .. } => {}
        }
    }

    /// The user answered a subagent's approval question: it goes into that subagent's log.
    pub(crate) fn subagent_answered(
        &mut self,
        asker: &Asker,
        tool: &str,
        decision: &qcode_protocol::ReviewDecision,
    ) {
        if let Some(b) = self.subagents.get_mut(&asker.agent_id) {
            b.log.decision(tool, decision.clone());
        }
    }

    // ---- the subagent pager --------------------------------------------------------------

    /// Ctrl+O: the newest subagent's full transcript in the pager.
    pub(crate) fn open_subagent_pager(&mut self) {
        if self.subagents.is_empty() {
            self.set_hint("No subagent has run in this session yet");
            return;
        }
        if let Some(pager) = self.subagent_pager(0) {
            self.dialogs.open_pager(pager);
            self.effects.push(super::Effect::OpenPager);
        }
    }

    /// ←/→ in the subagent pager: the previous or next subagent.
    pub(crate) fn switch_subagent_pager(&mut self, step: isize) {
        if let Some(pager) = self.subagent_pager(step) {
            self.dialogs.open_pager(pager);
        }
    }

    fn subagent_pager(&mut self, step: isize) -> Option<Pager> {
        let n = self.subagents.blocks().count();
        let width = self.width as usize;
        let (i, block) = self.subagents.view(step)?;
        let lines = block.full_lines(width, Some(&self.highlighter), Instant::now());
        let mut pager = Pager::new(lines).with_title(format!("Subagent {}/{n}", i + 1));
        if n > 1 {
            pager = pager.with_hint("←/→ other subagents");
        }
        Some(pager)
    }

    /// Lines of the live blocks under the running tool `call_id` (`None`: blocks whose `task`
    /// call is not among the running tools).
    pub(crate) fn subagent_live_lines(
        &self,
        call_id: Option<&str>,
        running_ids: &[&str],
        spinner: &str,
    ) -> Vec<ratatui::text::Line<'static>> {
        let now = Instant::now();
        let mine = |b: &&SubagentBlock| match call_id {
            Some(id) => b.parent_call_id == id,
            None => !running_ids.contains(&b.parent_call_id.as_str()),
        };
        let mut out = Vec::new();
        let mut hidden = 0;
        for (shown, b) in self.subagents.live().filter(mine).enumerate() {
            if shown >= LIVE_BLOCKS_SHOWN {
                hidden += 1;
                continue;
            }
            out.extend(b.live_lines(spinner, now));
        }
        if hidden > 0 {
            out.push(ratatui::text::Line::from(ratatui::text::Span::styled(
                format!("  ↳ +{hidden} more subagents (Ctrl+O)"),
                ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::DIM),
            )));
        }
        out
    }
}

#[cfg(test)]
mod tests;
