//! Word wrapping of styled lines to a terminal width, measuring with `unicode-width` so CJK and
//! emoji take their real two columns. Continuation lines keep the "hang" indent of list items,
//! quotes and indented text so wrapped prose stays readable.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Display width of a string in terminal columns.
pub fn str_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Display width of a line.
pub fn line_width(line: &Line<'_>) -> usize {
    line.spans.iter().map(|s| str_width(&s.content)).sum()
}

/// Wraps every line to `width` columns (see [`wrap_line`]).
pub fn wrap_lines(lines: &[Line<'static>], width: usize) -> Vec<Line<'static>> {
    lines.iter().flat_map(|l| wrap_line(l, width)).collect()
}

/// Wraps one line at word boundaries; words longer than the width are broken between
/// graphemes. Continuation lines are indented by the line's hang indent (leading spaces plus a
/// list marker or quote bar), unless that would leave less than half the width.
pub fn wrap_line(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    if line_width(line) <= width {
        return vec![line.clone()];
    }
    let mut hang = hang_indent(line).max(column_indent(line));
    if hang * 2 > width {
        hang = 0;
    }
    // Split into graphemes with their styles, then into words (non-space run + space run).
    let mut graphemes: Vec<(String, Style)> = Vec::new();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for g in span.content.graphemes(true) {
            graphemes.push((g.to_string(), style));
        }
    }
    let mut words: Vec<Vec<(String, Style)>> = Vec::new();
    let mut current: Vec<(String, Style)> = Vec::new();
    let mut in_space = false;
    for g in graphemes {
        let is_space = g.0 == " ";
        if !is_space && in_space {
            words.push(std::mem::take(&mut current));
        }
        in_space = is_space;
        current.push(g);
    }
    if !current.is_empty() {
        words.push(current);
    }

    let mut out: Vec<Vec<(String, Style)>> = vec![Vec::new()];
    let mut col = 0usize;
    let mut line_start = 0usize;
    for word in words {
        let trimmed_width: usize = word
            .iter()
            .rev()
            .skip_while(|(g, _)| g == " ")
            .map(|(g, _)| str_width(g))
            .sum();
        if col > line_start && col + trimmed_width > width {
            out.push(indent_cells(hang));
            col = hang;
            line_start = hang;
        }
        for (g, style) in word {
            let w = str_width(&g);
            if col + w > width {
                if g == " " {
                    continue;
                }
                out.push(indent_cells(hang));
                col = hang;
                line_start = hang;
            }
            col += w;
            if let Some(last) = out.last_mut() {
                last.push((g, style));
            }
        }
    }
    out.into_iter()
        .map(|cells| {
            let mut line = cells_to_line(cells);
            trim_trailing_spaces(&mut line);
            line
        })
        .collect()
}

fn indent_cells(hang: usize) -> Vec<(String, Style)> {
    (0..hang)
        .map(|_| (" ".to_string(), Style::default()))
        .collect()
}

fn cells_to_line(cells: Vec<(String, Style)>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style: Option<Style> = None;
    for (g, s) in cells {
        if style != Some(s) {
            if let Some(prev) = style
                && !text.is_empty()
            {
                spans.push(Span::styled(std::mem::take(&mut text), prev));
            }
            style = Some(s);
        }
        text.push_str(&g);
    }
    if let Some(prev) = style
        && !text.is_empty()
    {
        spans.push(Span::styled(text, prev));
    }
    Line::from(spans)
}

fn trim_trailing_spaces(line: &mut Line<'static>) {
    while let Some(last) = line.spans.last_mut() {
        let trimmed = last.content.trim_end_matches(' ').to_string();
        if trimmed.is_empty() {
            line.spans.pop();
        } else {
            last.content = trimmed.into();
            break;
        }
    }
}

/// A two-column row ("  name<padding>description", the first span padded with at least two
/// spaces): continuation lines line up with the second column.
fn column_indent(line: &Line<'_>) -> usize {
    match line.spans.as_slice() {
        [first, _, ..] if first.content.ends_with("  ") => str_width(&first.content),
        _ => 0,
    }
}

/// Width of the indent that continuation lines should get: leading spaces, then an optional
/// list marker (`-`, `*`, `•`, `1.`, `1)`), quote bar (`│`) or checkbox, then spaces.
pub fn hang_indent(line: &Line<'_>) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let mut rest = text.as_str();
    let mut width = 0;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        width += rest.len() - trimmed.len();
        rest = trimmed;
        if let Some(r) = rest.strip_prefix("│ ") {
            width += 2;
            rest = r;
            continue;
        }
        break;
    }
    for marker in ["- ", "* ", "• ", "+ "] {
        if let Some(r) = rest.strip_prefix(marker) {
            width += str_width(marker);
            rest = r;
            for cb in ["[ ] ", "[x] ", "☐ ", "☑ "] {
                if r.starts_with(cb) {
                    width += str_width(cb);
                }
            }
            let _ = rest;
            return width;
        }
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let after = &rest[digits..];
        if after.starts_with(". ") || after.starts_with(") ") {
            return width + digits + 2;
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn two_column_rows_wrap_under_the_second_column() {
        let row = Line::from(vec![
            ratatui::text::Span::raw("  /privacy  "),
            ratatui::text::Span::raw("usage statistics and turning them off"),
        ]);
        assert_eq!(
            texts(&wrap_line(&row, 30)),
            vec![
                "  /privacy  usage statistics",
                "            and turning them",
                "            off"
            ]
        );
    }

    #[test]
    fn short_line_is_unchanged() {
        let l = Line::from("hello world");
        assert_eq!(texts(&wrap_line(&l, 20)), vec!["hello world"]);
    }

    #[test]
    fn wraps_at_words() {
        let l = Line::from("the quick brown fox jumps");
        assert_eq!(
            texts(&wrap_line(&l, 10)),
            vec!["the quick", "brown fox", "jumps"]
        );
    }

    #[test]
    fn list_items_hang() {
        let l = Line::from("- alpha beta gamma delta");
        assert_eq!(
            texts(&wrap_line(&l, 12)),
            vec!["- alpha beta", "  gamma", "  delta"]
        );
        let l = Line::from("12. alpha beta gamma");
        assert_eq!(
            texts(&wrap_line(&l, 12)),
            vec!["12. alpha", "    beta", "    gamma"]
        );
    }

    #[test]
    fn long_words_break_and_cjk_counts_double() {
        let l = Line::from("abcdefghij");
        assert_eq!(texts(&wrap_line(&l, 4)), vec!["abcd", "efgh", "ij"]);
        let l = Line::from("你好世界你好");
        assert_eq!(texts(&wrap_line(&l, 5)), vec!["你好", "世界", "你好"]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let l = Line::from(vec![Span::raw("aaa "), Span::styled("bbb ccc", bold)]);
        let wrapped = wrap_line(&l, 7);
        assert_eq!(texts(&wrapped), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrapped[1].spans[0].style, bold);
    }
}
