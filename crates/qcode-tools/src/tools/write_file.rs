//! `write_file`: replaces (or creates) a whole file, atomically, keeping an existing file's
//! permissions, BOM/encoding and CRLF style.

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use qcode_protocol::ApprovalDetails;

use std::sync::Arc;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::{
    Decoded, Encoding, TextFile, decode, diff_stats, unified_diff, write_atomic,
};
use crate::tracker::{ChangeTracker, append_notices};

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::WriteFile,
    name: "write_file",
    kind: ToolKind::Edit,
    description: "Writes the complete content of a file, creating it (and missing parent \
        directories) or replacing it entirely. Use an absolute path (a relative path is resolved \
        against the workspace root). Prefer `edit` for changing part of an existing file; use \
        write_file for new files or complete rewrites, and read an existing file first. The \
        write is atomic; an existing file keeps its permissions, byte-order mark and CRLF line \
        endings. The user may be asked to approve a diff first.",
    params: &[
        Param {
            name: "file_path",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Absolute path of the file to write (or relative to the workspace root).",
        },
        Param {
            name: "content",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The complete new content of the file.",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    file_path: String,
    content: String,
}

/// What is on disk before a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Existing {
    Missing,
    Text(TextFile),
    Binary(&'static str),
}

impl Existing {
    pub(crate) fn text(&self) -> &str {
        match self {
            Existing::Text(f) => &f.text,
            Existing::Missing | Existing::Binary(_) => "",
        }
    }
}

/// Reads what a path holds now. Errors are messages for the model.
pub(crate) fn load(path: &ResolvedPath) -> Result<Existing, String> {
    match std::fs::metadata(&path.path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display)),
        Ok(m) if m.is_dir() => {
            return Err(format!("{} is a directory, not a file", path.display));
        }
        Ok(_) => {}
    }
    let bytes =
        std::fs::read(&path.path).map_err(|e| format!("cannot read {}: {e}", path.display))?;
    Ok(match decode(&bytes) {
        Decoded::Text(f) => Existing::Text(f),
        Decoded::Binary(what) => Existing::Binary(what),
    })
}

#[derive(Debug)]
pub(crate) struct Plan {
    path: ResolvedPath,
    before: Existing,
    after: TextFile,
    diff: String,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let path = super::resolve_arg(DEF.name, ctx, &args.file_path)?;
    let before = load(&path).map_err(|m| ToolError::rejected(DEF.name, m))?;
    let content = args
        .content
        .strip_prefix('\u{feff}')
        .unwrap_or(&args.content)
        .to_string();
    let after = match &before {
        Existing::Text(f) if f.encoding != Encoding::LossyUtf8 => f.with_text(content),
        Existing::Text(_) | Existing::Missing | Existing::Binary(_) => TextFile::new_utf8(content),
    };
    let mut diff = unified_diff(before.text(), &after.text, &path.display);
    if let Existing::Binary(what) = &before {
        diff = format!("(replaces a binary file: {what})\n{diff}");
    }
    let facts = Facts {
        summary: format!("Write {}", path.display),
        outside_workspace: path.outside,
        private_network: false,
        details: ApprovalDetails::Edit {
            path: path.display.clone(),
            diff: diff.clone(),
        },
        permission_key: DEF.name.to_string(),
        escapes_sandbox: false,
    };
    Ok((
        facts,
        Plan {
            path,
            before,
            after,
            diff,
        },
    ))
}

pub(crate) async fn execute(
    plan: Plan,
    tracker: Option<Arc<dyn ChangeTracker>>,
    cancel: &CancellationToken,
) -> ToolResult {
    run_blocking(DEF.name, cancel, move || write(plan, tracker.as_deref())).await
}

fn write(plan: Plan, tracker: Option<&dyn ChangeTracker>) -> ToolResult {
    let display = &plan.path.display;
    match load(&plan.path) {
        Ok(now) if now == plan.before => {}
        Ok(_) => {
            return ToolResult::error(format!(
                "write_file: {display} changed on disk after this write was proposed; read it \
                 again and repeat the write if it is still wanted"
            ));
        }
        Err(m) => return ToolResult::error(format!("write_file: {m}")),
    }
    let tracked = tracker.map_or(Ok(()), |t| t.before_write(&plan.path.path));
    if let Err(e) = write_atomic(&plan.path.path, &plan.after.encode()) {
        return ToolResult::error(format!("write_file: cannot write {display}: {e}"));
    }
    let lines = plan.after.text.lines().count();
    let output = match &plan.before {
        Existing::Missing => format!("Created {display} ({lines} lines)."),
        Existing::Text(f) if f.text == plan.after.text => {
            format!("{display} already had this content; nothing changed.")
        }
        Existing::Text(f) => {
            let (added, removed) = diff_stats(&f.text, &plan.after.text);
            format!("Wrote {display} ({lines} lines; +{added} -{removed}).")
        }
        Existing::Binary(_) => {
            format!("Replaced binary file {display} with {lines} lines of text.")
        }
    };
    let result = ToolResult {
        diff: Some(plan.diff),
        ..ToolResult::success(output)
    };
    append_notices(result, &[], tracked.err().as_deref())
}
