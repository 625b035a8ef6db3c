//! Subagents in the transcript: the live block shown under a running `task` call (what the
//! subagent runs now, its tool count, tokens and elapsed time), the one-line summary it
//! collapses to when it ends, and the bounded log of everything it did, rendered in full only
//! when the subagent pager (Ctrl+O) opens.
//!
//! Cost: a block keeps a small "now" state (the tools running, the last tool, counters), so a
//! frame draws the same few lines however long the subagent has run. The log for the pager is
//! capped ([`MAX_LOG_BYTES`] per subagent, [`MAX_TOOL_OUTPUT_BYTES`] per tool output,
//! [`MAX_TEXT_BYTES`] per answer); the oldest entries go first and the pager says how many.

mod log;

use std::time::Instant;

use qcode_protocol::ToolStatus;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

pub use log::{SubagentLog, ToolEnd};

use super::Detail;
use crate::markdown::Highlighter;
use crate::status::format_tokens;

/// What one subagent's log keeps for the pager, at most (text, tool outputs and diffs).
pub const MAX_LOG_BYTES: usize = 256 * 1024;
/// One tool output (or diff) in the log, at most: the read_file tool's own output cap.
pub const MAX_TOOL_OUTPUT_BYTES: usize = 25_000;
/// One answer's text in the log, at most.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Running tools listed under a live block; more are counted ("+2 more").
pub const LIVE_TOOLS_SHOWN: usize = 3;
/// Characters of a description shown; a longer one is cut with `…`.
const DESCRIPTION_CHARS: usize = 60;
/// Appended once to a text cut at its cap.
pub(crate) const CUT_NOTE: &str = "\n… (cut here to keep memory bounded)";

fn dim() -> Style {
    Style::default().add_modifier(Modifier::DIM)
}

/// How a subagent ended (`Event::SubagentFinished`'s `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubagentEnd {
    Completed,
    Failed,
    Cancelled,
    /// A request or session limit stopped it (its answer so far was returned).
    Limit,
}

impl SubagentEnd {
    /// The engine's status word; an unknown one is shown as a failure.
    pub fn parse(status: &str) -> Self {
        match status {
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            "limit" => Self::Limit,
            _ => Self::Failed,
        }
    }
}

/// Text from the model or the engine made safe for one terminal line: control characters
/// (escape sequences, tabs, newlines) become spaces, runs of blanks one space.
pub fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `general-purpose · "find the parser"`: who a block, an approval or a notice is about.
pub fn agent_label(subagent_type: &str, description: &str) -> String {
    let kind = one_line(subagent_type);
    let kind = if kind.is_empty() {
        "subagent".to_string()
    } else {
        kind
    };
    let description = one_line(description);
    if description.is_empty() {
        return kind;
    }
    let mut short: String = description.chars().take(DESCRIPTION_CHARS).collect();
    if description.chars().count() > DESCRIPTION_CHARS {
        short.push('…');
    }
    format!("{kind} · \"{short}\"")
}

/// "18 s", "2 min 05 s".
pub fn format_secs(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

fn counts(tools: u64, tokens: u64, secs: u64) -> String {
    let noun = if tools == 1 { "tool" } else { "tools" };
    format!(
        " · {tools} {noun} · {} tokens · {}",
        format_tokens(tokens),
        format_secs(secs)
    )
}

/// A finished subagent as its collapsed line shows it (kept as a transcript cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubagentSummary {
    /// `general-purpose · "find the parser"`.
    pub label: String,
    pub end: SubagentEnd,
    pub tools: u64,
    pub tokens: u64,
    pub duration_ms: u64,
}

impl SubagentSummary {
    /// `✓ general-purpose · "find the parser" · 12 tools · 3.4k tokens · 18 s`.
    pub fn line(&self) -> Line<'static> {
        let (icon, icon_style, status) = match self.end {
            SubagentEnd::Completed => ("✓", Style::default().fg(Color::Green), None),
            SubagentEnd::Failed => ("✗", Style::default().fg(Color::Red), Some("failed")),
            SubagentEnd::Cancelled => ("✗", dim(), Some("cancelled")),
            SubagentEnd::Limit => (
                "⚠",
                Style::default().fg(Color::Yellow),
                Some("stopped at a limit"),
            ),
        };
        let mut spans = vec![
            Span::styled(icon, icon_style.add_modifier(Modifier::BOLD)),
            Span::raw(" "),
            Span::styled(
                self.label.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
        ];
        if let Some(s) = status {
            spans.push(Span::styled(format!(" · {s}"), icon_style));
        }
        spans.push(Span::styled(
            counts(self.tools, self.tokens, self.duration_ms / 1000),
            dim(),
        ));
        Line::from(spans)
    }

    /// The line under its `task` call in the scrollback (and the pager): `  ↳ ✓ …`.
    pub fn lines(&self, detail: Detail) -> Vec<Line<'static>> {
        let mut line = self.line();
        line.spans.insert(0, Span::styled("  ↳ ", dim()));
        if detail == Detail::Compact {
            line.spans.push(Span::styled(" · Ctrl+O to expand", dim()));
        }
        vec![line]
    }
}

/// Whether a subagent still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubagentState {
    Running,
    Done { end: SubagentEnd, duration_ms: u64 },
}

/// One subagent: its identity, the bounded "now" state its live block draws, and its log.
#[derive(Debug, Clone)]
pub struct SubagentBlock {
    pub agent_id: String,
    pub parent_call_id: String,
    /// `general-purpose · "find the parser"`.
    pub label: String,
    started: Instant,
    pub state: SubagentState,
    /// Tools running now: call id and one-line summary.
    running: Vec<(String, String)>,
    /// Running tools beyond those kept in `running` (only counted).
    running_more: usize,
    /// The last tool that ended: its summary and status.
    last_tool: Option<(String, ToolStatus)>,
    /// Tool calls that ended.
    pub tools: u64,
    /// The sum of its requests' tokens (the finish event's usage replaces it).
    pub tokens: u64,
    /// Whether its summary line was committed to the scrollback (then it is no longer live).
    pub committed: bool,
    pub log: SubagentLog,
}

impl SubagentBlock {
    pub fn new(
        agent_id: &str,
        parent_call_id: &str,
        subagent_type: &str,
        description: &str,
    ) -> Self {
        Self::started_at(
            agent_id,
            parent_call_id,
            agent_label(subagent_type, description),
            Instant::now(),
        )
    }

    /// A block started at `started` (tests use a fixed instant for stable times).
    pub fn started_at(
        agent_id: &str,
        parent_call_id: &str,
        label: String,
        started: Instant,
    ) -> Self {
        Self {
            agent_id: agent_id.to_string(),
            parent_call_id: parent_call_id.to_string(),
            label,
            started,
            state: SubagentState::Running,
            running: Vec::new(),
            running_more: 0,
            last_tool: None,
            tools: 0,
            tokens: 0,
            committed: false,
            log: SubagentLog::default(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.state == SubagentState::Running
    }

    pub fn tool_begin(&mut self, call_id: &str, name: &str, summary: &str) {
        let shown = {
            let s = one_line(summary);
            if s.is_empty() { one_line(name) } else { s }
        };
        if self.running.len() < LIVE_TOOLS_SHOWN {
            self.running.push((call_id.to_string(), shown));
        } else {
            self.running_more += 1;
        }
        self.log.tool_begin(call_id, name, summary);
    }

    pub fn tool_end(&mut self, end: ToolEnd<'_>) {
        self.tools += 1;
        let summary = match self.running.iter().position(|(id, _)| id == end.call_id) {
            Some(i) => self.running.remove(i).1,
            None => {
                self.running_more = self.running_more.saturating_sub(1);
                one_line(end.name)
            }
        };
        self.last_tool = Some((summary, end.status));
        self.log.tool_end(end);
    }

    /// It ended: `tokens` from the finish event replaces the running sum when it has any.
    pub fn finish(&mut self, end: SubagentEnd, tokens: u64, duration_ms: u64) {
        self.state = SubagentState::Done { end, duration_ms };
        if tokens > 0 {
            self.tokens = tokens;
        }
        self.running.clear();
        self.running_more = 0;
        self.log.close_running_tools();
    }

    /// The collapsed form; a block that still runs counts as cancelled (its turn ended).
    pub fn summary(&self) -> SubagentSummary {
        let (end, duration_ms) = match self.state {
            SubagentState::Done { end, duration_ms } => (end, duration_ms),
            SubagentState::Running => (
                SubagentEnd::Cancelled,
                self.started.elapsed().as_millis() as u64,
            ),
        };
        SubagentSummary {
            label: self.label.clone(),
            end,
            tools: self.tools,
            tokens: self.tokens,
            duration_ms,
        }
    }

    /// The live block under its `task` call, drawn each frame: a header with the counters and
    /// the tools running now (or the last one). A bounded number of lines, whatever the log holds.
    pub fn live_lines(&self, spinner: &str, now: Instant) -> Vec<Line<'static>> {
        let lead = Span::styled("  ↳ ", dim());
        if let SubagentState::Done { .. } = self.state {
            let mut line = self.summary().line();
            line.spans.insert(0, lead);
            return vec![line];
        }
        let secs = now.saturating_duration_since(self.started).as_secs();
        let mut out = vec![Line::from(vec![
            lead,
            Span::styled(format!("{spinner} "), Style::default().fg(Color::Cyan)),
            Span::styled(
                self.label.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(counts(self.tools, self.tokens, secs), dim()),
        ])];
        for (_, summary) in &self.running {
            out.push(Line::from(vec![
                Span::raw("      "),
                Span::styled(format!("{spinner} "), Style::default().fg(Color::Cyan)),
                Span::raw(summary.clone()),
            ]));
        }
        if self.running_more > 0 {
            out.push(Line::from(Span::styled(
                format!("      +{} more", self.running_more),
                dim(),
            )));
        }
        if self.running.is_empty()
            && let Some((summary, status)) = &self.last_tool
        {
            let icon = match status {
                ToolStatus::Success => "✓",
                ToolStatus::Error | ToolStatus::Cancelled => "✗",
                ToolStatus::Denied => "⊘",
            };
            out.push(Line::from(Span::styled(
                format!("      {icon} {summary}"),
                dim(),
            )));
        }
        out
    }

    /// Everything it did, for the pager: a header, then every log cell in full.
    pub fn full_lines(
        &self,
        width: usize,
        hl: Option<&Highlighter>,
        now: Instant,
    ) -> Vec<Line<'static>> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut out = vec![Line::from(Span::styled(self.label.clone(), bold))];
        let state = match self.state {
            SubagentState::Running => {
                let secs = now.saturating_duration_since(self.started).as_secs();
                format!("running{}", counts(self.tools, self.tokens, secs))
            }
            SubagentState::Done { .. } => {
                let s = self.summary();
                let word = match s.end {
                    SubagentEnd::Completed => "completed",
                    SubagentEnd::Failed => "failed",
                    SubagentEnd::Cancelled => "cancelled",
                    SubagentEnd::Limit => "stopped at a limit",
                };
                format!("{word}{}", counts(s.tools, s.tokens, s.duration_ms / 1000))
            }
        };
        out.push(Line::from(Span::styled(state, dim())));
        if self.log.dropped() > 0 {
            out.push(Line::from(Span::styled(
                format!(
                    "… {} earlier entries are not kept (at most {} KiB per subagent)",
                    self.log.dropped(),
                    MAX_LOG_BYTES / 1024
                ),
                dim(),
            )));
        }
        if self.log.is_empty() {
            out.push(Line::default());
            out.push(Line::from(Span::styled("Nothing yet.", dim())));
        }
        for cell in self.log.cells() {
            out.push(Line::default());
            out.extend(cell.lines(width, hl, Detail::Full));
        }
        out
    }
}

#[cfg(test)]
mod tests;
