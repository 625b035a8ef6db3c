//! Resolving the paths a model passes: relative to the primary workspace root, canonicalized
//! (for a path that does not exist yet, its deepest existing ancestor is canonicalized and the
//! rest applied lexically), and checked against the workspace roots so that `..`, absolute
//! paths and symlinks leading outside are flagged.
//!
//! Paths to files that configure qcode, git or the shell ([`PROTECTED_DIRS`],
//! [`PROTECTED_FILES`]) are flagged the same way for the tools that write files, so the
//! approval policy asks before `edit` or `write_file` touches them in every mode but yolo.

use std::path::{Component, Path, PathBuf};

use crate::context::ToolContext;

/// A path from a tool call, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedPath {
    /// The canonical absolute path (symlinks resolved) — what the tool operates on.
    pub path: PathBuf,
    /// How to show it: relative to the primary root when inside it, else absolute.
    pub display: String,
    /// True when the path resolves outside every workspace root, or (see
    /// [`ResolvedPath::for_reading`]) to a file that configures qcode, git or the shell.
    pub outside: bool,
    /// The entry of [`PROTECTED_DIRS`] / [`PROTECTED_FILES`] the path falls under.
    pub protected: Option<&'static str>,
}

impl ResolvedPath {
    /// The same path for a tool that only reads it: configuration files are not flagged.
    pub(crate) fn for_reading(mut self) -> Self {
        if self.protected.take().is_some() {
            self.outside = false;
        }
        self
    }
}

/// Directories whose files configure qcode, git, an editor or git hooks (matched on any
/// component of the path inside the workspace, ignoring case): git runs hooks from `.git`
/// and `.husky`, reads `.git/config` (aliases, `core.fsmonitor`, filters that run programs);
/// qcode and its relatives read settings and MCP servers from `.qcode`, `.qwen`, `.claude`;
/// editors run `.vscode/tasks.json`.
pub(crate) const PROTECTED_DIRS: &[&str] =
    &[".git", ".qcode", ".qwen", ".claude", ".vscode", ".husky"];

/// File names (ignoring case; `.env.*` by prefix) that configure tools or the shell: MCP
/// servers, environment files loaded by qcode and direnv, git's submodules and attribute
/// filters, shell start-up files, package-manager settings (registries, scripts), cargo's
/// configuration (`.cargo/config`, `.cargo/config.toml`), pre-commit hooks.
pub(crate) const PROTECTED_FILES: &[&str] = &[
    ".mcp.json",
    ".env",
    ".env.*",
    ".envrc",
    ".gitmodules",
    ".gitattributes",
    ".gitconfig",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".cargo/config",
    ".cargo/config.toml",
    ".pre-commit-config.yaml",
];

/// The protected entry `rel` (a normalised path relative to a workspace root) falls under.
pub(crate) fn protected_entry(rel: &Path) -> Option<&'static str> {
    let names: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().to_ascii_lowercase()),
            Component::CurDir
            | Component::ParentDir
            | Component::RootDir
            | Component::Prefix(_) => None,
        })
        .collect();
    let (file, dirs) = names.split_last()?;
    if let Some(dir) = names
        .iter()
        .find_map(|n| PROTECTED_DIRS.iter().find(|d| *d == n))
    {
        return Some(dir);
    }
    let parent = dirs.last().map(String::as_str);
    PROTECTED_FILES.iter().copied().find(|entry| {
        match (entry.split_once('/'), entry.strip_suffix('*')) {
            (Some((dir, name)), _) => parent == Some(dir) && file == name,
            (None, Some(prefix)) => file.starts_with(prefix),
            (None, None) => file == entry,
        }
    })
}

/// Resolves `raw` as described in the module docs. Errors are messages for the model.
pub(crate) fn resolve(ctx: &ToolContext, raw: &str) -> Result<ResolvedPath, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(
            "the path is empty; pass an absolute path or one relative to the workspace root".into(),
        );
    }
    if raw.contains('\0') {
        return Err("the path contains a NUL byte".into());
    }
    let expanded = expand_home(raw);
    let joined = if expanded.is_absolute() {
        expanded
    } else {
        ctx.primary_root().join(expanded)
    };
    let path = canonicalize_lenient(&joined);
    let root = ctx.workspace_roots.iter().find(|r| path.starts_with(r));
    let protected = root
        .and_then(|r| path.strip_prefix(r).ok())
        .and_then(protected_entry);
    Ok(ResolvedPath {
        display: display_path(ctx, &path),
        outside: root.is_none() || protected.is_some(),
        protected,
        path,
    })
}

fn expand_home(raw: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (raw, home) {
        ("~", Some(h)) => h,
        (r, Some(h)) if r.starts_with("~/") => h.join(&r[2..]),
        (r, _) => PathBuf::from(r),
    }
}

/// Canonicalizes the deepest existing ancestor of an absolute path and applies the remaining
/// components lexically (`..` pops, `.` is dropped).
pub(crate) fn canonicalize_lenient(path: &Path) -> PathBuf {
    let components: Vec<Component<'_>> = path.components().collect();
    for split in (1..=components.len()).rev() {
        let prefix: PathBuf = components[..split].iter().collect();
        if let Ok(mut base) = std::fs::canonicalize(&prefix) {
            for c in &components[split..] {
                match c {
                    Component::Normal(name) => base.push(name),
                    Component::ParentDir => {
                        base.pop();
                    }
                    Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
                }
            }
            return base;
        }
    }
    // Nothing exists (not even "/"): normalise lexically.
    let mut out = PathBuf::from("/");
    for c in &components {
        match c {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Shows a path relative to the primary root when inside it ("." for the root itself).
pub(crate) fn display_path(ctx: &ToolContext, path: &Path) -> String {
    match path.strip_prefix(ctx.primary_root()) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// A displayed path as a place in a sentence: "." reads "the workspace root".
pub(crate) fn place(display: &str) -> &str {
    if display == "." {
        "the workspace root"
    } else {
        display
    }
}
