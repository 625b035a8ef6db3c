//! Engine events → transcript, live state, status line and statistics.

use std::time::Duration;

use qcode_protocol::{DecisionSource, Event, TurnOutcome};

use super::App;
use crate::approval::ApprovalModal;
use crate::status::format_tokens;
use crate::transcript::{Cell, NoticeKind, ToolCell, ToolProgressLine, ToolState};

impl App {
    /// Collapses finished reasoning into its one-line summary.
    fn end_reasoning(&mut self) {
        if let Some(cell) = self.running.take_reasoning() {
            self.emit_cell(cell);
        }
    }

    /// Commits the rest of the streamed answer.
    fn end_stream(&mut self) {
        let Some(answer) = self
            .running
            .finish_answer(self.width as usize, &self.highlighter)
        else {
            return;
        };
        self.emit_lines(answer.lines, answer.separation);
        if let Some(markdown) = answer.markdown {
            self.transcript.push_answer(markdown);
        }
    }

    fn end_turn_output(&mut self) {
        self.end_reasoning();
        self.end_stream();
        self.cancel_running_subagents();
        for t in self.running.take_tools() {
            let call_id = t.call_id.clone();
            self.emit_cell(Cell::Tool(Box::new(t)));
            self.commit_subagents_of(&call_id);
        }
        self.commit_all_subagents();
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
                session_id: _,
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
                self.running.start();
            }
            Event::RequestStarted { .. } => self.stats.requests += 1,
            Event::TextDelta { text } => {
                self.end_reasoning();
                if let Some((lines, separation)) =
                    self.running
                        .push_text(&text, self.width as usize, &self.highlighter)
                {
                    self.emit_lines(lines, separation);
                }
            }
            Event::ReasoningDelta { text } => self.running.push_reasoning(&text),
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
                self.running
                    .begin_tool(ToolCell::new(&call_id, &name, &summary));
            }
            Event::ToolOutputDelta { call_id, chunk } => {
                self.running.tool_output(&call_id, &chunk);
            }
            Event::ToolProgress {
                call_id,
                progress,
                total,
                message,
            } => {
                self.running.tool_progress(
                    &call_id,
                    ToolProgressLine {
                        progress,
                        total,
                        message,
                    },
                );
            }
            Event::ToolCallEnd {
                call_id,
                name,
                status,
                output,
                diff,
                duration_ms,
            } => {
                let mut cell = self.running.end_tool(&call_id, &name);
                cell.state = ToolState::Done(status);
                cell.output = output;
                cell.diff = diff;
                cell.duration_ms = duration_ms;
                self.stats.tool_time += Duration::from_millis(duration_ms);
                if matches!(status, qcode_protocol::ToolStatus::Error) {
                    self.stats.tool_failures += 1;
                }
                self.emit_cell(Cell::Tool(Box::new(cell)));
                self.commit_subagents_of(&call_id);
            }
            Event::ApprovalRequest {
                request_id,
                call_id,
                tool,
                details,
            } => {
                self.end_reasoning();
                self.end_stream();
                self.prompt.close_popup();
                self.running
                    .ask(ApprovalModal::new(&request_id, &call_id, &tool, details));
            }
            Event::ApprovalDecided {
                request_id,
                decision,
                source,
                tool,
                ..
            } => {
                // Decisions made elsewhere (policy) close a modal that may still be open.
                if self.running.decided(&request_id) && source != DecisionSource::User {
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
                self.stats.usage = Some(total);
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
            Event::Hook {
                hook_event,
                command,
                status,
                message,
                ..
            } => {
                let tail = message.map(|m| format!(": {m}")).unwrap_or_default();
                self.notice(
                    NoticeKind::Info,
                    format!("hook {hook_event} `{command}`: {status}{tail}"),
                    None,
                );
            }
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
                if let Some(ran) = self.running.finish() {
                    self.stats.model_time += ran;
                }
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
                if let Some(next) = self.running.next_queued() {
                    self.start_queued(next);
                }
            }
            Event::Compacted {
                before_tokens,
                after_tokens,
                ..
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
            Event::HistoryAppended { .. } => {}
            // `/clear` started a new session: it is no longer the resumed one.
            Event::HistoryCleared => self.status.session = None,
            Event::ShutdownComplete => self.engine_closed(),
            Event::SubagentStarted {
                agent_id,
                parent_call_id,
                subagent_type,
                description,
            } => self.subagent_started(&agent_id, &parent_call_id, &subagent_type, &description),
            Event::Subagent {
                agent_id,
                parent_call_id,
                event,
            } => {
                if matches!(*event, Event::ApprovalRequest { .. }) {
                    self.end_reasoning();
                    self.end_stream();
                }
                self.handle_subagent_event(&agent_id, &parent_call_id, *event);
            }
            Event::SubagentFinished {
                agent_id,
                parent_call_id,
                status,
                usage,
                duration_ms,
            } => self.subagent_finished(
                &agent_id,
                &parent_call_id,
                &status,
                usage.total_tokens,
                duration_ms,
            ),
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
