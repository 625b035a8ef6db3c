//! Commands, skills, agents and global context files: copied from the other tool's directory
//! into `$QCODE_HOME` (files 0600, or 0700 when the original is executable; directories 0700).
//! Symbolic links that leave their folder are not followed, special files are never opened,
//! hidden entries are skipped, and sizes are capped.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Change, Item, Status};
use crate::ConfigError;

/// The largest file copied (the extension loader reads no bigger one).
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// The most one skill folder may hold in all.
pub const MAX_SKILL_BYTES: u64 = 4 * 1024 * 1024;
/// How deep folders are searched.
const MAX_DEPTH: usize = 6;
/// How many entries one folder tree may hold before the rest is ignored.
const MAX_ENTRIES: usize = 2_000;

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCopy {
    pub to: PathBuf,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

impl FileCopy {
    /// Writes the file atomically (its directories 0700, the file 0600 or 0700).
    pub fn write(&self) -> Result<(), ConfigError> {
        let fail = |source: std::io::Error| ConfigError::ImportWrite {
            path: self.to.clone(),
            source,
        };
        if let Some(dir) = self.to.parent() {
            qcode_fs::create_private_dirs(dir).map_err(fail)?;
        }
        let mode = if self.executable { 0o700 } else { 0o600 };
        qcode_fs::write_atomic(&self.to, &self.bytes, qcode_fs::Mode::Exactly(mode))
            .map_err(|e| fail(e.into_io_error()))
    }

    /// Whether the target already has exactly these bytes (`Some(false)`: different).
    fn existing(&self) -> Option<bool> {
        fs::read(&self.to).ok().map(|b| b == self.bytes)
    }
}

/// A regular file under `root` (links must resolve inside it), at most `cap` bytes.
fn read_inside(root: &Path, path: &Path, cap: u64) -> Result<(Vec<u8>, bool), String> {
    let canonical_root = fs::canonicalize(root).map_err(|e| format!("cannot resolve: {e}"))?;
    let target = fs::canonicalize(path).map_err(|e| format!("cannot resolve: {e}"))?;
    if !target.starts_with(&canonical_root) {
        return Err("a link that leads outside its folder is not followed".into());
    }
    let meta = fs::metadata(&target).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (pipes, sockets and devices are never opened)".into());
    }
    if meta.len() > cap {
        return Err(format!(
            "too large ({} bytes; the limit is {} KiB)",
            meta.len(),
            cap / 1024
        ));
    }
    let mut bytes = Vec::new();
    fs::File::open(&target)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!("too large (the limit is {} KiB)", cap / 1024));
    }
    Ok((bytes, meta.permissions().mode() & 0o111 != 0))
}

/// Every non-hidden file under `dir` (sorted, relative with `/`), not descending into links
/// to folders; and whether the listing was cut at [`MAX_ENTRIES`].
fn walk(dir: &Path) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    let mut seen = 0;
    while let Some((here, prefix, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&here) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for name in names.into_iter().rev() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return (out, true);
            }
            let path = here.join(&name);
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let is_real_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if is_real_dir {
                if depth + 1 < MAX_DEPTH {
                    stack.push((path, rel, depth + 1));
                }
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    (out, false)
}

fn status_of(copies: Vec<FileCopy>) -> Status {
    let states: Vec<Option<bool>> = copies.iter().map(FileCopy::existing).collect();
    if states.iter().all(|s| *s == Some(true)) {
        Status::Same
    } else if states.contains(&Some(false)) {
        Status::Conflict(Change::Files(copies))
    } else {
        Status::New(Change::Files(copies))
    }
}

/// Commands (`.md`, `.toml`) or agents (`.md`): one item per file.
fn definition_files(from: &Path, to: &Path, kind: &str, exts: &[&str], items: &mut Vec<Item>) {
    if !from.is_dir() {
        return;
    }
    let (files, cut) = walk(from);
    if cut {
        items.push(Item::skipped(
            format!("{kind}s beyond the first {MAX_ENTRIES} entries"),
            "too many files",
        ));
    }
    for rel in files {
        let ext_ok = Path::new(&rel)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)));
        let label = match kind {
            "command" => {
                let stem = rel.rsplit_once('.').map_or(rel.as_str(), |(s, _)| s);
                format!("command /{} ({rel})", stem.replace('/', ":"))
            }
            _ => format!("{kind} {rel}"),
        };
        if !ext_ok {
            items.push(Item::skipped(
                format!("{kind}s/{rel}"),
                format!("not a {kind} file ({})", exts.join(" or ")),
            ));
            continue;
        }
        match read_inside(from, &from.join(&rel), MAX_FILE_BYTES) {
            Ok((bytes, executable)) => items.push(Item::new(
                label,
                status_of(vec![FileCopy {
                    to: to.join(&rel),
                    bytes,
                    executable,
                }]),
            )),
            Err(why) => items.push(Item::skipped(label, why)),
        }
    }
}

/// Skills: each folder under `from` holding a `SKILL.md`, copied whole.
fn skills(from: &Path, to: &Path, items: &mut Vec<Item>) {
    let Ok(entries) = fs::read_dir(from) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let dir = from.join(&name);
        let label = format!("skill {name}");
        let inside = fs::canonicalize(&dir)
            .ok()
            .zip(fs::canonicalize(from).ok())
            .is_some_and(|(d, r)| d.starts_with(r));
        if !inside {
            items.push(Item::skipped(
                label,
                "a link that leads outside the skills folder is not followed",
            ));
            continue;
        }
        if !dir.is_dir() {
            continue;
        }
        if !dir.join("SKILL.md").is_file() {
            items.push(Item::skipped(label, "no SKILL.md in the folder"));
            continue;
        }
        let (files, cut) = walk(&dir);
        if cut {
            items.push(Item::skipped(
                label,
                format!("more than {MAX_ENTRIES} files"),
            ));
            continue;
        }
        let mut copies = Vec::new();
        let mut total = 0u64;
        let mut problem = None;
        for rel in files {
            match read_inside(&dir, &dir.join(&rel), MAX_FILE_BYTES) {
                Ok((bytes, executable)) => {
                    total += bytes.len() as u64;
                    copies.push(FileCopy {
                        to: to.join(&name).join(&rel),
                        bytes,
                        executable,
                    });
                }
                Err(why) => {
                    problem = Some(format!("{rel}: {why}"));
                    break;
                }
            }
        }
        if total > MAX_SKILL_BYTES {
            problem = Some(format!(
                "the folder holds more than {} MiB",
                MAX_SKILL_BYTES / (1024 * 1024)
            ));
        }
        let n = copies.len();
        match problem {
            Some(why) => items.push(Item::skipped(label, why)),
            None => items.push(Item::new(
                format!("{label} ({n} file{})", if n == 1 { "" } else { "s" }),
                status_of(copies),
            )),
        }
    }
}

/// The items for `commands/`, `skills/`, `agents/` and the global context files of `source`.
pub(super) fn plan_files(source: &Path, qcode_home: &Path, context_names: &[String]) -> Vec<Item> {
    let mut items = Vec::new();
    definition_files(
        &source.join("commands"),
        &qcode_home.join("commands"),
        "command",
        &["md", "toml"],
        &mut items,
    );
    skills(
        &source.join("skills"),
        &qcode_home.join("skills"),
        &mut items,
    );
    definition_files(
        &source.join("agents"),
        &qcode_home.join("agents"),
        "agent",
        &["md"],
        &mut items,
    );
    for name in context_names {
        let plain = !name.is_empty()
            && !name.contains('/')
            && !name.contains('\\')
            && name != "."
            && name != "..";
        let from = source.join(name);
        if !plain || !from.exists() {
            continue;
        }
        let label = format!("context file {name}");
        match read_inside(source, &from, MAX_FILE_BYTES) {
            Ok((bytes, _)) => items.push(Item::new(
                label,
                status_of(vec![FileCopy {
                    to: qcode_home.join(name),
                    bytes,
                    executable: false,
                }]),
            )),
            Err(why) => items.push(Item::skipped(label, why)),
        }
    }
    items
}
