//! Appending records: one complete line per `write_all`, then a flush; user messages and the
//! header are also synced to disk. The file is created 0600 (`create_new`, so an existing
//! session is never clobbered) in 0700 directories, and locked (`flock` on the transcript
//! itself) while a writer holds it, so two processes never interleave one session.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, Usage};

use crate::SessionError;
use crate::reader::{LoadedSession, load};
use crate::record::{Header, Record, RecordBody};
use crate::time::now_rfc3339;

/// A fresh session id (a random UUID).
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `<project_dir>/chats`.
pub fn chats_dir(project_dir: &Path) -> PathBuf {
    project_dir.join("chats")
}

/// `<project_dir>/chats/<id>.jsonl`.
pub fn transcript_path(project_dir: &Path, id: &str) -> PathBuf {
    chats_dir(project_dir).join(format!("{id}.jsonl"))
}

/// When the writer asks the disk to persist a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `sync_data` after the header and every user message (what the user typed survives a
    /// power loss); other lines are flushed to the OS only (they survive a crash of qcode).
    Durable,
    /// Flush only (tests, benchmarks, throwaway sessions).
    FlushOnly,
}

/// Appends records to one transcript.
#[derive(Debug)]
pub struct SessionWriter {
    file: File,
    path: PathBuf,
    next_seq: u64,
    sync: SyncPolicy,
    /// The file's length after the last complete line.
    len: u64,
}

fn lock(file: &File, path: &Path) -> Result<(), SessionError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(SessionError::InUse {
            path: path.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(SessionError::io("lock", path, e)),
    }
}

impl SessionWriter {
    /// Starts a new transcript `<project_dir>/chats/<header.id>.jsonl` and writes its header.
    pub fn create(
        project_dir: &Path,
        header: Header,
        sync: SyncPolicy,
    ) -> Result<Self, SessionError> {
        let path = transcript_path(project_dir, &header.id);
        Self::create_at(path, header, sync)
    }

    pub(crate) fn create_at(
        path: PathBuf,
        header: Header,
        sync: SyncPolicy,
    ) -> Result<Self, SessionError> {
        let file = open_new(&path)?;
        lock(&file, &path)?;
        let mut writer = Self {
            file,
            path,
            next_seq: 0,
            sync,
            len: 0,
        };
        writer.append(RecordBody::Header(header))?;
        Ok(writer)
    }

    /// Continues the transcript `session` was loaded from (`--continue`, `--resume`): new
    /// records follow its last one. A torn last line (a crash mid-write) is cut off first, so
    /// the next record starts on a line of its own.
    pub fn resume(session: &LoadedSession, sync: SyncPolicy) -> Result<Self, SessionError> {
        let path = session.path.clone();
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| SessionError::io("open", &path, e))?;
        lock(&file, &path)?;
        let len = file
            .metadata()
            .map_err(|e| SessionError::io("read the size of", &path, e))?
            .len();
        if len != session.file_len {
            // Written since it was loaded: the caller's history would be stale.
            return Err(SessionError::InUse { path });
        }
        if session.complete_len < len {
            file.set_len(session.complete_len)
                .map_err(|e| SessionError::io("cut the torn last line of", &path, e))?;
        }
        Ok(Self {
            file,
            path,
            next_seq: session.last_seq.map_or(0, |s| s + 1),
            sync,
            len: session.complete_len,
        })
    }

    /// The transcript file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends one record (one line, one `write_all`) and returns its sequence number.
    pub fn append(&mut self, body: RecordBody) -> Result<u64, SessionError> {
        self.append_record(&Record {
            seq: self.next_seq,
            ts: now_rfc3339(),
            body,
        })
    }

    pub(crate) fn append_record(&mut self, record: &Record) -> Result<u64, SessionError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let io = |e| SessionError::io("append to", &self.path, e);
        if let Err(e) = self.file.write_all(&line).and_then(|()| self.file.flush()) {
            // A partial line (a full disk) would swallow the next record too: cut it off.
            let _ = self.file.set_len(self.len);
            return Err(io(e));
        }
        self.len += line.len() as u64;
        let durable = matches!(record.body, RecordBody::Header(_) | RecordBody::User { .. });
        if durable && self.sync == SyncPolicy::Durable {
            self.file.sync_data().map_err(io)?;
        }
        self.next_seq = record.seq + 1;
        Ok(record.seq)
    }

    /// A user message (call before the request carrying it is sent).
    pub fn user(&mut self, content: &str) -> Result<u64, SessionError> {
        self.append(RecordBody::User {
            content: content.to_string(),
        })
    }

    /// One complete conversation message: user, assistant or tool result. A system message is
    /// not recorded (the engine rebuilds the system prompt) and returns `None`.
    pub fn message(&mut self, m: &ChatMessage) -> Result<Option<u64>, SessionError> {
        use qcode_protocol::Role;
        let body = match m.role {
            Role::System => return Ok(None),
            Role::User => RecordBody::User {
                content: m.content.clone(),
            },
            Role::Assistant => RecordBody::Assistant {
                content: m.content.clone(),
                reasoning: m.reasoning.clone(),
                tool_calls: m.tool_calls.clone(),
            },
            Role::Tool => RecordBody::ToolResult {
                tool_call_id: m.tool_call_id.clone().unwrap_or_default(),
                content: m.content.clone(),
            },
        };
        self.append(body).map(Some)
    }

    pub fn tool_result(&mut self, call_id: &str, content: &str) -> Result<u64, SessionError> {
        self.append(RecordBody::ToolResult {
            tool_call_id: call_id.to_string(),
            content: content.to_string(),
        })
    }

    pub fn usage(&mut self, usage: Usage) -> Result<u64, SessionError> {
        self.append(RecordBody::Usage { usage })
    }

    /// The oldest `replaced` conversation messages were replaced by `messages`.
    pub fn compression(
        &mut self,
        summary: &str,
        replaced: u64,
        messages: Vec<ChatMessage>,
    ) -> Result<u64, SessionError> {
        self.append(RecordBody::Compression {
            summary: summary.to_string(),
            replaced,
            messages,
        })
    }

    pub fn model(&mut self, model: &str) -> Result<u64, SessionError> {
        self.append(RecordBody::Model {
            model: model.to_string(),
        })
    }

    pub fn auth(&mut self, auth: AuthKind) -> Result<u64, SessionError> {
        self.append(RecordBody::Auth { auth })
    }

    pub fn mode(&mut self, mode: ApprovalMode) -> Result<u64, SessionError> {
        self.append(RecordBody::Mode { mode })
    }

    /// A subagent's record ([`RecordBody::SubagentStart`], `SubagentMessage`, `SubagentEnd`).
    pub fn subagent(&mut self, body: RecordBody) -> Result<u64, SessionError> {
        self.append(body)
    }

    pub fn title(&mut self, title: &str) -> Result<u64, SessionError> {
        self.append(RecordBody::Title {
            title: title.to_string(),
        })
    }

    /// A hook run (see [`crate::HookRecord`]): the command and the message are redacted and
    /// capped before they are written.
    pub fn hook(&mut self, hook: &crate::HookRecord<'_>) -> Result<u64, SessionError> {
        self.append(RecordBody::Hook {
            event: crate::redact::capped(hook.event, crate::redact::NAME_CHARS),
            command: crate::redact::redacted(hook.command, crate::redact::COMMAND_CHARS),
            scope: crate::redact::capped(hook.scope, crate::redact::NAME_CHARS),
            status: crate::redact::capped(hook.status, crate::redact::NAME_CHARS),
            message: hook
                .message
                .map(|m| crate::redact::redacted(m, crate::redact::MESSAGE_CHARS))
                .filter(|m| !m.is_empty()),
        })
    }
}

/// Creates `path` (0600, never an existing file) and its directories (0700).
pub(crate) fn open_new(path: &Path) -> Result<File, SessionError> {
    if let Some(dir) = path.parent() {
        qcode_fs::create_private_dirs(dir)
            .map_err(|e| SessionError::io("create the directory", dir, e))?;
    }
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| SessionError::io("create", path, e))
}

/// `--fork-session`: copies the transcript at `from` to `<same dir>/<new_id>.jsonl` with the
/// header naming the new id, the old one (`forked_from`) and a new creation time; every other
/// valid record is copied with its sequence number and time. Returns the new path. The
/// original is untouched; the fork's file history starts empty.
pub fn fork(from: &Path, new_id: &str) -> Result<PathBuf, SessionError> {
    let session = load(from)?;
    let dir = from.parent().unwrap_or_else(|| Path::new("."));
    let path = dir.join(format!("{new_id}.jsonl"));
    let mut header = session.header.clone();
    header.forked_from = Some(header.id.clone());
    header.id = new_id.to_string();
    header.created_at = now_rfc3339();
    let mut writer = SessionWriter::create_at(path.clone(), header, SyncPolicy::FlushOnly)?;
    for record in &session.records {
        writer.append_record(record)?;
    }
    writer
        .file
        .sync_data()
        .map_err(|e| SessionError::io("sync", &path, e))?;
    Ok(path)
}
