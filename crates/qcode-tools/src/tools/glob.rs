//! `glob`: finds files whose path matches a glob pattern, most recently modified first.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::walk;
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::{ResolvedPath, display_path, place};
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};

/// Most paths returned by one call.
pub const MAX_RESULTS: usize = 1000;
/// Files modified more recently than this are listed first, newest first.
const RECENT: Duration = Duration::from_secs(24 * 3600);

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::Glob,
    name: "glob",
    kind: ToolKind::ReadOnly,
    description: "Finds files whose path matches a glob pattern, such as `**/*.rs`, \
        `src/**/*.{ts,tsx}` or `*.toml`. The pattern is matched against paths relative to the \
        search directory; `*` does not cross `/` (so `*.rs` matches only the top level — use \
        `**/*.rs` for all levels). Files ignored by .gitignore and the .git directory are \
        skipped. Files modified in the last 24 hours come first (newest first), then the rest \
        in alphabetical order; at most 1000 paths are returned. Use this to find files by name; \
        use grep_search to find files by content.",
    params: &[
        Param {
            name: "pattern",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Glob pattern, e.g. `**/*.rs` or `src/**/test_*.py`.",
        },
        Param {
            name: "path",
            ty: Ty::Str,
            presence: Presence::Optional,
            description: "Directory to search (absolute, or relative to the workspace root). Defaults to the workspace root.",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    pattern: String,
    path: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Plan {
    dir: ResolvedPath,
    pattern: String,
    matcher: GlobMatcher,
}

/// Splits an absolute pattern into its literal directory prefix and the glob part.
fn split_absolute(pattern: &str) -> (Option<PathBuf>, String) {
    if !pattern.starts_with('/') {
        return (None, pattern.to_string());
    }
    let is_meta = |s: &str| s.contains(['*', '?', '[', '{']);
    let parts: Vec<&str> = pattern.split('/').collect();
    let literal = parts.iter().take_while(|p| !is_meta(p)).count();
    if literal >= parts.len() {
        // No glob characters: a plain path; search its parent for its name.
        let p = Path::new(pattern);
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return (p.parent().map(Path::to_path_buf), name);
    }
    let dir: PathBuf = parts[..literal].join("/").into();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        dir
    };
    (Some(dir), parts[literal..].join("/"))
}

pub(crate) fn build_glob(tool: &str, pattern: &str) -> Result<GlobMatcher, ToolError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| ToolError::invalid(tool, format!("invalid glob pattern `{pattern}`: {e}")))
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let (abs_dir, pattern) = split_absolute(args.pattern.trim());
    if pattern.is_empty() {
        return Err(ToolError::invalid(
            DEF.name,
            "parameter `pattern` is empty; pass a glob such as `**/*.rs`",
        ));
    }
    let raw_dir = match (abs_dir, &args.path) {
        (Some(d), _) => d.display().to_string(),
        (None, Some(p)) => p.clone(),
        (None, None) => ".".to_string(),
    };
    let dir = super::resolve_arg(DEF.name, ctx, &raw_dir)?.for_reading();
    if !dir.path.is_dir() {
        return Err(ToolError::rejected(
            DEF.name,
            format!(
                "{} is not a directory; pass a directory as `path`",
                dir.display
            ),
        ));
    }
    let matcher = build_glob(DEF.name, &pattern)?;
    let mut facts = Facts::simple(&DEF, format!("Glob {pattern} in {}", dir.display));
    facts.outside_workspace = dir.outside;
    Ok((
        facts,
        Plan {
            dir,
            pattern,
            matcher,
        },
    ))
}

pub(crate) async fn execute(
    plan: Plan,
    ctx: &ToolContext,
    cancel: &CancellationToken,
) -> ToolResult {
    let ctx = ctx.clone();
    let token = cancel.clone();
    run_blocking(DEF.name, cancel, move || run(plan, &ctx, &token)).await
}

fn run(plan: Plan, ctx: &ToolContext, cancel: &CancellationToken) -> ToolResult {
    let found: Mutex<Vec<(PathBuf, SystemTime)>> = Mutex::new(Vec::new());
    let root = plan.dir.path.clone();
    walk::builder(&root).build_parallel().run(|| {
        let found = &found;
        let root = &root;
        let matcher = &plan.matcher;
        Box::new(move |entry| {
            if cancel.is_cancelled() {
                return ignore::WalkState::Quit;
            }
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if matcher.is_match(rel) {
                let mtime = entry
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                if let Ok(mut f) = found.lock() {
                    f.push((entry.into_path(), mtime));
                }
            }
            ignore::WalkState::Continue
        })
    });
    if cancel.is_cancelled() {
        return ToolResult::cancelled("glob: cancelled");
    }
    let mut found = found.into_inner().unwrap_or_default();
    let now = SystemTime::now();
    sort_recent_first(&mut found, now);
    let total = found.len();
    if total == 0 {
        let mut msg = format!(
            "No files found matching `{}` in {}.",
            plan.pattern,
            place(&plan.dir.display)
        );
        if !plan.pattern.contains('/') {
            msg.push_str(&format!(
                " The pattern has no `/`, so it only matches files directly in that directory; \
                 use `**/{}` to search subdirectories too.",
                plan.pattern
            ));
        }
        return ToolResult::success(msg);
    }
    let mut out = format!(
        "Found {total} file(s) matching `{}` in {} (recently modified first):\n",
        plan.pattern,
        place(&plan.dir.display)
    );
    for (path, _) in found.iter().take(MAX_RESULTS) {
        out.push_str(&display_path(ctx, path));
        out.push('\n');
    }
    if total > MAX_RESULTS {
        out.push_str(&format!(
            "[showing {MAX_RESULTS} of {total} files; use a more specific pattern or path]\n"
        ));
    }
    ToolResult::success(out.trim_end().to_string())
}

/// Files modified within the last 24 hours first (newest first), then the rest by path.
pub(crate) fn sort_recent_first(found: &mut [(PathBuf, SystemTime)], now: SystemTime) {
    let is_recent = |t: &SystemTime| now.duration_since(*t).map(|d| d < RECENT).unwrap_or(true);
    found.sort_by(|(pa, ta), (pb, tb)| match (is_recent(ta), is_recent(tb)) {
        (true, true) => tb.cmp(ta).then_with(|| pa.cmp(pb)),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => pa.cmp(pb),
    });
}
