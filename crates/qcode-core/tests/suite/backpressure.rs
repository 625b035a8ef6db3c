//! The event queue is bounded: a front end that stops reading while the model streams holds
//! the engine back (the queue fills up to its capacity and no further), and once it reads
//! again every event arrives, in order, and the turn completes — or is interrupted on request.

use std::time::Duration;

use qcode_protocol::{ApprovalMode, EVENT_QUEUE_CAPACITY, Event, Op, TurnOutcome};
use qcode_test_support::mock_model::{MockUsage, Reply, SseItem, chunk};

use super::harness::*;

/// Many more deltas than the queue holds.
const DELTAS: usize = 5 * EVENT_QUEUE_CAPACITY;

fn piece(i: usize) -> String {
    format!("{i} ")
}

/// `DELTAS` numbered text deltas, then `tail`.
fn numbered(tail: Vec<SseItem>) -> Reply {
    let mut items = vec![SseItem::data_json(&chunk::role())];
    items.extend((0..DELTAS).map(|i| SseItem::Raw(chunk::text_line(&piece(i)))));
    items.extend(tail);
    Reply::sse(items)
}

fn finished() -> Vec<SseItem> {
    vec![
        SseItem::data_json(&chunk::finish("stop")),
        SseItem::data_json(&chunk::usage(&MockUsage::new(10, 5))),
        SseItem::done(),
    ]
}

fn text_of(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|ev| match ev {
            Event::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Waits (without reading) until the event queue is full, checking on the way that it never
/// holds more than its capacity; then checks that it stays full: the engine is waiting.
async fn wait_until_full(e: &Engine) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while e.handle.events.len() < EVENT_QUEUE_CAPACITY {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never filled: {} events waiting",
            e.handle.events.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(e.handle.events.len(), EVENT_QUEUE_CAPACITY);
    }
    assert_eq!(
        e.handle.events.capacity(),
        0,
        "no room left, nothing beyond it"
    );
}

#[tokio::test]
async fn a_stalled_front_end_holds_the_engine_back_and_loses_nothing() {
    let mut e = start(ApprovalMode::Default, None);
    e.mock.enqueue(numbered(finished()));
    e.send(Op::UserTurn {
        text: "stream a lot".into(),
    });
    let mut seen = e.until(|ev| matches!(ev, Event::TextDelta { .. })).await;

    // The front end stops reading: the queue fills to its capacity, and the engine waits.
    wait_until_full(&e).await;
    assert!(
        seen.len() + EVENT_QUEUE_CAPACITY < DELTAS,
        "the engine is held back mid-stream, not buffering the rest"
    );

    // Reading again: everything arrives, in order, and the turn completes.
    seen.extend(e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await);
    let expected: String = (0..DELTAS).map(piece).collect();
    assert_eq!(text_of(&seen), expected);
    assert!(matches!(
        seen.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Completed,
            ..
        })
    ));
    assert!(
        matches!(seen.first(), Some(Event::SessionConfigured { .. })),
        "{:?}",
        seen.first()
    );
    let usage_at = seen
        .iter()
        .position(|ev| matches!(ev, Event::Usage { .. }))
        .unwrap();
    let last_delta = seen
        .iter()
        .rposition(|ev| matches!(ev, Event::TextDelta { .. }))
        .unwrap();
    assert!(last_delta < usage_at, "events keep their order");
}

#[tokio::test]
async fn interrupt_works_once_a_stalled_front_end_reads_again() {
    let mut e = start(ApprovalMode::Default, None);

    // Interrupt sent while the queue is full (Ops are not held back), then reading resumes.
    e.mock.enqueue(numbered(vec![SseItem::stall()]));
    e.send(Op::UserTurn {
        text: "first".into(),
    });
    e.until(|ev| matches!(ev, Event::TextDelta { .. })).await;
    wait_until_full(&e).await;
    e.send(Op::Interrupt);
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Interrupted,
            ..
        })
    ));

    // Reading resumes first, then the user interrupts.
    e.mock.enqueue(numbered(vec![SseItem::stall()]));
    e.send(Op::UserTurn {
        text: "second".into(),
    });
    e.until(|ev| matches!(ev, Event::TextDelta { .. })).await;
    wait_until_full(&e).await;
    let read = std::cell::Cell::new(0);
    e.until(|_| {
        read.set(read.get() + 1);
        read.get() > EVENT_QUEUE_CAPACITY + 10
    })
    .await;
    e.send(Op::Interrupt);
    let evs = e.until(|ev| matches!(ev, Event::TurnComplete { .. })).await;
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Interrupted,
            ..
        })
    ));

    // The session goes on: the next turn completes.
    e.mock.enqueue(Reply::text("fine", 4));
    let evs = e.turn("next").await;
    assert_eq!(text_of(&evs), "fine");
    assert!(matches!(
        evs.last(),
        Some(Event::TurnComplete {
            outcome: TurnOutcome::Completed,
            ..
        })
    ));
}
