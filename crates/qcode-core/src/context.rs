//! Project context files (`QWEN.md`, `AGENTS.md`, configurable): the global one in `~/.qcode/`,
//! then every directory from the git root down to the working directory, in that order.
//! `@path` lines inside them import other files (relative to the importing file, recursion
//! bounded, cycles ignored). Sizes are capped with a visible notice.
//!
//! A cloned repository is not trusted to choose what goes into the system prompt from outside
//! itself: a project's context file or import whose real path (symlinks resolved) lies outside
//! the project root — `AGENTS.md -> ~/.ssh/id_rsa`, `@../../.aws/credentials` — is skipped with a
//! notice, like `read_file`'s workspace rule. Files under the user's own `~/.qcode` may import
//! anything.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Bytes of one file that are used; the rest is cut with a notice.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Total bytes of all context files.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024;
const MAX_IMPORT_DEPTH: usize = 5;

/// One loaded context file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    pub path: PathBuf,
    pub content: String,
}

/// The result of loading: the files in order, and notices (truncation, unreadable imports).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectContext {
    pub files: Vec<ContextFile>,
    pub notices: Vec<String>,
}

impl ProjectContext {
    /// The text placed in the system prompt.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            out.push_str(&format!(
                "--- Context from: {} ---\n{}\n--- End of context from: {} ---\n\n",
                f.path.display(),
                f.content.trim_end(),
                f.path.display()
            ));
        }
        out
    }
}

/// Candidate context files in load order.
pub fn discover(
    global_dir: &Path,
    project_root: &Path,
    cwd: &Path,
    names: &[String],
) -> Vec<PathBuf> {
    let mut dirs = vec![global_dir.to_path_buf()];
    if let Ok(rel) = cwd.strip_prefix(project_root) {
        let mut d = project_root.to_path_buf();
        dirs.push(d.clone());
        for part in rel.components() {
            d.push(part);
            dirs.push(d.clone());
        }
    } else {
        dirs.push(cwd.to_path_buf());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        for name in names {
            let p = dir.join(name);
            if p.is_file() && seen.insert(p.clone()) {
                out.push(p);
            }
        }
    }
    out
}

/// Loads the context files with their imports.
pub fn load(
    global_dir: &Path,
    project_root: &Path,
    cwd: &Path,
    names: &[String],
) -> ProjectContext {
    let mut ctx = ProjectContext::default();
    let mut total = 0usize;
    let project =
        std::fs::canonicalize(project_root).unwrap_or_else(|_| project_root.to_path_buf());
    for path in discover(global_dir, project_root, cwd, names) {
        let mut visiting = HashSet::new();
        let mut content = String::new();
        let confine = if path.starts_with(global_dir) {
            Confine::Anywhere
        } else {
            Confine::Inside(&project)
        };
        if !expand(
            &path,
            0,
            confine,
            &mut visiting,
            &mut content,
            &mut ctx.notices,
        ) {
            continue;
        }
        if content.len() > MAX_FILE_BYTES {
            truncate_at_char(&mut content, MAX_FILE_BYTES);
            content.push_str("\n[... truncated ...]\n");
            ctx.notices.push(format!(
                "{} is larger than {} KiB; only the beginning is used",
                path.display(),
                MAX_FILE_BYTES / 1024
            ));
        }
        if total + content.len() > MAX_TOTAL_BYTES {
            ctx.notices.push(format!(
                "context files exceed {} KiB in total; {} and later files are left out",
                MAX_TOTAL_BYTES / 1024,
                path.display()
            ));
            break;
        }
        total += content.len();
        ctx.files.push(ContextFile { path, content });
    }
    ctx
}

/// Where a context file's real path may be.
#[derive(Clone, Copy)]
enum Confine<'a> {
    /// The user's own files.
    Anywhere,
    /// A project's files: inside this (canonical) root.
    Inside(&'a Path),
}

/// Appends `path` (with its imports) to `out`; `false` when it was skipped entirely.
fn expand(
    path: &Path,
    depth: usize,
    confine: Confine<'_>,
    visiting: &mut HashSet<PathBuf>,
    out: &mut String,
    notices: &mut Vec<String>,
) -> bool {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Confine::Inside(root) = confine
        && !key.starts_with(root)
    {
        notices.push(format!(
            "context file {} leads outside the project (to {}); skipped",
            path.display(),
            key.display()
        ));
        return false;
    }
    if !key.is_file() {
        notices.push(format!(
            "context file {} is not a regular file; skipped",
            path.display()
        ));
        return false;
    }
    if !visiting.insert(key.clone()) {
        return false;
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            notices.push(format!("cannot read context file {}: {e}", path.display()));
            visiting.remove(&key);
            return false;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
        }
        match trimmed.strip_prefix('@') {
            Some(target) if !in_fence && is_import_target(target) => {
                if depth >= MAX_IMPORT_DEPTH {
                    notices.push(format!(
                        "import {target} in {} is nested too deeply; skipped",
                        path.display()
                    ));
                    continue;
                }
                let target_path = base.join(target);
                expand(&target_path, depth + 1, confine, visiting, out, notices);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
        if out.len() > MAX_TOTAL_BYTES {
            break;
        }
    }
    visiting.remove(&key);
    true
}

fn is_import_target(t: &str) -> bool {
    !t.is_empty() && !t.contains(char::is_whitespace) && (t.contains('/') || t.contains('.'))
}

fn truncate_at_char(s: &mut String, max: usize) {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_imports_and_cycles() {
        let t = tempfile::tempdir().unwrap();
        let global = t.path().join("g");
        let root = t.path().join("repo");
        let cwd = root.join("pkg");
        std::fs::create_dir_all(&global).unwrap();
        std::fs::create_dir_all(cwd.join("docs")).unwrap();
        std::fs::write(global.join("QWEN.md"), "global facts").unwrap();
        std::fs::write(root.join("AGENTS.md"), "root agents\n@pkg/docs/style.md\n").unwrap();
        std::fs::write(cwd.join("docs/style.md"), "style rules\n@../../AGENTS.md\n").unwrap();
        std::fs::write(
            cwd.join("QWEN.md"),
            "pkg facts\n```\n@not/an/import.md\n```\n",
        )
        .unwrap();
        let names = vec!["QWEN.md".to_string(), "AGENTS.md".to_string()];
        let ctx = load(&global, &root, &cwd, &names);
        let paths: Vec<_> = ctx.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                global.join("QWEN.md"),
                root.join("AGENTS.md"),
                cwd.join("QWEN.md")
            ]
        );
        assert_eq!(ctx.files[1].content, "root agents\nstyle rules\n");
        assert!(ctx.files[2].content.contains("@not/an/import.md"));
        assert!(ctx.notices.is_empty(), "{:?}", ctx.notices);
    }

    /// A cloned repository's `AGENTS.md -> ~/.ssh/id_rsa` or `@../secret` must not put the
    /// user's files into the system prompt.
    #[test]
    fn project_context_never_leaves_the_project() {
        let t = tempfile::tempdir().unwrap();
        let global = t.path().join("g");
        let root = t.path().join("repo");
        std::fs::create_dir_all(&global).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        let secret = t.path().join("id_rsa");
        std::fs::write(&secret, "PRIVATE-KEY-CANARY").unwrap();
        std::os::unix::fs::symlink(&secret, root.join("AGENTS.md")).unwrap();
        std::fs::write(root.join("QWEN.md"), "facts\n@../id_rsa\n@./ok.md\n").unwrap();
        std::fs::write(root.join("ok.md"), "fine").unwrap();
        // The user's own file may import from anywhere.
        std::fs::write(global.join("QWEN.md"), "@../id_rsa\n").unwrap();
        let names = vec!["QWEN.md".to_string(), "AGENTS.md".to_string()];
        let ctx = load(&global, &root, &root, &names);
        let project: Vec<_> = ctx
            .files
            .iter()
            .filter(|f| f.path.starts_with(&root))
            .collect();
        assert_eq!(project.len(), 1, "{:?}", ctx.files);
        assert_eq!(project[0].content, "facts\nfine\n");
        assert!(
            ctx.render().matches("PRIVATE-KEY-CANARY").count() == 1,
            "only via the user's own file"
        );
        assert_eq!(
            ctx.notices
                .iter()
                .filter(|n| n.contains("leads outside the project"))
                .count(),
            2,
            "{:?}",
            ctx.notices
        );
    }

    #[test]
    fn caps_with_notice() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("QWEN.md"), "é".repeat(MAX_FILE_BYTES)).unwrap();
        let ctx = load(
            &t.path().join("none"),
            t.path(),
            t.path(),
            &["QWEN.md".to_string()],
        );
        assert!(ctx.files[0].content.len() < MAX_FILE_BYTES + 40);
        assert!(ctx.files[0].content.ends_with("[... truncated ...]\n"));
        assert_eq!(ctx.notices.len(), 1);
    }
}
