//! Incremental rendering of a streamed markdown answer.
//!
//! Deltas are appended to a pending source buffer. When a newline arrives, the prefix up to the
//! last *stable* line end (not inside an open code fence, not a table row that may still grow)
//! is rendered and the lines not yet committed are handed out for the terminal's scrollback.
//! At a blank line outside any list or fence the committed prefix is dropped, so each re-render
//! only covers the current block, not the whole answer. What is not committed yet (the live
//! tail) is rendered without syntax highlighting for the inline viewport.

use ratatui::text::Line;

use crate::markdown::{self, Highlighter, Highlighting};

/// Pending source above which a block (a very long paragraph or list with no cut point) is
/// re-rendered only every [`RERENDER_STEP`] new stable bytes instead of at every newline:
/// re-rendering the whole block per line would be quadratic. Lines in between stay visible in
/// the live tail, and [`MarkdownStream::finish`] commits everything.
const LARGE_BLOCK: usize = 4096;
const RERENDER_STEP: usize = 1024;

#[derive(Debug, Default)]
pub struct MarkdownStream {
    /// Source not yet dropped (starts at a block boundary).
    pending: String,
    /// Byte length of `pending` that was stable at the last commit.
    stable_len: usize,
    /// Rendered lines of `pending[..stable_len]` already committed.
    committed: usize,
    /// Whether earlier blocks were committed (a separator line is needed).
    has_prior: bool,
    /// The whole answer, for the transcript pager and /copy.
    full: String,
}

impl MarkdownStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// The complete source received so far.
    pub fn source(&self) -> &str {
        &self.full
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }

    /// Appends a delta. Returns true when it contains a newline (something may have become
    /// stable, call [`Self::take_stable`]).
    pub fn push(&mut self, delta: &str) -> bool {
        self.pending.push_str(delta);
        self.full.push_str(delta);
        delta.contains('\n')
    }

    fn render_chunk(
        &self,
        src: &str,
        width: usize,
        hl: Option<&Highlighter>,
        h: Highlighting,
    ) -> Vec<Line<'static>> {
        let mut lines = markdown::render(src, width, hl, h);
        if self.has_prior && !lines.is_empty() {
            lines.insert(0, Line::default());
        }
        lines
    }

    /// Lines that became stable since the last call, ready for scrollback.
    pub fn take_stable(&mut self, width: usize, hl: Option<&Highlighter>) -> Vec<Line<'static>> {
        let (stable, boundary) = stable_prefix(&self.pending);
        if stable <= self.stable_len {
            return Vec::new();
        }
        if boundary.is_none()
            && self.pending.len() > LARGE_BLOCK
            && stable - self.stable_len < RERENDER_STEP
        {
            return Vec::new();
        }
        self.stable_len = stable;
        let lines = self.render_chunk(&self.pending[..stable], width, hl, Highlighting::On);
        let new: Vec<Line<'static>> = lines.iter().skip(self.committed).cloned().collect();
        self.committed = self.committed.max(lines.len());
        if let Some(cut) = boundary.filter(|&b| b > 0) {
            // Everything before `cut` renders the same on its own: drop it so later renders
            // only cover the current block.
            let before = if cut == stable {
                lines.len()
            } else {
                self.render_chunk(&self.pending[..cut], width, None, Highlighting::Off)
                    .len()
            };
            self.pending.drain(..cut);
            self.has_prior = self.has_prior || before > 0;
            self.stable_len -= cut;
            self.committed = self.committed.saturating_sub(before);
        }
        new
    }

    /// The uncommitted tail, rendered cheaply (no highlighting) for the live viewport.
    pub fn live_lines(&self, width: usize) -> Vec<Line<'static>> {
        if self.pending.trim().is_empty() {
            return Vec::new();
        }
        let lines = self.render_chunk(&self.pending, width, None, Highlighting::Off);
        lines.into_iter().skip(self.committed).collect()
    }

    /// Ends the stream: every line not yet committed.
    pub fn finish(&mut self, width: usize, hl: Option<&Highlighter>) -> Vec<Line<'static>> {
        let lines = self.render_chunk(&self.pending, width, hl, Highlighting::On);
        let new = lines.into_iter().skip(self.committed).collect();
        self.pending.clear();
        self.stable_len = 0;
        self.committed = 0;
        new
    }
}

fn fence_marker(line: &str) -> Option<(char, usize)> {
    let t = line.trim_start();
    let c = t.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = t.chars().take_while(|&x| x == c).count();
    (n >= 3).then_some((c, n))
}

fn starts_list_or_indent(line: &str) -> bool {
    if line.starts_with(' ') || line.starts_with('\t') {
        return true;
    }
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        return true;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

/// Returns (stable byte length, block boundary): the end of the last complete line that is
/// outside a code fence and not a table row, and the largest such end that directly follows a
/// blank line outside lists (where the source can be cut without changing the rendering).
pub fn stable_prefix(src: &str) -> (usize, Option<usize>) {
    let mut fence: Option<(char, usize)> = None;
    let mut stable = 0;
    let mut boundary = None;
    let mut pos = 0;
    let mut last_text_line = "";
    while let Some(nl) = src[pos..].find('\n') {
        let end = pos + nl + 1;
        let line = &src[pos..end - 1];
        pos = end;
        if let Some((c, n)) = fence_marker(line) {
            match fence {
                None => fence = Some((c, n)),
                Some((fc, fnum)) if fc == c && n >= fnum && line.trim().chars().all(|x| x == c) => {
                    fence = None
                }
                Some(_) => {}
            }
            if fence.is_none() {
                stable = end;
            }
            last_text_line = line;
            continue;
        }
        if fence.is_some() {
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('|') {
            continue;
        }
        stable = end;
        if trimmed.is_empty() {
            if !last_text_line.is_empty()
                && !starts_list_or_indent(last_text_line)
                && !last_text_line.trim_start().starts_with('|')
            {
                boundary = Some(end);
            }
        } else {
            last_text_line = line;
        }
    }
    (stable, boundary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// Streams `src` in chunks of `n` bytes (on char boundaries) and returns all committed lines.
    fn stream_all(src: &str, n: usize) -> Vec<String> {
        let mut s = MarkdownStream::new();
        let mut out = Vec::new();
        let chars: Vec<char> = src.chars().collect();
        for chunk in chars.chunks(n) {
            let piece: String = chunk.iter().collect();
            if s.push(&piece) {
                out.extend(texts(&s.take_stable(60, None)));
            }
        }
        out.extend(texts(&s.finish(60, None)));
        out
    }

    const SAMPLE: &str = "# Plan\n\nFirst paragraph\nwith two lines.\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn x() {}\n\nfn y() {}\n```\n\nDone, see `x`.\n";

    #[test]
    fn streamed_equals_whole_render() {
        let whole = texts(&markdown::render(SAMPLE, 60, None, Highlighting::On));
        for n in [1, 2, 3, 7, 50, 1000] {
            assert_eq!(stream_all(SAMPLE, n), whole, "chunk size {n}");
        }
    }

    #[test]
    fn commits_line_by_line_but_holds_fences_and_tables() {
        let mut s = MarkdownStream::new();
        s.push("Hello wor");
        assert!(s.take_stable(60, None).is_empty());
        assert_eq!(texts(&s.live_lines(60)), vec!["Hello wor"]);
        s.push("ld\nsecond");
        assert_eq!(texts(&s.take_stable(60, None)), vec!["Hello world"]);
        assert_eq!(texts(&s.live_lines(60)), vec!["second"]);
        s.push(" line\n\n```\ncode\n");
        assert_eq!(texts(&s.take_stable(60, None)), vec!["second line"]);
        assert_eq!(texts(&s.live_lines(60)), vec!["", "code"]);
        s.push("```\n| h |\n|---|\n");
        assert_eq!(texts(&s.take_stable(60, None)), vec!["", "code"]);
        assert!(
            s.take_stable(60, None).is_empty(),
            "table rows are held back"
        );
        s.push("| v |\n\nafter\n");
        let committed = texts(&s.take_stable(60, None));
        assert_eq!(committed[0], "");
        assert_eq!(committed[1], "┌─────┐");
        assert_eq!(committed.last().unwrap(), "after");
    }

    #[test]
    fn long_blocks_are_rerendered_in_steps_not_per_line() {
        // One 16 KiB paragraph of short lines: no blank line, so no cut point.
        let src: String = (0..500)
            .map(|i| format!("line {i} of a very long paragraph.\n"))
            .collect();
        assert!(src.len() > 4 * LARGE_BLOCK);
        let whole = texts(&markdown::render(&src, 60, None, Highlighting::On));
        assert_eq!(
            stream_all(&src, 1),
            whole,
            "same output as the whole render"
        );
        let mut s = MarkdownStream::new();
        let mut renders = 0;
        for line in src.split_inclusive('\n') {
            if s.push(line) && !s.take_stable(60, None).is_empty() {
                renders += 1;
            }
        }
        // Every line while the block is small, then one render per RERENDER_STEP bytes.
        assert!(renders < 150, "{renders} re-renders for 500 lines");
        assert!(renders > 10, "still commits as it goes: {renders}");
    }

    #[test]
    fn drops_committed_blocks() {
        let mut s = MarkdownStream::new();
        s.push("para\n\nnext\n");
        assert_eq!(texts(&s.take_stable(60, None)), vec!["para", "", "next"]);
        assert_eq!(
            s.pending, "next\n",
            "pending source is cut at block boundaries"
        );
        s.push("more\n\n");
        assert_eq!(texts(&s.take_stable(60, None)), vec!["more"]);
        assert_eq!(s.pending, "");
        s.push("last");
        assert_eq!(texts(&s.finish(60, None)), vec!["", "last"]);
        assert_eq!(s.source(), "para\n\nnext\nmore\n\nlast");
        let (stable, boundary) = stable_prefix("- a\n\n- b\n");
        assert_eq!(stable, 9);
        assert_eq!(boundary, None, "no cut inside a list");
    }
}
