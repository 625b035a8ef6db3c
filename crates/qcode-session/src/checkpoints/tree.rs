//! Shell commands: a cheap stat walk of the workspace before and after, hashing only files
//! whose (size, mtime, inode) changed.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::blob::{looks_binary, mode_of};
use super::{Change, Checkpoints, FileState, Notice, NoticeReason};
use crate::SessionError;

/// Files larger than this (2 MiB) are not kept for a shell command's rewind; the caller gets a
/// [`Notice`]. Edits and writes through qcode's own tools are kept whatever their size.
pub const MAX_SNAPSHOT_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// A file's cheap identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    size: u64,
    mtime_ns: i128,
    ino: u64,
    mode: u32,
}

impl Stat {
    fn of(meta: &fs::Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Self {
            size: meta.len(),
            mtime_ns,
            ino,
            mode: mode_of(meta),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    stat: Stat,
    /// The stored content's hash; `None` when not kept (too large or binary).
    state: FileState,
}

/// The workspace's regular files before a shell command, as returned by
/// [`Checkpoints::snapshot_tree`]; hand it back to [`Checkpoints::after_command`].
#[derive(Debug, Clone)]
pub struct TreeSnapshot {
    turn: u32,
    files: Arc<HashMap<String, Entry>>,
    /// Files whose content could not be kept (a change to them cannot be rewound).
    pub notices: Vec<Notice>,
}

impl TreeSnapshot {
    /// The number of files seen.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The turn it was taken in.
    pub fn turn(&self) -> u32 {
        self.turn
    }
}

/// Every regular file under `root`, respecting `.gitignore` (also outside a git repository),
/// `.git/info/exclude` and `.ignore`, never descending into `.git`. Symbolic links are not
/// followed or recorded.
fn walk(root: &Path) -> Vec<(String, PathBuf, fs::Metadata)> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str().map(str::to_string) else {
            continue;
        };
        out.push((rel, path, meta));
    }
    out
}

impl Checkpoints {
    /// Reads `abs` and keeps its content (unless too large or binary).
    fn keep(&mut self, abs: &Path, stat: Stat) -> Result<Entry, SessionError> {
        if stat.size > MAX_SNAPSHOT_FILE_SIZE {
            return Ok(Entry {
                stat,
                state: FileState::NotKept {
                    reason: NoticeReason::TooLarge { size: stat.size },
                },
            });
        }
        let bytes = match fs::read(abs) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Entry {
                    stat,
                    state: FileState::Absent,
                });
            }
            Err(e) => return Err(SessionError::io("read", abs, e)),
        };
        if looks_binary(&bytes) {
            return Ok(Entry {
                stat,
                state: FileState::NotKept {
                    reason: NoticeReason::Binary,
                },
            });
        }
        let hash = self.blobs.put(&bytes)?;
        Ok(Entry {
            stat,
            state: FileState::File {
                hash,
                mode: stat.mode,
                size: bytes.len() as u64,
            },
        })
    }

    /// Before a shell command of turn `turn`: the workspace's files with their content kept.
    /// The first snapshot of a process reads and stores every file (up to the size limit);
    /// later ones read only files whose (size, mtime, inode) changed since.
    pub fn snapshot_tree(&mut self, turn: u32) -> Result<TreeSnapshot, SessionError> {
        let mut files = HashMap::new();
        let mut notices = Vec::new();
        let previous = std::mem::take(&mut self.last_tree);
        for (rel, abs, meta) in walk(&self.root) {
            let stat = Stat::of(&meta);
            let entry = match previous.get(&rel) {
                Some(e) if e.stat == stat => e.clone(),
                _ => self.keep(&abs, stat)?,
            };
            if let FileState::NotKept { reason } = &entry.state {
                notices.push(Notice {
                    path: PathBuf::from(&rel),
                    reason: reason.clone(),
                });
            }
            files.insert(rel, entry);
        }
        let files = Arc::new(files);
        self.last_tree = Arc::clone(&files);
        notices.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(TreeSnapshot {
            turn,
            files,
            notices,
        })
    }

    /// After the shell command: compares the workspace with `before` and records in turn
    /// `turn` every file the command changed, created or deleted (its state before the command,
    /// unless the turn already recorded an earlier one). Returns notices for changed files
    /// whose earlier content was not kept (too large or binary): those cannot be rewound.
    pub fn after_command(
        &mut self,
        turn: u32,
        before: &TreeSnapshot,
    ) -> Result<Vec<Notice>, SessionError> {
        let mut changes: Vec<(String, FileState, FileState)> = Vec::new();
        let mut now: HashMap<String, Entry> = HashMap::new();
        for (rel, abs, meta) in walk(&self.root) {
            let stat = Stat::of(&meta);
            let entry = match before.files.get(&rel) {
                Some(e) if e.stat == stat => e.clone(),
                Some(e) => {
                    let new = self.keep(&abs, stat)?;
                    // A file not kept cannot be compared: its (size, mtime, inode) changed, so it
                    // counts as changed.
                    let unknown = matches!(new.state, FileState::NotKept { .. });
                    if unknown || new.state != e.state || stat.mode != e.stat.mode {
                        changes.push((rel.clone(), e.state.clone(), new.state.clone()));
                    }
                    new
                }
                None => {
                    let new = self.keep(&abs, stat)?;
                    changes.push((rel.clone(), FileState::Absent, new.state.clone()));
                    new
                }
            };
            now.insert(rel, entry);
        }
        for (rel, e) in before.files.iter() {
            if !now.contains_key(rel) {
                changes.push((rel.clone(), e.state.clone(), FileState::Absent));
            }
        }
        self.last_tree = Arc::new(now);
        let mut notices = Vec::new();
        if changes.is_empty() {
            return Ok(notices);
        }
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        let manifest = self.manifest(turn);
        for (rel, before_state, after_state) in changes {
            if let FileState::NotKept { reason } = &before_state {
                notices.push(Notice {
                    path: PathBuf::from(&rel),
                    reason: reason.clone(),
                });
            }
            manifest
                .files
                .entry(rel)
                .and_modify(|c| c.after = Some(after_state.clone()))
                .or_insert(Change {
                    before: before_state,
                    after: Some(after_state),
                });
        }
        self.save(turn)?;
        Ok(notices)
    }
}
