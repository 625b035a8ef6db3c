//! Shell commands: what the workspace looked like before and after.
//!
//! The first snapshot walks the workspace (respecting `.gitignore`) and keeps every file's
//! content; it also sets an inotify watch on every directory it walked (Linux). Later snapshots
//! re-list only the directories the watches report changed, and read only the files whose
//! (size, mtime, ctime, inode, mode) changed — so a command costs about nothing on a large
//! repository. Without watches (other systems, the watch limit reached, lost events, a changed
//! ignore file) a snapshot stat-walks the whole tree instead.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::blob::{Blobs, looks_binary, mode_of};
use super::watch::{Changes, Watch};
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
    ctime_ns: i128,
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
        let (ino, ctime_ns) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ino(),
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            )
        };
        #[cfg(not(unix))]
        let (ino, ctime_ns) = (0, 0);
        Self {
            size: meta.len(),
            mtime_ns,
            ctime_ns,
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

/// A snapshot before a shell command, as returned by [`Checkpoints::snapshot_tree`]; hand it
/// back to [`Checkpoints::after_command`]. Commands are bracketed one at a time (the tools run
/// them in sequence).
#[derive(Debug, Clone)]
pub struct TreeSnapshot {
    turn: u32,
    len: usize,
    /// Files whose content could not be kept (a change to them cannot be rewound).
    pub notices: Vec<Notice>,
}

impl TreeSnapshot {
    /// The number of files seen.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The turn it was taken in.
    pub fn turn(&self) -> u32 {
        self.turn
    }
}

/// The workspace as last seen: every file with its stat and kept state, and the watches.
#[derive(Debug)]
pub(crate) struct Tree {
    files: BTreeMap<String, Entry>,
    watch: Option<Watch>,
}

/// `rel`'s directory (`""` for a file at the root).
pub(crate) fn parent_of(rel: &str) -> &str {
    rel.rfind('/').map_or("", |i| &rel[..i])
}

/// What a walk found: regular files and the directories it went through (the start included).
struct Listing {
    files: Vec<(String, PathBuf, fs::Metadata)>,
    dirs: Vec<(String, PathBuf)>,
}

/// The regular files under `root/rel_dir` (to `depth` levels; `None`: all), respecting
/// `.gitignore` (also outside a git repository, and those of parent directories),
/// `.git/info/exclude` and `.ignore`, never descending into `.git`. Symbolic links are not
/// followed or recorded.
fn walk(root: &Path, rel_dir: &str, depth: Option<usize>) -> Listing {
    let start = if rel_dir.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel_dir)
    };
    let mut out = Listing {
        files: Vec::new(),
        dirs: Vec::new(),
    };
    let walker = ignore::WalkBuilder::new(&start)
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .max_depth(depth)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        let Some(kind) = entry.file_type() else {
            continue;
        };
        let is_dir = kind.is_dir();
        if !kind.is_file() && !is_dir {
            continue;
        }
        let path = entry.into_path();
        let Some(rel) = path
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .map(str::to_string)
        else {
            continue;
        };
        if is_dir {
            out.dirs.push((rel, path));
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        out.files.push((rel, path, meta));
    }
    out
}

/// Reads `abs` and keeps its content (unless too large or binary).
fn keep(blobs: &Blobs, abs: &Path, stat: Stat) -> Result<Entry, SessionError> {
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
    let hash = blobs.put_packed(&bytes)?;
    Ok(Entry {
        stat,
        state: FileState::File {
            hash,
            mode: stat.mode,
            size: bytes.len() as u64,
        },
    })
}

/// (path, state before, state after) of one file that changed.
type Changed = (String, FileState, FileState);

/// Brings `files[rel]` up to date with what is on disk now; a difference is a change.
fn update(
    blobs: &Blobs,
    files: &mut BTreeMap<String, Entry>,
    (rel, abs, meta): (String, PathBuf, fs::Metadata),
    changes: &mut Vec<Changed>,
) -> Result<(), SessionError> {
    let stat = Stat::of(&meta);
    let (old, old_mode) = match files.get(&rel) {
        Some(e) if e.stat == stat => return Ok(()),
        Some(e) => (e.state.clone(), Some(e.stat.mode)),
        None => (FileState::Absent, None),
    };
    let new = keep(blobs, &abs, stat)?;
    // A file not kept cannot be compared: its stat changed, so it counts as changed.
    let unknown = matches!(new.state, FileState::NotKept { .. });
    if unknown || new.state != old || old_mode != Some(stat.mode) {
        changes.push((rel.clone(), old, new.state.clone()));
    }
    files.insert(rel, new);
    Ok(())
}

/// The files under directory `rel` (all of them for the root).
fn under(files: &BTreeMap<String, Entry>, rel: &str) -> Vec<String> {
    if rel.is_empty() {
        return files.keys().cloned().collect();
    }
    let prefix = format!("{rel}/");
    files
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Removes every file under directory `rel` as deleted.
fn remove_under(files: &mut BTreeMap<String, Entry>, rel: &str, changes: &mut Vec<Changed>) {
    for k in under(files, rel) {
        if let Some(e) = files.remove(&k) {
            changes.push((k, e.state, FileState::Absent));
        }
    }
}

/// Walks everything under `rel_dir` into `files`, setting watches on its directories. With
/// watches, walks a second time once they are set, so that a change made while the first walk
/// ran is not missed.
fn walk_into(
    root: &Path,
    blobs: &Blobs,
    files: &mut BTreeMap<String, Entry>,
    watch: &mut Option<Watch>,
    rel_dir: &str,
    changes: &mut Vec<Changed>,
) -> Result<(), SessionError> {
    let listing = walk(root, rel_dir, None);
    for file in listing.files {
        update(blobs, files, file, changes)?;
    }
    if let Some(w) = watch {
        if listing.dirs.iter().all(|(rel, abs)| w.add(abs, rel)) {
            for file in walk(root, rel_dir, None).files {
                update(blobs, files, file, changes)?;
            }
        } else {
            *watch = None;
        }
    }
    Ok(())
}

/// The first snapshot of a session (every file read and kept, the watches set), taken without
/// holding the [`Checkpoints`]: [`Checkpoints::warm_up`] hands it out, [`WarmUp::run`] does
/// the work on any thread, [`Checkpoints::install`] takes the result. Meanwhile the
/// checkpoints serve edits and turn ends; a snapshot taken before the result is installed
/// does the work itself.
#[derive(Debug)]
pub struct WarmUp {
    root: PathBuf,
    blobs: Blobs,
}

/// The result of [`WarmUp::run`].
#[derive(Debug)]
pub struct WarmTree(Tree);

impl WarmUp {
    /// Walks the workspace, keeping every file (up to the size limit) and setting the watches.
    pub fn run(self) -> Result<WarmTree, SessionError> {
        let mut files = BTreeMap::new();
        let mut watch = Watch::new();
        walk_into(
            &self.root,
            &self.blobs,
            &mut files,
            &mut watch,
            "",
            &mut Vec::new(),
        )?;
        Ok(WarmTree(Tree { files, watch }))
    }
}

impl Checkpoints {
    /// The first snapshot to take off the caller's lock, or `None` when there is one already.
    pub fn warm_up(&self) -> Option<WarmUp> {
        self.tree.is_none().then(|| WarmUp {
            root: self.root.clone(),
            blobs: self.blobs.clone(),
        })
    }

    /// Installs a first snapshot taken by [`WarmUp::run`] (ignored when a snapshot was taken
    /// meanwhile). Changes made since it was taken are seen by the next snapshot (its watches
    /// were set while it ran).
    pub fn install(&mut self, warm: WarmTree) {
        if self.tree.is_none() {
            self.tree = Some(warm.0);
        }
    }

    /// Brings the tree up to date; returns what changed since the last look (nothing on the
    /// first look: there is nothing to compare with).
    fn sync(&mut self) -> Result<Vec<Changed>, SessionError> {
        let mut changes = Vec::new();
        let Some(mut tree) = self.tree.take() else {
            let mut files = BTreeMap::new();
            let mut watch = Watch::new();
            walk_into(
                &self.root,
                &self.blobs,
                &mut files,
                &mut watch,
                "",
                &mut changes,
            )?;
            self.tree = Some(Tree { files, watch });
            return Ok(Vec::new());
        };
        let dirty = match tree.watch.as_mut() {
            Some(w) => w.changes(),
            None => Changes::Everything,
        };
        let result = match dirty {
            Changes::Dirs(dirs) => self.relist(&mut tree, dirs, &mut changes),
            Changes::Everything => self.rewalk(&mut tree, &mut changes),
        };
        self.tree = Some(tree);
        result?;
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(changes)
    }

    /// Everything again (new watches): the fallback.
    fn rewalk(&self, tree: &mut Tree, changes: &mut Vec<Changed>) -> Result<(), SessionError> {
        // The old entries' stats carry over, so unchanged files are not read again.
        let old = std::mem::take(&mut tree.files);
        let mut files = BTreeMap::new();
        let listing = walk(&self.root, "", None);
        for (rel, abs, meta) in listing.files {
            if let Some(e) = old.get(&rel) {
                files.insert(rel.clone(), e.clone());
            }
            update(&self.blobs, &mut files, (rel, abs, meta), changes)?;
        }
        for (rel, e) in old {
            if !files.contains_key(&rel) {
                changes.push((rel, e.state, FileState::Absent));
            }
        }
        let mut watch = Watch::new();
        if let Some(w) = &mut watch
            && !listing.dirs.iter().all(|(rel, abs)| w.add(abs, rel))
        {
            watch = None;
        }
        if watch.is_some() {
            // Changes made while walking, before the watches were set.
            for file in walk(&self.root, "", None).files {
                update(&self.blobs, &mut files, file, changes)?;
            }
        }
        tree.files = files;
        tree.watch = watch;
        Ok(())
    }

    /// Only the directories the watches reported.
    fn relist(
        &self,
        tree: &mut Tree,
        dirs: HashSet<String>,
        changes: &mut Vec<Changed>,
    ) -> Result<(), SessionError> {
        let mut dirs: Vec<String> = dirs.into_iter().collect();
        dirs.sort();
        for dir in dirs {
            let Some(watch) = tree.watch.as_mut() else {
                return self.rewalk(tree, changes);
            };
            let abs = if dir.is_empty() {
                self.root.clone()
            } else {
                self.root.join(&dir)
            };
            let still_dir = fs::symlink_metadata(&abs).is_ok_and(|m| m.is_dir());
            if !still_dir {
                remove_under(&mut tree.files, &dir, changes);
                watch.remove_under(&dir);
                continue;
            }
            let listing = walk(&self.root, &dir, Some(1));
            let mut present = HashSet::new();
            for file in listing.files {
                present.insert(file.0.clone());
                update(&self.blobs, &mut tree.files, file, changes)?;
            }
            // Files directly in `dir` that are gone (or now ignored).
            let direct: Vec<String> = if dir.is_empty() {
                tree.files
                    .keys()
                    .filter(|k| !k.contains('/'))
                    .cloned()
                    .collect()
            } else {
                under(&tree.files, &dir)
                    .into_iter()
                    .filter(|k| parent_of(k) == dir)
                    .collect()
            };
            for rel in direct {
                if !present.contains(&rel)
                    && let Some(e) = tree.files.remove(&rel)
                {
                    changes.push((rel, e.state, FileState::Absent));
                }
            }
            let subdirs: HashSet<String> = listing
                .dirs
                .into_iter()
                .map(|(rel, _)| rel)
                .filter(|rel| *rel != dir)
                .collect();
            // Directories that went away (removed, moved, now ignored).
            for gone in watch.children_of(&dir) {
                if !subdirs.contains(&gone) {
                    remove_under(&mut tree.files, &gone, changes);
                    watch.remove_under(&gone);
                }
            }
            // New directories: everything in them is new.
            let mut fresh: Vec<String> = subdirs
                .into_iter()
                .filter(|d| !watch.is_watched(d))
                .collect();
            fresh.sort();
            for sub in fresh {
                let mut w = tree.watch.take();
                walk_into(
                    &self.root,
                    &self.blobs,
                    &mut tree.files,
                    &mut w,
                    &sub,
                    changes,
                )?;
                tree.watch = w;
            }
        }
        Ok(())
    }

    /// Before a shell command of turn `turn`: brings the snapshot of the workspace up to date
    /// (the first of a session reads and keeps every file, up to the size limit; later ones
    /// read only what changed since). What changed since the last snapshot was not a command's
    /// doing and is not recorded.
    pub fn snapshot_tree(&mut self, turn: u32) -> Result<TreeSnapshot, SessionError> {
        self.sync()?;
        let (len, notices) = match &self.tree {
            Some(tree) => (
                tree.files.len(),
                tree.files
                    .iter()
                    .filter_map(|(rel, e)| match &e.state {
                        FileState::NotKept { reason } => Some(Notice {
                            path: PathBuf::from(rel),
                            reason: reason.clone(),
                        }),
                        FileState::Absent | FileState::File { .. } => None,
                    })
                    .collect(),
            ),
            None => (0, Vec::new()),
        };
        Ok(TreeSnapshot { turn, len, notices })
    }

    /// After the shell command of `_before`: records in turn `turn` every file under the
    /// workspace that changed, was created or was deleted since that snapshot (with its
    /// state before, unless the turn already recorded an earlier one). Returns notices for
    /// changed files whose earlier content was not kept (too large or binary): those cannot be
    /// rewound.
    pub fn after_command(
        &mut self,
        turn: u32,
        _before: &TreeSnapshot,
    ) -> Result<Vec<Notice>, SessionError> {
        let changes = self.sync()?;
        let mut notices = Vec::new();
        if changes.is_empty() {
            return Ok(notices);
        }
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
