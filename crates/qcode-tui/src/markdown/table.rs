//! Box-drawn rendering of GitHub-style markdown tables, fitted to the terminal width.

use pulldown_cmark::Alignment;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use crate::wrap::str_width;

/// One table cell: its styled spans.
pub type CellSpans = Vec<Span<'static>>;

const MIN_COL: usize = 3;

/// Renders the rows (the first row is the header) with box-drawing borders. Columns are shrunk
/// (widest first) until the table fits `width`; cells that do not fit end with `…`.
pub fn render_table(
    aligns: &[Alignment],
    rows: &[Vec<CellSpans>],
    width: usize,
) -> Vec<Line<'static>> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if cols == 0 {
        return Vec::new();
    }
    let mut widths = vec![MIN_COL; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(spans_width(cell));
        }
    }
    let overhead = 3 * cols + 1;
    while widths.iter().sum::<usize>() + overhead > width {
        let Some((idx, &w)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
            break;
        };
        if w <= MIN_COL {
            break;
        }
        widths[idx] = w - 1;
    }
    let border = Style::default().add_modifier(Modifier::DIM);
    let rule = |left: &str, mid: &str, right: &str| {
        let mut s = String::from(left);
        for (i, w) in widths.iter().enumerate() {
            s.push_str(&"─".repeat(w + 2));
            s.push_str(if i + 1 == cols { right } else { mid });
        }
        Line::from(Span::styled(s, border))
    };
    let mut out = vec![rule("┌", "┬", "┐")];
    for (r, row) in rows.iter().enumerate() {
        let mut spans = vec![Span::styled("│", border)];
        for (i, w) in widths.iter().enumerate() {
            let cell = row.get(i).cloned().unwrap_or_default();
            let mut cell = truncate_spans(cell, *w);
            if r == 0 {
                for s in &mut cell {
                    s.style = s.style.add_modifier(Modifier::BOLD);
                }
            }
            let pad = w.saturating_sub(spans_width(&cell));
            let (before, after) = match aligns.get(i).copied().unwrap_or(Alignment::None) {
                Alignment::Right => (pad, 0),
                Alignment::Center => (pad / 2, pad - pad / 2),
                Alignment::Left | Alignment::None => (0, pad),
            };
            spans.push(Span::raw(" ".repeat(1 + before)));
            spans.extend(cell);
            spans.push(Span::raw(" ".repeat(1 + after)));
            spans.push(Span::styled("│", border));
        }
        out.push(Line::from(spans));
        if r == 0 {
            out.push(rule("├", "┼", "┤"));
        }
    }
    out.push(rule("└", "┴", "┘"));
    out
}

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| str_width(&s.content)).sum()
}

/// Cuts spans to at most `max` columns, ending with `…` when something was cut.
pub fn truncate_spans(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    if spans_width(&spans) <= max {
        return spans;
    }
    let mut out = Vec::new();
    let mut used = 0;
    let budget = max.saturating_sub(1);
    let mut last_style = Style::default();
    'outer: for span in spans {
        let mut text = String::new();
        for g in span.content.graphemes(true) {
            let w = str_width(g);
            if used + w > budget {
                if !text.is_empty() {
                    out.push(Span::styled(text, span.style));
                }
                last_style = span.style;
                break 'outer;
            }
            used += w;
            text.push_str(g);
        }
        last_style = span.style;
        out.push(Span::styled(text, span.style));
    }
    if max > 0 {
        out.push(Span::styled("…", last_style));
    }
    out
}
