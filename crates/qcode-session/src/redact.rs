//! What a transcript keeps of free text that did not come from the conversation (a hook's
//! command line and its short reason): one line, capped, with anything that looks like a
//! credential replaced by `***` — `Bearer …` / `Basic …` values, `NAME=value` and
//! `--name value` where the name looks like a secret
//! ([`qcode_protocol::env_names::is_secret_name`]), URL query values of such names, and
//! words shaped like API keys or tokens (`sk-…`, `ghp_…`, `xoxb-…`, long mixed strings).

use qcode_protocol::env_names::{is_secret_name, looks_like_key};

/// The longest event, scope or status name kept.
pub(crate) const NAME_CHARS: usize = 64;
/// The longest hook command kept.
pub(crate) const COMMAND_CHARS: usize = 200;
/// The longest hook message kept.
pub(crate) const MESSAGE_CHARS: usize = 300;

const MASK: &str = "***";

/// `text` on one line (control characters removed), at most `max` characters (`…` marks a cut).
pub(crate) fn capped(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut out: String = line.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// [`capped`] after masking whatever looks like a credential (see the module docs). The mask
/// is applied before the cut, so a cut never leaves half a secret.
pub(crate) fn redacted(text: &str, max: usize) -> String {
    let line = capped(text, usize::MAX);
    let words: Vec<&str> = line.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| bare(words[p]));
        let masked = match previous {
            Some(p) if is_scheme(p) => MASK.to_string(),
            // `--api-key VALUE`, `-H X-Api-Key: VALUE`, `Authorization: VALUE`.
            Some(p)
                if (p.starts_with('-') || p.ends_with(':'))
                    && is_secret_name(p.trim_start_matches('-').trim_end_matches(':'))
                    && !word.starts_with('-')
                    && !is_scheme(bare(word)) =>
            {
                MASK.to_string()
            }
            _ => mask_word(word),
        };
        out.push(masked);
    }
    capped(&out.join(" "), max)
}

/// `Bearer` / `Basic`: the value follows as the next word.
fn is_scheme(word: &str) -> bool {
    word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")
}

/// A word without the quotes and punctuation around it.
fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ',' | ';' | '(' | ')'))
}

/// One word with its secret-named assignments and key-shaped parts masked.
fn mask_word(word: &str) -> String {
    if looks_like_key(bare(word)) {
        return MASK.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let after = &after[1..];
        out.push_str(before);
        out.push('=');
        let name_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let name = before[name_start..].trim_start_matches('-');
        let end = after
            .find(['&', '"', '\'', ';', ',', ' '])
            .unwrap_or(after.len());
        let secret_name = !name.is_empty() && is_secret_name(name) && end > 0;
        if secret_name || looks_like_key(&after[..end]) {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_and_keeps_the_rest() {
        let cases = [
            (
                "curl -H 'Authorization: Bearer abc.def' https://x/y",
                "curl -H 'Authorization: Bearer *** https://x/y",
            ),
            (
                "API_TOKEN=hunter2 ./check.sh --verbose",
                "API_TOKEN=*** ./check.sh --verbose",
            ),
            (
                "tool --api-key s3cr3t --name x",
                "tool --api-key *** --name x",
            ),
            (
                "fetch https://h/p?access_token=zzz&page=2",
                "fetch https://h/p?access_token=***&page=2",
            ),
            ("echo sk-proj-abcdefghijklmnop1234", "echo ***"),
            ("X-Api-Key: 12345", "X-Api-Key: ***"),
            (
                "python3 ~/.qwen/hooks/guard.py run_shell_command",
                "python3 ~/.qwen/hooks/guard.py run_shell_command",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redacted(input, 500), want, "{input}");
        }
    }

    #[test]
    fn one_line_and_capped_after_masking() {
        assert_eq!(capped("a\nb\t c", 10), "a b c");
        let long = "x".repeat(50);
        let cut = capped(&long, 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
        let text = format!("TOKEN=verysecretvalue {long}");
        let out = redacted(&text, 12);
        assert!(!out.contains("verysecret"), "{out}");
    }
}
