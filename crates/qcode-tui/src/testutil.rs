//! Helpers for tests: render lines or widgets into a `Buffer` and turn it into plain text.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;

/// The buffer's text, one row per line, trailing spaces trimmed.
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut rows = Vec::new();
    for y in area.top()..area.bottom() {
        let mut row = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let cell = &buf[(x, y)];
            let sym = cell.symbol();
            row.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        rows.push(row.trim_end().to_string());
    }
    rows.join("\n")
}

/// Renders logical lines (wrapped to `width`) into a buffer exactly as tall as needed.
pub fn lines_buffer(lines: &[Line<'static>], width: u16) -> Buffer {
    let wrapped = crate::wrap::wrap_lines(lines, width as usize);
    let area = Rect::new(0, 0, width, wrapped.len().max(1) as u16);
    let mut buf = Buffer::empty(area);
    for (i, line) in wrapped.iter().enumerate() {
        line.clone().render(Rect::new(0, i as u16, width, 1), &mut buf);
    }
    buf
}

/// Text of logical lines wrapped to `width`.
pub fn lines_text(lines: &[Line<'static>], width: u16) -> String {
    buffer_text(&lines_buffer(lines, width))
}
