//! Text files as tools see them: binary sniffing, decoding (UTF-8, UTF-8 with BOM, UTF-16 LE/BE
//! with BOM, otherwise lossy UTF-8), line-ending detection, re-encoding in the file's own style,
//! atomic writes that keep permissions, and unified diffs.

use std::path::Path;

/// How a file's bytes encode its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8: decoded with U+FFFD replacements. Never written back by `edit`.
    LossyUtf8,
}

/// The file's line-ending style. `Crlf` only when every `\n` is preceded by `\r`; the text is
/// then held with `\n` and converted back on write. Mixed files are kept byte-for-byte (`Lf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnding {
    Lf,
    Crlf,
}

/// A decoded text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextFile {
    pub encoding: Encoding,
    pub line_ending: LineEnding,
    /// The text with `\n` line endings (when `line_ending` is `Crlf`) and without a BOM.
    pub text: String,
}

/// The result of sniffing a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    Text(TextFile),
    /// Not text; the string names what it looks like ("PNG image", "binary data").
    Binary(&'static str),
}

const SNIFF_LEN: usize = 8192;

/// Recognises common binary formats by their magic numbers.
fn magic(bytes: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x7fELF", "ELF executable"),
        (b"\x1f\x8b", "gzip archive"),
        (b"\0asm", "WebAssembly module"),
        (b"BZh", "bzip2 archive"),
        (b"\xfd7zXZ\0", "xz archive"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive"),
        (b"\x28\xb5\x2f\xfd", "zstd archive"),
        (b"SQLite format 3\0", "SQLite database"),
    ];
    TABLE
        .iter()
        .find(|(m, _)| bytes.starts_with(m))
        .map(|(_, name)| *name)
}

/// Sniffs and decodes a file's bytes.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    decode_owned(bytes.to_vec())
}

/// [`decode`] of bytes the caller no longer needs: valid UTF-8 becomes the text without a copy.
pub(crate) fn decode_owned(bytes: Vec<u8>) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return Decoded::Text(with_line_endings(
            Encoding::Utf16Le,
            decode_utf16(rest, u16::from_le_bytes),
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return Decoded::Text(with_line_endings(
            Encoding::Utf16Be,
            decode_utf16(rest, u16::from_be_bytes),
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return Decoded::Text(with_line_endings(
            Encoding::Utf8Bom,
            String::from_utf8_lossy(rest).into_owned(),
        ));
    }
    if let Some(name) = magic(&bytes) {
        return Decoded::Binary(name);
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if head.contains(&0) {
        return Decoded::Binary("binary data");
    }
    match String::from_utf8(bytes) {
        Ok(s) => Decoded::Text(with_line_endings(Encoding::Utf8, s)),
        Err(e) => {
            let bytes = e.into_bytes();
            let head = &bytes[..bytes.len().min(SNIFF_LEN)];
            let control = head
                .iter()
                .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
                .count();
            if control * 10 > head.len() {
                Decoded::Binary("binary data")
            } else {
                Decoded::Text(with_line_endings(
                    Encoding::LossyUtf8,
                    String::from_utf8_lossy(&bytes).into_owned(),
                ))
            }
        }
    }
}

fn decode_utf16(bytes: &[u8], conv: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| conv([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

fn with_line_endings(encoding: Encoding, text: String) -> TextFile {
    // One SIMD pass over the newlines; a CRLF is a newline after a `\r`.
    let bytes = text.as_bytes();
    let mut lf = 0usize;
    let mut crlf = 0usize;
    for at in memchr::memchr_iter(b'\n', bytes) {
        lf += 1;
        if at > 0 && bytes[at - 1] == b'\r' {
            crlf += 1;
        }
    }
    if crlf > 0 && crlf == lf {
        TextFile {
            encoding,
            line_ending: LineEnding::Crlf,
            text: text.replace("\r\n", "\n"),
        }
    } else {
        TextFile {
            encoding,
            line_ending: LineEnding::Lf,
            text,
        }
    }
}

impl TextFile {
    /// A new, empty UTF-8 file with `\n` endings.
    pub(crate) fn new_utf8(text: String) -> Self {
        Self {
            encoding: Encoding::Utf8,
            line_ending: LineEnding::Lf,
            text,
        }
    }

    /// A copy holding `text` in this file's encoding and line-ending style.
    pub(crate) fn with_text(&self, text: String) -> Self {
        Self {
            encoding: self.encoding,
            line_ending: self.line_ending,
            text,
        }
    }

    /// The bytes to write: the file's BOM, encoding and line-ending style.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let text = match self.line_ending {
            LineEnding::Lf => std::borrow::Cow::Borrowed(self.text.as_str()),
            LineEnding::Crlf => {
                std::borrow::Cow::Owned(self.text.replace("\r\n", "\n").replace('\n', "\r\n"))
            }
        };
        match self.encoding {
            Encoding::Utf8 | Encoding::LossyUtf8 => text.as_bytes().to_vec(),
            Encoding::Utf8Bom => [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
            Encoding::Utf16Le => {
                let mut out = vec![0xff, 0xfe];
                out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                out
            }
            Encoding::Utf16Be => {
                let mut out = vec![0xfe, 0xff];
                out.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
                out
            }
        }
    }
}

/// Writes `bytes` to `path` atomically (`qcode_fs::write_atomic`): the file keeps its
/// permissions (a new file gets the usual `0666` minus the umask), a symlinked file stays a
/// symlink, and parent directories are created.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    qcode_fs::write_atomic(path, bytes, qcode_fs::Mode::KeepOr(0o666))
        .map_err(qcode_fs::WriteError::into_io_error)
}

/// A unified diff of two texts with three lines of context, headed `a/<name>` / `b/<name>`.
pub(crate) fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Lines added and removed by a change (for short summaries).
pub(crate) fn diff_stats(old: &str, new: &str) -> (usize, usize) {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut added = 0;
    let mut removed = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

/// "12.3 KB"-style sizes for messages.
pub(crate) fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else if b < KB * KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else {
        format!("{:.1} GB", b / (KB * KB * KB))
    }
}

/// Truncates `s` to at most `max` bytes at a char boundary.
pub(crate) fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(bytes: &[u8]) -> (LineEnding, String) {
        match decode_owned(bytes.to_vec()) {
            Decoded::Text(t) => (t.line_ending, t.text),
            Decoded::Binary(what) => panic!("{what}"),
        }
    }

    #[test]
    fn crlf_only_when_every_newline_has_its_carriage_return() {
        assert_eq!(ending(b"a\r\nb\r\n"), (LineEnding::Crlf, "a\nb\n".into()));
        assert_eq!(ending(b"\r\n"), (LineEnding::Crlf, "\n".into()));
        assert_eq!(ending(b"a\r\nb\n"), (LineEnding::Lf, "a\r\nb\n".into()));
        assert_eq!(ending(b"\na\r\n"), (LineEnding::Lf, "\na\r\n".into()));
        assert_eq!(ending(b"a\rb\r"), (LineEnding::Lf, "a\rb\r".into()));
        assert_eq!(ending(b""), (LineEnding::Lf, String::new()));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_from_the_owned_bytes() {
        match decode_owned(b"caf\xe9\n".to_vec()) {
            Decoded::Text(t) => {
                assert_eq!(t.encoding, Encoding::LossyUtf8);
                assert_eq!(t.text, "caf\u{fffd}\n");
            }
            Decoded::Binary(what) => panic!("{what}"),
        }
    }
}
