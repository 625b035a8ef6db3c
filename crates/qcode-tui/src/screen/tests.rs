use super::*;
use crate::testutil::VtBackend;
use ratatui::text::Line;

fn nz(n: u16) -> std::num::NonZero<u16> {
    std::num::NonZero::new(n).unwrap()
}

struct Harness {
    screen: InlineScreen<VtBackend>,
    vt: vt100::Parser,
}

impl Harness {
    fn new(w: u16, h: u16, start_row: u16) -> Self {
        let screen = InlineScreen::new(
            VtBackend::new(w, h),
            Size::new(w, h),
            start_row,
            ColorMode::Color,
        )
        .unwrap();
        let mut vt = vt100::Parser::new(nz(h), nz(w), 200);
        // Simulate earlier shell output above the start row.
        for i in 0..start_row {
            vt.process(format!("shell {i}\r\n").as_bytes());
        }
        Self { screen, vt }
    }

    fn update(&mut self, history: &[&str], ui: &[&str]) {
        let lines: Vec<Line<'static>> = history.iter().map(|s| Line::from(s.to_string())).collect();
        let ui: Vec<String> = ui.iter().map(|s| s.to_string()).collect();
        self.screen
            .update(&lines, ui.len() as u16, |f| {
                for (i, l) in ui.iter().enumerate() {
                    let a = f.area();
                    f.render_widget(
                        Line::from(l.clone()),
                        Rect::new(a.x, a.y + i as u16, a.width, 1),
                    );
                }
            })
            .unwrap();
        let bytes = self.screen.backend_mut().take_bytes();
        self.vt.process(&bytes);
    }

    fn screen_rows(&self) -> Vec<String> {
        self.vt
            .screen()
            .rows(0, self.vt.screen().size().1.into())
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    fn scrollback(&mut self) -> Vec<String> {
        let mut all = Vec::new();
        let mut n = 1;
        loop {
            self.vt.screen_mut().set_scrollback(n);
            if self.vt.screen().scrollback() < n {
                break;
            }
            n += 1;
        }
        let total = n - 1;
        for off in (1..=total).rev() {
            self.vt.screen_mut().set_scrollback(off);
            let first = self
                .vt
                .screen()
                .rows(0, self.vt.screen().size().1.into())
                .next()
                .unwrap_or_default();
            all.push(first.trim_end().to_string());
        }
        self.vt.screen_mut().set_scrollback(0);
        all
    }
}

#[test]
fn viewport_starts_at_cursor_and_history_goes_above() {
    let mut h = Harness::new(20, 6, 2);
    h.update(&[], &["> prompt", "status"]);
    assert_eq!(
        h.screen_rows(),
        vec!["shell 0", "shell 1", "> prompt", "status", "", ""]
    );
    h.update(&["answer 1"], &["> prompt", "status"]);
    assert_eq!(
        h.screen_rows(),
        vec!["shell 0", "shell 1", "answer 1", "> prompt", "status", ""]
    );
}

#[test]
fn lines_scroll_into_native_scrollback() {
    let mut h = Harness::new(20, 5, 0);
    h.update(&[], &["> p", "s"]);
    let hist: Vec<String> = (1..=7).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = hist.iter().map(String::as_str).collect();
    h.update(&refs, &["> p", "s"]);
    assert_eq!(
        h.screen_rows(),
        vec!["line 5", "line 6", "line 7", "> p", "s"]
    );
    assert_eq!(h.scrollback(), vec!["line 1", "line 2", "line 3", "line 4"]);
}

#[test]
fn viewport_grows_and_shrinks_without_losing_history() {
    let mut h = Harness::new(20, 6, 3);
    h.update(&[], &["a", "b"]);
    h.update(&[], &["a", "b", "c", "d", "e"]);
    assert_eq!(
        h.screen.area().y,
        1,
        "grew upwards by scrolling (one row stays for the transcript)"
    );
    assert_eq!(h.screen_rows()[0], "shell 2");
    assert_eq!(h.screen_rows()[5], "e");
    h.update(&["hist"], &["a"]);
    let rows = h.screen_rows();
    assert_eq!(rows[..3], ["shell 2", "hist", "a"]);
    assert!(rows[3..].iter().all(String::is_empty), "{rows:?}");
    assert_eq!(h.scrollback(), vec!["shell 0", "shell 1"]);
}

#[test]
fn long_wrapped_and_wide_history_lines() {
    let mut h = Harness::new(10, 6, 0);
    h.update(&[], &["ui"]);
    h.update(&["你好世界你好世界 ok", "short"], &["ui"]);
    assert_eq!(
        h.screen_rows()[..4],
        ["你好世界你", "好世界 ok", "short", "ui"]
    );
}

#[test]
fn no_color_strips_colors_but_keeps_bold() {
    use ratatui::style::{Color, Style, Stylize};
    let mut screen = InlineScreen::new(
        VtBackend::new(20, 4),
        Size::new(20, 4),
        0,
        ColorMode::NoColor,
    )
    .unwrap();
    let styled = Line::from(vec!["red".fg(Color::Red).bold()]);
    screen
        .update(std::slice::from_ref(&styled), 1, |f| {
            f.render_widget(Line::from("x".fg(Color::Green)), f.area())
        })
        .unwrap();
    let bytes = screen.backend_mut().take_bytes();
    let mut vt = vt100::Parser::new(nz(4), nz(20), 0);
    vt.process(&bytes);
    let cell = vt.screen().cell(0, 0).unwrap();
    assert_eq!(cell.contents(), "r");
    assert!(cell.bold());
    assert_eq!(cell.fgcolor(), vt100::Color::Default);
    let ui = vt.screen().cell(1, 0).unwrap();
    assert_eq!(ui.contents(), "x");
    assert_eq!(ui.fgcolor(), vt100::Color::Default);
    let _ = Style::default();
}
