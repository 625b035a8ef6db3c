//! The first-run notice: what is collected, where it goes, how to turn it off; and the marker
//! file that says it was shown (a flag, not an id).

use std::path::{Path, PathBuf};

use crate::error::TelemetryError;

/// Shown once on the first interactive run, and by `/privacy` / `qcode privacy status`.
pub const NOTICE: &str = "\
qcode sends anonymous usage statistics to help improve it: the qcode version, OS family, CPU \
architecture and terminal kind; which built-in commands and tools run and whether they were \
allowed; request latency, token counts and retries; error kinds and crash locations in qcode's \
own code; and a random id that is new for every run. It never sends your prompts, code, file \
names, paths, commands, URLs, model names you typed, API keys or error messages.
Statistics go over OpenTelemetry (OTLP/HTTP) to telemetry.otlpEndpoint or \
OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318, a collector you or your organisation \
run). Every event sent is also written to telemetry-audit.jsonl in qcode's home directory.
To turn it off: /privacy off, `qcode privacy off`, \"privacy.usageStatisticsEnabled\": false in \
settings.json, QCODE_USAGE_STATS=0 or DO_NOT_TRACK=1.";

/// Name of the marker file inside qcode's home directory.
pub const NOTICE_MARKER_FILE: &str = "telemetry-notice-shown";

fn marker(qcode_home: &Path) -> PathBuf {
    qcode_home.join(NOTICE_MARKER_FILE)
}

/// Whether the first-run notice has not been shown yet.
pub fn first_run_notice_needed(qcode_home: &Path) -> bool {
    !marker(qcode_home).exists()
}

/// Remembers that the notice was shown (creates qcode's home directory if needed).
pub fn mark_notice_shown(qcode_home: &Path) -> Result<(), TelemetryError> {
    let path = marker(qcode_home);
    let write = |source| TelemetryError::Write {
        path: path.clone(),
        source,
    };
    qcode_fs::write_private(&path, b"").map_err(|e| write(e.into()))
}

/// The notice to show at the start of an interactive session: only when statistics are
/// exported and it was not shown before; taking it marks it shown.
pub fn take_first_run_notice(
    telemetry: &crate::telemetry::Telemetry,
    qcode_home: &Path,
) -> Option<String> {
    first_run_notice(telemetry.is_exporting(), qcode_home)
}

fn first_run_notice(exporting: bool, qcode_home: &Path) -> Option<String> {
    (exporting && first_run_notice_needed(qcode_home)).then(|| {
        let _ = mark_notice_shown(qcode_home);
        NOTICE.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        assert!(first_run_notice_needed(&home));
        mark_notice_shown(&home).unwrap();
        assert!(!first_run_notice_needed(&home));
        assert_eq!(std::fs::read(home.join(NOTICE_MARKER_FILE)).unwrap(), b"");
    }

    #[test]
    fn the_notice_is_taken_once_and_only_when_exporting() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let disabled = crate::telemetry::Telemetry::disabled();
        assert_eq!(take_first_run_notice(&disabled, &home), None);
        assert!(first_run_notice_needed(&home));
        assert_eq!(first_run_notice(true, &home).as_deref(), Some(NOTICE));
        assert!(!first_run_notice_needed(&home));
        assert_eq!(first_run_notice(true, &home), None);
    }

    #[test]
    fn notice_names_every_switch() {
        for needle in [
            "privacy.usageStatisticsEnabled",
            "QCODE_USAGE_STATS=0",
            "DO_NOT_TRACK=1",
            "/privacy",
            "qcode privacy off",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://localhost:4318",
        ] {
            assert!(NOTICE.contains(needle), "{needle}");
        }
    }
}
