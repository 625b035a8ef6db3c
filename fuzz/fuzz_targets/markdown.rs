//! The TUI's markdown renderer (`qcode_tui::markdown::render`), with and without syntax
//! highlighting of fenced code, at a width the input chooses.
//!
//! Input: one byte for the width (10..=265 columns), then the markdown text. Checked: no
//! panic, and (with `-timeout=` in the runs) bounded time per input (the syntax set is loaded
//! once, before the first input).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qcode_tui::markdown::{Highlighter, Highlighting, render};

fn highlighter() -> &'static Highlighter {
    static HL: OnceLock<Highlighter> = OnceLock::new();
    HL.get_or_init(|| {
        let hl = Highlighter::new();
        hl.load_blocking();
        hl
    })
}

// The syntax set is loaded once, before the first input, so that `-timeout=` bounds the
// rendering of each input and not the one-time load (under ASan on a busy machine the load
// alone once took longer than the 5 s timeout).
fuzz_target!(init: { highlighter(); }, |data: &[u8]| {
    let Some((&w, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let width = 10 + usize::from(w);
    let plain = render(src, width, None, Highlighting::Off);
    let highlighted = render(src, width, Some(highlighter()), Highlighting::On);
    // Highlighting changes styles, not the lines a code block takes.
    assert_eq!(
        plain.len(),
        highlighted.len(),
        "highlighting changed the line count"
    );
});
