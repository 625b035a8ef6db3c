//! Small helpers: files in temp dirs, the roots of a scratch home and project.

use std::path::{Path, PathBuf};

use qcode_extensions::Trust;

pub fn write(base: &Path, rel: &str, text: &str) -> PathBuf {
    let path = base.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A scratch home and project.
pub struct Dirs {
    _tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub project: PathBuf,
    pub outside: PathBuf,
}

impl Dirs {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        let outside = tmp.path().join("outside");
        for d in [&home, &project, &outside] {
            std::fs::create_dir_all(d).unwrap();
        }
        Self {
            _tmp: tmp,
            home,
            project,
            outside,
        }
    }
}

pub const TRUSTED: Trust = Trust::Trusted;
pub const UNTRUSTED: Trust = Trust::Untrusted;

/// Pushes a file's mtime forward, so a rewrite within the file system's mtime granularity is
/// still seen as a change.
pub fn touch_later(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(secs);
    f.set_modified(t).unwrap();
}
