//! `edit`: exact-string replacement in a file, unique unless `replace_all`; keeps the file's
//! CRLF line endings, BOM and encoding; creates a file when `old_string` is empty.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use qcode_protocol::ApprovalDetails;

use super::write_file::{Existing, load};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::{Encoding, LineEnding, TextFile, diff_stats, unified_diff, write_atomic};
use crate::tracker::{ChangeTracker, append_notices};

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::Edit,
    name: "edit",
    kind: ToolKind::Edit,
    description: "Replaces text in a file. `old_string` must match the file's current content \
        exactly — including whitespace, indentation and line breaks — so read the file with \
        read_file first and copy the text from there. It must occur exactly once unless \
        `replace_all` is true; include a few lines of surrounding context to make it unique. \
        To create a new file, pass an empty `old_string` and the whole content as `new_string`. \
        The file's line endings (LF/CRLF), byte-order mark and encoding are preserved. Use an \
        absolute path (a relative path is resolved against the workspace root). The user may be \
        asked to approve the diff first.",
    params: &[
        Param {
            name: "file_path",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Absolute path of the file to change (or relative to the workspace root).",
        },
        Param {
            name: "old_string",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The exact text to replace, copied from the file (empty to create a new file).",
        },
        Param {
            name: "new_string",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The text to put in its place.",
        },
        Param {
            name: "replace_all",
            ty: Ty::Bool,
            presence: Presence::Optional,
            description: "Replace every occurrence of old_string instead of requiring exactly one (default false).",
        },
    ],
};

#[derive(Debug, Clone, Deserialize)]
struct Args {
    file_path: String,
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

#[derive(Debug)]
pub(crate) struct Plan {
    path: ResolvedPath,
    args: Args,
    diff: String,
}

/// The result of applying an edit to the current content.
struct Applied {
    after: TextFile,
    replacements: usize,
    diff: String,
    before_text: String,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let path = super::resolve_arg(DEF.name, ctx, &args.file_path)?;
    let existing = load(&path).map_err(|m| ToolError::rejected(DEF.name, m))?;
    let applied = apply(&existing, &args, &path).map_err(|m| ToolError::rejected(DEF.name, m))?;
    let facts = Facts {
        summary: format!("Edit {}", path.display),
        outside_workspace: path.outside,
        private_network: false,
        details: ApprovalDetails::Edit {
            path: path.display.clone(),
            diff: applied.diff.clone(),
        },
        permission_key: DEF.name.to_string(),
        escapes_sandbox: false,
    };
    Ok((
        facts,
        Plan {
            path,
            args,
            diff: applied.diff,
        },
    ))
}

pub(crate) async fn execute(
    plan: Plan,
    tracker: Option<Arc<dyn ChangeTracker>>,
    cancel: &CancellationToken,
) -> ToolResult {
    run_blocking(DEF.name, cancel, move || run(plan, tracker.as_deref())).await
}

fn run(plan: Plan, tracker: Option<&dyn ChangeTracker>) -> ToolResult {
    let display = &plan.path.display;
    let existing = match load(&plan.path) {
        Ok(e) => e,
        Err(m) => return ToolResult::error(format!("edit: {m}")),
    };
    let applied = match apply(&existing, &plan.args, &plan.path) {
        Ok(a) => a,
        Err(m) => {
            return ToolResult::error(format!(
                "edit: {display} changed on disk after this edit was proposed: {m}"
            ));
        }
    };
    if applied.diff != plan.diff {
        return ToolResult::error(format!(
            "edit: {display} changed on disk after this edit was proposed; read it again and \
             repeat the edit if it is still wanted"
        ));
    }
    let tracked = tracker.map_or(Ok(()), |t| t.before_write(&plan.path.path));
    if let Err(e) = write_atomic(&plan.path.path, &applied.after.encode()) {
        return ToolResult::error(format!("edit: cannot write {display}: {e}"));
    }
    let output = match existing {
        Existing::Missing => format!(
            "Created {display} ({} lines).",
            applied.after.text.lines().count()
        ),
        Existing::Text(_) | Existing::Binary(_) => {
            let (added, removed) = diff_stats(&applied.before_text, &applied.after.text);
            let times = if applied.replacements == 1 {
                "1 occurrence".to_string()
            } else {
                format!("{} occurrences", applied.replacements)
            };
            format!("Edited {display}: replaced {times} (+{added} -{removed} lines).")
        }
    };
    let result = ToolResult {
        diff: Some(applied.diff),
        ..ToolResult::success(output)
    };
    append_notices(result, &[], tracked.err().as_deref())
}

fn apply(existing: &Existing, args: &Args, path: &ResolvedPath) -> Result<Applied, String> {
    let display = &path.display;
    if args.old_string == args.new_string {
        return Err("old_string and new_string are identical; there is nothing to change".into());
    }
    let file = match existing {
        Existing::Binary(what) => {
            return Err(format!(
                "{display} is a binary file ({what}); edit only changes text files"
            ));
        }
        Existing::Missing => {
            if !args.old_string.is_empty() {
                return Err(format!(
                    "{display} does not exist. To create it, call edit with an empty old_string \
                     (or use write_file); otherwise check the path with glob"
                ));
            }
            let after = TextFile::new_utf8(args.new_string.clone());
            return Ok(Applied {
                diff: unified_diff("", &after.text, display),
                after,
                replacements: 1,
                before_text: String::new(),
            });
        }
        Existing::Text(f) => f,
    };
    if file.encoding == Encoding::LossyUtf8 {
        return Err(format!(
            "{display} is not valid UTF-8; editing it would corrupt the bytes that are not text. \
             Use write_file to replace it entirely, or run_shell_command"
        ));
    }
    let normalize = |s: &str| match file.line_ending {
        LineEnding::Crlf => s.replace("\r\n", "\n"),
        LineEnding::Lf => s.to_string(),
    };
    let old = normalize(
        args.old_string
            .strip_prefix('\u{feff}')
            .unwrap_or(&args.old_string),
    );
    let new = normalize(&args.new_string);
    let text = &file.text;
    let new_text = if old.is_empty() {
        if !text.is_empty() {
            return Err(format!(
                "old_string is empty but {display} already has content. Give the exact text to \
                 replace, or use write_file to replace the whole file"
            ));
        }
        new
    } else {
        let count = text.matches(old.as_str()).count();
        match count {
            0 => return Err(not_found_message(text, &old, display)),
            1 => text.replacen(old.as_str(), &new, 1),
            _ if args.replace_all => text.replace(old.as_str(), &new),
            n => {
                return Err(format!(
                    "old_string occurs {n} times in {display}. Include more surrounding lines \
                     to make it unique, or set replace_all to true to replace every occurrence"
                ));
            }
        }
    };
    let replacements = if old.is_empty() {
        1
    } else {
        text.matches(old.as_str()).count()
    };
    let after = file.with_text(new_text);
    Ok(Applied {
        diff: unified_diff(text, &after.text, display),
        after,
        replacements,
        before_text: text.clone(),
    })
}

fn not_found_message(text: &str, needle: &str, display: &str) -> String {
    let mut msg = format!(
        "old_string was not found in {display}. Re-read the file with read_file and copy the \
         text exactly, including whitespace and indentation"
    );
    if let Some((first, last, snippet)) = close_match(text, needle) {
        let lines = if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}-{last}")
        };
        msg.push_str(&format!(
            ". A passage that differs only in whitespace was found at {lines}:\n{snippet}"
        ));
    }
    msg
}

/// Finds `needle` in `text` ignoring differences in whitespace (runs of whitespace compare
/// equal to one space; leading/trailing whitespace of the needle is ignored). Returns the
/// 1-based first and last line and the original text of those lines (at most 20).
fn close_match(text: &str, needle: &str) -> Option<(usize, usize, String)> {
    fn squash(s: &str) -> (String, Vec<usize>) {
        let mut out = String::with_capacity(s.len());
        let mut map = Vec::with_capacity(s.len());
        let mut in_space = false;
        for (i, c) in s.char_indices() {
            if c.is_whitespace() {
                if !in_space && !out.is_empty() {
                    out.push(' ');
                    map.push(i);
                }
                in_space = true;
            } else {
                in_space = false;
                let start = out.len();
                out.push(c);
                map.extend(std::iter::repeat_n(i, out.len() - start));
            }
        }
        (out, map)
    }
    let (hay, map) = squash(text);
    let (pin, _) = squash(needle.trim());
    let pin = pin.trim_end();
    if pin.is_empty() {
        return None;
    }
    let pos = hay.find(pin)?;
    let start = *map.get(pos)?;
    let end = *map.get(pos + pin.len() - 1)?;
    let first = text[..start].matches('\n').count() + 1;
    let last = text[..end].matches('\n').count() + 1;
    let snippet: Vec<&str> = text
        .lines()
        .skip(first - 1)
        .take((last - first + 1).min(20))
        .collect();
    Some((first, last, snippet.join("\n")))
}
