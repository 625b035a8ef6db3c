//! Resolving the paths a model passes: relative to the primary workspace root, canonicalized
//! (for a path that does not exist yet, its deepest existing ancestor is canonicalized and the
//! rest applied lexically), and checked against the workspace roots so that `..`, absolute
//! paths and symlinks leading outside are flagged.

use std::path::{Component, Path, PathBuf};

use crate::context::ToolContext;

/// A path from a tool call, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedPath {
    /// The canonical absolute path (symlinks resolved) — what the tool operates on.
    pub path: PathBuf,
    /// How to show it: relative to the primary root when inside it, else absolute.
    pub display: String,
    /// True when the path resolves outside every workspace root.
    pub outside: bool,
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
    let outside = !ctx.workspace_roots.iter().any(|r| path.starts_with(r));
    Ok(ResolvedPath {
        display: display_path(ctx, &path),
        path,
        outside,
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
