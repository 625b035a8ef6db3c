//! Back ends of `qcode privacy [status|on|off|log [N]]` and the TUI's `/privacy`: they write
//! plain text to any `Write`; persisting the setting is the caller's callback (qcode-config
//! owns settings.json).

use std::io::Write;
use std::path::Path;

use crate::audit::read_audit_log;
use crate::consent::{Consent, OptOutReason};
use crate::endpoint::EndpointConfig;
use crate::error::TelemetryError;
use crate::notice::NOTICE;

/// Default number of audit-log events `log` shows.
pub const DEFAULT_LOG_EVENTS: usize = 20;

/// One `privacy` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivacyCommand {
    Status,
    On,
    Off,
    Log { last: usize },
}

impl PrivacyCommand {
    /// Parses the words after `privacy` (none means `status`).
    pub fn parse(args: &[&str]) -> Result<Self, TelemetryError> {
        match args {
            [] | ["status"] => Ok(Self::Status),
            ["on"] => Ok(Self::On),
            ["off"] => Ok(Self::Off),
            ["log"] => Ok(Self::Log {
                last: DEFAULT_LOG_EVENTS,
            }),
            ["log", n] => n
                .parse()
                .map(|last| Self::Log { last })
                .map_err(|_| TelemetryError::BadCount((*n).to_string())),
            _ => Err(TelemetryError::UnknownCommand(args.join(" "))),
        }
    }
}

/// What the commands need to know and do.
pub struct PrivacyContext<'a> {
    /// `privacy.usageStatisticsEnabled` from the merged settings.
    pub settings_enabled: Option<bool>,
    /// `telemetry.otlpEndpoint` from the merged settings.
    pub settings_endpoint: Option<&'a str>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub audit_log: &'a Path,
    /// Writes `privacy.usageStatisticsEnabled` to the user's settings.json.
    pub persist: &'a dyn Fn(bool) -> Result<(), String>,
}

/// Runs one command, writing its output to `out`.
pub fn run_privacy_command(
    command: PrivacyCommand,
    ctx: &PrivacyContext<'_>,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    match command {
        PrivacyCommand::Status => privacy_status(ctx, out),
        PrivacyCommand::On => privacy_set(true, ctx, out),
        PrivacyCommand::Off => privacy_set(false, ctx, out),
        PrivacyCommand::Log { last } => privacy_log(ctx.audit_log, last, out),
    }
}

/// The notice, the current state, the destination and where the audit log is.
pub fn privacy_status(ctx: &PrivacyContext<'_>, out: &mut dyn Write) -> Result<(), TelemetryError> {
    let consent = Consent::resolve(ctx.settings_enabled, ctx.env);
    let state = match consent {
        Consent::Enabled => "on".to_string(),
        Consent::Disabled(reason) => format!("off ({reason})"),
    };
    let destination = match (
        consent,
        EndpointConfig::resolve(ctx.settings_endpoint, ctx.env),
    ) {
        (Consent::Disabled(_), _) => "nothing is sent".to_string(),
        (Consent::Enabled, Ok(endpoint)) => endpoint.description(),
        (Consent::Enabled, Err(error)) => format!("nothing is sent: {error}"),
    };
    let events = read_audit_log(ctx.audit_log, usize::MAX).len();
    writeln!(
        out,
        "{NOTICE}\n\nUsage statistics: {state}\nDestination: {destination}\nAudit log: {} ({events} events; `qcode privacy log` shows them)",
        ctx.audit_log.display()
    )
    .map_err(TelemetryError::Output)
}

/// [`privacy_status`] as one text without the final newline (for a dialog); a failure to
/// write it becomes its message.
pub fn privacy_status_text(ctx: &PrivacyContext<'_>) -> String {
    let mut out = Vec::new();
    match privacy_status(ctx, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).trim_end().to_string(),
        Err(e) => e.to_string(),
    }
}

/// `privacy on` / `privacy off` (persisted through [`PrivacyContext::persist`]) and what it
/// says, without the final newline (for a dialog).
pub fn set_usage_statistics_text(
    enabled: bool,
    ctx: &PrivacyContext<'_>,
) -> Result<String, TelemetryError> {
    let mut out = Vec::new();
    privacy_set(enabled, ctx, &mut out)?;
    Ok(String::from_utf8_lossy(&out).trim_end().to_string())
}

fn privacy_set(
    enabled: bool,
    ctx: &PrivacyContext<'_>,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    (ctx.persist)(enabled).map_err(TelemetryError::Persist)?;
    let result = if enabled {
        match Consent::resolve(Some(true), ctx.env) {
            Consent::Enabled => writeln!(
                out,
                "Usage statistics are on (from the next start). `qcode privacy off` turns them off."
            ),
            Consent::Disabled(reason) => writeln!(
                out,
                "Saved privacy.usageStatisticsEnabled: true, but usage statistics stay off: {reason}."
            ),
        }
    } else {
        writeln!(
            out,
            "Usage statistics are off: nothing more is recorded or sent ({}).",
            OptOutReason::Settings
        )
    };
    result.map_err(TelemetryError::Output)
}

/// The newest `last` events exactly as they were sent, one JSON object per line.
pub fn privacy_log(
    audit_log: &Path,
    last: usize,
    out: &mut dyn Write,
) -> Result<(), TelemetryError> {
    let lines = read_audit_log(audit_log, last);
    let result = if lines.is_empty() {
        writeln!(
            out,
            "No usage events recorded yet ({}).",
            audit_log.display()
        )
    } else {
        lines.iter().try_for_each(|line| writeln!(out, "{line}"))
    };
    result.map_err(TelemetryError::Output)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn run(command: PrivacyCommand, env: &[(&str, &str)], audit: &Path) -> (String, Vec<bool>) {
        let saved = RefCell::new(Vec::new());
        let persist = |on: bool| {
            saved.borrow_mut().push(on);
            Ok(())
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env_fn = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let ctx = PrivacyContext {
            settings_enabled: None,
            settings_endpoint: None,
            env: &env_fn,
            audit_log: audit,
            persist: &persist,
        };
        let mut out = Vec::new();
        run_privacy_command(command, &ctx, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), saved.into_inner())
    }

    #[test]
    fn parse_commands() {
        assert_eq!(PrivacyCommand::parse(&[]).unwrap(), PrivacyCommand::Status);
        assert_eq!(
            PrivacyCommand::parse(&["off"]).unwrap(),
            PrivacyCommand::Off
        );
        assert_eq!(
            PrivacyCommand::parse(&["log", "5"]).unwrap(),
            PrivacyCommand::Log { last: 5 }
        );
        assert!(matches!(
            PrivacyCommand::parse(&["log", "x"]),
            Err(TelemetryError::BadCount(_))
        ));
        assert!(matches!(
            PrivacyCommand::parse(&["maybe"]),
            Err(TelemetryError::UnknownCommand(_))
        ));
    }

    #[test]
    fn status_shows_state_destination_and_notice() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("a.jsonl");
        let (out, saved) = run(PrivacyCommand::Status, &[], &audit);
        assert!(out.starts_with(NOTICE), "{out}");
        assert!(out.contains("Usage statistics: on\n"), "{out}");
        assert!(out.contains("http://localhost:4318/v1/logs"), "{out}");
        assert!(saved.is_empty());
        let (out, _) = run(PrivacyCommand::Status, &[("DO_NOT_TRACK", "1")], &audit);
        assert!(
            out.contains("Usage statistics: off (DO_NOT_TRACK is set)"),
            "{out}"
        );
        assert!(out.contains("Destination: nothing is sent"), "{out}");
    }

    #[test]
    fn on_and_off_persist_and_warn_about_env() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("a.jsonl");
        let (out, saved) = run(PrivacyCommand::Off, &[], &audit);
        assert_eq!(saved, [false]);
        assert!(out.contains("Usage statistics are off"), "{out}");
        let (out, saved) = run(PrivacyCommand::On, &[("QCODE_USAGE_STATS", "0")], &audit);
        assert_eq!(saved, [true]);
        assert!(
            out.contains("stay off: QCODE_USAGE_STATS is set to off"),
            "{out}"
        );
    }

    #[test]
    fn log_prints_newest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("a.jsonl");
        let (out, _) = run(PrivacyCommand::Log { last: 2 }, &[], &audit);
        assert!(out.starts_with("No usage events recorded yet"), "{out}");
        std::fs::write(&audit, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n").unwrap();
        let (out, _) = run(PrivacyCommand::Log { last: 2 }, &[], &audit);
        assert_eq!(out, "{\"n\":2}\n{\"n\":3}\n");
    }

    #[test]
    fn texts_for_a_dialog_have_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("a.jsonl");
        let saved = std::cell::RefCell::new(Vec::new());
        let persist = |on: bool| {
            saved.borrow_mut().push(on);
            Ok(())
        };
        let env = |_: &str| None;
        let ctx = PrivacyContext {
            settings_enabled: Some(false),
            settings_endpoint: None,
            env: &env,
            audit_log: &audit,
            persist: &persist,
        };
        let status = privacy_status_text(&ctx);
        assert!(status.starts_with(NOTICE), "{status}");
        assert!(status.contains("Usage statistics: off"), "{status}");
        assert!(status.ends_with("shows them)"), "{status}");
        let off = set_usage_statistics_text(false, &ctx).unwrap();
        assert!(off.starts_with("Usage statistics are off"), "{off}");
        assert!(!off.ends_with('\n'));
        let on = set_usage_statistics_text(true, &ctx).unwrap();
        assert!(on.starts_with("Usage statistics are on"), "{on}");
        assert_eq!(*saved.borrow(), [false, true]);
    }

    #[test]
    fn persist_failure_is_reported() {
        let persist = |_| Err("read-only file system".to_string());
        let env = |_: &str| None;
        let ctx = PrivacyContext {
            settings_enabled: None,
            settings_endpoint: None,
            env: &env,
            audit_log: Path::new("/nonexistent"),
            persist: &persist,
        };
        let err = run_privacy_command(PrivacyCommand::Off, &ctx, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("read-only file system"), "{err}");
    }
}
