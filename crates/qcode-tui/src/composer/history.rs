//! Prompt history: per-project, persisted as JSON lines (one JSON string per entry, so
//! multi-line prompts survive), deduplicated (a repeated prompt moves to the end) and capped.
//! The file is read lazily on the first ↑ and written off the UI thread.

use std::path::{Path, PathBuf};

/// Entries kept in memory and on disk.
pub const HISTORY_CAP: usize = 1000;

#[derive(Debug, Default)]
pub struct History {
    path: Option<PathBuf>,
    entries: Vec<String>,
    loaded: bool,
    /// Position while browsing (`entries.len()` = not browsing).
    cursor: Option<usize>,
    /// What was typed before browsing started.
    draft: String,
}

impl History {
    pub fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            ..Self::default()
        }
    }

    fn ensure_loaded(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        if let Some(p) = &self.path {
            let mut from_disk = read_file(p);
            from_disk.append(&mut self.entries);
            self.entries = dedup_cap(from_disk);
        }
    }

    pub fn entries(&mut self) -> &[String] {
        self.ensure_loaded();
        &self.entries
    }

    /// Records a submitted prompt and persists the history.
    pub fn push(&mut self, entry: &str) {
        self.cursor = None;
        if entry.trim().is_empty() {
            return;
        }
        self.ensure_loaded();
        self.entries.retain(|e| e != entry);
        self.entries.push(entry.to_string());
        let excess = self.entries.len().saturating_sub(HISTORY_CAP);
        self.entries.drain(..excess);
        if let Some(p) = self.path.clone() {
            let entries = self.entries.clone();
            let write = move || {
                // History is a convenience: a failed write must not disturb the session.
                let _ = write_file(&p, &entries);
            };
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn_blocking(write);
                }
                Err(_) => write(),
            }
        }
    }

    /// Older entry (↑). `current` is the composer text, kept as the draft when browsing starts.
    pub fn older(&mut self, current: &str) -> Option<String> {
        self.ensure_loaded();
        let idx = match self.cursor {
            None => {
                if self.entries.is_empty() {
                    return None;
                }
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.cursor = Some(idx);
        self.entries.get(idx).cloned()
    }

    /// Newer entry (↓); past the newest, the draft comes back.
    pub fn newer(&mut self) -> Option<String> {
        let i = self.cursor?;
        if i + 1 >= self.entries.len() {
            self.cursor = None;
            return Some(std::mem::take(&mut self.draft));
        }
        self.cursor = Some(i + 1);
        self.entries.get(i + 1).cloned()
    }

    pub fn is_browsing(&self) -> bool {
        self.cursor.is_some()
    }

    pub fn stop_browsing(&mut self) {
        self.cursor = None;
    }
}

fn dedup_cap(entries: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(entries.len());
    for e in entries.into_iter().rev() {
        if !out.contains(&e) {
            out.push(e);
        }
        if out.len() == HISTORY_CAP {
            break;
        }
    }
    out.reverse();
    out
}

fn read_file(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .collect()
}

fn write_file(path: &Path, entries: &[String]) -> std::io::Result<()> {
    let mut body = String::new();
    for e in entries {
        body.push_str(&serde_json::to_string(e).unwrap_or_default());
        body.push('\n');
    }
    // Prompts can hold secrets: private from the first write.
    qcode_fs::write_private(path, body.as_bytes()).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browse_dedup_and_draft() {
        let mut h = History::new(None);
        h.push("one");
        h.push("two");
        h.push("one");
        assert_eq!(h.entries(), ["two", "one"]);
        assert_eq!(h.older("draft").as_deref(), Some("one"));
        assert_eq!(h.older("ignored").as_deref(), Some("two"));
        assert_eq!(h.older("ignored"), None);
        assert_eq!(h.newer().as_deref(), Some("one"));
        assert_eq!(h.newer().as_deref(), Some("draft"));
        assert_eq!(h.newer(), None);
    }

    #[test]
    fn persists_multiline_entries_and_caps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.jsonl");
        let mut h = History::new(Some(path.clone()));
        for i in 0..HISTORY_CAP + 5 {
            h.push(&format!("p{i}"));
        }
        h.push("multi\nline");
        let mut again = History::new(Some(path.clone()));
        let entries = again.entries().to_vec();
        assert_eq!(entries.len(), HISTORY_CAP);
        assert_eq!(entries.last().unwrap(), "multi\nline");
        assert_eq!(entries[0], "p6");
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.ends_with("\"multi\\nline\"\n"));
    }
}
