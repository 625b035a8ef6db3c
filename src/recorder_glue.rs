//! The session recorder, wired like the telemetry tee: it observes the engine's event stream
//! and hands every event to `qcode_session::Recorder` on a thread of its own (file writes never
//! run on the async thread). What is recorded, and how, is the recorder's decision.

use qcode_protocol::Event;
use qcode_session::Recorder;
use tokio::sync::mpsc::{Receiver, channel, unbounded_channel};
use tokio::task::JoinHandle;

/// The running recorder: the tee task and the writer thread.
pub struct Recording {
    task: JoinHandle<()>,
    thread: std::thread::JoinHandle<()>,
}

/// Passes `events` through, recording each on the writer thread. A write failure stops the
/// recording and becomes one `Event::Warning` in the stream (the session goes on). When the
/// front end stops reading (it quit mid-turn), the rest of the engine's events are still
/// recorded (the partial answer, the cancelled results) until the engine closes the stream.
pub fn tee(events: Receiver<Event>, mut recorder: Recorder) -> (Receiver<Event>, Recording) {
    let (to_writer, from_tee) = std::sync::mpsc::channel::<Event>();
    let (warn_tx, mut warn_rx) = unbounded_channel::<String>();
    let thread = std::thread::spawn(move || {
        while let Ok(ev) = from_tee.recv() {
            if let Err(e) = recorder.observe(&ev) {
                let _ = warn_tx.send(format!(
                    "the session transcript {} is no longer recorded: {e}",
                    recorder.path().display()
                ));
                break;
            }
        }
    });
    let (tx, rx) = channel(qcode_protocol::EVENT_QUEUE_CAPACITY);
    let task = tokio::spawn(async move {
        let mut events = events;
        let mut recording = true;
        let mut front_end = Some(tx);
        loop {
            tokio::select! {
                biased;
                Some(message) = warn_rx.recv() => {
                    recording = false;
                    if let Some(tx) = &front_end
                        && tx.send(Event::Warning { message }).await.is_err()
                    {
                        front_end = None;
                    }
                }
                ev = events.recv() => {
                    let Some(ev) = ev else { break };
                    if recording && Recorder::wants(&ev) && to_writer.send(ev.clone()).is_err() {
                        recording = false;
                    }
                    if let Some(tx) = &front_end
                        && tx.send(ev).await.is_err()
                    {
                        front_end = None;
                    }
                    if front_end.is_none() && !recording {
                        break;
                    }
                }
            }
        }
    });
    (rx, Recording { task, thread })
}

impl Recording {
    /// Waits (bounded) until every event seen is written.
    pub async fn finish(self) {
        let Recording { task, thread } = self;
        let wait = async move {
            let _ = task.await;
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wait).await;
    }
}
