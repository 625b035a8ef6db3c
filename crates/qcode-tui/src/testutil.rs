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
        line.clone()
            .render(Rect::new(0, i as u16, width, 1), &mut buf);
    }
    buf
}

/// Text of logical lines wrapped to `width`.
pub fn lines_text(lines: &[Line<'static>], width: u16) -> String {
    buffer_text(&lines_buffer(lines, width))
}

/// A crossterm backend writing escape sequences into memory, with a fixed size, so tests can
/// feed the exact bytes to a `vt100` terminal emulator.
/// A clonable in-memory writer.
#[derive(Clone, Default)]
pub struct SharedBuf(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct VtBackend {
    pub inner: ratatui::backend::CrosstermBackend<SharedBuf>,
    out: SharedBuf,
    size: ratatui::layout::Size,
    cursor: ratatui::layout::Position,
}

impl VtBackend {
    pub fn new(width: u16, height: u16) -> Self {
        let out = SharedBuf::default();
        Self {
            inner: ratatui::backend::CrosstermBackend::new(out.clone()),
            out,
            size: ratatui::layout::Size::new(width, height),
            cursor: ratatui::layout::Position::ORIGIN,
        }
    }

    /// Bytes written since the last call.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.out.0.lock().unwrap())
    }
}

impl std::io::Write for VtBackend {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(&mut self.inner)
    }
}

impl ratatui::backend::Backend for VtBackend {
    type Error = std::io::Error;
    fn draw<'a, I>(&mut self, content: I) -> std::io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.inner.draw(content)
    }
    fn append_lines(&mut self, n: u16) -> std::io::Result<()> {
        self.inner.append_lines(n)
    }
    fn hide_cursor(&mut self) -> std::io::Result<()> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> std::io::Result<()> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> std::io::Result<ratatui::layout::Position> {
        Ok(self.cursor)
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        position: P,
    ) -> std::io::Result<()> {
        let p = position.into();
        self.cursor = p;
        self.inner.set_cursor_position(p)
    }
    fn clear(&mut self) -> std::io::Result<()> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ratatui::backend::ClearType) -> std::io::Result<()> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> std::io::Result<ratatui::layout::Size> {
        Ok(self.size)
    }
    fn window_size(&mut self) -> std::io::Result<ratatui::backend::WindowSize> {
        Ok(ratatui::backend::WindowSize {
            columns_rows: self.size,
            pixels: ratatui::layout::Size::new(0, 0),
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        ratatui::backend::Backend::flush(&mut self.inner)
    }
}
