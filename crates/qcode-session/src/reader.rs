//! Loading a transcript: one linear pass over the bytes, line by line (a large file in a few
//! contiguous ranges, one thread each). A line that cannot be
//! parsed is skipped with a warning naming its line number and what kind of damage it has —
//! never its content.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, Role};

use crate::SessionError;
use crate::record::{Header, Record, RecordBody};

/// The result given to a tool call whose result was never recorded (the session ended while
/// it ran), so the resumed history is valid.
pub const INTERRUPTED_TOOL_RESULT: &str =
    "interrupted: the session ended before this tool call finished";

/// A line that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong, without any of the line's content.
    pub reason: String,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// A transcript read back.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    pub path: PathBuf,
    pub header: Header,
    /// The header line's time (usually a moment after `header.created_at`).
    pub header_ts: String,
    /// Every valid record after the header, in file order.
    pub records: Vec<Record>,
    pub warnings: Vec<LoadWarning>,
    /// The sequence number of the last valid record (the header's if there is nothing else).
    pub last_seq: Option<u64>,
    /// The file's size when it was read.
    pub file_len: u64,
    /// Bytes up to the end of the last newline-terminated line (the rest is a torn line).
    pub complete_len: u64,
}

/// The session's settings as of its last record: what a resume continues with unless flags
/// override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub model: String,
    pub approval_mode: ApprovalMode,
    pub auth: AuthKind,
    pub title: Option<String>,
}

/// What was wrong with a line, in words that contain none of its content.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => format!("unreadable (column {})", e.column()),
        Category::Syntax => format!("not valid JSON (column {})", e.column()),
        Category::Eof => "incomplete JSON".to_string(),
        Category::Data => "not a known record (wrong type or missing field)".to_string(),
    }
}

/// Transcripts at least this large are parsed by several threads (each a contiguous range of
/// lines); smaller ones by the caller's thread alone.
const PARALLEL_MIN_BYTES: u64 = 1024 * 1024;

/// At most this many parsing threads.
const MAX_PARTS: u64 = 4;

/// One line of a part, parsed.
enum Line {
    Blank,
    Record(Record),
    Bad(serde_json::Error),
    /// The file ends without a newline here.
    Torn,
}

/// The lines that start in one byte range of the file.
struct Part {
    lines: Vec<Line>,
    /// Where the last newline-terminated line of the range ends.
    complete_end: Option<u64>,
}

/// Parses every line that starts in `start..end` (`None`: to the end of the file). A line that
/// starts before `start` belongs to the previous range; one that starts in the range is read to
/// its end even past `end`.
fn parse_part(path: &Path, start: u64, end: Option<u64>) -> Result<Part, SessionError> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(|e| SessionError::io("open", path, e))?;
    let mut pos = 0u64;
    let mut part = Part {
        lines: Vec::new(),
        complete_end: None,
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    if start > 0 {
        file.seek(SeekFrom::Start(start - 1))
            .map_err(|e| SessionError::io("read", path, e))?;
        pos = start - 1;
    }
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    if start > 0 {
        // Skip the rest of the line the byte before `start` belongs to.
        pos += reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| SessionError::io("read", path, e))? as u64;
    }
    loop {
        if end.is_some_and(|end| pos >= end) {
            break;
        }
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| SessionError::io("read", path, e))?;
        if n == 0 {
            break;
        }
        pos += n as u64;
        if buf.last() != Some(&b'\n') {
            part.lines.push(Line::Torn);
            break;
        }
        part.complete_end = Some(pos);
        let text = trim_line(&buf);
        part.lines.push(if text.is_empty() {
            Line::Blank
        } else {
            match serde_json::from_slice(text) {
                Ok(r) => Line::Record(r),
                Err(e) => Line::Bad(e),
            }
        });
    }
    Ok(part)
}

/// The file cut into up to [`MAX_PARTS`] parsed ranges, in order.
fn parse_parts(path: &Path, file_len: u64) -> Result<Vec<Part>, SessionError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let parts = if file_len < PARALLEL_MIN_BYTES {
        1
    } else {
        threads.clamp(1, MAX_PARTS)
    };
    if parts == 1 {
        return Ok(vec![parse_part(path, 0, None)?]);
    }
    let bounds: Vec<(u64, Option<u64>)> = (0..parts)
        .map(|k| {
            let start = file_len * k / parts;
            let end = (k + 1 < parts).then(|| file_len * (k + 1) / parts);
            (start, end)
        })
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = bounds[1..]
            .iter()
            .map(|&(start, end)| scope.spawn(move || parse_part(path, start, end)))
            .collect();
        let mut out = vec![parse_part(path, bounds[0].0, bounds[0].1)?];
        for h in handles {
            out.push(h.join().map_err(|_| {
                SessionError::io(
                    "read",
                    path,
                    std::io::Error::other("a parsing thread failed"),
                )
            })??);
        }
        Ok(out)
    })
}

/// Reads the transcript at `path`. Fails only if the file cannot be read or its first line is
/// not a valid header; any other damaged line is skipped with a [`LoadWarning`]. Large files are
/// parsed by a few threads, each a contiguous range of lines (the result is the same).
pub fn load(path: &Path) -> Result<LoadedSession, SessionError> {
    let file_len = std::fs::metadata(path)
        .map_err(|e| SessionError::io("open", path, e))?
        .len();
    let parts = parse_parts(path, file_len)?;
    let mut header: Option<Header> = None;
    let mut header_ts = String::new();
    let mut records = Vec::with_capacity(parts.iter().map(|p| p.lines.len()).sum());
    let mut warnings = Vec::new();
    let mut last_seq = None;
    let mut complete_len = 0u64;
    let mut line_no = 0usize;
    'parts: for part in parts {
        if let Some(end) = part.complete_end {
            complete_len = end;
        }
        for line in part.lines {
            line_no += 1;
            let record = match line {
                Line::Blank => continue,
                Line::Torn => {
                    warnings.push(LoadWarning {
                        line: line_no,
                        reason: "torn last line (the session ended while it was written); skipped"
                            .to_string(),
                    });
                    break 'parts;
                }
                Line::Bad(e) => {
                    if header.is_none() {
                        return Err(SessionError::NotATranscript {
                            path: path.to_path_buf(),
                            reason: format!("line {line_no}: {}", describe(&e)),
                        });
                    }
                    warnings.push(LoadWarning {
                        line: line_no,
                        reason: format!("{}; skipped", describe(&e)),
                    });
                    continue;
                }
                Line::Record(r) => r,
            };
            last_seq = Some(record.seq);
            match (record.body, &header) {
                (RecordBody::Header(h), None) => {
                    header = Some(h);
                    header_ts = record.ts;
                }
                (RecordBody::Header(_), Some(_)) => warnings.push(LoadWarning {
                    line: line_no,
                    reason: "a second header; skipped".to_string(),
                }),
                (body, Some(_)) => records.push(Record {
                    seq: record.seq,
                    ts: record.ts,
                    body,
                }),
                (_, None) => {
                    return Err(SessionError::NotATranscript {
                        path: path.to_path_buf(),
                        reason: format!("line {line_no} comes before the header"),
                    });
                }
            }
        }
    }
    let Some(header) = header else {
        return Err(SessionError::NotATranscript {
            path: path.to_path_buf(),
            reason: "it has no header line".to_string(),
        });
    };
    Ok(LoadedSession {
        path: path.to_path_buf(),
        header,
        header_ts,
        records,
        warnings,
        last_seq,
        file_len,
        complete_len,
    })
}

pub(crate) fn trim_line(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && matches!(buf[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &buf[..end]
}

impl LoadedSession {
    /// The session id.
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// The exact conversation to resend (without the system prompt, which the engine builds):
    /// user, assistant and tool messages in order; a compression's replacement in place of the
    /// messages it replaced; every assistant tool call answered — a call whose result is
    /// missing gets [`INTERRUPTED_TOOL_RESULT`] right after the results that exist, and a tool
    /// result answering no pending call is dropped (a provider would reject it). A
    /// compression's `replaced` counts messages of that answered history. The synthesised
    /// results are not written back: loading produces them again, in the same place.
    pub fn history(&self) -> Vec<ChatMessage> {
        build_history(self.records.iter().map(|r| r.body.clone()))
    }

    /// [`LoadedSession::history`], consuming the session: the messages' text is moved, not
    /// copied (a resume of a large transcript needs the history, not the records).
    pub fn into_history(self) -> Vec<ChatMessage> {
        build_history(self.records.into_iter().map(|r| r.body))
    }

    /// Model, approval mode, auth method and title as of the last record.
    pub fn state(&self) -> SessionState {
        let mut state = SessionState {
            model: self.header.model.clone(),
            approval_mode: self.header.approval_mode,
            auth: self.header.auth,
            title: None,
        };
        for record in &self.records {
            match &record.body {
                RecordBody::Model { model } => state.model = model.clone(),
                RecordBody::Mode { mode } => state.approval_mode = *mode,
                RecordBody::Auth { auth } => state.auth = *auth,
                RecordBody::Title { title } => state.title = Some(title.clone()),
                RecordBody::Header(_)
                | RecordBody::User { .. }
                | RecordBody::Assistant { .. }
                | RecordBody::ToolResult { .. }
                | RecordBody::Usage { .. }
                | RecordBody::Compression { .. }
                | RecordBody::Hook { .. }
                | RecordBody::SubagentStart { .. }
                | RecordBody::SubagentMessage { .. }
                | RecordBody::SubagentEnd { .. } => {}
            }
        }
        state
    }

    /// The user's prompts in order; turn N (1-based) is the N-th.
    pub fn user_prompts(&self) -> Vec<&str> {
        self.records
            .iter()
            .filter_map(|r| match &r.body {
                RecordBody::User { content } => Some(content.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The number of user messages.
    pub fn turns(&self) -> usize {
        self.user_prompts().len()
    }
}

fn build_history(bodies: impl Iterator<Item = RecordBody>) -> Vec<ChatMessage> {
    let mut raw: Vec<ChatMessage> = Vec::new();
    for body in bodies {
        if let RecordBody::Compression {
            summary,
            replaced,
            messages,
        } = body
        {
            // The engine counted `replaced` on its history, where every call was already
            // answered (a resumed session's interrupted calls included).
            raw = answer_every_call(std::mem::take(&mut raw));
            let cut = usize::try_from(replaced)
                .unwrap_or(usize::MAX)
                .min(raw.len());
            let replacement = if messages.is_empty() {
                vec![ChatMessage::user(format!(
                    "[Summary of the earlier part of this conversation]\n{summary}"
                ))]
            } else {
                messages
            };
            raw.splice(..cut, replacement);
        } else if let Some(m) = body.into_message() {
            raw.push(m);
        }
    }
    answer_every_call(raw)
}

fn answer_every_call(raw: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(raw.len());
    let mut pending: Vec<String> = Vec::new();
    for m in raw {
        if m.role == Role::Tool {
            let id = m.tool_call_id.as_deref().unwrap_or_default();
            if let Some(i) = pending.iter().position(|p| p == id) {
                pending.remove(i);
                out.push(m);
            }
            continue;
        }
        for id in pending.drain(..) {
            out.push(ChatMessage::tool_result(id, INTERRUPTED_TOOL_RESULT));
        }
        if m.role == Role::Assistant {
            pending = m.tool_calls.iter().map(|c| c.id.clone()).collect();
        }
        out.push(m);
    }
    for id in pending {
        out.push(ChatMessage::tool_result(id, INTERRUPTED_TOOL_RESULT));
    }
    out
}
