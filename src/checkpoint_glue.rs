//! File checkpoints wired into the tools: a [`qcode_tools::ChangeTracker`] over
//! [`qcode_session::Checkpoints`]. What is kept and how is the session store's; this module
//! only counts turns, follows the session id across `/clear` and keeps the pending shell
//! snapshots.
//!
//! Cost: the first turn that is tracked starts a full snapshot of the workspace on a thread of
//! its own ([`qcode_session::WarmUp`]: every file's content kept once, while the model is still
//! answering, without holding the checkpoints — edits and turn ends go on; a shell command waits
//! for it), so later snapshots — before and after each shell command — look only at what the
//! watches report changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use qcode_session::{Checkpoints, SessionIds, TreeSnapshot};
use qcode_tools::{ChangeTracker, CommandToken};

/// Tracks one process's sessions (the first, and one per `/clear`).
#[derive(Clone)]
pub struct CheckpointTracker {
    inner: Arc<Inner>,
}

struct Inner {
    file_history: PathBuf,
    /// The first session's workspace: where its transcript says it was recorded (a rewind
    /// restores relative to it).
    workspace: PathBuf,
    /// The workspace of the sessions a `/clear` starts (the working directory of this run).
    cleared_workspace: PathBuf,
    ids: SessionIds,
    state: Mutex<State>,
    /// The thread taking the first snapshot, while it runs.
    warming: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct State {
    /// `/clear`s so far (the index of the current session in [`SessionIds`]).
    clears: usize,
    /// The current session's checkpoints, opened on first use.
    checkpoints: Option<Checkpoints>,
    /// The current turn: the 1-based number of its user message in the transcript.
    turn: u32,
    /// Whether the full first snapshot was started for the current session.
    primed: bool,
    next_token: u64,
    pending: HashMap<u64, TreeSnapshot>,
    /// A failure outside a tool call (a turn's end), told with the next tool's result.
    deferred: Option<String>,
}

impl CheckpointTracker {
    /// A tracker for the sessions `ids` names, whose checkpoints live under `file_history`
    /// (`$QCODE_HOME/file-history`). The first session's files are relative to `workspace`
    /// (the working directory its header records: a resumed session keeps its own), those of
    /// sessions a `/clear` starts to `cleared_workspace` (this run's working directory).
    /// `turns_so_far` is the number of user messages the first session already has (a resumed
    /// session continues counting).
    pub fn new(
        file_history: PathBuf,
        workspace: PathBuf,
        cleared_workspace: PathBuf,
        ids: SessionIds,
        turns_so_far: u32,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                file_history,
                workspace,
                cleared_workspace,
                ids,
                state: Mutex::new(State {
                    clears: 0,
                    checkpoints: None,
                    turn: turns_so_far,
                    primed: false,
                    next_token: 1,
                    pending: HashMap::new(),
                    deferred: None,
                }),
                warming: Mutex::new(None),
            }),
        }
    }

    fn warming(&self) -> MutexGuard<'_, Option<std::thread::JoinHandle<()>>> {
        self.inner
            .warming
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for the first snapshot if it is still being taken (never while holding the state:
    /// it takes the state to install its result).
    fn wait_warm_up(&self) {
        let handle = self.warming().take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    /// The current session's checkpoints, opening them if needed.
    fn open<'a>(&self, state: &'a mut State) -> Result<&'a mut Checkpoints, String> {
        if state.checkpoints.is_none() {
            let id = self.ids.after_clears(state.clears);
            let workspace = if state.clears == 0 {
                &self.workspace
            } else {
                &self.cleared_workspace
            };
            let c =
                Checkpoints::open(&self.file_history, &id, workspace).map_err(|e| e.to_string())?;
            state.checkpoints = Some(c);
        }
        state
            .checkpoints
            .as_mut()
            .ok_or_else(|| "the checkpoints could not be opened".to_string())
    }
}

/// The turn tools report in: a tool called before any turn started counts as turn 1.
fn turn_of(state: &State) -> u32 {
    state.turn.max(1)
}

impl ChangeTracker for CheckpointTracker {
    fn turn_started(&self) {
        let mut state = self.lock();
        state.turn = state.turn.saturating_add(1);
        if state.primed {
            return;
        }
        state.primed = true;
        let job = match self.inner.open(&mut state) {
            Ok(c) => c.warm_up(),
            Err(e) => {
                state.deferred = Some(e);
                None
            }
        };
        let Some(job) = job else { return };
        let clears = state.clears;
        drop(state);
        // The full first snapshot (every file read and kept) runs while the model answers,
        // without holding the checkpoints: edits and the turn's end go on meanwhile; a shell
        // command waits for it.
        let tracker = self.clone();
        let started = std::thread::Builder::new()
            .name("qcode-checkpoints".into())
            .spawn(move || {
                let result = job.run();
                let mut state = tracker.lock();
                if state.clears != clears {
                    return; // a /clear came: another session now
                }
                match result {
                    Ok(tree) => {
                        if let Some(c) = state.checkpoints.as_mut() {
                            c.install(tree);
                        }
                    }
                    Err(e) => state.deferred = Some(e.to_string()),
                }
            });
        match started {
            Ok(handle) => *self.warming() = Some(handle),
            Err(e) => self.lock().deferred = Some(format!("cannot start the first snapshot: {e}")),
        }
    }

    fn turn_ended(&self) {
        let mut state = self.lock();
        let turn = turn_of(&state);
        let result = self
            .inner
            .open(&mut state)
            .and_then(|c| c.finish_turn(turn).map_err(|e| e.to_string()));
        if let Err(e) = result {
            state.deferred = Some(e);
        }
    }

    fn conversation_cleared(&self) {
        let mut state = self.lock();
        state.clears += 1;
        state.checkpoints = None;
        state.turn = 0;
        state.primed = false;
        state.pending.clear();
    }

    fn before_write(&self, path: &Path) -> Result<(), String> {
        let mut state = self.lock();
        let turn = turn_of(&state);
        let deferred = state.deferred.take();
        let result = self
            .inner
            .open(&mut state)
            .and_then(|c| c.before_write(turn, path).map_err(|e| e.to_string()));
        match (result, deferred) {
            (Err(e), _) | (Ok(()), Some(e)) => Err(e),
            (Ok(()), None) => Ok(()),
        }
    }

    fn before_command(&self) -> Result<CommandToken, String> {
        self.wait_warm_up();
        let mut state = self.lock();
        let turn = turn_of(&state);
        let snapshot = self
            .inner
            .open(&mut state)
            .and_then(|c| c.snapshot_tree(turn).map_err(|e| e.to_string()))?;
        let token = state.next_token;
        state.next_token += 1;
        state.pending.insert(token, snapshot);
        Ok(CommandToken(token))
    }

    fn after_command(&self, token: CommandToken) -> Result<Vec<String>, String> {
        let mut state = self.lock();
        let turn = turn_of(&state);
        let deferred = state.deferred.take();
        let Some(before) = state.pending.remove(&token.0) else {
            // A `/clear` came between: the command belongs to no session's turn any more.
            return Ok(Vec::new());
        };
        let notices = self
            .inner
            .open(&mut state)
            .and_then(|c| c.after_command(turn, &before).map_err(|e| e.to_string()))?;
        if let Some(e) = deferred {
            return Err(e);
        }
        Ok(notices.iter().map(ToString::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir(&ws).unwrap();
        let history = dir.path().join("file-history");
        (dir, ws, history)
    }

    fn wait_primed(t: &CheckpointTracker) {
        t.wait_warm_up();
        assert!(t.lock().checkpoints.is_some());
    }

    #[test]
    fn a_resumed_session_counts_on_and_a_clear_switches_the_session() {
        let (_d, ws, history) = setup();
        std::fs::write(ws.join("a.txt"), "one").unwrap();
        let ids = SessionIds::new("first".into());
        let t = CheckpointTracker::new(history.clone(), ws.clone(), ws.clone(), ids.clone(), 2);
        t.turn_started();
        wait_primed(&t);
        t.before_write(&ws.join("a.txt")).unwrap();
        std::fs::write(ws.join("a.txt"), "two").unwrap();
        t.turn_ended();
        assert!(history.join("first/turns/3.json").is_file());

        t.conversation_cleared();
        let second = ids.after_clears(1);
        t.turn_started();
        wait_primed(&t);
        let token = t.before_command().unwrap();
        std::fs::write(ws.join("b.txt"), "new").unwrap();
        assert_eq!(t.after_command(token).unwrap(), Vec::<String>::new());
        t.turn_ended();
        let manifest = std::fs::read_to_string(history.join(&second).join("turns/1.json")).unwrap();
        assert!(manifest.contains("b.txt"), "{manifest}");
        assert!(!history.join("first/turns/1.json").exists());
    }

    #[test]
    fn a_binary_file_a_command_changes_is_a_notice_and_failures_are_errors() {
        let (_d, ws, history) = setup();
        std::fs::write(ws.join("x.bin"), b"a\0b").unwrap();
        let t = CheckpointTracker::new(
            history,
            ws.clone(),
            ws.clone(),
            SessionIds::new("s".into()),
            0,
        );
        t.turn_started();
        wait_primed(&t);
        let token = t.before_command().unwrap();
        std::fs::write(ws.join("x.bin"), b"a\0bc").unwrap();
        let notices = t.after_command(token).unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("x.bin") && notices[0].contains("binary"));
        // Outside the workspace: the write itself goes on; the tracker says why it is not kept.
        let err = t.before_write(Path::new("/etc/passwd")).unwrap_err();
        assert!(err.contains("outside the workspace"), "{err}");
        // A token that is not pending (a clear came between) is no error.
        assert_eq!(
            t.after_command(CommandToken(999)).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_workspace_is_an_error_not_a_panic() {
        let (_d, ws, history) = setup();
        let t = CheckpointTracker::new(
            history.clone(),
            ws.join("gone"),
            ws.join("gone"),
            SessionIds::new("s".into()),
            0,
        );
        assert!(t.before_command().is_err());
        assert!(t.before_write(&ws.join("gone/a")).is_err());
        assert!(!history.exists());
    }
}
