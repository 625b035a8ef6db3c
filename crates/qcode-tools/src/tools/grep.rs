//! `grep_search`: a regex search over the workspace with ripgrep's crates (parallel walk,
//! .gitignore-aware, binary files skipped), reported as `path:line:text` grouped by file.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::GlobMatcher;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, SearcherBuilder, sinks};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::walk;
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::{ResolvedPath, display_path, place};
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::truncate_at_char;

/// Matching lines returned when no `limit` is given.
pub const DEFAULT_LIMIT: u64 = 200;
/// Largest accepted `limit`.
pub const MAX_LIMIT: u64 = 20_000;
/// Matching lines longer than this are cut.
const MAX_LINE_CHARS: usize = 400;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::GrepSearch,
    name: "grep_search",
    kind: ToolKind::ReadOnly,
    description: "Searches file contents for a regular expression (Rust regex syntax, like \
        ripgrep: `fn\\s+main`, `TODO|FIXME`; case-sensitive — start the pattern with `(?i)` to \
        ignore case). Searches the workspace root, or `path` (a directory or a single file), \
        skipping files ignored by .gitignore, the .git directory and binary files. `glob` \
        restricts which files are searched (e.g. `*.rs`, `*.{ts,tsx}`, `src/**/*.py`; a \
        pattern without `/` is matched against file names). Results are lines formatted \
        `path:line:text`, grouped by file, paths relative to the workspace root; at most \
        `limit` lines (default 200) are returned, with a note when there are more.",
    params: &[
        Param {
            name: "pattern",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Regular expression to search for.",
        },
        Param {
            name: "path",
            ty: Ty::Str,
            presence: Presence::Optional,
            description: "Directory or file to search (absolute, or relative to the workspace root). Defaults to the workspace root.",
        },
        Param {
            name: "glob",
            ty: Ty::Str,
            presence: Presence::Optional,
            description: "Only search files matching this glob, e.g. `*.rs` or `src/**/*.{ts,tsx}`.",
        },
        Param {
            name: "limit",
            ty: Ty::Int {
                min: 1,
                max: MAX_LIMIT,
            },
            presence: Presence::Optional,
            description: "Maximum number of matching lines to return (default 200).",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    pattern: String,
    path: Option<String>,
    glob: Option<String>,
    limit: Option<u64>,
}

/// Which part of a path the `glob` filter is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobTarget {
    FileName,
    RelativePath,
}

#[derive(Debug)]
pub(crate) struct Plan {
    root: ResolvedPath,
    pattern: String,
    matcher: RegexMatcher,
    glob: Option<(String, GlobMatcher, GlobTarget)>,
    limit: usize,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    if args.pattern.is_empty() {
        return Err(ToolError::invalid(
            DEF.name,
            "parameter `pattern` is empty; pass a regular expression",
        ));
    }
    let matcher = RegexMatcherBuilder::new()
        .line_terminator(Some(b'\n'))
        .build(&args.pattern)
        .map_err(|e| {
            ToolError::invalid(
                DEF.name,
                format!(
                    "invalid regular expression `{}`: {e}. Escape special characters such as \
                     `(`, `[`, `{{`, `.` with `\\` to match them literally",
                    args.pattern
                ),
            )
        })?;
    let root =
        super::resolve_arg(DEF.name, ctx, args.path.as_deref().unwrap_or("."))?.for_reading();
    if !root.path.exists() {
        return Err(ToolError::rejected(
            DEF.name,
            format!("path not found: {}", root.display),
        ));
    }
    let glob = match args
        .glob
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => None,
        Some(g) => {
            let target = if g.contains('/') {
                GlobTarget::RelativePath
            } else {
                GlobTarget::FileName
            };
            Some((g.to_string(), super::glob::build_glob(DEF.name, g)?, target))
        }
    };
    let summary = format!("Grep /{}/ in {}", args.pattern, root.display);
    let mut facts = Facts::simple(&DEF, summary);
    facts.outside_workspace = root.outside;
    Ok((
        facts,
        Plan {
            root,
            pattern: args.pattern,
            matcher,
            glob,
            limit: args.limit.unwrap_or(DEFAULT_LIMIT) as usize,
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
    run_blocking(DEF.name, cancel, move || run(&plan, &ctx, &token)).await
}

/// The matches of one file.
struct FileMatches {
    path: PathBuf,
    lines: Vec<(u64, String)>,
}

fn run(plan: &Plan, ctx: &ToolContext, cancel: &CancellationToken) -> ToolResult {
    let results: Mutex<Vec<FileMatches>> = Mutex::new(Vec::new());
    let total = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    // Collect one more than the limit so truncation can be reported.
    let cap = plan.limit + 1;
    let root = &plan.root.path;
    walk::builder(root).build_parallel().run(|| {
        let matcher = plan.matcher.clone();
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .binary_detection(BinaryDetection::quit(0))
            .build();
        let results = &results;
        let total = &total;
        let errors = &errors;
        Box::new(move |entry| {
            if cancel.is_cancelled() || total.load(Ordering::Relaxed) >= cap {
                return ignore::WalkState::Quit;
            }
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            if let Some((_, glob, target)) = &plan.glob {
                let hit = match target {
                    GlobTarget::FileName => glob.is_match(entry.file_name()),
                    GlobTarget::RelativePath => {
                        glob.is_match(entry.path().strip_prefix(root).unwrap_or(entry.path()))
                    }
                };
                if !hit {
                    return ignore::WalkState::Continue;
                }
            }
            let mut lines = Vec::new();
            let outcome = searcher.search_path(
                &matcher,
                entry.path(),
                sinks::Lossy(|lnum, line| {
                    let line = line.trim_end_matches(['\n', '\r']);
                    lines.push((lnum, truncate_line(line)));
                    let before = total.fetch_add(1, Ordering::Relaxed);
                    Ok(before + 1 < cap)
                }),
            );
            if outcome.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            if !lines.is_empty()
                && let Ok(mut r) = results.lock()
            {
                r.push(FileMatches {
                    path: entry.into_path(),
                    lines,
                });
            }
            ignore::WalkState::Continue
        })
    });
    if cancel.is_cancelled() {
        return ToolResult::cancelled("grep_search: cancelled");
    }
    let mut files = results.into_inner().unwrap_or_default();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    format_results(plan, ctx, files, errors.into_inner())
}

fn truncate_line(line: &str) -> String {
    if line.len() > MAX_LINE_CHARS {
        format!("{}... [line cut]", truncate_at_char(line, MAX_LINE_CHARS))
    } else {
        line.to_string()
    }
}

fn format_results(
    plan: &Plan,
    ctx: &ToolContext,
    files: Vec<FileMatches>,
    errors: usize,
) -> ToolResult {
    let found: usize = files.iter().map(|f| f.lines.len()).sum();
    let filter = plan
        .glob
        .as_ref()
        .map(|(g, _, _)| format!(" (files matching `{g}`)"))
        .unwrap_or_default();
    let unreadable = if errors > 0 {
        format!("\n[{errors} file(s) could not be read]")
    } else {
        String::new()
    };
    if found == 0 {
        return ToolResult::success(format!(
            "No matches for /{}/ in {}{filter}.{unreadable}",
            plan.pattern,
            place(&plan.root.display)
        ));
    }
    let truncated = found > plan.limit;
    let shown = found.min(plan.limit);
    let count = if truncated {
        format!("more than {}", plan.limit)
    } else {
        found.to_string()
    };
    let mut out = format!(
        "Found {count} matching line(s) for /{}/ in {}{filter}:\n",
        plan.pattern,
        place(&plan.root.display)
    );
    let mut left = shown;
    for file in &files {
        if left == 0 {
            break;
        }
        let name = display_path(ctx, &file.path);
        out.push('\n');
        for (lnum, text) in file.lines.iter().take(left) {
            out.push_str(&format!("{name}:{lnum}:{text}\n"));
            left -= 1;
        }
    }
    if truncated {
        out.push_str(&format!(
            "\n[showing the first {shown} matching lines found; there are more. Narrow the \
             search with a more specific pattern, `path` or `glob`, or raise `limit`]"
        ));
    }
    out.push_str(&unreadable);
    ToolResult::success(out.trim_end().to_string())
}
