//! Usage statistics from the engine's event stream: [`tee`] sits between the engine and the
//! front end, passes every event on unchanged, and turns what it sees into [`UsageEvent`]s
//! (model requests with latency and tokens, tool calls with the user's decision, errors,
//! turns). The engine itself knows nothing about telemetry, and front ends need not remember to
//! record anything.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use qcode_protocol::{ErrorKind, Event, ToolStatus, Usage};
use tokio::sync::mpsc::{Receiver, channel};
use tokio::task::JoinHandle;

use crate::catalogue::{ModelId, ToolName};
use crate::event::{ModelRequest, StatusClass, TokenCounts, ToolCall, ToolDecision, UsageEvent};
use crate::telemetry::Telemetry;

/// Forwards engine events to the front end, recording usage statistics on the way; the task
/// ends when either side is gone and returns the number of turns seen.
///
/// The queue to the front end is bounded like the engine's own
/// ([`qcode_protocol::EVENT_QUEUE_CAPACITY`]): when the front end stops reading, the tee waits,
/// the engine's queue fills, and the engine waits too — back-pressure passes through.
/// When statistics are off there is nothing to observe: the events pass straight through (the
/// same receiver, no extra hop per token) and the task reports no turns.
pub fn tee(events: Receiver<Event>, telemetry: Telemetry) -> (Receiver<Event>, JoinHandle<u32>) {
    if !telemetry.is_exporting() {
        return (events, tokio::spawn(async { 0 }));
    }
    let (tx, rx) = channel(qcode_protocol::EVENT_QUEUE_CAPACITY);
    let task = tokio::spawn(async move {
        let mut events = events;
        let mut observer = Observer::new();
        while let Some(ev) = events.recv().await {
            observer.observe(&ev, &mut |usage| telemetry.record(usage));
            if tx.send(ev).await.is_err() {
                break;
            }
        }
        observer.turns
    });
    (rx, task)
}

/// What the observer remembers between events.
pub(crate) struct Observer {
    model: ModelId,
    request_started: Option<Instant>,
    first_token: Option<Duration>,
    retries: u32,
    usage: Usage,
    decisions: HashMap<String, ToolDecision>,
    pub(crate) turns: u32,
}

impl Observer {
    pub(crate) fn new() -> Self {
        Self {
            model: ModelId::from_user(""),
            request_started: None,
            first_token: None,
            retries: 0,
            usage: Usage::default(),
            decisions: HashMap::new(),
            turns: 0,
        }
    }

    fn finish_request(&mut self, status: StatusClass, record: &mut dyn FnMut(UsageEvent)) {
        if let Some(start) = self.request_started.take() {
            record(UsageEvent::ModelRequest(ModelRequest {
                model: self.model,
                status,
                latency: start.elapsed(),
                time_to_first_token: self.first_token,
                tokens: TokenCounts::from(&self.usage),
                retries: self.retries,
            }));
        }
    }

    /// Updates the state for `event`, handing any usage event it completes to `record`.
    pub(crate) fn observe(&mut self, event: &Event, record: &mut dyn FnMut(UsageEvent)) {
        match event {
            Event::SessionConfigured { model, .. } => self.model = ModelId::from_user(model),
            Event::RequestStarted { .. } => {
                self.request_started = Some(Instant::now());
                self.first_token = None;
                self.retries = 0;
                self.usage = Usage::default();
            }
            Event::TextDelta { .. } | Event::ReasoningDelta { .. } => {
                if let (Some(start), None) = (self.request_started, self.first_token) {
                    self.first_token = Some(start.elapsed());
                }
            }
            Event::Retry { .. } => self.retries += 1,
            Event::Usage { usage, .. } => self.usage = *usage,
            Event::ResponseComplete { .. } => self.finish_request(StatusClass::Success, record),
            Event::Error { kind, .. } => {
                self.finish_request(status_class(*kind), record);
                record(UsageEvent::Error(*kind));
            }
            Event::ApprovalDecided {
                call_id,
                decision,
                source,
                ..
            } => {
                self.decisions.insert(
                    call_id.clone(),
                    ToolDecision::from_review(decision, *source),
                );
            }
            Event::ToolCallEnd {
                call_id,
                name,
                status,
                duration_ms,
                ..
            } => {
                let decision = self.decisions.remove(call_id).unwrap_or(ToolDecision::Auto);
                record(UsageEvent::ToolCall(ToolCall {
                    tool: ToolName::from_call_name(name),
                    decision,
                    success: *status == ToolStatus::Success,
                    duration: Duration::from_millis(*duration_ms),
                }));
            }
            Event::TurnComplete { .. } => {
                self.finish_request(StatusClass::NoResponse, record);
                self.turns += 1;
            }
            Event::TurnStarted { .. }
            | Event::ToolCallBegin { .. }
            | Event::ToolOutputDelta { .. }
            | Event::ApprovalRequest { .. }
            | Event::TodoUpdate { .. }
            | Event::Warning { .. }
            | Event::Hook { .. }
            | Event::ToolProgress { .. }
            | Event::SubagentStarted { .. }
            | Event::Subagent { .. }
            | Event::SubagentFinished { .. }
            | Event::HistoryAppended { .. }
            | Event::Compacted { .. }
            | Event::HistoryCleared
            | Event::SystemPromptUpdated
            | Event::ShutdownComplete => {}
        }
    }
}

/// The HTTP status class an error implies (the engine reports kinds, not raw statuses).
pub(crate) fn status_class(kind: ErrorKind) -> StatusClass {
    match kind {
        ErrorKind::Auth
        | ErrorKind::RateLimit
        | ErrorKind::Quota
        | ErrorKind::NotFound
        | ErrorKind::ContextTooLong
        | ErrorKind::BadRequest => StatusClass::ClientError,
        ErrorKind::Server => StatusClass::ServerError,
        ErrorKind::Network
        | ErrorKind::Stream
        | ErrorKind::Config
        | ErrorKind::Input
        | ErrorKind::TurnLimit
        | ErrorKind::Tool
        | ErrorKind::Interrupted
        | ErrorKind::Internal => StatusClass::NoResponse,
    }
}

#[cfg(test)]
mod tests;
