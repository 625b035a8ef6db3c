//! Browsing and pruning sessions: listing reads each transcript once, linearly, parsing only
//! the few fields a summary needs (the header, each line's `type` and `ts`, user prompts,
//! titles and model switches).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{self, File, TryLockError};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::SessionError;
use crate::reader::trim_line;
use crate::record::{Record, RecordBody};
use crate::time::format_rfc3339;
use crate::writer::chats_dir;

/// One session in a listing (`qcode sessions list --json` prints these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub path: PathBuf,
    /// The `/rename` title, else the first line of the first prompt, else `(no prompt yet)`.
    pub title: String,
    /// The first user prompt, whole (for the picker).
    pub first_prompt: Option<String>,
    pub cwd: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The time of the last valid record (RFC 3339 UTC), else the file's modification time.
    pub updated_at: String,
    /// The number of user messages.
    pub turns: usize,
    /// The model as of the last record.
    pub model: String,
}

#[derive(Deserialize)]
struct Light<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    title: Option<String>,
    model: Option<String>,
}

const TITLE_CHARS: usize = 80;

fn title_of(prompt: &str) -> String {
    let line = prompt
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > TITLE_CHARS {
        let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// Summarises one transcript; `None` if it has no valid header (not a session).
fn summarize(path: &Path) -> Option<SessionSummary> {
    let file = File::open(path).ok()?;
    let mtime = file.metadata().ok().and_then(|m| m.modified().ok());
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut buf = Vec::new();
    reader.read_until(b'\n', &mut buf).ok()?;
    let header = match serde_json::from_slice::<Record>(trim_line(&buf)).ok()?.body {
        RecordBody::Header(h) => h,
        _ => return None,
    };
    let mut summary = SessionSummary {
        id: header.id,
        path: path.to_path_buf(),
        title: String::new(),
        first_prompt: None,
        cwd: header.cwd,
        created_at: header.created_at.clone(),
        updated_at: header.created_at,
        turns: 0,
        model: header.model,
    };
    let mut title = None;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if buf.last() != Some(&b'\n') {
            break; // torn last line
        }
        let Ok(light) = serde_json::from_slice::<Light>(trim_line(&buf)) else {
            continue;
        };
        if let Some(ts) = light.ts {
            summary.updated_at = ts.into_owned();
        }
        match light.kind.as_ref() {
            "user" => {
                summary.turns += 1;
                if summary.first_prompt.is_none() {
                    summary.first_prompt = light.content.map(Cow::into_owned);
                }
            }
            "title" => title = light.title,
            "model" => {
                if let Some(m) = light.model {
                    summary.model = m;
                }
            }
            _ => {}
        }
    }
    if summary.updated_at.is_empty() {
        summary.updated_at = mtime.map(format_rfc3339).unwrap_or_default();
    }
    summary.title = title
        .filter(|t| !t.trim().is_empty())
        .or_else(|| summary.first_prompt.as_deref().map(title_of))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "(no prompt yet)".to_string());
    Some(summary)
}

/// The transcripts in `<project_dir>/chats` (a missing directory has none).
fn transcripts(project_dir: &Path) -> Result<Vec<PathBuf>, SessionError> {
    let dir = chats_dir(project_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SessionError::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "jsonl") && path.is_file() {
            out.push(path);
        }
    }
    Ok(out)
}

fn newest_first(list: &mut [SessionSummary]) {
    list.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.created_at.cmp(&a.created_at))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// This project's sessions, newest (last activity) first. Files that are not transcripts
/// are left out.
pub fn list(project_dir: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let mut out: Vec<SessionSummary> = transcripts(project_dir)?
        .iter()
        .filter_map(|p| summarize(p))
        .collect();
    newest_first(&mut out);
    Ok(out)
}

/// Every project's sessions under `projects_dir` (`$QCODE_HOME/projects`), newest first.
pub fn list_all(projects_dir: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let mut out = Vec::new();
    for project in project_dirs(projects_dir)? {
        out.extend(list(&project)?);
    }
    newest_first(&mut out);
    Ok(out)
}

fn project_dirs(projects_dir: &Path) -> Result<Vec<PathBuf>, SessionError> {
    match fs::read_dir(projects_dir) {
        Ok(entries) => Ok(entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(SessionError::io("list", projects_dir, e)),
    }
}

/// The transcript of the session whose id is `query` or starts with it (a unique prefix).
pub fn find(project_dir: &Path, query: &str) -> Result<PathBuf, SessionError> {
    let query = query.trim();
    let not_found = || SessionError::NotFound {
        query: query.to_string(),
    };
    if query.is_empty() {
        return Err(not_found());
    }
    let mut matches: Vec<(String, PathBuf)> = Vec::new();
    for path in transcripts(project_dir)? {
        let Some(id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if id == query {
            return Ok(path);
        }
        if id.starts_with(query) {
            matches.push((id, path));
        }
    }
    match matches.len() {
        0 => Err(not_found()),
        1 => Ok(matches.remove(0).1),
        _ => {
            let mut candidates: Vec<String> = matches.into_iter().map(|(id, _)| id).collect();
            candidates.sort();
            Err(SessionError::Ambiguous {
                query: query.to_string(),
                candidates,
            })
        }
    }
}

/// The transcript of the session with the latest activity (`--continue`), if the project has
/// any: the first of [`list`]'s order, found without reading whole transcripts (each file's
/// header line and its last line only).
pub fn most_recent(project_dir: &Path) -> Result<Option<PathBuf>, SessionError> {
    let mut best: Option<(Key, PathBuf)> = None;
    for path in transcripts(project_dir)? {
        let Some(key) = recency(&path) else { continue };
        if best.as_ref().is_none_or(|(b, _)| key.newer_than(b)) {
            best = Some((key, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// What [`newest_first`] orders by.
struct Key {
    updated_at: String,
    created_at: String,
    id: String,
}

impl Key {
    fn newer_than(&self, other: &Key) -> bool {
        self.updated_at
            .cmp(&other.updated_at)
            .then_with(|| self.created_at.cmp(&other.created_at))
            .then_with(|| other.id.cmp(&self.id))
            .is_gt()
    }
}

/// How much of a transcript's end is read to find its last line's time.
const TAIL_BYTES: u64 = 64 * 1024;

/// A transcript's ordering key from its header and its last complete line; when that line does
/// not fit in the tail read or is not a record, the whole file is summarised instead.
fn recency(path: &Path) -> Option<Key> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut first = Vec::new();
    BufReader::new(&mut file)
        .read_until(b'\n', &mut first)
        .ok()?;
    let header = match serde_json::from_slice::<Record>(trim_line(&first))
        .ok()?
        .body
    {
        RecordBody::Header(h) => h,
        _ => return None,
    };
    let full = || {
        summarize(path).map(|s| Key {
            updated_at: s.updated_at,
            created_at: s.created_at,
            id: s.id,
        })
    };
    let start = len.saturating_sub(TAIL_BYTES);
    if start <= first.len() as u64 {
        return full();
    }
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::with_capacity(TAIL_BYTES as usize);
    file.take(TAIL_BYTES).read_to_end(&mut tail).ok()?;
    // The last newline-terminated line (a torn line after it is ignored, as listing does).
    let Some(end) = tail.iter().rposition(|b| *b == b'\n') else {
        return full();
    };
    let Some(begin) = tail[..end].iter().rposition(|b| *b == b'\n').map(|i| i + 1) else {
        return full();
    };
    match serde_json::from_slice::<Light>(trim_line(&tail[begin..=end])) {
        Ok(Light { ts: Some(ts), .. }) => Some(Key {
            updated_at: ts.into_owned(),
            created_at: header.created_at,
            id: header.id,
        }),
        _ => full(),
    }
}

fn in_use(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| match f.try_lock() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    })
}

fn remove_history(file_history_dir: &Path, id: &str) -> Result<(), SessionError> {
    let dir = file_history_dir.join(id);
    match fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SessionError::io("remove", dir, e)),
    }
}

/// Deletes a session (id or unique prefix): its transcript and its checkpoints under
/// `file_history_dir` (`$QCODE_HOME/file-history`). Refuses a session another process is
/// writing. Returns the removed transcript's path.
pub fn delete(
    project_dir: &Path,
    file_history_dir: &Path,
    id_or_prefix: &str,
) -> Result<PathBuf, SessionError> {
    let path = find(project_dir, id_or_prefix)?;
    if in_use(&path) {
        return Err(SessionError::InUse { path });
    }
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    fs::remove_file(&path).map_err(|e| SessionError::io("remove", &path, e))?;
    remove_history(file_history_dir, &id)?;
    Ok(path)
}

/// Retention (`general.cleanupPeriodDays`): removes every transcript under `projects_dir`
/// not written to for more than `days` days (by modification time; `0` keeps everything),
/// with its checkpoints, and checkpoint directories that have no transcript left and are as
/// old. Sessions in use are kept. Returns the removed transcripts.
pub fn cleanup(
    projects_dir: &Path,
    file_history_dir: &Path,
    days: u32,
) -> Result<Vec<PathBuf>, SessionError> {
    if days == 0 {
        return Ok(Vec::new());
    }
    let max_age = Duration::from_secs(u64::from(days) * 86_400);
    let now = SystemTime::now();
    let old = |p: &Path| {
        fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > max_age))
    };
    let mut removed = Vec::new();
    let mut kept: HashSet<String> = HashSet::new();
    for project in project_dirs(projects_dir)? {
        for path in transcripts(&project)? {
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !old(&path) || in_use(&path) {
                kept.insert(id);
                continue;
            }
            fs::remove_file(&path).map_err(|e| SessionError::io("remove", &path, e))?;
            remove_history(file_history_dir, &id)?;
            removed.push(path);
        }
    }
    if let Ok(entries) = fs::read_dir(file_history_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !kept.contains(&name) && old(&entry.path()) {
                remove_history(file_history_dir, &name)?;
            }
        }
    }
    removed.sort();
    Ok(removed)
}
