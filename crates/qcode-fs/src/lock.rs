//! An exclusive lock for read-modify-write cycles across processes (and across threads that
//! open their own handles): the operating system's file lock (`flock` on Unix, `LockFileEx`
//! on Windows) on a sidecar file `<file>.lock`. The lock is released when the guard is dropped
//! or the process dies, so a crashed writer never leaves a stale lock behind; the empty
//! sidecar file itself is left in place (removing it would race with the next writer).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The sidecar lock file for `path`: `settings.json` → `settings.json.lock`, next to the path
/// as given (a symbolic link is not followed, so no lock file appears in a dotfiles folder).
pub fn lock_path_for(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot lock {} (lock file {}): {source}", path.display(), lock_path.display())]
    Io {
        path: PathBuf,
        lock_path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "timed out after {} ms waiting for another process to finish writing {} (lock file {})\nhint: try again; if it keeps happening, check for a hung qcode process",
        waited.as_millis(), path.display(), lock_path.display()
    )]
    Timeout {
        path: PathBuf,
        lock_path: PathBuf,
        waited: Duration,
    },
}

impl LockError {
    /// The file the lock protects.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Timeout { path, .. } => path,
        }
    }
}

/// An exclusive lock on a file's sidecar; released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    lock_path: PathBuf,
}

impl FileLock {
    /// Takes the exclusive lock for `path`, waiting at most `timeout` (polling with short
    /// sleeps). Creates the sidecar file and its directory if needed.
    pub fn acquire(path: &Path, timeout: Duration) -> Result<Self, LockError> {
        let lock_path = lock_path_for(path);
        let io_error = |source| LockError::Io {
            path: path.to_path_buf(),
            lock_path: lock_path.clone(),
            source,
        };
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::create_private_dirs(dir).map_err(io_error)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&lock_path).map_err(io_error)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { file, lock_path }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io_error(e)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(LockError::Timeout {
                    path: path.to_path_buf(),
                    lock_path,
                    waited,
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// The sidecar file holding the lock.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
