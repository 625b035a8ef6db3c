//! The one loader under commands, skills and agent definitions: roots with a scope and a trust
//! flag, safe discovery (no symlink escapes, no special files, a size cap), frontmatter, and
//! precedence (later roots override earlier ones; built-in names always win).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// The largest definition file read; a bigger one is refused with a clear error.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// How deep subdirectories are searched under a root.
pub const MAX_DEPTH: usize = 6;
/// How many directory entries one root may hold before the rest is ignored (and reported).
pub const MAX_ENTRIES: usize = 5_000;

/// Where a definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The user's own directory (`~/.qcode/…`).
    User,
    /// The project (`<project>/.qcode/…`, `.qwen/…`, `.agents/…`).
    Project,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Project => "project",
        }
    }
}

/// Whether the folder a root belongs to is trusted (decided by the caller; user roots are
/// always trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trust {
    Trusted,
    Untrusted,
}

/// One directory searched for definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub dir: PathBuf,
    pub scope: Scope,
    pub trust: Trust,
    /// A folder the root must resolve inside (the project for project roots): a repository's
    /// `.qcode/commands` that is a link to somewhere else is not read.
    pub within: Option<PathBuf>,
}

impl Root {
    pub fn new(dir: impl Into<PathBuf>, scope: Scope, trust: Trust) -> Self {
        Self {
            dir: dir.into(),
            scope,
            trust,
            within: None,
        }
    }

    /// A project root `<project>/<sub>`, confined to the project.
    pub fn project(project: &Path, sub: &str, trust: Trust) -> Self {
        Self {
            within: Some(project.to_path_buf()),
            ..Self::new(project.join(sub), Scope::Project, trust)
        }
    }

    /// Whether the root may be read: it must resolve inside [`Root::within`] when that is set.
    /// A missing root is fine (it holds nothing).
    pub fn check(&self) -> Result<(), String> {
        let Some(within) = &self.within else {
            return Ok(());
        };
        let Ok(real) = fs::canonicalize(&self.dir) else {
            return Ok(());
        };
        let inside = fs::canonicalize(within).is_ok_and(|w| real.starts_with(w));
        if inside {
            Ok(())
        } else {
            Err(format!(
                "the folder leads to {} outside {}; it is not read",
                real.display(),
                within.display()
            ))
        }
    }

    /// The user root `<home>/.qcode/<kind>` (always trusted).
    pub fn user(home: &Path, kind: &str) -> Self {
        Self::new(home.join(".qcode").join(kind), Scope::User, Trust::Trusted)
    }
}

/// Where a loaded definition was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    pub scope: Scope,
    pub trust: Trust,
}

/// A problem with one file (or one name); the other files still load.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// A file found under a root, already read (size-checked, regular, inside the root).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The path relative to the root, with `/` separators.
    pub relative: String,
    pub text: String,
    pub origin: Origin,
}

/// What a kind of definition is: its name, for precedence.
pub trait Named {
    fn name(&self) -> &str;
}

/// How to find candidate files under a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Every file with one of these extensions, at any depth (commands, agents).
    Files(&'static [&'static str]),
    /// Every directory holding a file of this name (skills: `SKILL.md`).
    Marker(&'static str),
}

/// Reads one file under `root` safely: a symlink must resolve inside the root, the target must
/// be a regular file (FIFOs, devices and sockets are never opened) no bigger than
/// [`MAX_FILE_BYTES`], and it must be UTF-8.
pub fn read_inside(root: &Path, path: &Path) -> Result<String, String> {
    let canonical_root =
        fs::canonicalize(root).map_err(|e| format!("cannot resolve the folder: {e}"))?;
    let target = fs::canonicalize(path).map_err(|e| format!("cannot resolve: {e}"))?;
    if !target.starts_with(&canonical_root) {
        return Err(format!(
            "a symbolic link to {} outside {} is not followed",
            target.display(),
            root.display()
        ));
    }
    let meta = fs::metadata(&target).map_err(|e| format!("cannot stat: {e}"))?;
    let kind = meta.file_type();
    if kind.is_fifo() || kind.is_socket() || kind.is_block_device() || kind.is_char_device() {
        return Err("not a regular file (a pipe, socket or device is never opened)".into());
    }
    if !kind.is_file() {
        return Err("not a regular file".into());
    }
    check_size(meta.len())?;
    // O_NONBLOCK: should the file have been swapped for a FIFO since the check, opening it
    // does not hang; the type is checked again on the open handle.
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(&target)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    check_size(meta.len())?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    check_size(bytes.len() as u64)?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

fn check_size(len: u64) -> Result<(), String> {
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "too large ({len} bytes; the limit is {} KiB)",
            MAX_FILE_BYTES / 1024
        ));
    }
    Ok(())
}

/// One directory entry seen during a walk: what [`fingerprint`] compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    path: PathBuf,
    modified: Option<std::time::SystemTime>,
    len: u64,
}

/// Walks `root` (stat only, no file is opened): every directory and file with its mtime and
/// size, in a stable order. Hidden entries are skipped; symlinks are stat'ed, not followed
/// into, when they leave the root.
pub(crate) fn walk(root: &Path) -> (Vec<Stamp>, Vec<PathBuf>, bool) {
    let mut stamps = Vec::new();
    let mut files = Vec::new();
    let mut truncated = false;
    let Ok(canonical_root) = fs::canonicalize(root) else {
        return (stamps, files, truncated);
    };
    if let Ok(meta) = fs::metadata(root) {
        stamps.push(Stamp {
            path: root.to_path_buf(),
            modified: meta.modified().ok(),
            len: 0,
        });
    }
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        let mut subdirs = Vec::new();
        for path in names {
            seen += 1;
            if seen > MAX_ENTRIES {
                truncated = true;
                break;
            }
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            let Ok(lmeta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let meta = if lmeta.file_type().is_symlink() {
                // Stat the target only if it stays inside the root.
                match fs::canonicalize(&path) {
                    Ok(t) if t.starts_with(&canonical_root) => fs::metadata(&path).ok(),
                    _ => None,
                }
            } else {
                Some(lmeta.clone())
            };
            let (modified, len) = match &meta {
                Some(m) => (m.modified().ok(), m.len()),
                None => (lmeta.modified().ok(), 0),
            };
            stamps.push(Stamp {
                path: path.clone(),
                modified,
                len,
            });
            match meta {
                Some(m) if m.is_dir() => {
                    if depth + 1 < MAX_DEPTH {
                        subdirs.push(path);
                    }
                }
                // Regular files, special files and escaping links are all candidates: reading
                // them is what reports the problem.
                _ => files.push(path),
            }
        }
        if truncated {
            break;
        }
        for d in subdirs.into_iter().rev() {
            stack.push((d, depth + 1));
        }
    }
    files.sort();
    (stamps, files, truncated)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The candidate files of one root for a layout, read safely; unreadable ones become
/// diagnostics.
pub(crate) fn collect(root: &Root, layout: Layout) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    if let Err(message) = root.check() {
        diags.push(Diagnostic {
            path: root.dir.clone(),
            message,
        });
        return (out, diags);
    }
    let (_, files, truncated) = walk(&root.dir);
    if truncated {
        diags.push(Diagnostic {
            path: root.dir.clone(),
            message: format!("more than {MAX_ENTRIES} entries; the rest is ignored"),
        });
    }
    for path in files {
        let rel = relative(&root.dir, &path);
        let wanted = match layout {
            Layout::Files(exts) => path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e))),
            Layout::Marker(marker) => {
                path.file_name().and_then(|n| n.to_str()) == Some(marker) && rel.contains('/')
            }
        };
        if !wanted {
            continue;
        }
        match read_inside(&root.dir, &path) {
            Ok(text) => out.push(SourceFile {
                path: path.clone(),
                relative: rel,
                text,
                origin: Origin {
                    path,
                    scope: root.scope,
                    trust: root.trust,
                },
            }),
            Err(message) => diags.push(Diagnostic { path, message }),
        }
    }
    (out, diags)
}

/// Splits optional YAML frontmatter (`---` … `---` at the very top) from the body and parses
/// it into `T`. No frontmatter gives `T::default()`.
pub fn frontmatter<T: DeserializeOwned + Default>(text: &str) -> Result<(T, String), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok((T::default(), text.to_string()));
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body = body.strip_prefix('\n').unwrap_or(body);
            let meta = if yaml.trim().is_empty() {
                T::default()
            } else {
                serde_yaml_ng::from_str(yaml).map_err(|e| format!("frontmatter: {e}"))?
            };
            return Ok((meta, body.to_string()));
        }
        offset += line.len();
    }
    Err("frontmatter: no closing `---` line".into())
}

/// What a refresh compares for one root: its walk, or only the root's own link when it may
/// not be read.
fn root_stamps(root: &Root) -> Vec<Stamp> {
    if root.check().is_ok() {
        return walk(&root.dir).0;
    }
    fs::symlink_metadata(&root.dir)
        .map(|m| {
            vec![Stamp {
                path: root.dir.clone(),
                modified: m.modified().ok(),
                len: m.len(),
            }]
        })
        .unwrap_or_default()
}

/// Definitions after precedence, with every problem found.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// By name, sorted.
    pub items: BTreeMap<String, T>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Default for Loaded<T> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            diagnostics: Vec::new(),
        }
    }
}

/// Parses one file into a definition (or a message for the diagnostic).
pub type ParseFn<T> = fn(&SourceFile) -> Result<T, String>;

/// Loads every root in order (later roots override earlier ones of the same name) and drops
/// definitions named like a built-in, reporting each clashing name once.
pub fn load<T: Named>(
    roots: &[Root],
    layout: Layout,
    builtins: &BTreeSet<String>,
    parse: ParseFn<T>,
) -> Loaded<T> {
    let mut loaded = Loaded::default();
    let mut clashes: BTreeMap<String, PathBuf> = BTreeMap::new();
    for root in roots {
        let (files, diags) = collect(root, layout);
        loaded.diagnostics.extend(diags);
        for file in files {
            match parse(&file) {
                Ok(item) => {
                    let name = item.name().to_string();
                    if builtins.contains(&name) {
                        clashes.entry(name).or_insert(file.path);
                    } else {
                        loaded.items.insert(name, item);
                    }
                }
                Err(message) => loaded.diagnostics.push(Diagnostic {
                    path: file.path,
                    message,
                }),
            }
        }
    }
    for (name, path) in clashes {
        loaded.diagnostics.push(Diagnostic {
            path,
            message: format!(
                "`{name}` is a built-in name; the built-in wins and this file is ignored"
            ),
        });
    }
    loaded
}

/// A set of definitions that reloads itself when a file changes: [`Catalog::refresh`] walks
/// the roots with `stat` only and re-reads everything only when a directory or file's mtime
/// or size differs from the last scan.
pub struct Catalog<T> {
    roots: Vec<Root>,
    layout: Layout,
    builtins: BTreeSet<String>,
    parse: ParseFn<T>,
    stamps: Vec<Vec<Stamp>>,
    loaded: Loaded<T>,
    reported: BTreeSet<Diagnostic>,
    scans: u64,
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Whether the files were read again.
    pub reloaded: bool,
    /// Problems not reported by an earlier refresh (each is reported once).
    pub new_diagnostics: Vec<Diagnostic>,
}

impl<T: Named> Catalog<T> {
    pub fn new(
        roots: Vec<Root>,
        layout: Layout,
        builtins: impl IntoIterator<Item = String>,
        parse: ParseFn<T>,
    ) -> Self {
        Self {
            stamps: vec![Vec::new(); roots.len()],
            roots,
            layout,
            builtins: builtins.into_iter().collect(),
            parse,
            loaded: Loaded::default(),
            reported: BTreeSet::new(),
            scans: 0,
        }
    }

    /// Re-scans if anything changed (always on the first call).
    pub fn refresh(&mut self) -> Refresh {
        let stamps: Vec<Vec<Stamp>> = self.roots.iter().map(root_stamps).collect();
        if self.scans > 0 && stamps == self.stamps {
            return Refresh::default();
        }
        self.stamps = stamps;
        self.scans += 1;
        self.loaded = load(&self.roots, self.layout, &self.builtins, self.parse);
        let mut new = Vec::new();
        for d in &self.loaded.diagnostics {
            if self.reported.insert(d.clone()) {
                new.push(d.clone());
            }
        }
        Refresh {
            reloaded: true,
            new_diagnostics: new,
        }
    }

    /// The definitions as of the last refresh, by name.
    pub fn items(&self) -> &BTreeMap<String, T> {
        &self.loaded.items
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.loaded.items.get(name)
    }

    /// Every problem of the last scan.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.loaded.diagnostics
    }

    /// How many times the files were read (for tests and `/debug` output).
    pub fn scans(&self) -> u64 {
        self.scans
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }
}
