//! Usage statistics wiring: what needs the configuration snapshot. The consent rules, the
//! event-stream observer and the exporter live in `qcode-telemetry`.

use std::time::Instant;

use qcode_config::{ConfigSnapshot, EnvLayer};
use qcode_protocol::{ApprovalMode, AuthKind, Problem};
use qcode_telemetry::{RunMode, Startup, Telemetry};

/// The handle for this process ([`qcode_telemetry::init`] over the snapshot's settings).
pub fn init(
    snapshot: &ConfigSnapshot,
    env: &EnvLayer,
    run_mode: RunMode,
    auth: AuthKind,
    approval_mode: ApprovalMode,
    started: Instant,
) -> Telemetry {
    qcode_telemetry::init(&Startup {
        usage_statistics_setting: snapshot.usage_statistics_setting.as_ref().map(|s| s.value),
        otlp_endpoint: snapshot.otlp_endpoint.as_ref().map(|e| e.value.as_str()),
        qcode_home: &snapshot.paths.qcode_home,
        env: &|k| env.get(k),
        run_mode,
        auth,
        approval_mode,
        started,
    })
}

/// `qcode privacy [status|on|off|log]`.
pub fn privacy_command(
    snapshot: &ConfigSnapshot,
    env: &EnvLayer,
    command: qcode_telemetry::PrivacyCommand,
) -> Result<(), Problem> {
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
    Ok(qcode_telemetry::run_privacy_command(
        command, &ctx, &mut out,
    )?)
}
