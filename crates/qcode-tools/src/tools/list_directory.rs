//! `list_directory`: the entries of one directory, directories first, honouring .gitignore.

use std::collections::HashSet;
use std::ffi::OsString;

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

fn run(plan: &Plan) -> ToolResult {
    let display = &plan.dir.display;
    let all: Vec<OsString> = match std::fs::read_dir(&plan.dir.path) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.file_name()).collect(),
        Err(e) => return ToolResult::error(format!("list_directory: cannot list {display}: {e}")),
    };
    let mut visible: HashSet<OsString> = HashSet::new();
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for entry in walk::builder(&plan.dir.path).max_depth(Some(1)).build() {
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        let name = entry.file_name().to_os_string();
        visible.insert(name.clone());
        if plan.ignore.is_match(&name) {
            continue;
        }
        let shown = name.to_string_lossy().into_owned();
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            dirs.push(format!("{shown}/"));
        } else {
            files.push(shown);
        }
    }
    dirs.sort();
    files.sort();
    let git_hidden = all.iter().filter(|n| !visible.contains(*n)).count();
    let user_hidden = visible.len() - dirs.len() - files.len();
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
