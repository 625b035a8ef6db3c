//! Conversation rewind: cut a transcript back to before a turn.

use std::path::Path;

use crate::SessionError;
use crate::reader::load;
use crate::record::{Record, RecordBody};

/// Replaces the transcript at `path` with its records before the `turn`-th user message
/// (1-based), header included, so that resuming continues from there. This is the one place
/// a transcript is rewritten — an explicit user action — and it is an atomic replacement
/// (0600): a reader sees the old file or the new one. Refuses while another process writes
/// the session. Returns the number of records removed.
pub fn truncate_before_turn(path: &Path, turn: u32) -> Result<usize, SessionError> {
    let session = load(path)?;
    let turns = u32::try_from(session.turns()).unwrap_or(u32::MAX);
    if turn == 0 || turn > turns {
        return Err(SessionError::NoSuchTurn { turn, turns });
    }
    let file = std::fs::File::open(path).map_err(|e| SessionError::io("open", path, e))?;
    if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
        return Err(SessionError::InUse {
            path: path.to_path_buf(),
        });
    }
    let mut seen = 0u32;
    let cut = session
        .records
        .iter()
        .position(|r| {
            if matches!(r.body, RecordBody::User { .. }) {
                seen += 1;
            }
            seen == turn
        })
        .unwrap_or(session.records.len());
    let header = Record {
        seq: 0,
        ts: session.header_ts.clone(),
        body: RecordBody::Header(session.header.clone()),
    };
    let mut bytes = Vec::new();
    for record in std::iter::once(&header).chain(&session.records[..cut]) {
        serde_json::to_writer(&mut bytes, record)?;
        bytes.push(b'\n');
    }
    qcode_fs::write_atomic(path, &bytes, qcode_fs::Mode::Exactly(0o600))?;
    drop(file);
    Ok(session.records.len() - cut)
}

/// What a rewind restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RewindScope {
    /// The files and the conversation.
    #[default]
    Both,
    /// `--code-only`: the files; the conversation stays as it is.
    CodeOnly,
    /// `--conversation-only`: the conversation; the files stay as they are.
    ConversationOnly,
}

/// One user message a session can be rewound to (for the `/rewind` picker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindPoint {
    /// 1-based: the turn's user message number in the transcript.
    pub turn: u32,
    /// The user's message.
    pub prompt: String,
    /// The files that turn changed (relative to the workspace root).
    pub files: Vec<std::path::PathBuf>,
}

/// What a rewind did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RewindReport {
    /// Files written back (changed or recreated), relative to the workspace root.
    pub restored: Vec<std::path::PathBuf>,
    /// Files deleted (the rewound turns created them), relative to the workspace root.
    pub deleted: Vec<std::path::PathBuf>,
    /// Files changed in the rewound turns whose earlier content was not kept (left as they are).
    pub not_restorable: Vec<crate::Notice>,
    /// Transcript records removed.
    pub records_removed: usize,
}

/// The session's workspace root: the working directory it was recorded in.
fn workspace_of(session: &crate::LoadedSession) -> std::path::PathBuf {
    std::path::PathBuf::from(&session.header.cwd)
}

/// Every user message of the transcript at `path`, with the files its turn changed (from the
/// checkpoints under `file_history_dir`).
pub fn rewind_points(
    path: &Path,
    file_history_dir: &Path,
) -> Result<Vec<RewindPoint>, SessionError> {
    let session = load(path)?;
    let changed =
        match crate::Checkpoints::open(file_history_dir, session.id(), &workspace_of(&session)) {
            Ok(c) => c.changed_files(),
            // The workspace is gone: no file can be restored, the conversation still can.
            Err(SessionError::Io { .. }) => Default::default(),
            Err(e) => return Err(e),
        };
    Ok(session
        .user_prompts()
        .into_iter()
        .enumerate()
        .map(|(i, prompt)| {
            let turn = u32::try_from(i + 1).unwrap_or(u32::MAX);
            RewindPoint {
                turn,
                prompt: prompt.to_string(),
                files: changed.get(&turn).cloned().unwrap_or_default(),
            }
        })
        .collect())
}

/// Rewinds the session recorded at `path` to before its `turn`-th user message (1-based):
/// restores every file changed in turns ≥ `turn` to its state before `turn` (unless
/// [`RewindScope::ConversationOnly`]) and cuts the transcript back (unless
/// [`RewindScope::CodeOnly`]), so that resuming continues from there. Files changed outside
/// qcode since its last change refuse the whole rewind ([`SessionError::Conflicts`], nothing
/// touched) unless `force` is [`crate::Force::Yes`]. The code is restored first: when that
/// fails, the conversation is left as it was. Refuses while another process writes the session.
pub fn rewind_session(
    path: &Path,
    file_history_dir: &Path,
    turn: u32,
    scope: RewindScope,
    force: crate::Force,
) -> Result<RewindReport, SessionError> {
    let session = load(path)?;
    let turns = u32::try_from(session.turns()).unwrap_or(u32::MAX);
    if turn == 0 || turn > turns {
        return Err(SessionError::NoSuchTurn { turn, turns });
    }
    // Refuse early (before touching any file) when the session is being written.
    {
        let file = std::fs::File::open(path).map_err(|e| SessionError::io("open", path, e))?;
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            return Err(SessionError::InUse {
                path: path.to_path_buf(),
            });
        }
    }
    let mut report = RewindReport::default();
    let mut checkpoints =
        crate::Checkpoints::open(file_history_dir, session.id(), &workspace_of(&session))?;
    match scope {
        RewindScope::ConversationOnly => checkpoints.forget_from(turn)?,
        RewindScope::Both | RewindScope::CodeOnly => {
            let plan = checkpoints.rewind_plan(turn)?;
            report.not_restorable = plan.not_restorable.clone();
            let done = checkpoints.apply(&plan, force)?;
            for entry in plan.entries.into_iter().filter(|e| done.contains(&e.path)) {
                match entry.action {
                    crate::RewindAction::Restore { .. } => report.restored.push(entry.path),
                    crate::RewindAction::Delete => report.deleted.push(entry.path),
                }
            }
        }
    }
    if scope != RewindScope::CodeOnly {
        report.records_removed = truncate_before_turn(path, turn)?;
    }
    Ok(report)
}
