//! Content-addressed blobs, 0600 in the 0700 `blobs/` directory, in two forms:
//!
//! - loose, `blobs/<sha256 hex>`: what edits and writes keep, written once (same content, same
//!   file) through a temporary file and a rename, so a blob is complete or absent;
//! - packed, for tree snapshots (the first snapshot of a session keeps every file of the
//!   workspace — thousands of files, which as loose blobs cost a create and a rename each):
//!   appended to `blobs/pack-<uuid>.pack`, one per process, with one line `<hash> <offset>
//!   <length>` per blob appended to `blobs/pack-<uuid>.idx` after its bytes.
//!
//! Nothing is synced to disk blob by blob (a sync each made the first snapshot of a large
//! workspace take a minute): after a power loss a blob may be missing, empty or torn, which
//! reading detects — the content is checked against its hash; a torn index line is skipped —
//! and reports instead of restoring garbage.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    /// Shared by the clones (the first snapshot runs on a thread of its own).
    packs: Arc<Mutex<Packs>>,
}

/// Where a packed blob is.
#[derive(Debug, Clone, Copy)]
struct Loc {
    pack: usize,
    offset: u64,
    len: u64,
}

/// The packs' indexes (read on first use) and this process's open pack.
#[derive(Debug, Default)]
struct Packs {
    loaded: bool,
    /// Pack files by number.
    files: Vec<PathBuf>,
    index: HashMap<String, Loc>,
    writer: Option<PackWriter>,
}

#[derive(Debug)]
struct PackWriter {
    pack_no: usize,
    pack: fs::File,
    idx: fs::File,
    len: u64,
}

impl Packs {
    /// Reads every `*.idx` of `dir` (once): lines that do not parse are skipped.
    fn load(&mut self, dir: &Path) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "idx") {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            let pack = self.files.len();
            self.files.push(path.with_extension("pack"));
            for line in text.lines() {
                let mut fields = line.split(' ');
                let (Some(hash), Some(offset), Some(len), None) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    continue;
                };
                if let (64, Ok(offset), Ok(len)) = (hash.len(), offset.parse(), len.parse()) {
                    self.index
                        .entry(hash.to_string())
                        .or_insert(Loc { pack, offset, len });
                }
            }
        }
    }

    /// This process's pack, created on first use.
    fn writer(&mut self, dir: &Path) -> io::Result<&mut PackWriter> {
        if self.writer.is_none() {
            qcode_fs::create_private_dirs(dir)?;
            let stem = format!("pack-{}", uuid::Uuid::new_v4());
            let open = |ext: &str| {
                let mut options = fs::OpenOptions::new();
                options.append(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                options.open(dir.join(format!("{stem}.{ext}")))
            };
            let pack = open("pack")?;
            let idx = open("idx")?;
            self.files.push(dir.join(format!("{stem}.pack")));
            self.writer = Some(PackWriter {
                pack_no: self.files.len() - 1,
                pack,
                idx,
                len: 0,
            });
        }
        self.writer
            .as_mut()
            .ok_or_else(|| io::Error::other("no pack"))
    }
}

impl Blobs {
    pub(crate) fn new(session_dir: &Path) -> Self {
        Self {
            dir: session_dir.join("blobs"),
            packs: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Packs> {
        // A panic while holding the lock leaves the maps consistent (entries are inserted
        // after their bytes are written): keep using them.
        self.packs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `bytes` (once, loose or packed) in this process's pack and returns their hash:
    /// for the many files a tree snapshot keeps.
    pub(crate) fn put_packed(&self, bytes: &[u8]) -> Result<String, SessionError> {
        let h = hash(bytes);
        let mut packs = self.lock();
        packs.load(&self.dir);
        if packs.index.contains_key(&h) || self.path(&h).exists() {
            return Ok(h);
        }
        let err = |e| SessionError::io("store a checkpoint in", &self.dir, e);
        let w = packs.writer(&self.dir).map_err(err)?;
        let offset = w.len;
        w.pack.write_all(bytes).map_err(err)?;
        w.len += bytes.len() as u64;
        w.idx
            .write_all(format!("{h} {offset} {}\n", bytes.len()).as_bytes())
            .map_err(err)?;
        let loc = Loc {
            pack: w.pack_no,
            offset,
            len: bytes.len() as u64,
        };
        packs.index.insert(h.clone(), loc);
        Ok(h)
    }

    /// A packed blob's bytes (unchecked), if the indexes know it.
    fn read_packed(&self, hash: &str) -> Option<Vec<u8>> {
        let (path, loc) = {
            let mut packs = self.lock();
            packs.load(&self.dir);
            let loc = *packs.index.get(hash)?;
            (packs.files.get(loc.pack)?.clone(), loc)
        };
        let mut file = fs::File::open(path).ok()?;
        file.seek(SeekFrom::Start(loc.offset)).ok()?;
        let mut bytes = vec![0; usize::try_from(loc.len).ok()?];
        file.read_exact(&mut bytes).ok()?;
        Some(bytes)
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
        let intact = |bytes: &Vec<u8>| self::hash(bytes) == hash;
        fs::read(self.path(hash))
            .ok()
            .filter(intact)
            .or_else(|| self.read_packed(hash).filter(intact))
            .ok_or_else(missing)
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
