//! Which workspace directories changed since the last look: inotify watches on every directory
//! the snapshot walked (Linux). With them, a snapshot re-lists only the directories that had
//! entries created, changed or removed, instead of stat-walking the whole tree. Elsewhere, or
//! when the watches cannot be set up (the per-user watch limit), [`Watch::new`] gives `None`
//! and every snapshot walks the tree.

#[cfg(target_os = "linux")]
use std::collections::HashMap;
use std::collections::HashSet;
use std::path::Path;

/// At most this many directories are watched per session (inotify watches are a per-user
/// budget other programs need too); a larger workspace is stat-walked instead.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) const MAX_WATCHED_DIRS: usize = 8192;

/// What changed since the last [`Watch::changes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Changes {
    /// Entries of these directories (workspace-relative; `""` is the root) changed.
    Dirs(HashSet<String>),
    /// Events were lost (the kernel queue overflowed), an ignore file (`.gitignore`,
    /// `.ignore`) changed, or the watch failed: only a walk of everything is safe.
    Everything,
}

/// Whether `name` is a file whose change alters what is ignored.
fn is_rule_file(name: &[u8]) -> bool {
    name == b".gitignore" || name == b".ignore"
}

#[cfg(target_os = "linux")]
pub(crate) struct Watch {
    fd: rustix::fd::OwnedFd,
    /// Watch descriptor → directory (workspace-relative).
    dirs: HashMap<i32, String>,
    /// Directory → watch descriptor.
    wds: HashMap<String, i32>,
    buf: Vec<std::mem::MaybeUninit<u8>>,
}

#[cfg(target_os = "linux")]
impl Watch {
    /// A new, empty watch; `None` when inotify is not available.
    pub(crate) fn new() -> Option<Self> {
        use rustix::fs::inotify::{CreateFlags, init};
        let fd = init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
        Some(Self {
            fd,
            dirs: HashMap::new(),
            wds: HashMap::new(),
            buf: vec![std::mem::MaybeUninit::uninit(); 64 * 1024],
        })
    }

    /// Watches directory `abs` (workspace-relative `rel`). False when it cannot (the system's
    /// watch limit, or [`MAX_WATCHED_DIRS`]): the caller then gives up watching.
    pub(crate) fn add(&mut self, abs: &Path, rel: &str) -> bool {
        use rustix::fs::inotify::{WatchFlags, add_watch};
        if self.wds.len() >= MAX_WATCHED_DIRS {
            return false;
        }
        let flags = WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MODIFY
            | WatchFlags::ATTRIB
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR
            | WatchFlags::DONT_FOLLOW;
        match add_watch(&self.fd, abs, flags) {
            Ok(wd) => {
                self.dirs.insert(wd, rel.to_string());
                self.wds.insert(rel.to_string(), wd);
                true
            }
            // Gone already (a race with the command): its parent's listing tells.
            Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::NOTDIR) => true,
            Err(_) => false,
        }
    }

    /// Whether directory `rel` is watched.
    pub(crate) fn is_watched(&self, rel: &str) -> bool {
        self.wds.contains_key(rel)
    }

    /// The watched directories directly inside `rel`.
    pub(crate) fn children_of(&self, rel: &str) -> Vec<String> {
        self.wds
            .keys()
            .filter(|d| !d.is_empty() && super::tree::parent_of(d) == rel)
            .cloned()
            .collect()
    }

    /// Stops watching `rel` and every directory inside it.
    pub(crate) fn remove_under(&mut self, rel: &str) {
        let prefix = format!("{rel}/");
        let gone: Vec<String> = self
            .wds
            .keys()
            .filter(|d| d.as_str() == rel || rel.is_empty() || d.starts_with(&prefix))
            .cloned()
            .collect();
        for d in gone {
            if let Some(wd) = self.wds.remove(&d) {
                self.dirs.remove(&wd);
                let _ = rustix::fs::inotify::remove_watch(&self.fd, wd);
            }
        }
    }

    /// Everything that happened since the last call.
    pub(crate) fn changes(&mut self) -> Changes {
        use rustix::fs::inotify::{ReadFlags, Reader};
        let mut dirty = HashSet::new();
        let Self { fd, dirs, wds, buf } = self;
        let mut reader = Reader::new(&*fd, buf);
        loop {
            match reader.next() {
                Ok(event) => {
                    let flags = event.events();
                    if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                        return Changes::Everything;
                    }
                    if event
                        .file_name()
                        .is_some_and(|n| is_rule_file(n.to_bytes()))
                    {
                        return Changes::Everything;
                    }
                    let Some(dir) = dirs.get(&event.wd()).cloned() else {
                        continue;
                    };
                    if flags.contains(ReadFlags::IGNORED) {
                        dirs.remove(&event.wd());
                        wds.remove(&dir);
                    }
                    dirty.insert(dir);
                }
                Err(rustix::io::Errno::AGAIN) => return Changes::Dirs(dirty),
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return Changes::Everything,
            }
        }
    }
}

/// Without inotify every snapshot walks the tree.
#[cfg(not(target_os = "linux"))]
pub(crate) struct Watch;

#[cfg(not(target_os = "linux"))]
impl Watch {
    pub(crate) fn new() -> Option<Self> {
        None
    }
    pub(crate) fn add(&mut self, _abs: &Path, _rel: &str) -> bool {
        false
    }
    pub(crate) fn is_watched(&self, _rel: &str) -> bool {
        false
    }
    pub(crate) fn children_of(&self, _rel: &str) -> Vec<String> {
        Vec::new()
    }
    pub(crate) fn remove_under(&mut self, _rel: &str) {}
    pub(crate) fn changes(&mut self) -> Changes {
        let _ = is_rule_file(b"");
        Changes::Everything
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}
