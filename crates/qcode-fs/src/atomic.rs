//! Replacing a file atomically: a temporary file in the same directory is written, synced to
//! disk and renamed over the target, then the directory is synced so the rename itself is
//! durable. A reader sees the old content or the new, never a mix; on failure the temporary
//! file is removed and the old file is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The permissions the written file gets (Unix; ignored elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exactly these permission bits, whatever the umask or the old file had (e.g. `0o600`
    /// for credentials).
    Exactly(u32),
    /// The permission bits of the file being replaced; for a new file these bits, reduced by
    /// the umask like any newly created file (e.g. `0o644`, or `0o666` for "as `touch` would").
    KeepOr(u32),
}

/// A failed atomic write: which file, what step, and the underlying I/O error.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {} ({step}): {}", path.display(), explain(source))]
pub struct WriteError {
    path: PathBuf,
    step: &'static str,
    #[source]
    source: io::Error,
}

/// The I/O error in words a user acts on: a full disk or quota says so first.
fn explain(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            format!("the disk is full ({e}); free some space and try again")
        }
        io::ErrorKind::FileTooLarge => {
            format!("the file is too large for this file system or limit ({e})")
        }
        io::ErrorKind::ReadOnlyFilesystem => format!("the file system is read-only ({e})"),
        io::ErrorKind::PermissionDenied => format!("permission denied ({e})"),
        _ => e.to_string(),
    }
}

impl WriteError {
    pub(crate) fn new(path: &Path, step: &'static str, source: io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            step,
            source,
        }
    }

    /// The file the caller asked to write.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }

    /// The underlying I/O error, for callers whose own message already names the file.
    pub fn into_io_error(self) -> io::Error {
        self.source
    }
}

impl From<WriteError> for io::Error {
    /// An `io::Error` of the same kind whose message names the file.
    fn from(e: WriteError) -> Self {
        io::Error::new(e.source.kind(), e)
    }
}

/// Follows `path` while it is a symbolic link and returns the file it finally names (which may
/// not exist yet). A path that is not a link is returned unchanged.
pub fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = if target.is_absolute() {
                    target
                } else {
                    parent_dir(&current).join(target)
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Replaces the file at `path` with `bytes`, atomically.
///
/// Missing parent directories are created. If `path` is a symbolic link, the file it points
/// to is replaced and the link stays a link (dotfiles setups keep working). The permissions
/// follow `mode`. The directory is synced after the rename where the platform allows it; a
/// file system that cannot sync directories does not make the write fail.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), WriteError> {
    let target =
        resolve_symlinks(path).map_err(|e| WriteError::new(path, "following the link", e))?;
    let dir = parent_dir(&target);
    fs::create_dir_all(dir).map_err(|e| WriteError::new(path, "creating its directory", e))?;
    let existing_mode = existing_mode(&target);
    let (tmp, mut file) = create_temp(dir, &target, mode, existing_mode)
        .map_err(|e| WriteError::new(path, "creating a temporary file", e))?;
    let result = (|| {
        file.write_all(bytes).map_err(|e| (e, "writing"))?;
        file.sync_all().map_err(|e| (e, "syncing to disk"))?;
        drop(file);
        fs::rename(&tmp, &target).map_err(|e| (e, "replacing the file"))
    })();
    if let Err((e, step)) = result {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::new(path, step, e));
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn existing_mode(target: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(target)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_target: &Path) -> Option<u32> {
    None
}

/// Creates a new, uniquely named temporary file next to `target` with the right permissions.
fn create_temp(
    dir: &Path,
    target: &Path,
    mode: Mode,
    existing_mode: Option<u32>,
) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // Exact bits are set after creation (the umask only applies at creation).
    let (create_bits, exact_bits) = match (mode, existing_mode) {
        (Mode::Exactly(bits), _) => (bits, Some(bits)),
        (Mode::KeepOr(_), Some(bits)) => (bits, Some(bits)),
        (Mode::KeepOr(bits), None) => (bits, None),
    };
    let mut last_error = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Never more than the final bits while the content is being written.
            options.mode(create_bits & 0o777);
        }
        #[cfg(not(unix))]
        let _ = create_bits;
        match options.open(&tmp) {
            Ok(file) => {
                #[cfg(unix)]
                if let Some(bits) = exact_bits {
                    use std::os::unix::fs::PermissionsExt;
                    if let Err(e) = file.set_permissions(fs::Permissions::from_mode(bits)) {
                        drop(file);
                        let _ = fs::remove_file(&tmp);
                        return Err(e);
                    }
                }
                #[cfg(not(unix))]
                let _ = exact_bits;
                return Ok((tmp, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn a_full_disk_says_so() {
        let e = WriteError::new(
            Path::new("/h/.qcode/settings.json"),
            "writing",
            io::Error::from(io::ErrorKind::StorageFull),
        );
        let msg = e.to_string();
        assert!(
            msg.contains("/h/.qcode/settings.json") && msg.contains("the disk is full"),
            "{msg}"
        );
    }
}
