//! `read_file`: returns a text file's raw content (no line numbers), a page at a time.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::paths::ResolvedPath;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::{Decoded, Encoding, decode, decode_owned, human_size, truncate_at_char};

/// Lines returned when no `limit` is given.
pub const DEFAULT_LINE_LIMIT: u64 = 1000;
/// Most characters (bytes of UTF-8) of content returned by one call.
pub const MAX_OUTPUT_CHARS: usize = 25_000;
/// Longer lines are cut, with a marker.
pub const MAX_LINE_CHARS: usize = 2000;
/// Files larger than this are only read when `offset` or `limit` is given.
pub const MAX_UNPAGED_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// One call stops reading after this long and says so.
pub const MAX_READ_TIME: Duration = Duration::from_secs(10);
/// Bytes of one line kept in memory by a paged read (the rest is counted, not stored).
const KEPT_LINE_BYTES: usize = MAX_LINE_CHARS + 4;

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
    let path = super::resolve_arg(DEF.name, ctx, &args.file_path)?.for_reading();
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
        Ok(m) if !m.is_file() => {
            return Err(ToolError::rejected(
                DEF.name,
                not_regular(&path.display, &m),
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
    run_blocking(DEF.name, cancel, move || {
        read(&plan, Instant::now() + MAX_READ_TIME)
    })
    .await
}

/// "pipe is a FIFO (named pipe), not a regular file; …" for anything but a regular file
/// (without the tool's name).
fn not_regular(display: &str, meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let what = if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    if what == "not a regular file" {
        format!("{display} is not a regular file; read_file only reads regular files")
    } else {
        format!("{display} is {what}, not a regular file; read_file only reads regular files")
    }
}

/// Opens a regular file, checking its type before opening (a FIFO would block the open) and
/// again on the open handle (it may have been swapped in between).
fn open_regular(path: &Path, display: &str) -> Result<(File, u64), String> {
    let cannot = |e: std::io::Error| format!("read_file: cannot read {display}: {e}");
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("read_file: {}", not_regular(display, &meta)));
    }
    let file = File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("read_file: {}", not_regular(display, &meta)));
    }
    Ok((file, meta.len()))
}

fn timed_out(display: &str, what: &str) -> ToolResult {
    ToolResult::error(format!(
        "read_file: stopped reading {display} after {} s {what}. The file is too slow to read \
         this way; read a smaller part with offset and limit, or search it with grep_search",
        MAX_READ_TIME.as_secs()
    ))
}

/// Reads at most `max` bytes (`size` expected), straight into one buffer of that size, a
/// chunk at a time until `deadline`. `Ok(None)` when time ran out.
fn read_at_most(
    file: &mut File,
    size: u64,
    max: u64,
    deadline: Instant,
) -> std::io::Result<Option<Vec<u8>>> {
    const STEP: u64 = 1024 * 1024;
    let mut bytes = Vec::with_capacity(size.min(max) as usize + 1);
    let mut limited = file.take(max);
    loop {
        let n = (&mut limited).take(STEP).read_to_end(&mut bytes)?;
        if n == 0 {
            return Ok(Some(bytes));
        }
        if Instant::now() > deadline {
            return Ok(None);
        }
    }
}

fn read(plan: &Plan, deadline: Instant) -> ToolResult {
    let display = &plan.path.display;
    let (mut file, size) = match open_regular(&plan.path.path, display) {
        Ok(f) => f,
        Err(message) => return ToolResult::error(message),
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
        return read_large_paged(file, plan, deadline);
    }
    // Bounded by the size limit even if the file grows while it is read.
    let bytes = match read_at_most(&mut file, size, MAX_UNPAGED_FILE_BYTES, deadline) {
        Ok(Some(b)) => b,
        Ok(None) => return timed_out(display, "before reaching its end"),
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    let file = match decode_owned(bytes) {
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
    let offset = plan.offset.unwrap_or(0);
    let limit = plan.limit.unwrap_or(DEFAULT_LINE_LIMIT);
    let (window, total) = text_window(&file.text, offset, limit);
    let mut out = page(&window, offset, Some(limit), total);
    if file.encoding == Encoding::LossyUtf8 && out.status == crate::ToolResultStatus::Success {
        out.output.push_str(
            "\n[note: the file is not valid UTF-8; invalid bytes are shown as U+FFFD, so do not \
             copy those characters into edit]",
        );
    }
    out
}

/// A line to show: its text (perhaps only the start) and its full length in bytes.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    bytes: u64,
}

/// Lines `offset..offset + limit` of `text` (without their `\n`) and the number of lines in
/// it; a final newline does not start an extra line. Only the window is split: the lines
/// before it are skipped and the ones after it counted with a SIMD newline search.
fn text_window(text: &str, offset: u64, limit: u64) -> (Vec<Line<'_>>, u64) {
    if text.is_empty() {
        return (Vec::new(), 0);
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let total = memchr::memchr_iter(b'\n', body.as_bytes()).count() as u64 + 1;
    if offset >= total {
        return (Vec::new(), total);
    }
    let start = match offset {
        0 => 0,
        n => memchr::memchr_iter(b'\n', body.as_bytes())
            .nth((n - 1) as usize)
            .map_or(body.len(), |at| at + 1),
    };
    let window = body[start..]
        .split('\n')
        .take(limit.min(total - offset) as usize)
        .map(|text| Line {
            text,
            bytes: text.len() as u64,
        })
        .collect();
    (window, total)
}

/// Formats up to `limit` lines of `window` (the file's lines from `offset` on; the file has
/// `total` lines), within the caps.
fn page(window: &[Line<'_>], offset: u64, limit: Option<u64>, total: u64) -> ToolResult {
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
        let piece = if line.bytes > MAX_LINE_CHARS as u64 {
            cut_lines += 1;
            format!(
                "{}... [line cut: {} characters]",
                truncate_at_char(line.text, MAX_LINE_CHARS),
                line.bytes
            )
        } else {
            line.text.to_string()
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

/// Pages through a file too large to load (UTF-8, lossy) in one bounded pass ([`paged::scan`]).
fn read_large_paged(mut file: File, plan: &Plan, deadline: Instant) -> ToolResult {
    use std::os::unix::fs::FileExt;
    let display = &plan.path.display;
    let mut head = [0u8; 8192];
    let sniffed = match file.read_at(&mut head, 0) {
        Ok(n) => n,
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    if let Decoded::Binary(what) = decode(&head[..sniffed]) {
        return ToolResult::error(format!(
            "read_file: {display} is a binary file ({what}); read_file only returns text"
        ));
    }
    let offset = plan.offset.unwrap_or(0);
    let limit = plan.limit.unwrap_or(DEFAULT_LINE_LIMIT);
    let (kept, total) = match paged::scan(&mut file, offset, limit, deadline) {
        Ok(paged::Scan::Done { lines, total }) => (lines, total),
        Ok(paged::Scan::OutOfTime { line }) => {
            return timed_out(display, &format!("at line {}", line + 1));
        }
        Err(e) => return ToolResult::error(format!("read_file: cannot read {display}: {e}")),
    };
    let refs: Vec<Line<'_>> = kept
        .iter()
        .map(|l| Line {
            text: &l.text,
            bytes: l.bytes,
        })
        .collect();
    if let Some(total) = total {
        return page(&refs, offset, Some(limit), total);
    }
    // Time ran out while counting the lines after the ones shown.
    let mut out = page(&refs, offset, Some(limit), offset + refs.len() as u64 + 1);
    if out.status == crate::ToolResultStatus::Success {
        if let Some(cut) = out.output.rfind("\n\n[showing lines") {
            out.output.truncate(cut);
        }
        out.output.push_str(&format!(
            "\n\n[showing lines {}-{}; the file has more lines, not counted within {} s; call \
             read_file with offset={} to continue]",
            offset + 1,
            offset + refs.len() as u64,
            MAX_READ_TIME.as_secs(),
            offset + refs.len() as u64
        ));
    }
    out
}

mod paged;
#[cfg(test)]
mod tests;
