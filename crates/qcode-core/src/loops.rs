//! The guard against degenerate (looping) generation: [`LoopDetector`] watches an answer's
//! text while it streams (outside code blocks) for the same passage repeating back to back, as
//! Gemini CLI does.
//!
//! Costs per streamed byte are constant and its memory is bounded whatever the answer's length:
//! the detector reads the caller's text (it keeps no copy), hashes the 50-byte chunk at each
//! position with a rolling hash, and keeps per chunk only its last position, the spacing of its
//! latest evenly spaced occurrences and how many there were, for chunks seen within the
//! longest period looked for.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Every 50-byte chunk of the text (outside ``` code blocks) is hashed; when one chunk has
/// occurred at least [`LOOP_REPEATS`] times with the same distance between consecutive
/// occurrences, the text between them is identical each time, and the repeats span at least
/// [`MIN_LOOP_CHARS`], the stream is a loop. Code blocks are skipped because repetitive code
/// is normal.
#[derive(Default)]
pub struct LoopDetector {
    /// Where the next chunk starts (byte offset in the text).
    next: usize,
    /// The rolling hash and the chunk position it is for.
    hashed: Option<(usize, u64)>,
    seen: HashMap<u64, Run, BuildHasherDefault<Prehashed>>,
    /// Where the last pruning of `seen` happened.
    pruned_at: usize,
    in_code: bool,
    /// Start of the first line not yet checked for a fence.
    line_start: usize,
    /// How far the text has been searched for line ends.
    scanned: usize,
}

/// One chunk's latest occurrences.
#[derive(Clone, Copy)]
struct Run {
    last: usize,
    /// The distance between its latest occurrences (0: seen once).
    period: usize,
    /// How many occurrences in a row have that distance (the first one included).
    count: usize,
}

const CHUNK: usize = 50;
/// The repeated text must span at least this many bytes (so a ruler line is not a loop).
const MIN_LOOP_CHARS: usize = 500;
/// Occurrences of one chunk, evenly spaced, that make a loop.
pub const LOOP_REPEATS: usize = 10;
/// The longest repeating passage looked for.
const MAX_PERIOD: usize = 2_000;

/// The rolling hash's base, and its power for the byte leaving the window.
const BASE: u64 = 0x0100_0000_01b3;
const LEAVING: u64 = pow(BASE, CHUNK - 1);

const fn pow(base: u64, exp: usize) -> u64 {
    let mut out = 1u64;
    let mut i = 0;
    while i < exp {
        out = out.wrapping_mul(base);
        i += 1;
    }
    out
}

impl LoopDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the text streamed so far (`text`: everything since the detector was made, grown
    /// by the newest piece); `true` once a loop is seen.
    pub fn push(&mut self, text: &str) -> bool {
        let bytes = text.as_bytes();
        while self.next + CHUNK <= bytes.len() {
            let at = self.next;
            self.next += 1;
            let hash = match self.hashed {
                Some((pos, h)) if pos + 1 == at => h
                    .wrapping_sub(u64::from(bytes[pos]).wrapping_mul(LEAVING))
                    .wrapping_mul(BASE)
                    .wrapping_add(u64::from(bytes[at + CHUNK - 1])),
                _ => bytes[at..at + CHUNK].iter().fold(0u64, |h, &b| {
                    h.wrapping_mul(BASE).wrapping_add(u64::from(b))
                }),
            };
            self.hashed = Some((at, hash));
            self.fences_through(text, at);
            if self.in_code || !text.is_char_boundary(at) {
                continue;
            }
            if at >= self.pruned_at + MAX_PERIOD {
                // A chunk last seen more than the longest period ago starts afresh anyway.
                self.seen.retain(|_, r| at - r.last <= MAX_PERIOD);
                self.pruned_at = at;
            }
            let run = self.seen.entry(mix(hash)).or_insert(Run {
                last: at,
                period: 0,
                count: 0,
            });
            if run.count == 0 {
                run.count = 1;
                continue;
            }
            let distance = at - run.last;
            if distance == run.period {
                run.count += 1;
            } else {
                run.period = distance;
                run.count = 2;
            }
            run.last = at;
            let run = *run;
            if Self::looping(bytes, at, run) {
                return true;
            }
        }
        false
    }

    /// Advances the code-fence state through the lines that end before `at` (each byte is
    /// looked at once).
    fn fences_through(&mut self, text: &str, at: usize) {
        let bytes = text.as_bytes();
        while self.scanned < at {
            let from = self.scanned;
            match bytes[from..at].iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    // Both ends are character boundaries (after and at a `\n`).
                    let line = text.get(self.line_start..from + nl).unwrap_or_default();
                    if line.trim_start().starts_with("```") {
                        self.in_code = !self.in_code;
                    }
                    self.line_start = from + nl + 1;
                    self.scanned = self.line_start;
                }
                None => self.scanned = at,
            }
        }
    }

    /// The chunk's newest occurrences (the last at `at`) are evenly spaced, the text between
    /// them is the same each time, and together they span at least [`MIN_LOOP_CHARS`].
    fn looping(bytes: &[u8], at: usize, run: Run) -> bool {
        let period = run.period;
        if run.count < LOOP_REPEATS || period == 0 || period > MAX_PERIOD {
            return false;
        }
        let needed = LOOP_REPEATS.max(MIN_LOOP_CHARS.div_ceil(period) + 1);
        if run.count < needed {
            return false;
        }
        // The occurrences are start, start + period, …, at: the text between them repeats
        // exactly when the span is periodic.
        let start = at - (needed - 1) * period;
        bytes[start..at - period] == bytes[start + period..at]
    }
}

/// Spreads the rolling hash's bits (the map uses it as it is).
fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(text: &str, piece: usize) -> bool {
        let mut d = LoopDetector::new();
        let mut so_far = String::new();
        let chars: Vec<char> = text.chars().collect();
        chars.chunks(piece).any(|c| {
            so_far.extend(c);
            d.push(&so_far)
        })
    }

    #[test]
    fn a_repeating_passage_is_a_loop_whatever_the_chunking() {
        let passage = "The answer is that we should check the file again. ";
        let text = format!("Let me think.\n{}", passage.repeat(30));
        assert!(feed(&text, 1));
        assert!(feed(&text, 7));
        assert!(feed(&text, 400));
        // A long passage (300 characters) repeating is caught too.
        let long = "abcdefghij klmnopqrst uvwxyz 0123456789 ".repeat(8);
        assert!(feed(&long.repeat(12), 13));
        // A short one (5 bytes) needs 500 bytes of repeats.
        assert!(feed(&format!("start {}", "ab cd".repeat(120)), 3));
        assert!(!feed(&format!("start {}", "ab cd".repeat(95)), 3));
    }

    #[test]
    fn a_loop_after_a_long_answer_is_caught() {
        // Far more text than the longest period before the loop: pruning keeps what matters.
        let prose: String = (0..2_000)
            .map(|i| format!("Point {i} is new: value {}. ", i * 13))
            .collect();
        let passage = "Checking the configuration file once more, to be sure. ";
        assert!(feed(&format!("{prose}{}", passage.repeat(15)), 17));
        assert!(!feed(&prose, 17));
    }

    #[test]
    fn ordinary_text_and_code_are_not_loops() {
        let prose: String = (0..400)
            .map(|i| {
                format!(
                    "Sentence number {i} says something new about item {}. ",
                    i * 7
                )
            })
            .collect();
        assert!(!feed(&prose, 9));
        let row = "    assert_eq!(parse(\"value\"), Ok(Value::default()));\n";
        let code = format!("Here are the tests:\n```rust\n{}```\nDone.", row.repeat(40));
        assert!(!feed(&code, 11));
        // After the block closes, a loop in prose is caught again.
        let passage = "and then I will look at the same thing again, ";
        assert!(feed(&format!("{code}\n{}", passage.repeat(20)), 11));
        // A few repeats are not a loop.
        assert!(!feed(
            &"same line of text repeated a few times only!!\n".repeat(5),
            3
        ));
        // A ruler is not a loop.
        assert!(!feed(&format!("Title\n{}\nText", "=".repeat(120)), 5));
        // Non-ASCII text repeating is a loop; chunk starts inside a character are skipped.
        assert!(feed(&"ünïcödé wörds ärë hérê, ".repeat(40), 4));
    }

    #[test]
    fn memory_stays_bounded_on_a_long_answer() {
        let mut d = LoopDetector::new();
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("word{i} "));
            assert!(!d.push(&text));
        }
        assert!(text.len() > 100_000);
        assert!(
            d.seen.len() <= 2 * MAX_PERIOD + 64,
            "{} chunks kept",
            d.seen.len()
        );
    }

    #[test]
    fn the_rolling_hash_equals_the_hash_of_each_chunk() {
        let text = "The quick brown fox jumps over the lazy dog, again and again and again.";
        let mut d = LoopDetector::new();
        d.push(text);
        let (pos, h) = d.hashed.unwrap();
        let direct = text.as_bytes()[pos..pos + CHUNK]
            .iter()
            .fold(0u64, |h, &b| {
                h.wrapping_mul(BASE).wrapping_add(u64::from(b))
            });
        assert_eq!(pos, text.len() - CHUNK);
        assert_eq!(h, direct);
    }
}
