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
