//! Private files: directories created 0700, files written 0600 through a temp file that is
//! created 0600 from the start, fsynced, then renamed over the target (atomic on one
//! filesystem). A reader sees the old file or the new one, never a partial or world-readable one.

use std::fs;
use std::path::Path;

use crate::error::AuthError;

/// Whether an existing directory's permissions are tightened to 0700.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirMode {
    /// Create with 0700 if missing; leave an existing directory alone (`~/.qwen` is shared with
    /// Qwen Code, which creates it with default permissions).
    CreatePrivate,
    /// Create with 0700 and also set 0700 on an existing directory (qcode's own home).
    EnforcePrivate,
}

pub(crate) fn ensure_dir(dir: &Path, mode: DirMode) -> Result<(), AuthError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| AuthError::io("create the directory", dir, e))?;
    match mode {
        DirMode::CreatePrivate => {}
        DirMode::EnforcePrivate => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| AuthError::io("set permissions on", dir, e))?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` as a 0600 file, atomically (`qcode_fs::write_atomic`).
pub(crate) fn write_private(path: &Path, bytes: &[u8], dir_mode: DirMode) -> Result<(), AuthError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    ensure_dir(dir, dir_mode)?;
    qcode_fs::write_atomic(path, bytes, qcode_fs::Mode::Exactly(0o600))
        .map_err(|e| AuthError::io("replace", path, e.into_io_error()))
}

/// Removes a file; a missing file is not an error. Returns whether something was removed.
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool, AuthError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(AuthError::io("remove", path, e)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_0600_in_new_0700_dir_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let file = dir.join("f.json");
        write_private(&file, b"one", DirMode::CreatePrivate).unwrap();
        write_private(&file, b"two", DirMode::CreatePrivate).unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.json")]);
    }

    #[test]
    fn enforce_tightens_existing_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&dir, DirMode::CreatePrivate).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o755
        );
        ensure_dir(&dir, DirMode::EnforcePrivate).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(!remove_if_exists(&dir.join("nope")).unwrap());
    }
}
