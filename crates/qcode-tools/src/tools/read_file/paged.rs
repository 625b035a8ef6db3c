//! Paging through a file too large to load: one pass over the bytes in fixed chunks, with
//! SIMD newline search (`memchr`). Lines before `offset` are only counted, a chunk at a time;
//! of the lines in the window at most [`KEPT_LINE_BYTES`] each are kept; the lines after the
//! window are counted until the end of the file or the deadline. Memory stays bounded by the
//! chunk and the output cap, whatever the file holds (one endless line included).

use std::io::{ErrorKind, Read};
use std::time::Instant;

use super::{KEPT_LINE_BYTES, MAX_LINE_CHARS, MAX_OUTPUT_CHARS};

/// Bytes read per `read` call: large enough to make system calls rare, small enough to stay
/// in the CPU cache while it is searched.
pub(super) const CHUNK_BYTES: usize = 256 * 1024;

/// A line of the window: its text (lossy UTF-8, perhaps only its start, without `\r\n`) and
/// its full length in bytes (without the line ending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KeptLine {
    pub text: String,
    pub bytes: u64,
}

/// What one pass found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scan {
    /// The window's lines and the file's line count (`None`: time ran out while counting the
    /// lines after the window).
    Done {
        lines: Vec<KeptLine>,
        total: Option<u64>,
    },
    /// Time ran out before the window was complete, at this 0-based line.
    OutOfTime { line: u64 },
}

/// The line being read while it is in the window.
#[derive(Default)]
struct Current {
    kept: Vec<u8>,
    bytes: u64,
    last: Option<u8>,
}

impl Current {
    fn take(&mut self, piece: &[u8]) {
        let room = KEPT_LINE_BYTES.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&piece[..piece.len().min(room)]);
        self.bytes += piece.len() as u64;
        if let Some(&b) = piece.last() {
            self.last = Some(b);
        }
    }

    /// The finished line; a `\r` before its `\n` is not part of it.
    fn finish(&mut self) -> KeptLine {
        let mut bytes = self.bytes;
        if self.last == Some(b'\r') {
            bytes -= 1;
            if self.kept.len() as u64 == self.bytes {
                self.kept.pop();
            }
        }
        let text = String::from_utf8_lossy(&self.kept).into_owned();
        self.kept.clear();
        self.bytes = 0;
        self.last = None;
        KeptLine { text, bytes }
    }
}

/// Reads `reader` to its end (or `deadline`), keeping lines `offset..offset + limit` within
/// the output cap and counting all of them. A final line without `\n` counts as a line.
pub(super) fn scan(
    reader: &mut impl Read,
    offset: u64,
    limit: u64,
    deadline: Instant,
) -> std::io::Result<Scan> {
    let end = offset.saturating_add(limit);
    let mut buf = vec![0u8; CHUNK_BYTES];
    // Lines finished so far: the 0-based number of the line being read.
    let mut line: u64 = 0;
    let mut lines: Vec<KeptLine> = Vec::new();
    let mut kept_bytes = 0usize;
    let mut current = Current::default();
    let mut last_byte: Option<u8> = None;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut data = &buf[..n];
        last_byte = data.last().copied();
        while !data.is_empty() {
            if line < offset {
                let need = offset - line;
                let count = memchr::memchr_iter(b'\n', data).count() as u64;
                if count < need {
                    line += count;
                    data = &[];
                } else {
                    // The `need`-th newline of this chunk ends the last line before the window.
                    let Some(at) = memchr::memchr_iter(b'\n', data).nth((need - 1) as usize) else {
                        break;
                    };
                    line = offset;
                    data = &data[at + 1..];
                }
            } else if line < end && kept_bytes <= MAX_OUTPUT_CHARS {
                match memchr::memchr(b'\n', data) {
                    Some(at) => {
                        current.take(&data[..at]);
                        let kept = current.finish();
                        kept_bytes += kept.text.len().min(MAX_LINE_CHARS) + 1;
                        lines.push(kept);
                        line += 1;
                        data = &data[at + 1..];
                    }
                    None => {
                        current.take(data);
                        data = &[];
                    }
                }
            } else {
                line += memchr::memchr_iter(b'\n', data).count() as u64;
                data = &[];
            }
        }
        if Instant::now() > deadline {
            let window_done = line >= end || (line > offset && kept_bytes > MAX_OUTPUT_CHARS);
            if !window_done {
                return Ok(Scan::OutOfTime { line });
            }
            return Ok(Scan::Done { lines, total: None });
        }
    }
    if last_byte.is_some_and(|b| b != b'\n') {
        // The last line has no newline: it still is a line (and may be in the window).
        if line >= offset && line < end && kept_bytes <= MAX_OUTPUT_CHARS {
            lines.push(current.finish());
        }
        line += 1;
    }
    Ok(Scan::Done {
        lines,
        total: Some(line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Hands out `data` in reads of at most `step` bytes.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(self.step).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Endless bytes without a newline; counts what was handed out.
    struct Endless {
        handed: u64,
    }

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            out.fill(b'a');
            self.handed += out.len() as u64;
            Ok(out.len())
        }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn texts(scan: &Scan) -> (Vec<(&str, u64)>, Option<u64>) {
        match scan {
            Scan::Done { lines, total } => (
                lines.iter().map(|l| (l.text.as_str(), l.bytes)).collect(),
                *total,
            ),
            Scan::OutOfTime { line } => panic!("out of time at {line}"),
        }
    }

    /// The same answers as splitting the whole text, for every offset, limit and read size
    /// (so lines and line endings split across reads are handled).
    #[test]
    fn windows_match_splitting_the_whole_text() {
        let texts_to_try = [
            "",
            "\n",
            "a",
            "a\n",
            "a\nb",
            "a\r\nbb\r\n\r\nccc",
            "one\n\ntwo\nthree\n",
            "x\r",
        ];
        for text in texts_to_try {
            let expected: Vec<&str> = if text.is_empty() {
                Vec::new()
            } else {
                text.strip_suffix('\n')
                    .unwrap_or(text)
                    .split('\n')
                    .collect()
            };
            for step in [1, 2, 3, 7, 4096] {
                for offset in 0..5u64 {
                    for limit in 1..4u64 {
                        let mut r = Trickle {
                            data: text.as_bytes(),
                            step,
                        };
                        let got = scan(&mut r, offset, limit, far()).unwrap();
                        let (lines, total) = texts(&got);
                        assert_eq!(total, Some(expected.len() as u64), "{text:?} step {step}");
                        let want: Vec<(String, u64)> = expected
                            .iter()
                            .skip(offset as usize)
                            .take(limit as usize)
                            .map(|l| {
                                let l = l.strip_suffix('\r').unwrap_or(l);
                                (l.to_string(), l.len() as u64)
                            })
                            .collect();
                        let lines: Vec<(String, u64)> =
                            lines.iter().map(|(t, b)| (t.to_string(), *b)).collect();
                        assert_eq!(lines, want, "{text:?} step {step} offset {offset}");
                    }
                }
            }
        }
    }

    #[test]
    fn lines_are_measured_in_full_and_kept_in_part() {
        let text = format!("{}\nshort\n\nlast", "x".repeat(10_000));
        let mut r = Trickle {
            data: text.as_bytes(),
            step: 1000,
        };
        let got = scan(&mut r, 0, 10, far()).unwrap();
        let Scan::Done { lines, total } = got else {
            panic!("{got:?}")
        };
        assert_eq!(total, Some(4));
        assert_eq!(lines[0].bytes, 10_000);
        assert_eq!(lines[0].text.len(), KEPT_LINE_BYTES);
        assert_eq!(
            lines[1..],
            [
                KeptLine {
                    text: "short".into(),
                    bytes: 5
                },
                KeptLine {
                    text: String::new(),
                    bytes: 0
                },
                KeptLine {
                    text: "last".into(),
                    bytes: 4
                }
            ]
        );
    }

    #[test]
    fn lines_stop_being_kept_once_they_fill_the_output_cap() {
        let line = "y".repeat(1000);
        let text = format!("{line}\n").repeat(100);
        let mut r = text.as_bytes();
        let got = scan(&mut r, 3, 100, far()).unwrap();
        let Scan::Done { lines, total } = got else {
            panic!("{got:?}")
        };
        assert_eq!(total, Some(100));
        // Kept until the kept text passes the cap: the cap's worth and one line more.
        assert_eq!(lines.len(), MAX_OUTPUT_CHARS / 1001 + 1);
    }

    #[test]
    fn an_endless_line_is_kept_bounded_and_stopped_by_the_deadline() {
        let mut r = Endless { handed: 0 };
        let started = Instant::now();
        let got = scan(&mut r, 0, 1, Instant::now() + Duration::from_millis(200)).unwrap();
        assert_eq!(got, Scan::OutOfTime { line: 0 });
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(r.handed > 10 * CHUNK_BYTES as u64, "{}", r.handed);
    }

    #[test]
    fn time_running_out_after_the_window_leaves_the_total_uncounted() {
        /// Two lines, then endless bytes.
        struct Lines {
            head: &'static [u8],
        }
        impl Read for Lines {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if !self.head.is_empty() {
                    let n = self.head.len().min(out.len());
                    out[..n].copy_from_slice(&self.head[..n]);
                    self.head = &self.head[n..];
                    return Ok(n);
                }
                out.fill(b'\n');
                Ok(out.len())
            }
        }
        let mut r = Lines {
            head: b"one\ntwo\n",
        };
        let got = scan(&mut r, 0, 2, Instant::now() + Duration::from_millis(100)).unwrap();
        let (lines, total) = texts(&got);
        assert_eq!(lines, [("one", 3), ("two", 3)]);
        assert_eq!(total, None);
    }
}
