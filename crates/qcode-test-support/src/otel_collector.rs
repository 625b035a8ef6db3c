//! A real OTLP receiver for tests: Rotel (PyPI `rotel`, a Rust OpenTelemetry collector), run
//! with `tests/peers/otel/dump_processor.py`, which appends every received log record and
//! metric as one JSON line to a dump file that tests read.
//!
//! Install: `python3 -m venv tests/peers/otel/.venv &&
//! tests/peers/otel/.venv/bin/pip install -r tests/peers/otel/requirements.txt`
//! (or point `QCODE_ROTEL_AGENT` at a `rotel-agent` binary).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::process::{ChildGuard, free_port, http_status, in_ci, repo_root, wait_until};

/// Env variable overriding where `rotel-agent` is.
pub const ROTEL_AGENT_ENV: &str = "QCODE_ROTEL_AGENT";

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running Rotel collector; stopped (SIGTERM) and its files removed on drop.
pub struct Collector {
    guard: Option<ChildGuard>,
    http_port: u16,
    dir: PathBuf,
}

fn peers_dir() -> PathBuf {
    repo_root().join("tests").join("peers").join("otel")
}

/// Where `rotel-agent` is installed, if it is.
pub fn rotel_agent() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(ROTEL_AGENT_ENV) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let lib = peers_dir().join(".venv").join("lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/rotel/rotel-agent"))
        .find(|p| p.is_file())
}

impl Collector {
    /// Starts Rotel on free ports and waits until it accepts OTLP/HTTP.
    pub fn start() -> Result<Collector, String> {
        let agent = rotel_agent().ok_or_else(|| {
            format!(
                "rotel-agent is not installed; run `python3 -m venv {0}/.venv && {0}/.venv/bin/pip \
                 install -r {0}/requirements.txt` (or set {ROTEL_AGENT_ENV})",
                peers_dir().display()
            )
        })?;
        let processor = peers_dir().join("dump_processor.py");
        let http_port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let grpc_port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let dir = std::env::temp_dir().join(format!(
            "qcode-otel-{}-{http_port}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("rotel.log"))
            .map_err(|e| format!("creating the rotel log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("rotel log: {e}"))?;
        let child = Command::new(&agent)
            .arg("start")
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args(["--exporter", "blackhole"])
            .arg("--otlp-with-logs-processor")
            .arg(&processor)
            .arg("--otlp-with-metrics-processor")
            .arg(&processor)
            .env("ROTEL_DUMP_FILE", dir.join("dump.jsonl"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", agent.display()))?;
        let mut collector = Collector {
            guard: Some(ChildGuard::new(child)),
            http_port,
            dir,
        };
        let ready = wait_until(READY_TIMEOUT, || {
            matches!(
                http_status(
                    http_port,
                    "POST",
                    "/v1/logs",
                    &[("Content-Type", "application/x-protobuf")],
                    b"",
                ),
                Ok(200)
            )
        });
        if !ready {
            let exited = collector
                .guard
                .as_mut()
                .and_then(|g| g.child_mut().try_wait().ok().flatten());
            return Err(format!(
                "rotel did not become ready on port {http_port} within {READY_TIMEOUT:?} \
                 (exit status: {exited:?}); its log:\n{}",
                collector.log()
            ));
        }
        Ok(collector)
    }

    /// Starts Rotel, or, when it is not installed and this is not CI, prints a loud SKIP line
    /// and returns `None`. In CI a missing collector is a failure.
    pub fn start_or_skip(test: &str) -> Option<Collector> {
        if rotel_agent().is_none() && !in_ci() {
            eprintln!(
                "SKIP {test}: rotel-agent is not installed (see tests/peers/otel/requirements.txt)"
            );
            return None;
        }
        match Collector::start() {
            Ok(collector) => Some(collector),
            Err(error) => panic!("{test}: could not start the OTLP collector: {error}"),
        }
    }

    /// The OTLP/HTTP base URL (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    pub fn dump_path(&self) -> PathBuf {
        self.dir.join("dump.jsonl")
    }

    /// The raw dump: everything the collector received, as written by the dump processor.
    pub fn dump_text(&self) -> String {
        std::fs::read_to_string(self.dump_path()).unwrap_or_default()
    }

    /// Every received log record and metric, one JSON object each (see dump_processor.py).
    pub fn records(&self) -> Vec<Value> {
        self.dump_text()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Number of log records and metrics received.
    pub fn record_count(&self) -> usize {
        self.records().len()
    }

    /// Polls the dump until `done` holds for the records (Rotel batches; allow a few seconds).
    /// Returns the records seen last either way.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut records = self.records();
        let _ = wait_until(timeout, || {
            records = self.records();
            done(&records)
        });
        records
    }

    /// Rotel's own output, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rotel.log")).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.guard.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
