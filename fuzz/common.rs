//! Shared by the targets: a scratch directory, on a RAM disk when there is one.

use std::path::Path;
use std::sync::OnceLock;

/// A directory for the files a target writes (one per target process, removed at exit by the
/// OS's tmp cleaning; the files in it are overwritten on every input).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let made = if shm.is_dir() {
            tempfile::Builder::new()
                .prefix("qcode-fuzz-")
                .tempdir_in(shm)
        } else {
            tempfile::Builder::new().prefix("qcode-fuzz-").tempdir()
        };
        match made {
            Ok(dir) => dir,
            Err(e) => panic!("cannot create a scratch directory: {e}"),
        }
    })
    .path()
}

/// Writes `bytes` to `path`, panicking (a harness failure, not a finding) if it cannot.
pub fn write(path: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
}
