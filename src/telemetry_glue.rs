//! Usage statistics wiring: builds the telemetry handle from the consent rules, and observes
//! the engine's event stream (a tee between the engine and the front end) to record anonymous
//! usage events. The engine itself knows nothing about telemetry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use qcode_config::{ConfigSnapshot, EnvLayer};
use qcode_protocol::{ApprovalMode, AuthKind, ErrorKind, Event, ToolStatus, Usage};
use qcode_telemetry::{
    Consent, EndpointConfig, ModelId, ModelRequest, RunMode, SessionInfo, StatusClass, Telemetry,
    TelemetryConfig, TerminalKind, TokenCounts, ToolCall, ToolDecision, ToolName, UsageEvent,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// At exit, the telemetry exporter gets at most this long.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(100);

/// The handle for this process: disabled (nothing built, nothing sent) when opted out.
pub fn init(
    snapshot: &ConfigSnapshot,
    env: &EnvLayer,
    run_mode: RunMode,
    auth: AuthKind,
    approval_mode: ApprovalMode,
    started: Instant,
) -> Telemetry {
    let get = |k: &str| env.get(k);
    let consent = Consent::resolve(
        snapshot.usage_statistics_setting.as_ref().map(|s| s.value),
        &get,
    );
    if matches!(consent, Consent::Disabled(_)) {
        return Telemetry::disabled();
    }
    let endpoint = match EndpointConfig::resolve(
        snapshot.otlp_endpoint.as_ref().map(|e| e.value.as_str()),
        &get,
    ) {
        Ok(e) => e,
        // A bad endpoint must not break the session; statistics are simply not sent.
        Err(_) => return Telemetry::disabled(),
    };
    let telemetry = Telemetry::init(TelemetryConfig {
        consent,
        endpoint,
        audit_log: qcode_telemetry::audit_log_path(&snapshot.paths.qcode_home),
        session: SessionInfo {
            terminal: TerminalKind::detect(&get),
            run_mode,
            auth,
            approval_mode,
            startup: started.elapsed(),
        },
    });
    qcode_telemetry::install_panic_hook(telemetry.clone());
    telemetry
}

/// Forwards engine events to the front end, recording usage statistics on the way.
/// When statistics are off there is nothing to observe: the events pass straight through (no
/// extra hop per token) and the task reports no turns.
pub fn tee(
    events: UnboundedReceiver<Event>,
    telemetry: Telemetry,
) -> (UnboundedReceiver<Event>, tokio::task::JoinHandle<u32>) {
    if !telemetry.is_exporting() {
        return (events, tokio::spawn(async { 0 }));
    }
    let (tx, rx) = unbounded_channel();
    let task = tokio::spawn(async move {
        let mut events = events;
        let mut observer = Observer::new(telemetry);
        while let Some(ev) = events.recv().await {
            observer.observe(&ev);
            if tx.send(ev).is_err() {
                break;
            }
        }
        observer.turns
    });
    (rx, task)
}

struct Observer {
    telemetry: Telemetry,
    model: ModelId,
    request_started: Option<Instant>,
    first_token: Option<Duration>,
    retries: u32,
    usage: Usage,
    decisions: HashMap<String, ToolDecision>,
    turns: u32,
}

impl Observer {
    fn new(telemetry: Telemetry) -> Self {
        Self {
            telemetry,
            model: ModelId::from_user(""),
            request_started: None,
            first_token: None,
            retries: 0,
            usage: Usage::default(),
            decisions: HashMap::new(),
            turns: 0,
        }
    }

    fn finish_request(&mut self, status: StatusClass) {
        if let Some(start) = self.request_started.take() {
            self.telemetry
                .record(UsageEvent::ModelRequest(ModelRequest {
                    model: self.model,
                    status,
                    latency: start.elapsed(),
                    time_to_first_token: self.first_token,
                    tokens: TokenCounts::from(&self.usage),
                    retries: self.retries,
                }));
        }
    }

    fn observe(&mut self, event: &Event) {
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
            Event::ResponseComplete { .. } => self.finish_request(StatusClass::Success),
            Event::Error { kind, .. } => {
                self.finish_request(status_class(*kind));
                self.telemetry.record(UsageEvent::Error(*kind));
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
                self.telemetry.record(UsageEvent::ToolCall(ToolCall {
                    tool: ToolName::from_call_name(name),
                    decision,
                    success: *status == ToolStatus::Success,
                    duration: Duration::from_millis(*duration_ms),
                }));
            }
            Event::TurnComplete { .. } => {
                self.finish_request(StatusClass::NoResponse);
                self.turns += 1;
            }
            Event::TurnStarted { .. }
            | Event::ToolCallBegin { .. }
            | Event::ToolOutputDelta { .. }
            | Event::ApprovalRequest { .. }
            | Event::TodoUpdate { .. }
            | Event::Warning { .. }
            | Event::Compacted { .. }
            | Event::HistoryCleared
            | Event::SystemPromptUpdated
            | Event::ShutdownComplete => {}
        }
    }
}

/// The HTTP status class an error implies (the engine reports kinds, not raw statuses).
fn status_class(kind: ErrorKind) -> StatusClass {
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

/// `qcode privacy [status|on|off|log]`.
pub fn privacy_command(
    snapshot: &ConfigSnapshot,
    env: &EnvLayer,
    command: qcode_telemetry::PrivacyCommand,
) -> Result<(), crate::exit::Failure> {
    let get = |k: &str| env.get(k);
    let settings_file = qcode_config::SettingsFile::user(&snapshot.paths);
    let persist = |on: bool| {
        settings_file
            .set_usage_statistics(on)
            .map_err(|e| e.to_string())
    };
    let audit = qcode_telemetry::audit_log_path(&snapshot.paths.qcode_home);
    let ctx = qcode_telemetry::PrivacyContext {
        settings_enabled: snapshot.usage_statistics_setting.as_ref().map(|s| s.value),
        settings_endpoint: snapshot.otlp_endpoint.as_ref().map(|e| e.value.as_str()),
        env: &get,
        audit_log: &audit,
        persist: &persist,
    };
    let mut out = std::io::stdout();
    qcode_telemetry::run_privacy_command(command, &ctx, &mut out)
        .map_err(|e| crate::exit::Failure::new(ErrorKind::Config, e.to_string(), None))
}
