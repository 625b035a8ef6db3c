//! The shell-command reader of the allow-list (`approval/shell.rs`) and the allow-list's
//! decisions built on it.
//!
//! Checked, on every input that is valid UTF-8:
//! - a command judged "one simple command of literal words" has, by an independent quote-aware
//!   scan, no operator, substitution, redirection, glob or expansion outside quotes;
//! - its words, re-joined the way "allow for session" writes an entry, parse back to the same
//!   words, and that entry allows the command it was made from (any classifiable command:
//!   a compound one by its exact text);
//! - such a command followed by `;`, `&&`, `||`, `|`, `|&`, `&`, a newline, `$(…)`, backticks or
//!   a process substitution running another program is allowed neither by a prefix rule of its
//!   first word nor by one of all its words;
//! - a command that cannot be classified is allowed by no `run_shell_command(…)` entry made
//!   of any part of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcode_core::AllowList;
use qcode_core::approval::{CallFacts, ToolClass};
use qcode_core::fuzzing::{shell_allowed, shell_parse};

const TOOL: &str = "run_shell_command";
const MARKER: &str = "qcode_fuzz_marker";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let facts = CallFacts {
        tool: TOOL,
        class: ToolClass::Execute,
        leaves_workspace: false,
        permission_key: text,
        escapes_sandbox: false,
    };
    let entry = AllowList::session_entry(&facts);
    let parsed = shell_parse(text.trim());
    let Ok(script) = parsed else {
        // Unclassifiable: nothing but the whole tool may allow it.
        for pattern in [
            text,
            text.trim(),
            text.split_whitespace().next().unwrap_or(""),
        ] {
            assert!(
                !shell_allowed(text, &[pattern]),
                "an unclassifiable command is allowed by {pattern:?}"
            );
        }
        assert!(
            !AllowList::new([entry.clone()]).allows(&facts),
            "allowed by {entry:?}"
        );
        return;
    };

    // The "allow for session" entry allows the command it was made from.
    assert!(
        AllowList::new([entry.clone()]).allows(&facts),
        "the session entry {entry:?} does not allow its own command"
    );

    let Some(words) = script.plain_words else {
        return;
    };
    if let Some(what) = active_outside_quotes(text.trim()) {
        panic!("judged plain words {words:?} but the text has {what}");
    }

    // Re-joining: the entry's text parses back to the same words.
    let inner = entry
        .strip_prefix(&format!("{TOOL}("))
        .and_then(|e| e.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected session entry {entry:?}"));
    let again = shell_parse(inner).unwrap_or_else(|e| panic!("{inner:?} does not parse: {e}"));
    assert_eq!(
        again.plain_words.as_ref(),
        Some(&words),
        "re-joined as {inner:?}"
    );

    // Chains never ride on a prefix rule of the first command.
    if words[0] == MARKER || text.contains('#') || text.trim_end().ends_with('\\') {
        return;
    }
    let first = quote(&words[0]);
    let all = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
    let tails = [
        format!("; {MARKER}"),
        format!("&& {MARKER}"),
        format!("|| {MARKER}"),
        format!("| {MARKER}"),
        format!("|& {MARKER}"),
        format!("& {MARKER}"),
        format!("\n{MARKER}"),
        format!("$({MARKER})"),
        format!("`{MARKER}`"),
        format!("<({MARKER})"),
        format!(">({MARKER})"),
    ];
    for tail in &tails {
        let chained = format!("{} {tail}", text.trim_end());
        for rule in [&first, &all] {
            assert!(
                !shell_allowed(&chained, &[rule]),
                "{chained:?} is allowed by the prefix rule {rule:?}"
            );
        }
    }
});

/// Single-quotes a word for a rule.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// Scans like bash's quoting (backslash, single and double quotes, `#` comments) and names the
/// first character that would make the line more than literal words, if any.
fn active_outside_quotes(text: &str) -> Option<String> {
    #[derive(PartialEq)]
    enum State {
        Plain,
        Single,
        Double,
    }
    let chars: Vec<char> = text.chars().collect();
    let mut state = State::Plain;
    let mut i = 0;
    let mut word_start = true;
    let mut seen_word = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match state {
            State::Single => {
                if c == '\'' {
                    state = State::Plain;
                }
            }
            State::Double => match c {
                '\\' => i += 1,
                '"' => state = State::Plain,
                '`' => return Some("a backtick inside double quotes".into()),
                '$' if matches!(next, Some('(' | '{')) || next.is_some_and(is_name_start) => {
                    return Some(format!(
                        "an expansion `${}` in double quotes",
                        next.unwrap_or(' ')
                    ));
                }
                _ => {}
            },
            State::Plain => {
                match c {
                    // A line continuation disappears: neither a word nor a break.
                    '\\' if next == Some('\n') => {
                        i += 2;
                        continue;
                    }
                    '\\' => i += 1,
                    '\'' => state = State::Single,
                    '"' => state = State::Double,
                    '#' if word_start => {
                        while i < chars.len() && chars[i] != '\n' {
                            i += 1;
                        }
                        // A comment before any word: its line break separates nothing.
                        if !seen_word {
                            i += 1;
                        }
                        continue;
                    }
                    // Blank lines before the first word separate nothing.
                    '\n' if !seen_word => {}
                    ';' | '&' | '|' | '(' | ')' | '<' | '>' | '\n' | '`' => {
                        return Some(format!("{c:?} outside quotes"));
                    }
                    '*' | '?' => return Some(format!("a glob {c:?} outside quotes")),
                    '~' if word_start => return Some("a leading `~`".into()),
                    '$' if next.is_some_and(|n| is_name_start(n) || "({'\"".contains(n)) => {
                        return Some(format!("an expansion `${}`", next.unwrap_or(' ')));
                    }
                    _ => {}
                }
                word_start = matches!(c, ' ' | '\t' | '\n');
                seen_word |= !word_start && c != '\n';
            }
        }
        if state != State::Plain {
            word_start = false;
        }
        i += 1;
    }
    None
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@*#?!$-".contains(c)
}
