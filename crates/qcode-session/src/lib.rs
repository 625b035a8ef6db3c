//! Session store: the local, append-only record of a conversation and the file checkpoints
//! that let a user rewind both the conversation and the workspace.
//!
//! What it does (see `docs/sessions.md` for the format):
//! - [`SessionWriter`] appends one JSON line per event that matters for resuming to
//!   `<project_dir>/chats/<session-id>.jsonl` (0600 in 0700 directories), never rewriting it.
//! - [`Recorder`] decides what of the engine's event stream goes into a transcript (the
//!   binary feeds it every event on a thread of its own), hook runs included (display-only
//!   `hook` records, their command and reason redacted and capped).
//! - [`load`] reads a transcript back (a torn last line or an invalid line becomes a warning)
//!   and [`LoadedSession::history`] rebuilds the exact conversation to resend. A subagent's
//!   conversation is kept in the same transcript (`subagent_start` / `subagent_message` /
//!   `subagent_end` records, linked to the `task` call) and is never part of that history.
//! - [`list`], [`list_all`], [`find`], [`most_recent`], [`delete`] and [`cleanup`] browse and
//!   prune sessions; [`export`] renders markdown, JSON or the raw lines; [`truncate_before_turn`]
//!   cuts a conversation back for a rewind.
//! - [`Checkpoints`] keeps content-addressed copies of files before a turn changes them
//!   (`$QCODE_HOME/file-history/<session-id>/`) and restores them ([`RewindPlan`]).
//!
//! What it must not do: no network, no engine, no async runtime (plain blocking std I/O; the
//! caller runs it off the async thread), no terminal. It never stores credentials — the record
//! types have no field meant for an API key, a token or a header, and the one free-text field
//! from outside the conversation (a hook record's command and message) is redacted first — and
//! it never writes into a workspace's `.git` directory.

mod checkpoints;
mod error;
mod export;
mod index;
mod reader;
mod record;
mod recorder;
mod redact;
mod resume;
mod rewind;
mod time;
mod writer;

pub use checkpoints::{
    Checkpoints, FileState, Force, MAX_SNAPSHOT_FILE_SIZE, Notice, NoticeReason, RewindAction,
    RewindEntry, RewindPlan, TreeSnapshot, WarmTree, WarmUp,
};
pub use error::SessionError;
pub use export::{ExportFormat, export, show};
pub use index::{SessionSummary, cleanup, delete, find, list, list_all, most_recent};
pub use reader::{INTERRUPTED_TOOL_RESULT, LoadWarning, LoadedSession, SessionState, load};
pub use record::{FORMAT_VERSION, Header, Record, RecordBody};
pub use recorder::{HookRecord, Recorder, SessionIds, SessionStart};
pub use resume::{Fork, Resume, ResumeFrom, git_branch, open_to_resume};
pub use rewind::{
    RewindPoint, RewindReport, RewindScope, rewind_points, rewind_session, truncate_before_turn,
};
pub use time::{format_rfc3339, now_rfc3339};
pub use writer::{SessionWriter, SyncPolicy, chats_dir, fork, new_session_id, transcript_path};
