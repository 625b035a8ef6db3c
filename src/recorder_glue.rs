//! The session recorder, wired like the telemetry tee: it observes the engine's event stream
//! and hands every event to `qcode_session::Recorder` on a thread of its own (file writes never
//! run on the async thread). What is recorded, and how, is the recorder's decision. The TUI's
//! `/rename` reaches the same thread through a [`RecorderHandle`], and learns which session is
//! being recorded (it changes at `/clear`) from it; the engine knows nothing of either.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use qcode_protocol::Event;
use qcode_session::Recorder;
use tokio::sync::mpsc::{Receiver, channel, unbounded_channel};
use tokio::task::JoinHandle;

/// The running recorder: the tee task and the writer thread.
pub struct Recording {
    task: JoinHandle<()>,
    thread: std::thread::JoinHandle<()>,
    handle: RecorderHandle,
}

/// What the writer thread is asked to do.
enum Job {
    Event(Event),
    Title(String, tokio::sync::oneshot::Sender<Result<(), String>>),
}

/// The session being recorded now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub id: String,
    pub path: PathBuf,
}

/// A way into the writer thread for the TUI's services: the current session, and `/rename`.
/// Holding one keeps the writer thread alive: drop it before [`Recording::finish`].
#[derive(Clone)]
pub struct RecorderHandle {
    jobs: std::sync::mpsc::Sender<Job>,
    current: Arc<Mutex<Current>>,
}

impl RecorderHandle {
    /// The session being recorded (a `/clear` starts a new one).
    pub fn current(&self) -> Current {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends a `title` record to the current transcript, after every event already seen.
    pub async fn title(&self, title: String) -> Result<(), String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job::Title(title, tx))
            .map_err(|_| "the session is no longer recorded".to_string())?;
        rx.await
            .map_err(|_| "the session is no longer recorded".to_string())?
    }
}

/// Passes `events` through, recording each on the writer thread. A write failure stops the
/// recording and becomes one `Event::Warning` in the stream (the session goes on). When the
/// front end stops reading (it quit mid-turn), the rest of the engine's events are still
/// recorded (the partial answer, the cancelled results) until the engine closes the stream.
pub fn tee(events: Receiver<Event>, mut recorder: Recorder) -> (Receiver<Event>, Recording) {
    let (to_writer, from_tee) = std::sync::mpsc::channel::<Job>();
    let (warn_tx, mut warn_rx) = unbounded_channel::<String>();
    let current = Arc::new(Mutex::new(Current {
        id: recorder.session_id().to_string(),
        path: recorder.path().to_path_buf(),
    }));
    let shared = current.clone();
    let thread = std::thread::spawn(move || {
        let mut failed = false;
        while let Ok(job) = from_tee.recv() {
            match job {
                Job::Event(ev) if !failed => {
                    if let Err(e) = recorder.observe(&ev) {
                        let _ = warn_tx.send(format!(
                            "the session transcript {} is no longer recorded: {e}",
                            recorder.path().display()
                        ));
                        failed = true;
                    } else if matches!(ev, Event::HistoryCleared) {
                        *shared.lock().unwrap_or_else(PoisonError::into_inner) = Current {
                            id: recorder.session_id().to_string(),
                            path: recorder.path().to_path_buf(),
                        };
                    }
                }
                Job::Event(_) => {}
                Job::Title(_, reply) if failed => {
                    let _ = reply.send(Err("the session is no longer recorded".into()));
                }
                Job::Title(title, reply) => {
                    let _ = reply.send(recorder.title(&title).map_err(|e| e.to_string()));
                }
            }
        }
    });
    let handle = RecorderHandle {
        jobs: to_writer.clone(),
        current,
    };
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
                    if recording
                        && Recorder::wants(&ev)
                        && to_writer.send(Job::Event(ev.clone())).is_err()
                    {
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
    (
        rx,
        Recording {
            task,
            thread,
            handle,
        },
    )
}

impl Recording {
    /// A handle for `/rename` and the current session id (see [`RecorderHandle`]).
    pub fn handle(&self) -> RecorderHandle {
        self.handle.clone()
    }

    /// Waits (bounded) until every event seen is written. Every [`RecorderHandle`] handed out
    /// must be dropped first (the writer thread ends when the last one is).
    pub async fn finish(self) {
        let Recording {
            task,
            thread,
            handle,
        } = self;
        drop(handle);
        let wait = async move {
            let _ = task.await;
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wait).await;
    }
}
