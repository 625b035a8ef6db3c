//! `list_directory`: the entries of one directory, directories first, honouring .gitignore.

use std::ffi::OsString;
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::walk;
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};

/// Most entries returned by one call.
pub const MAX_ENTRIES: usize = 1000;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::ListDirectory,
    name: "list_directory",
    kind: ToolKind::ReadOnly,
    description: "Lists the files and subdirectories directly inside a directory (not \
        recursive): directories first, marked with a trailing `/`, then files, each group in \
        alphabetical order. Entries ignored by .gitignore and the .git directory are left out \
        (the number left out is reported). `ignore` takes glob patterns matched against entry \
        names to leave out more (e.g. [\"*.log\", \"node_modules\"]). Use an absolute path (a \
        relative path is resolved against the workspace root). For finding files in a whole \
        tree, use glob.",
    params: &[
        Param {
            name: "path",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Directory to list (absolute, or relative to the workspace root).",
        },
        Param {
            name: "ignore",
            ty: Ty::StrArray,
            presence: Presence::Optional,
            description: "Glob patterns of entry names to leave out.",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    path: String,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Plan {
    dir: ResolvedPath,
    ignore: GlobSet,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let dir = super::resolve_arg(DEF.name, ctx, &args.path)?.for_reading();
    match std::fs::metadata(&dir.path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(ToolError::rejected(
                DEF.name,
                format!(
                    "{} is a file, not a directory; use read_file to read it",
                    dir.display
                ),
            ));
        }
        Err(_) => {
            return Err(ToolError::rejected(
                DEF.name,
                format!("directory not found: {}", dir.display),
            ));
        }
    }
    let mut set = GlobSetBuilder::new();
    for pattern in &args.ignore {
        let glob = Glob::new(pattern).map_err(|e| {
            ToolError::invalid(
                DEF.name,
                format!("invalid pattern `{pattern}` in `ignore`: {e}"),
            )
        })?;
        set.add(glob);
    }
    let ignore = set
        .build()
        .map_err(|e| ToolError::invalid(DEF.name, format!("invalid `ignore` patterns: {e}")))?;
    let mut facts = Facts::simple(&DEF, format!("List {}", dir.display));
    facts.outside_workspace = dir.outside;
    Ok((facts, Plan { dir, ignore }))
}

pub(crate) async fn execute(
    plan: Plan,
    _ctx: &ToolContext,
    cancel: &CancellationToken,
) -> ToolResult {
    run_blocking(DEF.name, cancel, move || run(&plan)).await
}

/// An entry the ignore rules let through: its name and whether it is a directory (from the
/// directory listing itself, without a `stat`; a symlink is not followed).
type Visible = (OsString, bool);

fn run(plan: &Plan) -> ToolResult {
    let display = &plan.dir.display;
    let all = match std::fs::read_dir(&plan.dir.path) {
        Ok(rd) => rd.filter(Result::is_ok).count(),
        Err(e) => return ToolResult::error(format!("list_directory: cannot list {display}: {e}")),
    };
    // The walk applies the workspace's ignore rules (this directory's and its parents'
    // .gitignore and .ignore, git's excludes); the entries that pass them reach the filter,
    // which records them and stops the walk there, so no subdirectory is opened or descended.
    let seen: Arc<Mutex<Vec<Visible>>> = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    walk::builder(&plan.dir.path)
        .max_depth(Some(1))
        .threads(1)
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name() != ".git"
                && let Ok(mut seen) = record.lock()
            {
                seen.push((
                    e.file_name().to_os_string(),
                    e.file_type().is_some_and(|t| t.is_dir()),
                ));
            }
            false
        })
        // The parallel walker (on one thread) applies the filter before it opens a
        // subdirectory; the sequential one opens every subdirectory first.
        .build_parallel()
        .run(|| Box::new(|_| ignore::WalkState::Continue));
    let seen = match Arc::try_unwrap(seen).map(Mutex::into_inner) {
        Ok(Ok(seen)) => seen,
        _ => return ToolResult::error(format!("list_directory: cannot list {display}")),
    };
    let visible = seen.len();
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for (name, is_dir) in seen {
        if plan.ignore.is_match(&name) {
            continue;
        }
        let shown = name.to_string_lossy().into_owned();
        if is_dir {
            dirs.push(format!("{shown}/"));
        } else {
            files.push(shown);
        }
    }
    dirs.sort_unstable();
    files.sort_unstable();
    let git_hidden = all.saturating_sub(visible);
    let user_hidden = visible - dirs.len() - files.len();
    let total = dirs.len() + files.len();
    let mut out = if total == 0 {
        format!("Directory {display} is empty")
    } else {
        format!("Directory {display} ({total} entries):")
    };
    for name in dirs.iter().chain(files.iter()).take(MAX_ENTRIES) {
        out.push('\n');
        out.push_str(name);
    }
    if total == 0 && (git_hidden > 0 || user_hidden > 0) {
        out.push_str(" (apart from hidden entries)");
    }
    if total > MAX_ENTRIES {
        out.push_str(&format!(
            "\n[showing {MAX_ENTRIES} of {total} entries; use glob to narrow down]"
        ));
    }
    let mut notes = Vec::new();
    if git_hidden > 0 {
        notes.push(format!("{git_hidden} ignored by .gitignore or .git"));
    }
    if user_hidden > 0 {
        notes.push(format!("{user_hidden} matched `ignore`"));
    }
    if !notes.is_empty() {
        out.push_str(&format!("\n[not shown: {}]", notes.join(", ")));
    }
    ToolResult::success(out)
}
