//! Code rewind: what restoring the workspace to before turn N means, and doing it.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::blob::current_state;
use super::{Checkpoints, FileState, Notice};
use crate::SessionError;

/// Whether to overwrite files changed outside qcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    No,
    Yes,
}

/// What a rewind does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewindAction {
    /// Write this content back (recreating the file if it was deleted) with these bits.
    Restore { hash: String, mode: u32 },
    /// Delete the file (the rewound turns created it).
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindEntry {
    /// Relative to the workspace root.
    pub path: PathBuf,
    pub action: RewindAction,
}

/// Every file changed in turns ≥ `from_turn`, mapped to its state before that turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindPlan {
    pub from_turn: u32,
    /// Files to restore or delete (files already in their earlier state are left out).
    pub entries: Vec<RewindEntry>,
    /// Files changed outside qcode since qcode's last change to them: a rewind would lose
    /// those changes, so [`Checkpoints::apply`] refuses unless forced.
    pub conflicts: Vec<PathBuf>,
    /// Files changed in those turns whose earlier content was not kept; left as they are.
    pub not_restorable: Vec<Notice>,
}

impl RewindPlan {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Checkpoints {
    /// The plan to restore every file changed in turns `from_turn` and later to its state
    /// before `from_turn`. A file counts as changed outside qcode when its content now differs
    /// from the state recorded after qcode's last change to it (files whose after-state was
    /// never recorded — a crash before [`Checkpoints::finish_turn`] — are not checked).
    pub fn rewind_plan(&self, from_turn: u32) -> Result<RewindPlan, SessionError> {
        // path → (state before the earliest turn ≥ N, state after the latest one)
        let mut files: BTreeMap<&str, (&FileState, Option<&FileState>)> = BTreeMap::new();
        for (_, manifest) in self.manifests.range(from_turn..) {
            for (rel, change) in &manifest.files {
                files
                    .entry(rel.as_str())
                    .and_modify(|e| e.1 = change.after.as_ref())
                    .or_insert((&change.before, change.after.as_ref()));
            }
        }
        let mut plan = RewindPlan {
            from_turn,
            entries: Vec::new(),
            conflicts: Vec::new(),
            not_restorable: Vec::new(),
        };
        for (rel, (before, after)) in files {
            let now = current_state(&self.root.join(rel))?;
            if let Some(after) = after
                && comparable(after)
                && !same(after, &now)
            {
                plan.conflicts.push(PathBuf::from(rel));
            }
            let action = match before {
                FileState::Absent => {
                    if now == FileState::Absent {
                        continue;
                    }
                    RewindAction::Delete
                }
                FileState::File { hash, mode, .. } => {
                    if same(before, &now) {
                        continue;
                    }
                    RewindAction::Restore {
                        hash: hash.clone(),
                        mode: *mode,
                    }
                }
                FileState::NotKept { reason } => {
                    plan.not_restorable.push(Notice {
                        path: PathBuf::from(rel),
                        reason: reason.clone(),
                    });
                    continue;
                }
            };
            plan.entries.push(RewindEntry {
                path: PathBuf::from(rel),
                action,
            });
        }
        Ok(plan)
    }

    /// Carries out `plan`: restores changed and deleted files (atomically, with their
    /// recorded permission bits), deletes created ones, and forgets the checkpoints of turns
    /// ≥ `plan.from_turn` (those turns no longer exist). Refuses with
    /// [`SessionError::Conflicts`] when the plan has conflicts, unless `force` is `Yes`.
    /// Returns the restored or deleted paths (relative to the workspace root).
    pub fn apply(&mut self, plan: &RewindPlan, force: Force) -> Result<Vec<PathBuf>, SessionError> {
        if !plan.conflicts.is_empty() && force == Force::No {
            return Err(SessionError::Conflicts {
                paths: plan.conflicts.clone(),
            });
        }
        // Fetch every blob first, so a damaged store fails before anything is touched.
        let mut contents = Vec::with_capacity(plan.entries.len());
        for entry in &plan.entries {
            let rel = self.relative(&entry.path)?;
            let bytes = match &entry.action {
                RewindAction::Restore { hash, .. } => Some(self.blobs.get(hash, &entry.path)?),
                RewindAction::Delete => None,
            };
            contents.push((rel, bytes));
        }
        let mut done = Vec::with_capacity(plan.entries.len());
        for (entry, (rel, bytes)) in plan.entries.iter().zip(contents) {
            let abs = self.root.join(&rel);
            match (&entry.action, bytes) {
                (RewindAction::Restore { mode, .. }, Some(bytes)) => {
                    qcode_fs::write_atomic(&abs, &bytes, qcode_fs::Mode::Exactly(*mode))?;
                }
                (RewindAction::Restore { .. }, None) => {}
                (RewindAction::Delete, _) => match fs::remove_file(&abs) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(SessionError::io("delete", abs, e)),
                },
            }
            done.push(entry.path.clone());
        }
        self.forget_from(plan.from_turn)?;
        Ok(done)
    }

    /// Forgets the checkpoints of turns ≥ `turn` without touching the workspace: for a
    /// conversation-only rewind (those turns no longer exist, and the next turn `turn` must
    /// start from the files as they are now). [`Checkpoints::apply`] does this itself.
    pub fn forget_from(&mut self, turn: u32) -> Result<(), SessionError> {
        let dropped: Vec<u32> = self.manifests.range(turn..).map(|(t, _)| *t).collect();
        for turn in dropped {
            self.manifests.remove(&turn);
            let path = self.dir.join("turns").join(format!("{turn}.json"));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SessionError::io("remove", path, e)),
            }
        }
        // The stat cache stays valid: restored files have a new inode and mtime, so the next
        // snapshot reads them again.
        Ok(())
    }
}

/// Whether qcode knows the content (a file not kept can only be restored, not compared).
fn comparable(state: &FileState) -> bool {
    !matches!(state, FileState::NotKept { .. })
}

/// Same content and permission bits (sizes follow from the hash).
fn same(a: &FileState, b: &FileState) -> bool {
    match (a, b) {
        (FileState::Absent, FileState::Absent) => true,
        (
            FileState::File {
                hash: h1, mode: m1, ..
            },
            FileState::File {
                hash: h2, mode: m2, ..
            },
        ) => h1 == h2 && m1 == m2,
        _ => false,
    }
}
