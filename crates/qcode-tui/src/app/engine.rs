//! Engine events → transcript, live state, status line and statistics.

use std::time::{Duration, Instant};

use qcode_protocol::{DecisionSource, Event, TurnOutcome};

use super::{App, Turn};
use crate::approval::ApprovalModal;
use crate::status::format_tokens;
use crate::transcript::{Cell, MarkdownStream, NoticeKind, ToolCell, ToolState};

impl App {
    fn turn_mut(&mut self) -> &mut Turn {
        self.turn.get_or_insert_with(|| Turn {
            started: Instant::now(),
            stream: None,
            reasoning: None,
            tools: Vec::new(),
            answer_started: false,
        })
    }

    /// Collapses finished reasoning into its one-line summary.
    fn end_reasoning(&mut self) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if let Some((text, started)) = turn.reasoning.take()
            && !text.trim().is_empty()
        {
            let secs = started.elapsed().as_secs().max(1);
            self.emit_cell(Cell::Reasoning { text, secs });
        }
    }

    /// Commits the rest of the streamed answer.
    fn end_stream(&mut self) {
        let width = self.width as usize;
        let hl = self.highlighter.clone();
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        let Some(mut stream) = turn.stream.take() else {
            return;
        };
        let started = std::mem::take(&mut turn.answer_started);
        let rest = stream.finish(width, Some(&hl));
        self.emit_lines(rest, !started);
        if !stream.is_empty() {
            self.last_answer = stream.source().to_string();
            self.transcript.push(Cell::Assistant {
                markdown: stream.source().to_string(),
            });
        }
    }

    fn end_turn_output(&mut self) {
        self.end_reasoning();
        self.end_stream();
        let tools: Vec<ToolCell> = self
            .turn
            .as_mut()
            .map(|t| std::mem::take(&mut t.tools))
            .unwrap_or_default();
        for mut t in tools {
            if t.state == ToolState::Running {
                t.state = ToolState::Done(qcode_protocol::ToolStatus::Cancelled);
            }
            self.emit_cell(Cell::Tool(t));
        }
    }

    pub fn handle_engine_event(&mut self, event: Event) {
        self.dirty = true;
        match event {
            Event::SessionConfigured {
                model,
                auth,
                approval_mode,
                cwd: _,
                context_window,
            } => {
                let changed = model != self.status.model;
                self.status.model = model.clone();
                self.status.auth = auth;
                self.status.approval_mode = approval_mode;
                self.status.context_window = context_window;
                if changed {
                    self.notice(NoticeKind::Info, format!("Model: {model}"), None);
                }
                self.auth_switched(auth, &model);
            }
            Event::TurnStarted { .. } => {
                self.stats.turns += 1;
                let _ = self.turn_mut();
            }
            Event::RequestStarted { .. } => self.stats.requests += 1,
            Event::TextDelta { text } => {
                self.end_reasoning();
                let width = self.width as usize;
                let hl = self.highlighter.clone();
                let turn = self.turn_mut();
                let stream = turn.stream.get_or_insert_with(MarkdownStream::new);
                if text.contains("```") && !hl.is_ready() {
                    hl.start_loading(|| {});
                }
                if stream.push(&text) {
                    let lines = stream.take_stable(width, Some(&hl));
                    if !lines.is_empty() {
                        let first = !turn.answer_started;
                        turn.answer_started = true;
                        self.emit_lines(lines, first);
                    }
                }
            }
            Event::ReasoningDelta { text } => {
                let turn = self.turn_mut();
                let r = turn
                    .reasoning
                    .get_or_insert_with(|| (String::new(), Instant::now()));
                r.0.push_str(&text);
            }
            Event::ResponseComplete { .. } => {
                self.end_reasoning();
                self.end_stream();
            }
            Event::ToolCallBegin {
                call_id,
                name,
                summary,
                arguments: _,
            } => {
                self.end_reasoning();
                self.end_stream();
                self.stats.tool_calls += 1;
                self.turn_mut()
                    .tools
                    .push(ToolCell::new(&call_id, &name, &summary));
            }
            Event::ToolOutputDelta { call_id, chunk } => {
                if let Some(t) = self
                    .turn_mut()
                    .tools
                    .iter_mut()
                    .find(|t| t.call_id == call_id)
                {
                    t.output.push_str(&chunk);
                }
            }
            Event::ToolCallEnd {
                call_id,
                name,
                status,
                output,
                diff,
                duration_ms,
            } => {
                let turn = self.turn_mut();
                let mut cell = match turn.tools.iter().position(|t| t.call_id == call_id) {
                    Some(i) => turn.tools.remove(i),
                    None => ToolCell::new(&call_id, &name, &name),
                };
                cell.state = ToolState::Done(status);
                cell.output = output;
                cell.diff = diff;
                cell.duration_ms = duration_ms;
                self.stats.tool_time += Duration::from_millis(duration_ms);
                if matches!(status, qcode_protocol::ToolStatus::Error) {
                    self.stats.tool_failures += 1;
                }
                self.emit_cell(Cell::Tool(cell));
            }
            Event::ApprovalRequest {
                request_id,
                call_id,
                tool,
                details,
            } => {
                self.end_reasoning();
                self.end_stream();
                self.popup = None;
                self.approvals
                    .push_back(ApprovalModal::new(&request_id, &call_id, &tool, details));
            }
            Event::ApprovalDecided {
                request_id,
                decision,
                source,
                tool,
                ..
            } => {
                // Decisions made elsewhere (policy) close a modal that may still be open.
                let before = self.approvals.len();
                self.approvals.retain(|a| a.request_id != request_id);
                if before != self.approvals.len() && source != DecisionSource::User {
                    self.emit_cell(Cell::Decision { tool, decision });
                }
            }
            Event::TodoUpdate { todos } => {
                self.end_reasoning();
                self.end_stream();
                self.emit_cell(Cell::Todos { items: todos });
            }
            Event::Usage { usage, total } => {
                self.status.context_tokens = usage.prompt_tokens;
                self.status.session_tokens = total.total_tokens;
                self.stats.usage = total;
            }
            Event::Retry {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => {
                self.stats.retries += 1;
                self.notice(
                    NoticeKind::Retry,
                    qcode_protocol::retry_notice(&reason, attempt, max_attempts, delay_ms),
                    None,
                );
            }
            Event::Warning { message } => self.notice(NoticeKind::Warning, message, None),
            Event::Error {
                kind,
                message,
                hint,
            } => {
                self.end_turn_output();
                self.auth_switch_failed();
                self.stats.errors += 1;
                let hint = hint.or_else(|| default_hint(kind).map(str::to_string));
                self.notice(NoticeKind::Error, message, hint);
            }
            Event::TurnComplete { outcome, .. } => {
                self.end_turn_output();
                if let Some(turn) = self.turn.take() {
                    self.stats.model_time += turn.started.elapsed();
                }
                self.approvals.clear();
                match outcome {
                    TurnOutcome::Completed | TurnOutcome::Failed => {}
                    TurnOutcome::Interrupted => self.notice(
                        NoticeKind::Info,
                        "Interrupted · tell the model what to do differently",
                        None,
                    ),
                    TurnOutcome::TurnLimit => self.notice(
                        NoticeKind::Warning,
                        "Stopped: the session's turn limit was reached",
                        None,
                    ),
                }
                if let Some(next) = self.queued.pop_front() {
                    self.start_turn(next);
                }
            }
            Event::Compacted {
                before_tokens,
                after_tokens,
            } => self.notice(
                NoticeKind::Info,
                format!(
                    "History compressed: {} → {} tokens",
                    format_tokens(before_tokens),
                    format_tokens(after_tokens)
                ),
                None,
            ),
            Event::SystemPromptUpdated => self.system_prompt_updated(),
            Event::HistoryCleared => {}
            Event::ShutdownComplete => self.engine_closed(),
        }
    }
}

fn default_hint(kind: qcode_protocol::ErrorKind) -> Option<&'static str> {
    use qcode_protocol::ErrorKind as K;
    match kind {
        K::Auth => Some("check your credentials or log in again"),
        K::Network => Some("check your connection or proxy settings, then retry"),
        K::RateLimit | K::Quota => Some("wait a moment or switch to another model with /model"),
        K::ContextTooLong => Some("run /compress or /clear to free context"),
        K::NotFound => Some("check the model name (/model) and the base URL"),
        K::Config
        | K::Input
        | K::Server
        | K::BadRequest
        | K::Stream
        | K::TurnLimit
        | K::Tool
        | K::Interrupted
        | K::Internal => None,
    }
}
