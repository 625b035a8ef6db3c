//! Content-addressed blobs: `blobs/<sha256 hex>`, 0600, written once (same content, same
//! file) through a temporary file and a rename, so a blob is complete or absent. Blobs are not
//! synced to disk one by one (the first snapshot of a large workspace writes thousands; a sync
//! each made it take a minute): after a power loss a blob may be empty, which reading detects
//! (the content is checked against its hash) and reports instead of restoring garbage.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::FileState;
use crate::SessionError;

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

pub(crate) fn hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Whether `bytes` look binary: a NUL byte in the first 8 KiB (as git decides).
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8192).any(|&b| b == 0)
}

#[cfg(unix)]
pub(crate) fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
pub(crate) fn mode_of(_meta: &fs::Metadata) -> u32 {
    0o644
}

#[derive(Debug, Clone)]
pub(crate) struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub(crate) fn new(session_dir: &Path) -> Self {
        Self {
            dir: session_dir.join("blobs"),
        }
    }

    fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    /// Stores `bytes` (once) and returns their hash.
    pub(crate) fn put(&self, bytes: &[u8]) -> Result<String, SessionError> {
        let h = hash(bytes);
        let path = self.path(&h);
        if !path.exists() {
            qcode_fs::create_private_dirs(&self.dir)
                .map_err(|e| SessionError::io("create the directory", &self.dir, e))?;
            write_unsynced(&path, bytes)
                .map_err(|e| SessionError::io("store a checkpoint in", &self.dir, e))?;
        }
        Ok(h)
    }

    /// The content stored under `hash`, checked against it.
    pub(crate) fn get(&self, hash: &str, for_path: &Path) -> Result<Vec<u8>, SessionError> {
        let missing = || SessionError::MissingBlob {
            path: for_path.to_path_buf(),
            hash: hash.to_string(),
        };
        let bytes = fs::read(self.path(hash)).map_err(|_| missing())?;
        if self::hash(&bytes) != hash {
            return Err(missing());
        }
        Ok(bytes)
    }

    /// The state of the file at `abs` now, its content stored as a blob.
    pub(crate) fn capture(&self, abs: &Path) -> Result<FileState, SessionError> {
        let meta = match fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Absent),
            Err(e) => return Err(SessionError::io("read", abs, e)),
        };
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        fs::File::open(abs)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| SessionError::io("read", abs, e))?;
        let hash = self.put(&bytes)?;
        Ok(FileState::File {
            hash,
            mode: mode_of(&meta),
            size: bytes.len() as u64,
        })
    }
}

fn write_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("blob");
    // Unique per call: two threads may store the same content at once (the first snapshot
    // and an edit's checkpoint).
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".tmp-{name}-{}-{n}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The state of the file at `abs` now, hashed but not stored (for comparisons).
pub(crate) fn current_state(abs: &Path) -> Result<FileState, SessionError> {
    match fs::read(abs) {
        Ok(bytes) => {
            let meta = fs::metadata(abs).map_err(|e| SessionError::io("read", abs, e))?;
            Ok(FileState::File {
                hash: hash(&bytes),
                mode: mode_of(&meta),
                size: bytes.len() as u64,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FileState::Absent),
        Err(e) => Err(SessionError::io("read", abs, e)),
    }
}
