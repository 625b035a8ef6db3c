//! Incremental rendering of a streamed markdown answer.
//!
//! Deltas are appended to a pending source buffer. When a newline arrives, the prefix up to the
//! last *stable* line end (not inside an open code fence, not a table row that may still grow)
//! is rendered and the lines not yet committed are handed out for the terminal's scrollback.
//! At a blank line outside any list or fence the committed prefix is dropped, so each re-render
//! only covers the current block, not the whole answer. Inside a paragraph of plain lines (each
//! starts with a letter or digit and cannot start or interrupt another block) the committed
//! lines are dropped too, all but the last one, so a long paragraph of short lines costs the
//! same per line as a short one. The scan for the stable prefix resumes where it stopped, so a
//! newline costs the new line, not the block. What is not committed yet (the live tail) is
//! rendered without syntax highlighting for the inline viewport, once per change: frames that
//! only animate the spinner reuse it.

use std::cell::RefCell;

use ratatui::text::Line;

use crate::markdown::{self, Highlighter, Highlighting};

/// Pending source above which a block (a very long list or quote with no cut point) is
/// re-rendered only every [`RERENDER_STEP`] new stable bytes instead of at every newline:
/// re-rendering the whole block per line would be quadratic. Lines in between stay visible in
/// the live tail, and [`MarkdownStream::finish`] commits everything.
const LARGE_BLOCK: usize = 4096;
const RERENDER_STEP: usize = 1024;

#[derive(Debug, Default)]
pub struct MarkdownStream {
    /// Source not yet dropped (starts at a block boundary, or inside a paragraph of plain lines
    /// when `continues`).
    pending: String,
    /// Byte length of `pending` that was stable at the last commit.
    stable_len: usize,
    /// Rendered lines of `pending[..stable_len]` already committed.
    committed: usize,
    /// Whether earlier blocks were committed (a separator line is needed).
    has_prior: bool,
    /// `pending` continues a paragraph whose first lines were dropped: no separator before it.
    continues: bool,
    /// Where the stable-prefix scan of `pending` stopped.
    scan: Scan,
    /// Bumped by every change of what the live tail shows.
    generation: u64,
    /// The live tail of the last frame: (generation, width, lines).
    live: RefCell<Option<(u64, usize, Vec<Line<'static>>)>>,
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
        self.generation += 1;
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
        if self.has_prior && !self.continues && !lines.is_empty() {
            lines.insert(0, Line::default());
        }
        lines
    }

    /// Lines that became stable since the last call, ready for scrollback.
    pub fn take_stable(&mut self, width: usize, hl: Option<&Highlighter>) -> Vec<Line<'static>> {
        self.scan.advance(&self.pending);
        let (stable, boundary) = (self.scan.stable, self.scan.boundary);
        if stable <= self.stable_len {
            return Vec::new();
        }
        if boundary.is_none()
            && self.pending.len() > LARGE_BLOCK
            && stable - self.stable_len < RERENDER_STEP
        {
            return Vec::new();
        }
        self.generation += 1;
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
            self.drop_prefix(cut, before);
            self.continues = false;
        } else if let Some(cut) = self.scan.paragraph_cut().filter(|&c| c > 0 && c < stable) {
            // Inside a paragraph of plain lines: keep only the last complete line (it decides
            // how the next one joins, e.g. a code span that closes there).
            let before = self
                .render_chunk(&self.pending[..cut], width, None, Highlighting::Off)
                .len();
            self.drop_prefix(cut, before);
            self.continues = true;
        }
        new
    }

    /// Drops `pending[..cut]`, which rendered as `before` (committed) lines.
    fn drop_prefix(&mut self, cut: usize, before: usize) {
        self.pending.drain(..cut);
        self.has_prior = self.has_prior || before > 0;
        self.stable_len -= cut;
        self.committed = self.committed.saturating_sub(before);
        self.scan = Scan::default();
        self.scan.advance(&self.pending);
    }

    /// The uncommitted tail, rendered cheaply (no highlighting) for the live viewport.
    pub fn live_lines(&self, width: usize) -> Vec<Line<'static>> {
        if let Ok(cache) = self.live.try_borrow()
            && let Some((generation, w, lines)) = cache.as_ref()
            && *generation == self.generation
            && *w == width
        {
            return lines.clone();
        }
        let lines = if self.pending.trim().is_empty() {
            Vec::new()
        } else {
            let mut lines = self.render_chunk(&self.pending, width, None, Highlighting::Off);
            lines.drain(..self.committed.min(lines.len()));
            lines
        };
        if let Ok(mut cache) = self.live.try_borrow_mut() {
            *cache = Some((self.generation, width, lines.clone()));
        }
        lines
    }

    /// Ends the stream: every line not yet committed.
    pub fn finish(&mut self, width: usize, hl: Option<&Highlighter>) -> Vec<Line<'static>> {
        let lines = self.render_chunk(&self.pending, width, hl, Highlighting::On);
        let new = lines.into_iter().skip(self.committed).collect();
        self.pending = String::new();
        self.stable_len = 0;
        self.committed = 0;
        self.continues = false;
        self.scan = Scan::default();
        self.generation += 1;
        self.live = RefCell::new(None);
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

/// A line of a paragraph that cannot start or interrupt another block, be a table row or
/// underline a heading: it starts with a letter or digit (not a list number) and has no `|`.
/// Such a line renders as exactly one line and the same whether the paragraph's earlier lines
/// are rendered with it or not.
fn plain_line(line: &str) -> bool {
    line.chars().next().is_some_and(char::is_alphanumeric)
        && !starts_list_or_indent(line)
        && !line.contains('|')
}

/// The resumable scan behind [`stable_prefix`]: what the complete lines of a source seen so
/// far say (`pos` is the end of the last complete line scanned).
#[derive(Debug, Default, Clone)]
struct Scan {
    pos: usize,
    fence: Option<(char, usize)>,
    stable: usize,
    boundary: Option<usize>,
    /// The last non-blank line outside fences (or a fence line), as a byte range.
    last_text_line: (usize, usize),
    /// Whether every complete line so far is a [`plain_line`] (one paragraph of plain lines).
    all_plain: bool,
    /// Complete lines scanned and where the last one starts.
    lines: usize,
    last_line_start: usize,
}

impl Scan {
    /// Scans the complete lines of `src` after `pos` (`src` only grew since the last call).
    fn advance(&mut self, src: &str) {
        if self.lines == 0 {
            self.all_plain = true;
        }
        while let Some(nl) = src.get(self.pos..).and_then(|rest| rest.find('\n')) {
            let start = self.pos;
            let end = start + nl + 1;
            let line = &src[start..end - 1];
            self.pos = end;
            self.lines += 1;
            self.last_line_start = start;
            self.all_plain = self.all_plain && plain_line(line);
            if let Some((c, n)) = fence_marker(line) {
                match self.fence {
                    None => self.fence = Some((c, n)),
                    Some((fc, fnum))
                        if fc == c && n >= fnum && line.trim().chars().all(|x| x == c) =>
                    {
                        self.fence = None
                    }
                    Some(_) => {}
                }
                if self.fence.is_none() {
                    self.stable = end;
                }
                self.last_text_line = (start, end - 1);
                continue;
            }
            if self.fence.is_some() {
                continue;
            }
            // A row of a table that may still grow, or a paragraph line that the next line
            // (a delimiter row) may turn into a table's header.
            let trimmed = line.trim();
            if trimmed.contains('|') {
                continue;
            }
            self.stable = end;
            if trimmed.is_empty() {
                let last = &src[self.last_text_line.0..self.last_text_line.1];
                if !last.is_empty() && !starts_list_or_indent(last) && !last.contains('|') {
                    self.boundary = Some(end);
                }
            } else {
                self.last_text_line = (start, end - 1);
            }
        }
    }

    /// Where a paragraph of plain lines may be cut: before its last complete line, when it has
    /// two or more.
    fn paragraph_cut(&self) -> Option<usize> {
        (self.all_plain && self.lines >= 2).then_some(self.last_line_start)
    }
}

/// Returns (stable byte length, block boundary): the end of the last complete line that is
/// outside a code fence and not a (possible) table row, and the largest such end that directly follows a
/// blank line outside lists (where the source can be cut without changing the rendering).
pub fn stable_prefix(src: &str) -> (usize, Option<usize>) {
    let mut scan = Scan::default();
    scan.advance(src);
    (scan.stable, scan.boundary)
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
        // One 16 KiB list with no blank line, so no cut point.
        let src: String = (0..500)
            .map(|i| format!("- item {i} of a very long list.\n"))
            .collect();
        assert!(src.len() > 3 * LARGE_BLOCK);
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
    fn a_long_paragraph_of_plain_lines_commits_every_line_and_keeps_one() {
        let src: String = (0..500)
            .map(|i| format!("line {i} of a very long paragraph.\n"))
            .collect();
        let whole = texts(&markdown::render(&src, 60, None, Highlighting::On));
        for n in [1, 5, 40] {
            assert_eq!(stream_all(&src, n), whole, "chunk size {n}");
        }
        let mut s = MarkdownStream::new();
        for (i, line) in src.split_inclusive('\n').enumerate() {
            assert!(s.push(line));
            let committed = texts(&s.take_stable(60, None));
            assert_eq!(committed, vec![line.trim_end().to_string()], "line {i}");
            assert_eq!(s.pending, line, "only the last line is kept");
            assert!(s.live_lines(60).is_empty());
        }
        s.push("and the end");
        assert_eq!(texts(&s.live_lines(60)), vec!["and the end"]);
        assert_eq!(texts(&s.finish(60, None)), vec!["and the end"]);
        assert_eq!(s.source().len(), src.len() + "and the end".len());
    }

    #[test]
    fn paragraph_cuts_render_like_the_whole_answer() {
        for src in [
            // After an earlier block: one separator line, not one per cut.
            "intro\n\nline a\nline b\nline c\n\nlast\n",
            // Blocks that interrupt a paragraph keep their separator line.
            "para a\npara b\n- item\n- item 2\n\nafter\n",
            "para a\npara b\n# Heading\ntext\n",
            "para a\npara b\n```\ncode\n```\nend\n",
            "para a\npara b\n> quoted\n",
            // Not plain: indented, numbered, piped lines stop the cuts.
            "para a\npara b\n    indented continuation\nc\n",
            "2024 was a year\n1. one\n2. two\n",
            "a | b\n--|--\n1 | 2\n",
        ] {
            let whole = texts(&markdown::render(src, 60, None, Highlighting::On));
            for n in [1, 3, 1000] {
                assert_eq!(stream_all(src, n), whole, "{src:?} in chunks of {n}");
            }
        }
    }

    #[test]
    fn spans_over_a_line_end_lose_no_text() {
        // A line is committed before a span that opens in it closes (so it shows the marker);
        // the lines after it come out whole.
        let out = stream_all("a `x\ny` b\nnext line\n", 1);
        assert_eq!(out, vec!["a `x", "y` b", "next line"]);
        let out = stream_all("first *line\nsecond* line\nthird line\n", 1);
        assert_eq!(out, vec!["first *line", "second line", "third line"]);
    }

    #[test]
    fn the_resumed_scan_equals_a_scan_of_the_whole() {
        let sources = [
            SAMPLE,
            "- a\n\n- b\n",
            "x\n~~~\ny\n\n~~~\n\nz\n",
            "| a |\n\np\n",
        ];
        for src in sources {
            let mut scan = Scan::default();
            for end in 0..=src.len() {
                if !src.is_char_boundary(end) {
                    continue;
                }
                scan.advance(&src[..end]);
                assert_eq!(
                    (scan.stable, scan.boundary),
                    stable_prefix(&src[..end]),
                    "{src:?} up to {end}"
                );
            }
        }
    }

    #[test]
    fn the_live_tail_is_rendered_once_per_change() {
        let mut s = MarkdownStream::new();
        s.push("- one\n- tw");
        assert!(s.take_stable(60, None).len() == 1);
        let first = s.live_lines(60);
        assert_eq!(texts(&first), vec!["- tw"]);
        let cached = s.live.borrow().as_ref().map(|(g, w, _)| (*g, *w));
        assert_eq!(s.live_lines(60), first, "same frame content");
        assert_eq!(s.live.borrow().as_ref().map(|(g, w, _)| (*g, *w)), cached);
        s.push("o");
        assert_eq!(
            texts(&s.live_lines(60)),
            vec!["- two"],
            "a change renders again"
        );
        assert_eq!(
            texts(&s.live_lines(20)),
            vec!["- two"],
            "so does another width"
        );
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
