//! Starting usage statistics for a process: consent, then the endpoint, then the handle and
//! the panic hook — from plain settings values, so this crate needs no configuration crate.

use std::path::Path;
use std::time::{Duration, Instant};

use qcode_protocol::{ApprovalMode, AuthKind};

use crate::audit::audit_log_path;
use crate::catalogue::TerminalKind;
use crate::consent::Consent;
use crate::endpoint::EndpointConfig;
use crate::event::{RunMode, SessionInfo};
use crate::telemetry::{Telemetry, TelemetryConfig, install_panic_hook};

/// At exit, the telemetry exporter gets at most this long.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(100);

/// What [`init`] needs to know about this process and its settings.
pub struct Startup<'a> {
    /// The settings' `privacy.usageStatisticsEnabled`, when set.
    pub usage_statistics_setting: Option<bool>,
    /// The settings' collector endpoint, when set.
    pub otlp_endpoint: Option<&'a str>,
    /// qcode's home directory (the audit log lives there).
    pub qcode_home: &'a Path,
    /// The environment (process and `.env` layers) as the settings resolved it.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub run_mode: RunMode,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
    /// When the process started (the session start records the startup time).
    pub started: Instant,
}

/// The handle for this process: disabled (nothing built, nothing sent) when opted out, or when
/// the endpoint is unusable — a bad endpoint must not break the session. Installs the panic
/// hook when statistics are recorded.
pub fn init(startup: &Startup<'_>) -> Telemetry {
    let env = startup.env;
    let consent = Consent::resolve(startup.usage_statistics_setting, env);
    if matches!(consent, Consent::Disabled(_)) {
        return Telemetry::disabled();
    }
    let Ok(endpoint) = EndpointConfig::resolve(startup.otlp_endpoint, env) else {
        return Telemetry::disabled();
    };
    let telemetry = Telemetry::init(TelemetryConfig {
        consent,
        endpoint,
        audit_log: audit_log_path(startup.qcode_home),
        session: SessionInfo {
            terminal: TerminalKind::detect(env),
            run_mode: startup.run_mode,
            auth: startup.auth,
            approval_mode: startup.approval_mode,
            startup: startup.started.elapsed(),
        },
    });
    install_panic_hook(telemetry.clone());
    telemetry
}

/// How long [`finish`] waits for the event-stream observer's turn count.
const OBSERVER_WAIT: Duration = Duration::from_millis(50);

/// Ends a session: takes the observer's turn count (0 if it does not answer within 50 ms),
/// records the session end and shuts the exporter down within [`SHUTDOWN_BUDGET`], off the
/// runtime thread.
pub async fn finish(telemetry: Telemetry, observer: tokio::task::JoinHandle<u32>) {
    let turns = tokio::time::timeout(OBSERVER_WAIT, observer)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    telemetry.end_session(turns);
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown(SHUTDOWN_BUDGET)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup<'a>(
        setting: Option<bool>,
        endpoint: Option<&'a str>,
        home: &'a Path,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Startup<'a> {
        Startup {
            usage_statistics_setting: setting,
            otlp_endpoint: endpoint,
            qcode_home: home,
            env,
            run_mode: RunMode::Headless,
            auth: AuthKind::Openai,
            approval_mode: ApprovalMode::Default,
            started: Instant::now(),
        }
    }

    #[test]
    fn opted_out_or_a_bad_endpoint_builds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        let off = init(&startup(Some(false), None, dir.path(), &none));
        assert!(!off.is_exporting());
        let dnt = |k: &str| (k == "DO_NOT_TRACK").then(|| "1".to_string());
        assert!(!init(&startup(None, None, dir.path(), &dnt)).is_exporting());
        let bad = init(&startup(Some(true), Some("not a url"), dir.path(), &none));
        assert!(!bad.is_exporting());
        assert!(!audit_log_path(dir.path()).exists());
    }

    #[tokio::test]
    async fn finish_does_not_wait_for_a_stuck_observer() {
        let stuck = tokio::spawn(std::future::pending::<u32>());
        let started = Instant::now();
        finish(Telemetry::disabled(), stuck).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        finish(Telemetry::disabled(), tokio::spawn(async { 3 })).await;
    }
}
