//! A small, exact Server-Sent Events parser over raw bytes (WHATWG "event stream" rules).
//!
//! Bytes are buffered, not strings, so UTF-8 characters split across reads are harmless.
//! Lines end with CRLF, LF or CR (a CR at the end of one read followed by an LF at the start of
//! the next counts once). Comment lines (`:`) are skipped; `data:` lines are joined with `\n`;
//! `event:` is kept; `id:` and `retry:` are accepted and ignored (a chat stream is never
//! resumed). One leading space after the colon is removed. A blank line dispatches the event;
//! events without data are dropped. At end of input, a pending event is still dispatched
//! (lenient: some servers omit the final blank line).

/// Largest line or event accepted: protects memory against a server that never ends a line.
const MAX_PENDING: usize = 32 << 20;

/// One dispatched event, borrowing the parser's buffers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SseEvent<'a> {
    /// The `event:` field, empty when absent.
    pub event: &'a [u8],
    pub data: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseTooLarge;

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    pos: usize,
    data: Vec<u8>,
    has_data: bool,
    event: Vec<u8>,
    /// The last line ended with CR: skip an LF at the start of the next input.
    after_cr: bool,
    /// The previous call dispatched an event: reset the event buffers first.
    dispatched: bool,
}

impl SseParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event in the buffered input, if any.
    pub(crate) fn next_event(&mut self) -> Result<Option<SseEvent<'_>>, SseTooLarge> {
        self.reset_if_dispatched();
        loop {
            if self.after_cr && self.pos < self.buf.len() {
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                }
                self.after_cr = false;
            }
            let rest = &self.buf[self.pos..];
            let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if rest.len() > MAX_PENDING {
                    return Err(SseTooLarge);
                }
                return Ok(None);
            };
            let line_start = self.pos;
            if rest[end] == b'\r' {
                self.after_cr = true;
            }
            self.pos += end + 1;
            if end == 0 {
                if self.has_data {
                    return Ok(Some(self.dispatch()));
                }
                self.event.clear();
                continue;
            }
            self.field(line_start, line_start + end)?;
        }
    }

    /// End of input: the last unterminated line and a pending event without its blank line.
    pub(crate) fn finish(&mut self) -> Result<Option<SseEvent<'_>>, SseTooLarge> {
        self.reset_if_dispatched();
        if self.pos < self.buf.len() {
            let (start, end) = (self.pos, self.buf.len());
            self.pos = end;
            self.field(start, end)?;
        }
        if self.has_data {
            return Ok(Some(self.dispatch()));
        }
        Ok(None)
    }

    fn reset_if_dispatched(&mut self) {
        if self.dispatched {
            self.dispatched = false;
            self.data.clear();
            self.event.clear();
            self.has_data = false;
        }
    }

    fn dispatch(&mut self) -> SseEvent<'_> {
        self.dispatched = true;
        SseEvent {
            event: &self.event,
            data: &self.data,
        }
    }

    /// Processes the line `buf[start..end]` (no terminator).
    fn field(&mut self, start: usize, end: usize) -> Result<(), SseTooLarge> {
        let line = &self.buf[start..end];
        if line[0] == b':' {
            return Ok(());
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                if self.data.len() + value.len() > MAX_PENDING {
                    return Err(SseTooLarge);
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            // `id` and `retry` matter only for reconnecting, which a chat stream never does.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Feeds `parts` one by one and collects `(event, data)` of every event, then `finish`.
    fn collect(parts: &[&[u8]]) -> Vec<(String, String)> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for part in parts {
            parser.push(part);
            while let Some(ev) = parser.next_event().unwrap() {
                out.push(owned(&ev));
            }
        }
        if let Some(ev) = parser.finish().unwrap() {
            out.push(owned(&ev));
        }
        out
    }

    fn owned(ev: &SseEvent<'_>) -> (String, String) {
        (
            String::from_utf8(ev.event.to_vec()).unwrap(),
            String::from_utf8(ev.data.to_vec()).unwrap(),
        )
    }

    fn ev(event: &str, data: &str) -> (String, String) {
        (event.to_string(), data.to_string())
    }

    /// Every way of cutting `input` into two and three pieces gives the same events.
    fn assert_split_invariant(input: &[u8], expected: &[(String, String)]) {
        assert_eq!(collect(&[input]), expected, "whole input");
        for i in 0..=input.len() {
            assert_eq!(
                collect(&[&input[..i], &input[i..]]),
                expected,
                "split at {i}"
            );
        }
        for i in 0..=input.len() {
            for j in i..=input.len() {
                assert_eq!(
                    collect(&[&input[..i], &input[i..j], &input[j..]]),
                    expected,
                    "split at {i} and {j}"
                );
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(collect(&bytes), expected, "byte by byte");
    }

    #[test]
    fn basic_events_every_split() {
        let input = "data: {\"a\":\"héllo 世界 🎉\"}\n\n: ping\n\ndata: [DONE]\n\n";
        assert_split_invariant(
            input.as_bytes(),
            &[ev("", "{\"a\":\"héllo 世界 🎉\"}"), ev("", "[DONE]")],
        );
    }

    #[test]
    fn crlf_and_cr_line_endings_every_split() {
        let input = b"data: one\r\n\r\ndata: two\r\rdata: three\n\r\ndata:four\r\n\r\n";
        assert_split_invariant(
            input,
            &[
                ev("", "one"),
                ev("", "two"),
                ev("", "three"),
                ev("", "four"),
            ],
        );
    }

    #[test]
    fn multi_line_data_joined_with_newline() {
        let input = b"data: first\ndata:second\ndata:  third\n\n";
        assert_split_invariant(input, &[ev("", "first\nsecond\n third")]);
    }

    #[test]
    fn event_id_retry_fields_and_comments() {
        let input = b": keep-alive\nevent: error\nid: 7\nretry: 1000\ndata: {\"x\":1}\n\nid: 8\n\ndata: y\n\n";
        assert_split_invariant(input, &[ev("error", "{\"x\":1}"), ev("", "y")]);
    }

    #[test]
    fn event_type_resets_after_dispatch_and_on_empty_event() {
        let input = b"event: a\n\ndata: 1\n\nevent: b\ndata: 2\n\ndata: 3\n\n";
        assert_split_invariant(input, &[ev("", "1"), ev("b", "2"), ev("", "3")]);
    }

    #[test]
    fn field_without_colon_and_empty_data() {
        // "data" alone is a data line with an empty value.
        let input = b"data\n\ndata:\ndata:\n\n";
        assert_split_invariant(input, &[ev("", ""), ev("", "\n")]);
    }

    #[test]
    fn unterminated_last_event_is_still_dispatched() {
        assert_split_invariant(b"data: a\n\ndata: [DONE]", &[ev("", "a"), ev("", "[DONE]")]);
        assert_split_invariant(b"data: a\n\ndata: b\n", &[ev("", "a"), ev("", "b")]);
    }

    #[test]
    fn utf8_split_across_reads_is_reassembled() {
        let input = "data: ä中😀\n\n".as_bytes();
        // Split inside every multi-byte character.
        for i in 0..input.len() {
            let got = collect(&[&input[..i], &input[i..]]);
            assert_eq!(got, vec![ev("", "ä中😀")]);
        }
    }

    #[test]
    fn buffer_is_compacted_over_long_streams() {
        let mut parser = SseParser::new();
        let mut count = 0;
        for _ in 0..10_000 {
            parser.push(b"data: 0123456789\n\nda");
            while let Some(ev) = parser.next_event().unwrap() {
                assert_eq!(ev.data, b"0123456789");
                count += 1;
            }
            parser.push(b"ta: x\n\n");
            while let Some(ev) = parser.next_event().unwrap() {
                assert_eq!(ev.data, b"x");
                count += 1;
            }
        }
        assert_eq!(count, 20_000);
        assert!(parser.buf.capacity() < 4096, "{}", parser.buf.capacity());
    }
}
