//! The [`Telemetry`] handle: consent-gated, non-blocking recording of usage events, handed to a
//! background thread that writes the audit log and feeds the OTLP pipeline; bounded shutdown;
//! and the panic hook that records crashes.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::ThreadId;
use std::time::{Duration, Instant, SystemTime};

use crate::audit::{AUDIT_LOG_CAP_BYTES, AuditLog, audit_line};
use crate::consent::{Consent, OptOutReason};
use crate::endpoint::EndpointConfig;
use crate::event::{CodeLocation, SessionEnd, SessionInfo, UsageEvent, VERSION};
use crate::export::Pipeline;

/// Events waiting for the background thread before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;

/// Everything [`Telemetry::init`] needs.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub consent: Consent,
    pub endpoint: EndpointConfig,
    /// Usually [`crate::audit_log_path`]`(qcode_home)`.
    pub audit_log: PathBuf,
    pub session: SessionInfo,
}

/// A random id for this process only; never written anywhere but the exported events.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(u128);

impl SessionId {
    fn random() -> Self {
        Self(rand::random())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// What the telemetry is doing right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelemetryStatus {
    /// Off; the reason is known when the handle came from [`Telemetry::init`].
    Off(Option<OptOutReason>),
    /// Recording and exporting.
    On,
    /// Consent was given, but the exporter could not be built (the message says why).
    Failed(String),
    /// [`Telemetry::shutdown`] ran.
    ShutDown,
}

/// How [`Telemetry::shutdown`] / [`Telemetry::flush`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushOutcome {
    /// Everything queued was handed to the exporters and they finished (successfully or not).
    Done,
    /// The time budget ran out; the rest is abandoned in the background.
    TimedOut,
    /// Nothing to do: telemetry is off, failed, or already shut down.
    NotRunning,
}

enum Msg {
    Event(UsageEvent, SystemTime),
    Flush(mpsc::Sender<()>),
    Shutdown(mpsc::Sender<()>),
}

struct Active {
    tx: mpsc::Sender<Msg>,
    pending: Arc<AtomicUsize>,
    dropped: AtomicU64,
    turned_off: AtomicBool,
    shut_down: AtomicBool,
    build_error: Arc<OnceLock<String>>,
    worker: Option<ThreadId>,
    session_id: SessionId,
    started: Instant,
    endpoint: EndpointConfig,
}

enum State {
    Off(Option<OptOutReason>),
    On(Box<Active>),
}

/// A cheap, cloneable handle. Recording never blocks and never fails.
#[derive(Clone)]
pub struct Telemetry {
    state: Arc<State>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// A handle that records nothing, builds nothing and connects nowhere.
    pub fn disabled() -> Self {
        Self {
            state: Arc::new(State::Off(None)),
        }
    }

    /// Starts telemetry if consent allows it, and records the session start. Without consent
    /// this is [`Telemetry::disabled`]: no thread, no exporter, no audit log. The exporter is
    /// built on the background thread, so this returns at once.
    pub fn init(config: TelemetryConfig) -> Self {
        if let Consent::Disabled(reason) = config.consent {
            return Self {
                state: Arc::new(State::Off(Some(reason))),
            };
        }
        let session_id = SessionId::random();
        let resource = vec![
            ("service.name", "qcode".to_string()),
            ("service.version", VERSION.to_string()),
            ("session.id", session_id.to_string()),
        ];
        let (tx, rx) = mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let build_error = Arc::new(OnceLock::new());
        let worker = {
            let endpoint = config.endpoint.clone();
            let audit = AuditLog::new(config.audit_log.clone(), AUDIT_LOG_CAP_BYTES);
            let pending = Arc::clone(&pending);
            let build_error = Arc::clone(&build_error);
            std::thread::Builder::new()
                .name("qcode-telemetry".into())
                .spawn(move || run_worker(rx, &endpoint, &resource, &audit, &pending, &build_error))
        };
        let worker = match worker {
            Ok(handle) => Some(handle.thread().id()),
            Err(e) => {
                let _ = build_error.set(format!("could not start the telemetry thread: {e}"));
                None
            }
        };
        let telemetry = Self {
            state: Arc::new(State::On(Box::new(Active {
                tx,
                pending,
                dropped: AtomicU64::new(0),
                turned_off: AtomicBool::new(false),
                shut_down: AtomicBool::new(false),
                build_error,
                worker,
                session_id,
                started: Instant::now(),
                endpoint: config.endpoint,
            }))),
        };
        telemetry.record(UsageEvent::SessionStart(config.session));
        telemetry
    }

    fn active(&self) -> Option<&Active> {
        match &*self.state {
            State::On(active) => Some(active),
            State::Off(_) => None,
        }
    }

    /// Queues an event for export (non-blocking; dropped when the queue is full or telemetry
    /// is off).
    pub fn record(&self, event: UsageEvent) {
        let Some(active) = self.active() else {
            return;
        };
        if active.turned_off.load(Ordering::Relaxed) || active.shut_down.load(Ordering::Relaxed) {
            return;
        }
        if active.pending.fetch_add(1, Ordering::AcqRel) >= QUEUE_CAPACITY {
            active.pending.fetch_sub(1, Ordering::AcqRel);
            active.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if active
            .tx
            .send(Msg::Event(event, SystemTime::now()))
            .is_err()
        {
            active.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Records the end of the session: its length since [`Telemetry::init`] and `turns`.
    pub fn end_session(&self, turns: u32) {
        if let Some(active) = self.active() {
            self.record(UsageEvent::SessionEnd(SessionEnd {
                duration: active.started.elapsed(),
                turns,
            }));
        }
    }

    /// Stops recording for the rest of this process (`/privacy off`); what was already queued
    /// is still sent.
    pub fn turn_off_now(&self) {
        if let Some(active) = self.active() {
            active.turned_off.store(true, Ordering::Relaxed);
        }
    }

    /// Hands everything queued to the exporters and waits for them, up to `timeout`.
    pub fn flush(&self, timeout: Duration) -> FlushOutcome {
        self.request(timeout, Msg::Flush)
    }

    /// Sends what is queued and stops, waiting at most `timeout` (use ~100 ms at exit). Later
    /// calls and later events do nothing. A dead or slow endpoint is abandoned silently.
    pub fn shutdown(&self, timeout: Duration) -> FlushOutcome {
        match self.active() {
            Some(active) if !active.shut_down.swap(true, Ordering::AcqRel) => {
                self.request(timeout, Msg::Shutdown)
            }
            _ => FlushOutcome::NotRunning,
        }
    }

    fn request(&self, timeout: Duration, make: fn(mpsc::Sender<()>) -> Msg) -> FlushOutcome {
        let Some(active) = self.active() else {
            return FlushOutcome::NotRunning;
        };
        if active.worker == Some(std::thread::current().id()) {
            // Called from the worker itself (e.g. a panic there): waiting would deadlock.
            return FlushOutcome::NotRunning;
        }
        let (reply_tx, reply_rx) = mpsc::channel();
        if active.tx.send(make(reply_tx)).is_err() {
            return FlushOutcome::NotRunning;
        }
        match reply_rx.recv_timeout(timeout) {
            Ok(()) => FlushOutcome::Done,
            Err(mpsc::RecvTimeoutError::Timeout) => FlushOutcome::TimedOut,
            Err(mpsc::RecvTimeoutError::Disconnected) => FlushOutcome::NotRunning,
        }
    }

    pub fn status(&self) -> TelemetryStatus {
        match &*self.state {
            State::Off(reason) => TelemetryStatus::Off(*reason),
            State::On(active) => {
                if let Some(error) = active.build_error.get() {
                    TelemetryStatus::Failed(error.clone())
                } else if active.turned_off.load(Ordering::Relaxed) {
                    TelemetryStatus::Off(Some(OptOutReason::TurnedOffNow))
                } else if active.shut_down.load(Ordering::Relaxed) {
                    TelemetryStatus::ShutDown
                } else {
                    TelemetryStatus::On
                }
            }
        }
    }

    /// Whether this handle has an exporter thread (false for every opt-out).
    pub fn is_exporting(&self) -> bool {
        self.active().is_some()
    }

    /// This process's random session id, when telemetry is on.
    pub fn session_id(&self) -> Option<SessionId> {
        self.active().map(|a| a.session_id)
    }

    /// Events dropped because the queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.active()
            .map_or(0, |a| a.dropped.load(Ordering::Relaxed))
    }

    /// Where events go, without credentials; or why nothing is sent.
    pub fn endpoint_description(&self) -> String {
        match &*self.state {
            State::Off(Some(reason)) => format!("nothing is sent ({reason})"),
            State::Off(None) => "nothing is sent (usage statistics are off)".to_string(),
            State::On(active) => active.endpoint.description(),
        }
    }
}

fn run_worker(
    rx: mpsc::Receiver<Msg>,
    endpoint: &EndpointConfig,
    resource: &[(&'static str, String)],
    audit: &AuditLog,
    pending: &AtomicUsize,
    build_error: &OnceLock<String>,
) {
    let pipeline = match Pipeline::build(endpoint, resource) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            let _ = build_error.set(error);
            return;
        }
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Event(event, at) => {
                pending.fetch_sub(1, Ordering::AcqRel);
                audit.append(&audit_line(&event, at, resource));
                pipeline.emit(&event, at);
            }
            Msg::Flush(reply) => {
                pipeline.flush();
                let _ = reply.send(());
            }
            Msg::Shutdown(reply) => {
                pipeline.shutdown();
                let _ = reply.send(());
                return;
            }
        }
    }
    // Every handle was dropped without a shutdown: still send what we have.
    pipeline.shutdown();
}

/// How long the panic hook waits for the crash event to be sent.
pub const CRASH_FLUSH_TIMEOUT: Duration = Duration::from_millis(100);

/// Installs a panic hook that records a [`UsageEvent::Crash`] with the panic's location (only
/// file:line inside qcode's own code, never the message), runs the previous hook, then gives
/// the exporter up to [`CRASH_FLUSH_TIMEOUT`] to send it.
pub fn install_panic_hook(telemetry: Telemetry) {
    if !telemetry.is_exporting() {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        telemetry.record(UsageEvent::Crash(CodeLocation::from_panic(info.location())));
        previous(info);
        let _ = telemetry.flush(CRASH_FLUSH_TIMEOUT);
    }));
}
