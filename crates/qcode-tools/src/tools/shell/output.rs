//! Shell output handling: decoding a byte stream as UTF-8 across chunk boundaries, and keeping
//! the head and tail of a long output within a fixed budget with an "omitted" marker.

use crate::textfile::truncate_at_char;

/// Decodes UTF-8 that arrives in arbitrary chunks; invalid bytes become U+FFFD, a sequence cut
/// at a chunk boundary is completed by the next chunk.
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let keep_from = incomplete_tail_start(&self.pending);
        let out = String::from_utf8_lossy(&self.pending[..keep_from]).into_owned();
        self.pending.drain(..keep_from);
        out
    }

    pub(crate) fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

/// Where an incomplete UTF-8 sequence at the end of `b` starts (`b.len()` if there is none).
fn incomplete_tail_start(b: &[u8]) -> usize {
    let n = b.len();
    for i in (n.saturating_sub(3)..n).rev() {
        let byte = b[i];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let need = match byte {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        return if n - i < need { i } else { n };
    }
    n
}

/// `1234567` → `1.2 MB`.
fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} KB", n as f64 / 1e3),
        n => format!("{n} bytes"),
    }
}

/// Keeps the first `head_cap` and the last `tail_cap` bytes of a stream of text.
#[derive(Debug)]
pub(crate) struct CappedOutput {
    head_cap: usize,
    tail_cap: usize,
    head: String,
    tail: String,
    head_full: bool,
    dropped_lines: usize,
    /// Bytes dropped from the middle (including the partial lines cut at the gap).
    dropped_bytes: usize,
    dropped: bool,
}

impl CappedOutput {
    pub(crate) fn new(head_cap: usize, tail_cap: usize) -> Self {
        Self {
            head_cap,
            tail_cap,
            head: String::new(),
            tail: String::new(),
            head_full: false,
            dropped_lines: 0,
            dropped_bytes: 0,
            dropped: false,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        let mut rest = s;
        if !self.head_full {
            let room = self.head_cap - self.head.len();
            let take = truncate_at_char(rest, room);
            self.head.push_str(take);
            rest = &rest[take.len()..];
            if !rest.is_empty() {
                self.head_full = true;
            }
        }
        if rest.is_empty() {
            return;
        }
        self.tail.push_str(rest);
        if self.tail.len() > 2 * self.tail_cap.max(1024) {
            self.drop_front(self.tail.len() - self.tail_cap);
        }
    }

    fn drop_front(&mut self, mut cut: usize) {
        while !self.tail.is_char_boundary(cut) {
            cut += 1;
        }
        self.dropped_lines += self.tail[..cut].matches('\n').count();
        self.dropped_bytes += cut;
        self.dropped = true;
        self.tail.drain(..cut);
    }

    /// The kept text; when something was dropped, head and tail are cut at line boundaries
    /// and joined by a `[... N lines omitted ...]` marker.
    pub(crate) fn finish(mut self) -> String {
        if self.tail.len() > self.tail_cap {
            self.drop_front(self.tail.len() - self.tail_cap);
        }
        if !self.dropped {
            return self.head + &self.tail;
        }
        // Cut the partial lines on both sides of the gap and count them as omitted.
        if let Some(nl) = self.head.rfind('\n') {
            self.dropped_bytes += self.head.len() - (nl + 1);
            self.head.truncate(nl + 1);
        }
        if let Some(nl) = self.tail.find('\n') {
            self.dropped_lines += 1;
            self.dropped_bytes += nl + 1;
            self.tail.drain(..=nl);
        }
        let what = if self.dropped_lines == 0 {
            // Not a single newline in what was dropped: say how much of one long line went.
            format!(
                "{} of one long line omitted",
                human_bytes(self.dropped_bytes)
            )
        } else {
            format!("{} lines omitted", self.dropped_lines)
        };
        format!("{}[... {what} ...]\n{}", self.head, self.tail)
    }
}

#[cfg(test)]
mod omitted_tests {
    use super::*;

    #[test]
    fn one_long_line_says_how_much_was_dropped() {
        let mut out = CappedOutput::new(10, 10);
        out.push(&"x".repeat(2_000_000));
        let text = out.finish();
        assert!(
            text.contains("[... 2.0 MB of one long line omitted ...]"),
            "{text}"
        );
        let mut out = CappedOutput::new(10, 10);
        for i in 0..10_000 {
            out.push(&format!("line {i}\n"));
        }
        assert!(out.finish().contains("lines omitted ...]"));
    }
}
