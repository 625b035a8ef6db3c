//! qcode's own files under `$QCODE_HOME` (settings it writes, history, memory, audit log,
//! trust rules, background output) are private from the first write: directories it creates
//! are 0700, files it creates are 0600.

use std::io;
use std::path::Path;

use crate::{Mode, WriteError, write_atomic};

/// Creates `dir` and any missing parents with mode 0700 (existing directories are left as
/// they are).
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// [`write_atomic`] for one of qcode's own files: missing directories 0700, a new file 0600,
/// an existing file keeps the mode its owner gave it.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if let Some(dir) = path.parent() {
        create_private_dirs(dir).map_err(|e| WriteError::new(path, "creating its directory", e))?;
    }
    write_atomic(path, bytes, Mode::KeepOr(0o600))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_private() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("home/.qcode/projects/p/history.jsonl");
        write_private(&file, b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&t.path().join("home/.qcode/projects/p")), 0o700);
        assert_eq!(mode(&t.path().join("home/.qcode")), 0o700);
        assert_eq!(mode(&t.path().join("home")), 0o700);
        // An existing file keeps its owner's choice.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_private(&file, b"y").unwrap();
        assert_eq!(mode(&file), 0o640);
    }
}
