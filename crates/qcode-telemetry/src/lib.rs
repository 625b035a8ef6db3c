//! Opt-out anonymous usage statistics: closed event schema, consent, OTLP export.
//!
//! - [`UsageEvent`] is a closed set of events whose fields are enums, numbers, booleans and
//!   durations; names come only from the fixed tables in [`catalogue`] (unknown models are
//!   "other", MCP tools "mcp", custom commands "custom"), and crash locations only name files
//!   of qcode's own code. Nothing a user typed can be put into an event.
//! - [`Consent::resolve`] is checked before anything is recorded; opted out,
//!   [`Telemetry::init`] builds nothing and connects nowhere.
//! - Events go, in the background, as OTLP/HTTP protobuf log records plus metrics to the
//!   configured collector, and are also appended to a local audit log the user can read.
//!   Recording never blocks; [`Telemetry::shutdown`] is bounded by its timeout.
//! - [`init`] starts all this for a process from plain settings values ([`Startup`]: the
//!   consent setting, the endpoint, qcode's home, the environment); [`tee`] observes the
//!   engine's event stream between engine and front end and records from what it sees, so the
//!   engine cannot leak anything into the statistics. The tee's queue is bounded like the
//!   engine's: a front end that stops reading holds the engine back through it; [`finish`]
//!   ends the session (turn count, session end, bounded shutdown).
//! - The `qcode privacy` back ends write text ([`run_privacy_command`]); the TUI's `/privacy`
//!   takes the same text as strings ([`privacy_status_text`], [`set_usage_statistics_text`]).
//!
//! This crate must not send anything but these events, and must never block a prompt. It does
//! not read configuration files (the caller passes the values) and knows no front end.

mod audit;
pub mod catalogue;
mod consent;
mod endpoint;
mod error;
mod event;
mod export;
mod notice;
mod observe;
mod privacy;
mod start;
mod telemetry;

pub use audit::{AUDIT_LOG_CAP_BYTES, AUDIT_LOG_FILE, audit_log_path, read_audit_log};
pub use catalogue::{Arch, ModelId, OsFamily, SlashCommand, TerminalKind, ToolName};
pub use consent::{Consent, ENV_DO_NOT_TRACK, ENV_USAGE_STATS, OptOutReason};
pub use endpoint::{
    DEFAULT_ENDPOINT, ENV_ENDPOINT, ENV_LOGS_ENDPOINT, ENV_METRICS_ENDPOINT, EndpointConfig,
};
pub use error::TelemetryError;
pub use event::{
    AttrValue, Attribute, CodeLocation, ModelRequest, RunMode, SessionEnd, SessionInfo,
    StatusClass, TokenCounts, ToolCall, ToolDecision, UsageEvent, VERSION,
};
pub use export::{
    CONNECT_TIMEOUT, EXPORT_TIMEOUT, LOG_BATCH_DELAY, METRIC_INTERVAL, SCOPE, metric_names,
};
pub use notice::{
    NOTICE, NOTICE_MARKER_FILE, first_run_notice_needed, mark_notice_shown, take_first_run_notice,
};
pub use observe::tee;
pub use privacy::{
    DEFAULT_LOG_EVENTS, PrivacyCommand, PrivacyContext, privacy_log, privacy_status,
    privacy_status_text, run_privacy_command, set_usage_statistics_text,
};
pub use start::{SHUTDOWN_BUDGET, Startup, finish, init};
pub use telemetry::{
    CRASH_FLUSH_TIMEOUT, FlushOutcome, QUEUE_CAPACITY, SessionId, Telemetry, TelemetryConfig,
    TelemetryStatus, install_panic_hook,
};
