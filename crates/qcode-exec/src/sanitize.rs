//! Text from the model and from tools is hostile: on a terminal, `ESC ] 0;title BEL` sets the
//! window title, OSC 52 writes the clipboard, other sequences move the cursor or redefine keys.
//! [`TerminalFilter`] passes printable text, newlines, tabs and plain SGR colour (`ESC [ 1;31 m`)
//! and drops every other control character and escape sequence — also when one is split across
//! stream chunks. It is used only when the output is a terminal; a pipe or file gets the bytes
//! exactly (scripts rely on that).

/// Longest sequence kept in memory while deciding; longer ones are dropped.
const MAX_SEQUENCE: usize = 64;
/// Longest OSC / DCS string swallowed before giving up on its terminator.
const MAX_STRING: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// Inside `ESC [`: the sequence so far (kept only if it turns out to be SGR).
    Csi(String),
    /// Inside an OSC / DCS / SOS / PM / APC string: swallowed until BEL or `ESC \`.
    Str { len: usize, saw_escape: bool },
}

/// A streaming filter; feed it chunks in order.
#[derive(Debug, Default)]
pub struct TerminalFilter {
    state: State,
}

impl TerminalFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The displayable part of `chunk` (state carries over to the next chunk).
    pub fn push(&mut self, chunk: &str) -> String {
        let mut out = String::with_capacity(chunk.len());
        for c in chunk.chars() {
            self.step(c, &mut out);
        }
        out
    }

    fn step(&mut self, c: char, out: &mut String) {
        match std::mem::take(&mut self.state) {
            State::Text => match c {
                '\u{1b}' => self.state = State::Escape,
                // The one-character (C1) forms of CSI and of the string sequences.
                '\u{9b}' => self.state = State::Csi(String::from("\u{9b}")),
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                    self.state = State::Str {
                        len: 0,
                        saw_escape: false,
                    }
                }
                '\n' | '\t' => out.push(c),
                // C0 controls (BEL, BS, CR, …), DEL and C1 controls (single-byte CSI/OSC).
                c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {}
                c => out.push(c),
            },
            State::Escape => match c {
                '[' => self.state = State::Csi(String::from("\u{1b}[")),
                ']' | 'P' | 'X' | '^' | '_' => {
                    self.state = State::Str {
                        len: 0,
                        saw_escape: false,
                    }
                }
                // A two-character escape (ESC c, ESC 7, …): dropped. A second ESC starts over.
                '\u{1b}' => self.state = State::Escape,
                _ => {}
            },
            State::Csi(mut seq) => {
                seq.push(c);
                match c as u32 {
                    // Parameter and intermediate bytes: keep collecting.
                    0x20..=0x3f if seq.len() < MAX_SEQUENCE => self.state = State::Csi(seq),
                    // Final byte: keep only plain SGR (digits and `;` only).
                    0x40..=0x7e => {
                        // Only the 7-bit `ESC [` form is passed (terminals differ on C1).
                        if let Some(params) = seq
                            .strip_prefix("\u{1b}[")
                            .and_then(|rest| rest.strip_suffix('m'))
                            && params.chars().all(|p| p.is_ascii_digit() || p == ';')
                        {
                            out.push_str(&seq);
                        }
                    }
                    // Anything else (or too long): not a sequence we pass; drop it.
                    _ => {}
                }
            }
            State::Str { len, saw_escape } => {
                let ends = c == '\u{7}' || (saw_escape && c == '\\');
                if !ends && len < MAX_STRING {
                    self.state = State::Str {
                        len: len + 1,
                        saw_escape: c == '\u{1b}',
                    };
                }
            }
        }
    }
}

/// `line` with everything but text and SGR colour removed (for whole lines on stderr).
pub fn for_terminal(line: &str) -> String {
    TerminalFilter::new().push(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_clipboard_and_cursor_moves_are_dropped_colour_kept() {
        let hostile = "a\u{1b}]0;pwned\u{7}b\u{1b}]52;c;ZWNobyBoaQ==\u{1b}\\c\u{1b}[2J\u{1b}[1;31mred\u{1b}[0m\r\u{7}\u{9b}6n\u{1b}cd\te\n";
        assert_eq!(for_terminal(hostile), "abc\u{1b}[1;31mred\u{1b}[0md\te\n");
    }

    #[test]
    fn a_sequence_split_across_chunks_is_still_caught() {
        let text = "x\u{1b}]0;title\u{7}y\u{1b}[32mz";
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut f = TerminalFilter::new();
            let got = f.push(&text[..cut]) + &f.push(&text[cut..]);
            assert_eq!(got, "xy\u{1b}[32mz", "cut at {cut}");
        }
    }

    #[test]
    fn plain_text_and_unicode_pass_unchanged() {
        let text = "fn main() { println!(\"héllo 世界 🎉\"); }\n\tindented\n";
        assert_eq!(for_terminal(text), text);
    }

    #[test]
    fn an_unterminated_string_does_not_swallow_everything() {
        let mut f = TerminalFilter::new();
        let mut out = f.push("\u{1b}]0;");
        out += &f.push(&"x".repeat(MAX_STRING + 10));
        out += &f.push("after");
        assert!(out.ends_with("after"), "{out}");
    }
}
