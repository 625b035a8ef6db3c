//! The local audit log: every event exactly as exported, one JSON line each, in a size-capped
//! file the user can read (`/privacy`, `qcode privacy log`).
//!
//! Written only from the telemetry background thread; when the file grows past its cap it is
//! cut to its newest half (at a line boundary).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::UsageEvent;

/// Default cap of the audit log.
pub const AUDIT_LOG_CAP_BYTES: u64 = 256 * 1024;

/// File name of the audit log inside qcode's home directory.
pub const AUDIT_LOG_FILE: &str = "telemetry-audit.jsonl";

/// The audit log path inside `qcode_home`.
pub fn audit_log_path(qcode_home: &Path) -> PathBuf {
    qcode_home.join(AUDIT_LOG_FILE)
}

/// The JSON line for one exported log record: the same time, event name, attributes and
/// resource attributes the collector receives.
pub(crate) fn audit_line(
    event: &UsageEvent,
    at: SystemTime,
    resource: &[(&'static str, String)],
) -> String {
    let attributes: serde_json::Map<String, serde_json::Value> = event
        .attributes()
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.to_json()))
        .collect();
    let resource: serde_json::Map<String, serde_json::Value> = resource
        .iter()
        .map(|(k, v)| ((*k).to_string(), serde_json::Value::from(v.as_str())))
        .collect();
    let nanos = at
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    serde_json::json!({
        "time_unix_nano": nanos,
        "severity": "INFO",
        "event": event.name(),
        "attributes": attributes,
        "resource": resource,
    })
    .to_string()
}

/// Appends lines to the audit log, keeping it under its cap.
pub(crate) struct AuditLog {
    path: PathBuf,
    cap: u64,
}

impl AuditLog {
    pub(crate) fn new(path: PathBuf, cap: u64) -> Self {
        Self { path, cap }
    }

    /// Appends one line. Failures are ignored: the audit log must never break a session.
    pub(crate) fn append(&self, line: &str) {
        if let Some(dir) = self.path.parent() {
            let _ = qcode_fs::create_private_dirs(dir);
        }
        let Ok(mut file) = private_options().append(true).open(&self.path) else {
            return;
        };
        let _ = writeln!(file, "{line}");
        let too_big = file.metadata().is_ok_and(|m| m.len() > self.cap);
        drop(file);
        if too_big {
            self.truncate_to_newest_half();
        }
    }

    fn truncate_to_newest_half(&self) {
        let Ok(data) = fs::read(&self.path) else {
            return;
        };
        let keep_from = data
            .len()
            .saturating_sub(usize::try_from(self.cap / 2).unwrap_or(0));
        let start = data[keep_from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| keep_from + i + 1);
        let _ = qcode_fs::write_atomic(&self.path, &data[start..], qcode_fs::Mode::Exactly(0o600));
    }
}

/// Options that create a file readable by its owner only.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The newest `last_n` lines of the audit log (oldest first). A missing or unreadable file
/// gives an empty list.
pub fn read_audit_log(path: &Path, last_n: usize) -> Vec<String> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(last_n)..]
        .iter()
        .map(|l| (*l).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_newest_half_at_line_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::new(path.clone(), 1000);
        for i in 0..200 {
            log.append(&format!("{{\"n\":{i:04}}}"));
        }
        let size = fs::metadata(&path).unwrap().len();
        assert!(size <= 1000, "size {size}");
        let lines = read_audit_log(&path, usize::MAX);
        assert_eq!(lines.last().unwrap(), "{\"n\":0199}");
        // every line is whole and they are consecutive
        let numbers: Vec<u32> = lines.iter().map(|l| l[5..9].parse().unwrap()).collect();
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
        assert!(numbers.len() > 30, "kept {}", numbers.len());
    }

    #[test]
    fn read_last_n() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        assert!(read_audit_log(&path, 5).is_empty());
        fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(read_audit_log(&path, 2), ["b", "c"]);
        assert_eq!(read_audit_log(&path, 10), ["a", "b", "c"]);
    }

    #[cfg(unix)]
    #[test]
    fn file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("audit.jsonl");
        AuditLog::new(path.clone(), 1000).append("{}");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
