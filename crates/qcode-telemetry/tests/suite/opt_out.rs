//! Every opt-out alone keeps telemetry from building an exporter, connecting anywhere,
//! recording anything or writing the audit log.

use std::time::Duration;

use qcode_protocol::ErrorKind;
use qcode_telemetry::{
    Consent, FlushOutcome, OptOutReason, SlashCommand, Telemetry, TelemetryStatus, UsageEvent,
    install_panic_hook,
};
use qcode_test_support::otel_collector::Collector;

use super::{BlackHole, config, env_of};

fn opt_outs() -> Vec<(Consent, OptOutReason)> {
    vec![
        (
            Consent::resolve(Some(false), &env_of(&[])),
            OptOutReason::Settings,
        ),
        (
            Consent::resolve(None, &env_of(&[("QCODE_USAGE_STATS", "0")])),
            OptOutReason::QcodeUsageStatsEnv,
        ),
        (
            Consent::resolve(Some(true), &env_of(&[("DO_NOT_TRACK", "1")])),
            OptOutReason::DoNotTrack,
        ),
    ]
}

fn exercise(telemetry: &Telemetry) {
    telemetry.record(UsageEvent::SlashCommand(SlashCommand::from_input("/help")));
    telemetry.record(UsageEvent::Error(ErrorKind::Network));
    telemetry.end_session(2);
    assert_eq!(
        telemetry.flush(Duration::from_millis(200)),
        FlushOutcome::NotRunning
    );
    assert_eq!(
        telemetry.shutdown(Duration::from_millis(200)),
        FlushOutcome::NotRunning
    );
}

#[test]
fn opted_out_collector_receives_nothing() {
    let Some(collector) = Collector::start_or_skip("opted_out_collector_receives_nothing") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (consent, reason) in opt_outs() {
        assert_eq!(consent, Consent::Disabled(reason));
        let audit = dir.path().join(format!("{reason:?}.jsonl"));
        let telemetry = Telemetry::init(config(consent, &collector.endpoint(), audit.clone()));
        assert!(
            !telemetry.is_exporting(),
            "{reason:?}: an exporter was built"
        );
        assert_eq!(telemetry.status(), TelemetryStatus::Off(Some(reason)));
        assert_eq!(telemetry.session_id(), None);
        assert!(
            telemetry
                .endpoint_description()
                .starts_with("nothing is sent")
        );
        install_panic_hook(telemetry.clone());
        exercise(&telemetry);
        assert!(!audit.exists(), "{reason:?}: audit log written");
    }
    // Rotel batches for up to ~1 s: wait longer than that, then expect nothing at all.
    let records = collector.wait_for(Duration::from_millis(1500), |r| !r.is_empty());
    assert!(records.is_empty(), "collector received {records:#?}");
}

#[test]
fn opted_out_never_connects() {
    for (consent, reason) in opt_outs() {
        let hole = BlackHole::start();
        let dir = tempfile::tempdir().unwrap();
        let telemetry = Telemetry::init(config(consent, &hole.url(), dir.path().join("a.jsonl")));
        exercise(&telemetry);
        drop(telemetry);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            hole.connections(),
            0,
            "{reason:?}: a connection was attempted"
        );
    }
}

#[test]
fn disabled_handle_does_nothing() {
    let telemetry = Telemetry::disabled();
    assert!(!telemetry.is_exporting());
    assert_eq!(telemetry.status(), TelemetryStatus::Off(None));
    exercise(&telemetry);
    assert_eq!(telemetry.dropped_events(), 0);
}
