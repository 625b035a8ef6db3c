//! `read_file`: returns a text file's raw content (no line numbers), a page at a time.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::{Decoded, Encoding, decode, human_size, truncate_at_char};

/// Lines returned when no `limit` is given.
pub const DEFAULT_LINE_LIMIT: u64 = 1000;
/// Most characters (bytes of UTF-8) of content returned by one call.
pub const MAX_OUTPUT_CHARS: usize = 25_000;
/// Longer lines are cut, with a marker.
pub const MAX_LINE_CHARS: usize = 2000;
/// Files larger than this are only read when `offset` or `limit` is given.
pub const MAX_UNPAGED_FILE_BYTES: u64 = 20 * 1024 * 1024;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::ReadFile,
    name: "read_file",
    kind: ToolKind::ReadOnly,
    description: "Reads a text file and returns its content exactly as stored (no line numbers \
        are added; CRLF line endings are shown as \\n). Use an absolute path (a relative path is \
        resolved against the workspace root). By default at most 1000 lines or 25,000 \
        characters are returned; when the file is longer, a note at the end says which lines \
        were shown and which `offset` to pass to continue. Lines longer than 2000 characters are \
        cut. Use `offset` (0-based line number) and `limit` (number of lines) to read a part of \
        a large file. Binary files (images, archives, executables) are refused. Always read a \
        file before editing it, so that `edit` gets the exact text.",
    params: &[
        Param {
            name: "file_path",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "Absolute path of the file to read (or relative to the workspace root).",
        },
        Param {
            name: "offset",
            ty: Ty::Int {
                min: 0,
                max: u32::MAX as u64,
            },
            presence: Presence::Optional,
            description: "0-based line number to start reading from. Use with `limit` for large files.",
        },
        Param {
            name: "limit",
            ty: Ty::Int {
                min: 1,
                max: 100_000,
            },
            presence: Presence::Optional,
            description: "Maximum number of lines to return (default 1000).",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    file_path: String,
    offset: Option<u64>,
    limit: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Plan {
    path: ResolvedPath,
    offset: Option<u64>,
    limit: Option<u64>,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let path = super::resolve_arg(DEF.name, ctx, &args.file_path)?;
    match std::fs::metadata(&path.path) {
        Err(_) => {
            return Err(ToolError::rejected(
                DEF.name,
                format!(
                    "file not found: {}. Check the path with glob or list_directory",
                    path.display
                ),
            ));
        }
        Ok(m) if m.is_dir() => {
            return Err(ToolError::rejected(
                DEF.name,
                format!(
                    "{} is a directory; use list_directory to see its entries",
                    path.display
                ),
            ));
        }
        Ok(_) => {}
    }
    let mut facts = Facts::simple(&DEF, format!("Read {}", path.display));
    facts.outside_workspace = path.outside;
    Ok((
        facts,
        Plan {
            path,
            offset: args.offset,
            limit: args.limit,
        },
    ))
}

pub(crate) async fn execute(plan: Plan, cancel: &CancellationToken) -> ToolResult {
    run_blocking(DEF.name, cancel, move || read(&plan)).await
}

fn read(plan: &Plan) -> ToolResult {
    let display = &plan.path.display;
    let size = match std::fs::metadata(&plan.path.path) {
        Ok(m) => m.len(),
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    if size > MAX_UNPAGED_FILE_BYTES {
        if plan.offset.is_none() && plan.limit.is_none() {
            return ToolResult::error(format!(
                "read_file: {display} is {}, more than the {} that can be read at once. Read a \
                 part of it with offset and limit (e.g. offset=0, limit=200), or search it with \
                 grep_search",
                human_size(size),
                human_size(MAX_UNPAGED_FILE_BYTES)
            ));
        }
        return read_large_paged(plan);
    }
    let bytes = match std::fs::read(&plan.path.path) {
        Ok(b) => b,
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    let file = match decode(&bytes) {
        Decoded::Binary(what) => {
            return ToolResult::error(format!(
                "read_file: {display} is a binary file ({what}, {}); read_file only returns \
                 text. If you need to inspect it, use run_shell_command with a tool such as \
                 `file` or `xxd | head`",
                human_size(size)
            ));
        }
        Decoded::Text(f) => f,
    };
    let lines = split_lines(&file.text);
    let offset = plan.offset.unwrap_or(0);
    let window = lines.get(offset as usize..).unwrap_or(&[]);
    let mut out = page(window, offset, plan.limit, lines.len() as u64);
    if file.encoding == Encoding::LossyUtf8 && out.status == crate::ToolResultStatus::Success {
        out.output.push_str(
            "\n[note: the file is not valid UTF-8; invalid bytes are shown as U+FFFD, so do not \
             copy those characters into edit]",
        );
    }
    out
}

/// Splits text into lines without their `\n`; a final newline does not start an extra line.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.split('\n').collect()
}

/// Formats up to `limit` lines of `window` (the file's lines from `offset` on; the file has
/// `total` lines), within the caps.
fn page(window: &[&str], offset: u64, limit: Option<u64>, total: u64) -> ToolResult {
    if total == 0 {
        return ToolResult::success("[the file is empty]");
    }
    if offset >= total {
        return ToolResult::error(format!(
            "read_file: offset {offset} is past the end of the file, which has {total} lines \
             (offsets 0 to {})",
            total - 1
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_LINE_LIMIT);
    let mut out = String::new();
    let mut shown: u64 = 0;
    let mut cut_lines = 0usize;
    for line in window.iter().take(limit as usize) {
        let piece = if line.len() > MAX_LINE_CHARS {
            cut_lines += 1;
            format!(
                "{}... [line cut: {} characters]",
                truncate_at_char(line, MAX_LINE_CHARS),
                line.len()
            )
        } else {
            (*line).to_string()
        };
        if shown > 0 && out.len() + piece.len() + 1 > MAX_OUTPUT_CHARS {
            break;
        }
        if shown > 0 {
            out.push('\n');
        }
        out.push_str(&piece);
        shown += 1;
    }
    let end = offset + shown;
    if offset > 0 || end < total {
        out.push_str(&format!(
            "\n\n[showing lines {}-{end} of {total}",
            offset + 1
        ));
        if end < total {
            out.push_str(&format!("; call read_file with offset={end} to continue]"));
        } else {
            out.push(']');
        }
    }
    if cut_lines > 0 {
        out.push_str(&format!(
            "\n[{cut_lines} line(s) longer than {MAX_LINE_CHARS} characters were cut]"
        ));
    }
    ToolResult::success(out)
}

/// Pages through a file too large to load, line by line (UTF-8, lossy).
fn read_large_paged(plan: &Plan) -> ToolResult {
    let display = &plan.path.display;
    let open = |p: &Path| std::fs::File::open(p).map(BufReader::new);
    let mut reader = match open(&plan.path.path) {
        Ok(r) => r,
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    let head = match reader.fill_buf() {
        Ok(b) => b.to_vec(),
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    if let Decoded::Binary(what) = decode(&head[..head.len().min(8192)]) {
        return ToolResult::error(format!(
            "read_file: {display} is a binary file ({what}); read_file only returns text"
        ));
    }
    let offset = plan.offset.unwrap_or(0);
    let limit = plan.limit.unwrap_or(DEFAULT_LINE_LIMIT);
    let mut wanted: Vec<String> = Vec::new();
    let mut total: u64 = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                if total >= offset && total < offset + limit {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.strip_suffix('\n').unwrap_or(&line);
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    wanted.push(line.to_string());
                }
                total += 1;
            }
            Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
        }
    }
    let refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    page(&refs, offset, Some(limit), total)
}
