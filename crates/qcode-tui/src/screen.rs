//! The inline screen: a viewport at the bottom of the normal terminal screen whose height
//! follows the UI, with finished transcript lines written *above* it so they scroll into the
//! terminal's own scrollback (native scroll, search and copy keep working; nothing is redrawn).
//!
//! Ratatui's `Viewport::Inline` has a fixed height, so this keeps a `Viewport::Fixed` terminal
//! and places it itself: lines are drawn below the transcript, the screen is scrolled with
//! newlines at the bottom row (which every terminal, tmux included, moves into scrollback), and
//! the viewport follows. Each update is wrapped in a synchronized-output block so the terminal
//! shows only the final state: no flicker.

use std::io::{self, Write};

use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::backend::{Backend, ClearType};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::Color;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

use crate::wrap::wrap_lines;

/// Whether colours are drawn (NO_COLOR keeps bold/dim but drops colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    Color,
    NoColor,
}

pub struct InlineScreen<B: Backend + Write> {
    terminal: Terminal<B>,
    size: Size,
    area: Rect,
    colors: ColorMode,
}

/// Removes foreground/background/underline colours from a buffer (NO_COLOR).
pub fn strip_colors(buf: &mut Buffer) {
    for cell in &mut buf.content {
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
        cell.underline_color = Color::Reset;
    }
}

impl<B: Backend + Write> InlineScreen<B> {
    /// Starts with a one-row viewport at `row` (the cursor row when the TUI started).
    pub fn new(backend: B, size: Size, row: u16, colors: ColorMode) -> io::Result<Self> {
        let row = row.min(size.height.saturating_sub(1));
        let area = Rect::new(0, row, size.width, 1);
        let terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )
        .map_err(io_err)?;
        Ok(Self {
            terminal,
            size,
            area,
            colors,
        })
    }

    pub fn area(&self) -> Rect {
        self.area
    }

    pub fn size(&self) -> Size {
        self.size
    }

    pub fn backend_mut(&mut self) -> &mut B {
        self.terminal.backend_mut()
    }

    /// Tallest viewport allowed: the screen minus one row, so some transcript stays visible.
    pub fn max_height(&self) -> u16 {
        self.size.height.saturating_sub(1).max(1)
    }

    /// Writes `history` above the viewport, gives the viewport `height` rows, and draws.
    pub fn update(
        &mut self,
        history: &[Line<'static>],
        height: u16,
        draw: impl FnOnce(&mut Frame),
    ) -> io::Result<()> {
        crossterm::queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let height = height.clamp(1, self.max_height());
        if !history.is_empty() || height != self.area.height {
            self.place(history, height)?;
        }
        let colors = self.colors;
        self.terminal
            .draw(|f| {
                draw(f);
                if colors == ColorMode::NoColor {
                    strip_colors(f.buffer_mut());
                }
            })
            .map_err(io_err)?;
        crossterm::queue!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        Backend::flush(self.terminal.backend_mut()).map_err(io_err)
    }

    fn scroll_up(&mut self, rows: u16) -> io::Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let b = self.terminal.backend_mut();
        b.set_cursor_position(Position::new(0, self.size.height.saturating_sub(1)))
            .map_err(io_err)?;
        b.append_lines(rows).map_err(io_err)
    }

    fn clear_from(&mut self, row: u16) -> io::Result<()> {
        let b = self.terminal.backend_mut();
        b.set_cursor_position(Position::new(0, row))
            .map_err(io_err)?;
        b.clear_region(ClearType::AfterCursor).map_err(io_err)
    }

    fn place(&mut self, history: &[Line<'static>], height: u16) -> io::Result<()> {
        let screen_h = self.size.height.max(1);
        let width = self.size.width.max(1);
        let lines = wrap_lines(history, width as usize);
        let mut cur = self.area.y.min(screen_h);
        self.clear_from(cur.min(screen_h - 1))?;
        let mut i = 0;
        while i < lines.len() {
            if cur >= screen_h {
                let k = ((lines.len() - i) as u16).min(screen_h);
                self.scroll_up(k)?;
                cur -= k;
            }
            let n = ((lines.len() - i) as u16).min(screen_h - cur);
            let area = Rect::new(0, cur, width, n);
            let mut buf = Buffer::empty(area);
            for (j, line) in lines[i..i + n as usize].iter().enumerate() {
                line.clone()
                    .render(Rect::new(0, cur + j as u16, width, 1), &mut buf);
            }
            if self.colors == ColorMode::NoColor {
                strip_colors(&mut buf);
            }
            let blank = Buffer::empty(area);
            let b = self.terminal.backend_mut();
            b.draw(blank.diff(&buf).into_iter()).map_err(io_err)?;
            cur += n;
            i += n as usize;
        }
        if cur + height > screen_h {
            let k = cur + height - screen_h;
            self.scroll_up(k)?;
            cur -= k;
        }
        if cur < screen_h {
            self.clear_from(cur)?;
        }
        self.area = Rect::new(0, cur, width, height);
        self.terminal.resize(self.area).map_err(io_err)
    }

    /// The terminal was resized to `size`.
    pub fn resize(&mut self, size: Size) -> io::Result<()> {
        let shrunk = size.width < self.size.width;
        self.size = size;
        let height = self.area.height.clamp(1, self.max_height());
        if shrunk {
            // The terminal reflowed the screen; positions are unknowable. Start at the top.
            let b = self.terminal.backend_mut();
            b.clear_region(ClearType::All).map_err(io_err)?;
            self.area = Rect::new(0, 0, size.width, height);
        } else {
            let y = self.area.y.min(size.height.saturating_sub(height));
            self.area = Rect::new(0, y, size.width, height);
            self.clear_from(y)?;
        }
        self.terminal.resize(self.area).map_err(io_err)
    }

    /// Ctrl+L: clears the visible screen and moves the viewport to the top.
    pub fn clear_screen(&mut self) -> io::Result<()> {
        let b = self.terminal.backend_mut();
        b.clear_region(ClearType::All).map_err(io_err)?;
        self.area.y = 0;
        self.terminal.resize(self.area).map_err(io_err)
    }

    /// Forces a full redraw of the viewport (after the pager or a suspend).
    pub fn invalidate(&mut self, row: Option<u16>) -> io::Result<()> {
        if let Some(r) = row {
            self.area.y = r.min(self.size.height.saturating_sub(self.area.height));
        }
        self.clear_from(self.area.y)?;
        self.terminal.resize(self.area).map_err(io_err)
    }

    /// After a suspend: the shell printed below us; put the viewport at the bottom of a screen
    /// of `size` without touching what is above it.
    pub fn resume(&mut self, size: Size) -> io::Result<()> {
        self.size = size;
        let height = self.area.height.clamp(1, self.max_height());
        self.area = Rect::new(0, size.height.saturating_sub(height), size.width, height);
        self.clear_from(self.area.y)?;
        self.terminal.resize(self.area).map_err(io_err)
    }

    /// Moves the cursor below the viewport (before leaving or suspending).
    pub fn park_cursor(&mut self) -> io::Result<()> {
        let bottom = self.area.bottom().min(self.size.height.saturating_sub(1));
        let b = self.terminal.backend_mut();
        b.set_cursor_position(Position::new(0, bottom))
            .map_err(io_err)?;
        if self.area.bottom() >= self.size.height {
            b.append_lines(1).map_err(io_err)?;
        }
        b.show_cursor().map_err(io_err)?;
        Backend::flush(b).map_err(io_err)
    }
}

fn io_err<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests;
