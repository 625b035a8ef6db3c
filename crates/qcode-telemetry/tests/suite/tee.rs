//! The observer between engine and front end: it passes every event on in order, records
//! usage events from them, and carries back-pressure — a front end that stops reading holds
//! the engine's sender back instead of letting the tee buffer without limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use qcode_protocol::{EVENT_QUEUE_CAPACITY, Event, FinishReason, TurnOutcome, queue_pair};
use qcode_telemetry::{Consent, Telemetry, read_audit_log, tee};

use super::config;

const DELTAS: usize = 4 * EVENT_QUEUE_CAPACITY;

#[tokio::test]
async fn the_tee_passes_everything_on_in_order_and_holds_the_engine_back() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    // Exporting to a port where nothing listens: recording works, sending fails quietly.
    let telemetry = Telemetry::init(config(
        Consent::Enabled,
        "http://127.0.0.1:9",
        audit.clone(),
    ));
    assert!(telemetry.is_exporting());
    let (handle, ends) = queue_pair();
    let (mut front, observer) = tee(handle.events, telemetry.clone());

    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let engine = tokio::spawn(async move {
        let mut script = vec![
            Event::TurnStarted { turn_id: 1 },
            Event::RequestStarted {
                turn_id: 1,
                request: 1,
            },
        ];
        script.extend((0..DELTAS).map(|i| Event::TextDelta {
            text: format!("{i} "),
        }));
        script.push(Event::ResponseComplete {
            finish: FinishReason::Stop,
        });
        script.push(Event::TurnComplete {
            turn_id: 1,
            outcome: TurnOutcome::Completed,
        });
        for ev in script {
            ends.events.send(ev).await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });

    // Nobody reads: both queues fill, then the engine waits.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while front.len() < EVENT_QUEUE_CAPACITY {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tee never filled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held_back = sent.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sent.load(Ordering::SeqCst), held_back, "the engine waits");
    assert_eq!(front.len(), EVENT_QUEUE_CAPACITY);
    // The front end's queue, the engine's queue, and the one event the tee holds.
    assert!(
        held_back <= 2 * EVENT_QUEUE_CAPACITY + 1,
        "{held_back} events in flight"
    );

    // Reading again: every event, in order.
    let mut text = String::new();
    let mut last = None;
    while let Some(ev) = front.recv().await {
        if let Event::TextDelta { text: t } = &ev {
            text.push_str(t);
        }
        last = Some(ev);
    }
    engine.await.unwrap();
    let expected: String = (0..DELTAS).map(|i| format!("{i} ")).collect();
    assert_eq!(text, expected);
    assert!(matches!(last, Some(Event::TurnComplete { .. })));
    assert_eq!(observer.await.unwrap(), 1, "one turn seen");

    telemetry.flush(Duration::from_secs(5));
    let log = read_audit_log(&audit, 100).join("\n");
    assert!(log.contains("qcode.model_request"), "{log}");
    telemetry.shutdown(Duration::from_millis(100));
}
