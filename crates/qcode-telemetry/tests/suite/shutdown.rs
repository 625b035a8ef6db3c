//! A dead or black-hole endpoint must not hold up exit: shutdown is bounded by its timeout and
//! recording stays non-blocking. Timings are printed (run with `--nocapture`) and only checked
//! against generous bounds.

use std::time::{Duration, Instant};

use qcode_protocol::ErrorKind;
use qcode_telemetry::{Consent, FlushOutcome, Telemetry, UsageEvent};
use qcode_test_support::process::{free_port, wait_until};

use super::{BlackHole, config};

const EXIT_BUDGET: Duration = Duration::from_millis(100);

fn session(url: &str, audit: std::path::PathBuf) -> (Telemetry, Duration) {
    let telemetry = Telemetry::init(config(Consent::Enabled, url, audit));
    let start = Instant::now();
    for _ in 0..500 {
        telemetry.record(UsageEvent::Error(ErrorKind::Network));
    }
    (telemetry, start.elapsed())
}

#[test]
fn dead_endpoint_costs_little_at_exit() {
    let port = free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (telemetry, record_time) = session(
        &format!("http://127.0.0.1:{port}"),
        dir.path().join("a.jsonl"),
    );
    // let the first batch hit the closed port, as in a real session
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    let outcome = telemetry.shutdown(EXIT_BUDGET);
    let took = start.elapsed();
    eprintln!(
        "MEASURED dead endpoint: shutdown {took:?} ({outcome:?}); 500 record() calls {record_time:?}"
    );
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    assert!(
        record_time < Duration::from_secs(1),
        "recording took {record_time:?}"
    );
}

#[test]
fn black_hole_endpoint_is_abandoned_at_the_deadline() {
    let hole = BlackHole::start();
    let dir = tempfile::tempdir().unwrap();
    let (telemetry, record_time) = session(&hole.url(), dir.path().join("a.jsonl"));
    let start = Instant::now();
    let outcome = telemetry.shutdown(EXIT_BUDGET);
    let took = start.elapsed();
    eprintln!(
        "MEASURED black-hole endpoint: shutdown {took:?} ({outcome:?}); 500 record() calls {record_time:?}"
    );
    assert_eq!(outcome, FlushOutcome::TimedOut);
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    assert!(
        record_time < Duration::from_secs(1),
        "recording took {record_time:?}"
    );
    // the exporter really was talking to the black hole
    assert!(wait_until(Duration::from_secs(3), || hole.connections() > 0));
}

#[test]
fn recording_does_not_block_while_the_endpoint_hangs() {
    let hole = BlackHole::start();
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::init(config(
        Consent::Enabled,
        &hole.url(),
        dir.path().join("a.jsonl"),
    ));
    // a flush now blocks the background thread on the black hole
    assert_eq!(
        telemetry.flush(Duration::from_millis(50)),
        FlushOutcome::TimedOut
    );
    let start = Instant::now();
    for _ in 0..5_000 {
        telemetry.record(UsageEvent::Error(ErrorKind::Server));
    }
    let took = start.elapsed();
    eprintln!(
        "MEASURED 5000 record() calls while the exporter hangs: {took:?}, dropped {}",
        telemetry.dropped_events()
    );
    assert!(took < Duration::from_secs(1), "recording took {took:?}");
    assert!(telemetry.dropped_events() > 0, "the queue is bounded");
    assert_eq!(telemetry.shutdown(EXIT_BUDGET), FlushOutcome::TimedOut);
}

#[test]
fn https_endpoint_builds_with_rustls_ring_and_fails_silently() {
    let port = free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (telemetry, _) = session(
        &format!("https://127.0.0.1:{port}"),
        dir.path().join("a.jsonl"),
    );
    assert_eq!(telemetry.flush(Duration::from_secs(3)), FlushOutcome::Done);
    assert_eq!(telemetry.status(), qcode_telemetry::TelemetryStatus::On);
    assert_eq!(telemetry.shutdown(EXIT_BUDGET), FlushOutcome::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_from_inside_a_tokio_runtime() {
    let hole = BlackHole::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let (telemetry, _) = session(&hole.url(), audit.clone());
    let start = Instant::now();
    assert_eq!(telemetry.shutdown(EXIT_BUDGET), FlushOutcome::TimedOut);
    assert!(start.elapsed() < Duration::from_secs(1));
    // the background thread kept working: start + 500 events reach the audit log
    let audited = || qcode_telemetry::read_audit_log(&audit, 1000).len();
    assert!(
        wait_until(Duration::from_secs(3), || audited() == 501),
        "{}",
        audited()
    );
}
