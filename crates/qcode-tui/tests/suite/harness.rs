//! Drives the TUI's state machine without a terminal: synthetic keys and engine events in,
//! Ops, scrollback lines and rendered frames out.

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};
use qcode_protocol::{ApprovalMode, AuthKind, Event, Op};
use qcode_tui::{App, AppEvent, TuiOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Line;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

pub struct Harness {
    pub app: App,
    pub ops: UnboundedReceiver<Op>,
    pub app_rx: UnboundedReceiver<AppEvent>,
    /// Every scrollback line written so far, as text.
    pub scrollback: Vec<String>,
    /// The same lines with their styles, as the terminal gets them (before wrapping).
    pub written: Vec<Line<'static>>,
}

pub fn options() -> TuiOptions {
    let mut o = TuiOptions::new(std::path::PathBuf::from("/"), "9.9.9");
    o.model = "qwen3-coder-plus".into();
    o.auth = AuthKind::QwenOauth;
    o.approval_mode = ApprovalMode::Default;
    o.context_window = Some(100_000);
    o.models = vec!["qwen3-coder-plus".into(), "qwen3-max".into()];
    o.no_color = false;
    o
}

impl Harness {
    pub fn new() -> Self {
        Self::with_options(options())
    }

    pub fn with_options(o: TuiOptions) -> Self {
        let (op_tx, ops) = unbounded_channel();
        let (app_tx, app_rx) = unbounded_channel();
        let mut h = Self {
            app: App::new(o, op_tx, app_tx),
            ops,
            app_rx,
            scrollback: Vec::new(),
            written: Vec::new(),
        };
        h.app.set_width(80);
        h.flush();
        h
    }

    pub fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        self.app.handle_terminal_event(TermEvent::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }));
        self.flush();
    }

    pub fn press(&mut self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }

    pub fn ctrl(&mut self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Types `s` and presses Enter.
    pub fn submit(&mut self, s: &str) {
        self.type_str(s);
        self.press(KeyCode::Enter);
    }

    pub fn engine(&mut self, e: Event) {
        self.app.handle_engine_event(e);
        self.flush();
    }

    /// Moves pending scrollback lines into `scrollback`.
    pub fn flush(&mut self) {
        for l in self.app.take_history() {
            self.scrollback.push(l.to_string());
            self.written.push(l);
        }
    }

    /// Ops sent since the last call.
    pub fn sent(&mut self) -> Vec<Op> {
        let mut out = Vec::new();
        while let Ok(op) = self.ops.try_recv() {
            out.push(op);
        }
        out
    }

    /// The bottom pane rendered at `width` (spinner glyphs replaced by `*` for stable output).
    pub fn frame(&mut self, width: u16, max_height: u16) -> String {
        let plan = self.app.plan(width, max_height);
        let mut term = Terminal::new(TestBackend::new(width, plan.height())).unwrap();
        term.draw(|f| self.app.render(&plan, f)).unwrap();
        let buf = term.backend().buffer().clone();
        let mut rows = Vec::new();
        for y in 0..buf.area.height {
            let mut row = String::new();
            let mut skip = 0;
            for x in 0..buf.area.width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
                row.push_str(sym);
            }
            rows.push(row.trim_end().to_string());
        }
        let text = rows.join("\n");
        qcode_tui::status::SPINNER
            .iter()
            .fold(text, |t, s| t.replace(s, "*"))
    }

    /// Delivers background app events until `done` holds (at most 5 s).
    pub async fn pump_until(&mut self, mut done: impl FnMut(&mut Harness) -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.app_rx.recv()).await {
                Ok(Some(ev)) => {
                    self.app.handle_app_event(ev);
                    self.flush();
                }
                Ok(None) | Err(_) => panic!(
                    "condition not reached; frame:\n{}\nscrollback:\n{}",
                    self.frame(80, 30),
                    self.scrollback_text()
                ),
            }
        }
    }

    /// Scrollback lines written from line `from` on, wrapped to `width` as the terminal shows
    /// them, trailing spaces trimmed.
    pub fn scrollback_at(&self, from: usize, width: u16) -> String {
        qcode_tui::wrap::wrap_lines(&self.written[from..], width as usize)
            .iter()
            .map(|l| l.to_string().trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn scrollback_text(&self) -> String {
        self.scrollback.join("\n")
    }
}
