//! File checkpoints for code rewind: `<file_history_dir>/<session-id>/`, independent of the
//! user's git repository.
//!
//! - `blobs/<sha256>`: file contents, content-addressed (deduplicated), 0600 in 0700 dirs.
//! - `turns/<N>.json`: turn N's manifest — every workspace-relative path the turn changed,
//!   with its state before the turn (`absent`, or blob hash + mode) and, once known, after.
//!
//! Edits and writes call [`Checkpoints::before_write`] (the prior state is kept once per turn);
//! shell commands are bracketed by [`Checkpoints::snapshot_tree`] and
//! [`Checkpoints::after_command`]; the turn ends with [`Checkpoints::finish_turn`], which
//! records what each changed file looks like after it (the basis of conflict detection).

mod blob;
mod plan;
mod tree;
mod watch;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SessionError;
use blob::Blobs;
pub use plan::{Force, RewindAction, RewindEntry, RewindPlan};
pub use tree::{MAX_SNAPSHOT_FILE_SIZE, TreeSnapshot, WarmTree, WarmUp};

/// A file's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileState {
    /// The file did not exist.
    Absent,
    /// The file existed with this content (blob hash) and permission bits.
    File { hash: String, mode: u32, size: u64 },
    /// The file existed but its content was not kept (too large or binary; shell changes only).
    NotKept { reason: NoticeReason },
}

/// Something the caller should tell the user: a file whose change cannot be rewound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Relative to the workspace root.
    pub path: PathBuf,
    pub reason: NoticeReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoticeReason {
    /// Larger than [`MAX_SNAPSHOT_FILE_SIZE`].
    TooLarge { size: u64 },
    /// Contains a NUL byte in its first 8 KiB.
    Binary,
    /// The path is not valid UTF-8.
    UnsupportedName,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match &self.reason {
            NoticeReason::TooLarge { size } => format!(
                "larger than {} MiB ({size} bytes)",
                MAX_SNAPSHOT_FILE_SIZE / (1024 * 1024)
            ),
            NoticeReason::Binary => "a binary file".to_string(),
            NoticeReason::UnsupportedName => "its name is not UTF-8".to_string(),
        };
        write!(f, "{}: not kept for rewind ({why})", self.path.display())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Change {
    before: FileState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<FileState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    turn: u32,
    files: BTreeMap<String, Change>,
}

/// One session's checkpoints.
#[derive(Debug)]
pub struct Checkpoints {
    dir: PathBuf,
    root: PathBuf,
    blobs: Blobs,
    manifests: BTreeMap<u32, Manifest>,
    /// The workspace as last seen (the stat cache and watches of the next snapshot).
    tree: Option<tree::Tree>,
}

fn canonical_prefix(abs: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut current = abs;
    loop {
        if let Ok(c) = current.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(c, |acc: PathBuf, name| acc.join(name));
        }
        match (current.parent(), current.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                current = parent;
            }
            _ => return abs.to_path_buf(),
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SessionError {
    let path = path.to_path_buf();
    move |e| SessionError::io(action, path, e)
}

impl Checkpoints {
    /// Opens (creating on first write) `<file_history_dir>/<session_id>/` for a workspace
    /// rooted at `workspace_root`, reading the manifests of earlier turns.
    pub fn open(
        file_history_dir: &Path,
        session_id: &str,
        workspace_root: &Path,
    ) -> Result<Self, SessionError> {
        let dir = file_history_dir.join(session_id);
        let root = workspace_root
            .canonicalize()
            .map_err(io_err("open the workspace", workspace_root))?;
        let mut manifests = BTreeMap::new();
        if let Ok(entries) = fs::read_dir(dir.join("turns")) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(bytes) = fs::read(&path) else { continue };
                if let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) {
                    manifests.insert(m.turn, m);
                }
            }
        }
        Ok(Self {
            blobs: Blobs::new(&dir),
            dir,
            root,
            manifests,
            tree: None,
        })
    }

    /// The session's checkpoint directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The turns that changed files, each with the paths it changed (for the `/rewind` picker).
    pub fn changed_files(&self) -> BTreeMap<u32, Vec<PathBuf>> {
        self.manifests
            .iter()
            .filter(|(_, m)| !m.files.is_empty())
            .map(|(t, m)| (*t, m.files.keys().map(PathBuf::from).collect()))
            .collect()
    }

    /// `path` (absolute, or relative to the workspace root) as a workspace-relative string;
    /// refuses paths outside the workspace and inside `.git`.
    fn relative(&self, path: &Path) -> Result<String, SessionError> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        // Canonicalise the nearest existing ancestor (the file and its directories may not
        // exist yet), so a workspace reached through a symbolic link still matches.
        let abs = canonical_prefix(&abs);
        let outside = || SessionError::OutsideWorkspace {
            path: path.to_path_buf(),
            root: self.root.clone(),
        };
        let rel = abs.strip_prefix(&self.root).map_err(|_| outside())?;
        if rel.as_os_str().is_empty()
            || rel
                .components()
                .any(|c| !matches!(c, Component::Normal(_)) || c.as_os_str() == ".git")
        {
            return Err(outside());
        }
        rel.to_str().map(str::to_string).ok_or_else(outside)
    }

    fn save(&self, turn: u32) -> Result<(), SessionError> {
        let Some(m) = self.manifests.get(&turn) else {
            return Ok(());
        };
        let path = self.dir.join("turns").join(format!("{turn}.json"));
        qcode_fs::create_private_dirs(&self.dir)
            .map_err(io_err("create the directory", &self.dir))?;
        qcode_fs::write_private(&path, &serde_json::to_vec(m)?)?;
        Ok(())
    }

    fn manifest(&mut self, turn: u32) -> &mut Manifest {
        self.manifests.entry(turn).or_insert_with(|| Manifest {
            turn,
            files: BTreeMap::new(),
        })
    }

    /// Call before an edit or write changes `path` in turn `turn` (1-based, the turn's user
    /// message number): keeps its current state (content as a blob, or "absent") unless this
    /// turn already did. Whatever its size, the content is kept.
    pub fn before_write(&mut self, turn: u32, path: &Path) -> Result<(), SessionError> {
        let rel = self.relative(path)?;
        if self
            .manifests
            .get(&turn)
            .is_some_and(|m| m.files.contains_key(&rel))
        {
            return Ok(());
        }
        let before = self.blobs.capture(&self.root.join(&rel))?;
        self.manifest(turn).files.insert(
            rel,
            Change {
                before,
                after: None,
            },
        );
        self.save(turn)
    }

    /// Call when turn `turn` ends (also after an interrupt): records the state after the turn
    /// of every file it changed, so a later rewind can tell qcode's changes from the user's.
    pub fn finish_turn(&mut self, turn: u32) -> Result<(), SessionError> {
        let Some(m) = self.manifests.get(&turn) else {
            return Ok(());
        };
        let paths: Vec<String> = m.files.keys().cloned().collect();
        let mut afters = Vec::with_capacity(paths.len());
        for rel in paths {
            let after = blob::current_state(&self.root.join(&rel))?;
            afters.push((rel, after));
        }
        let m = self.manifest(turn);
        for (rel, after) in afters {
            if let Some(change) = m.files.get_mut(&rel) {
                change.after = Some(after);
            }
        }
        self.save(turn)
    }
}
