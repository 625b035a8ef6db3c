//! The engine's queue pair as a front end holds it: [`Op`]s in, [`Event`]s out.
//!
//! Ops come from people (a prompt, a key press, a dialog answer) and are few; their queue is
//! unbounded so that a front end can submit from synchronous code. Events can be produced much
//! faster than a terminal can show them (a fast model streams thousands of deltas a second), so
//! their queue is bounded: when a front end stops reading — a terminal that blocks output, a
//! pipe nobody drains — the engine waits instead of buffering without limit.

use tokio::sync::mpsc;

use crate::{Event, Op};

/// How many events may wait for a front end before the engine waits for it.
pub const EVENT_QUEUE_CAPACITY: usize = 1024;

/// The front end's ends of the queue pair.
#[derive(Debug)]
pub struct EngineHandle {
    pub ops: mpsc::UnboundedSender<Op>,
    pub events: mpsc::Receiver<Event>,
}

/// The engine's ends of the queue pair.
#[derive(Debug)]
pub struct EngineEnds {
    pub ops: mpsc::UnboundedReceiver<Op>,
    pub events: mpsc::Sender<Event>,
}

/// A new queue pair: the front end's handle and the engine's ends.
pub fn queue_pair() -> (EngineHandle, EngineEnds) {
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE_CAPACITY);
    (
        EngineHandle {
            ops: op_tx,
            events: ev_rx,
        },
        EngineEnds {
            ops: op_rx,
            events: ev_tx,
        },
    )
}
