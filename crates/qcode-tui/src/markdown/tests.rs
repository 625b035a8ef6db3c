use super::*;
use crate::testutil::lines_text;

fn md(src: &str) -> String {
    lines_text(&render(src, 60, None, Highlighting::Off), 60)
}

#[test]
fn headings_and_paragraphs() {
    insta::assert_snapshot!(md(
        "# Title\n\nSome *emphasis* and **bold** text.\n\n## Section\n\nMore `code` here.\n"
    ));
}

#[test]
fn lists_nested_and_tasks() {
    insta::assert_snapshot!(md(
        "Steps:\n\n1. first\n2. second\n   - nested a\n   - nested b\n3. third\n\n- [x] done\n- [ ] todo\n"
    ));
}

#[test]
fn table_fits_width() {
    insta::assert_snapshot!(md(
        "| Name | Size | Notes |\n|:-----|-----:|:-----:|\n| main.rs | 12 | entry |\n| lib.rs | 3400 | 你好 |\n"
    ));
}

#[test]
fn wide_table_is_shrunk() {
    let src = "| a | b |\n|---|---|\n| aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb |\n";
    let lines = render(src, 30, None, Highlighting::Off);
    for l in &lines {
        assert!(crate::wrap::line_width(l) <= 30, "{l}");
    }
    insta::assert_snapshot!(lines_text(&lines, 30));
}

#[test]
fn code_block_links_quotes_rules() {
    insta::assert_snapshot!(md(
        "Run this:\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\nSee [the docs](https://example.com/docs) or <https://x.y>.\n\n> quoted\n> text\n\n---\n\nend\n"
    ));
}

#[test]
fn code_is_highlighted_when_loaded() {
    let hl = Highlighter::new();
    hl.load_blocking();
    let lines = render(
        "```rust\nlet x = 1;\n```\n",
        40,
        Some(&hl),
        Highlighting::On,
    );
    assert_eq!(lines.len(), 1);
    assert!(lines[0].spans.len() > 1);
    assert!(
        lines[0]
            .spans
            .iter()
            .all(|s| matches!(s.style.fg, Some(Color::Rgb(..))))
    );
    let plain = render(
        "```rust\nlet x = 1;\n```\n",
        40,
        Some(&hl),
        Highlighting::Off,
    );
    assert_eq!(plain[0].spans.len(), 1);
    assert_eq!(plain[0].spans[0].style, code_style());
}

#[test]
fn styles_are_applied() {
    let lines = render("a **b** `c`", 40, None, Highlighting::Off);
    let spans = &lines[0].spans;
    assert_eq!(spans[1].content, "b");
    assert!(spans[1].style.add_modifier.contains(Modifier::BOLD));
    assert_eq!(spans[3].content, "c");
    assert_eq!(spans[3].style.fg, Some(Color::Cyan));
}

#[test]
fn rendering_a_growing_prefix_is_monotone() {
    let full = "# T\n\npara one\nline two\n\n- a\n- b\n\nend\n";
    let all = render(full, 40, None, Highlighting::Off);
    for cut in full
        .char_indices()
        .filter(|(_, c)| *c == '\n')
        .map(|(i, _)| i + 1)
    {
        let part = render(&full[..cut], 40, None, Highlighting::Off);
        assert!(part.len() <= all.len());
        for (a, b) in part.iter().zip(&all) {
            assert_eq!(a.to_string(), b.to_string(), "prefix {cut}");
        }
    }
}

#[test]
fn a_long_answer_with_table_code_nested_lists_and_long_lines() {
    let src = "## Findings\n\nThe parser in `src/parse.rs` stops one line early because the loop bound subtracts one from the length, so the last line of every input is silently dropped and never reaches the handler.\n\n1. Reading\n   - `read_lines` splits on `\\n`\n     - and keeps `\\r` on Windows input, which nobody strips before the comparison further down\n   - empty input returns early\n2. Handling\n\n| File | Change | Why |\n|------|--------|-----|\n| src/parse.rs | loop bound | the last line was dropped |\n| tests/parse.rs | new case | no test covered a file without a trailing newline |\n\n```rust\nfn parse(lines: &[&str]) -> Vec<Item> { lines.iter().map(|l| Item::from_line(l.trim_end_matches('\\r'))).collect() }\n```\n\nA URL that cannot break: https://example.com/a/very/long/path/that/goes/on/and/on/without/any/spaces/at/all\n";
    let lines = render(src, 60, None, Highlighting::Off);
    let narrow = render(src, 40, None, Highlighting::Off);
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        lines_text(&lines, 60),
        lines_text(&narrow, 40)
    ));
}
