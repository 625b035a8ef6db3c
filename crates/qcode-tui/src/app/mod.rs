//! The application state machine behind [`crate::run`]: it turns terminal keys, engine events
//! and internal app events into Ops, scrollback lines and a bottom pane to draw. It never
//! touches the terminal itself, so tests drive it directly.

mod commands;
mod dialogs;
mod engine;
mod keys;
mod render;
mod stats;

pub use dialogs::ServiceReply;
pub use render::FramePlan;
pub use stats::SessionStats;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use qcode_protocol::Op;
use ratatui::text::Line;
use tokio::sync::mpsc::UnboundedSender;

use crate::approval::ApprovalModal;
use crate::composer::Composer;
use crate::dialog::Dialog;
use crate::markdown::Highlighter;
use crate::pager::Pager;
use crate::popup::Popup;
use crate::status::StatusInfo;
use crate::transcript::{Cell, Detail, MarkdownStream, NoticeKind, ToolCell};
use crate::{ExitReason, TuiOptions};

/// Internal events produced by background work.
#[derive(Debug, Clone, PartialEq)]
pub enum AppEvent {
    /// The `@` file index finished.
    FilesIndexed(Vec<String>),
    /// Syntax highlighting is loaded.
    HighlighterReady,
    GitBranch(Option<String>),
    /// A local `!command` finished.
    ShellDone {
        command: String,
        output: String,
        exit_code: Option<i32>,
    },
    /// A [`crate::Services`] call finished (or reported progress). `id` is the dialog it
    /// belongs to (0: none); replies for a dialog that was closed are dropped.
    Service {
        id: u64,
        reply: ServiceReply,
    },
}

/// Things only the terminal loop can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    ClearScreen,
    /// Put text on the clipboard with OSC 52.
    Copy(String),
    Suspend,
    OpenPager,
    ClosePager,
}

/// Which popup is open above the composer.
#[derive(Debug, Clone, PartialEq)]
pub enum PopupKind {
    Slash,
    /// `@` completion; the byte offset of the `@`.
    Files {
        start: usize,
    },
    Model,
    ApprovalMode,
}

#[derive(Debug, Clone, PartialEq)]
enum FilesState {
    NotStarted,
    Indexing,
    Ready(Vec<String>),
}

/// The running turn.
#[derive(Debug)]
struct Turn {
    started: Instant,
    stream: Option<MarkdownStream>,
    reasoning: Option<(String, Instant)>,
    tools: Vec<ToolCell>,
    answer_started: bool,
}

pub struct App {
    ops: UnboundedSender<Op>,
    app_tx: UnboundedSender<AppEvent>,
    pub(crate) options: TuiOptions,
    composer: Composer,
    status: StatusInfo,
    transcript: Vec<Cell>,
    history_out: Vec<Line<'static>>,
    inserted_any: bool,
    effects: Vec<Effect>,
    turn: Option<Turn>,
    /// Prompts typed while a turn runs, sent when it ends.
    queued: VecDeque<String>,
    approvals: VecDeque<ApprovalModal>,
    popup: Option<(PopupKind, Popup)>,
    files: FilesState,
    /// Local `!command`s running.
    shells: Vec<String>,
    stats: SessionStats,
    started: Instant,
    pub(crate) highlighter: Highlighter,
    pager: Option<Pager>,
    /// The open dialog and its id (replies carry the id they were started for).
    dialog: Option<(u64, Dialog)>,
    next_dialog_id: u64,
    /// An `Op::SwitchAuth` waiting for the engine's answer.
    pending_switch: Option<dialogs::PendingSwitch>,
    /// Context files loaded by the last /memory refresh, reported when the engine confirms.
    pending_refresh: Option<usize>,
    exit: Option<ExitReason>,
    ctrl_c_at: Option<Instant>,
    hint: Option<(String, Instant)>,
    last_answer: String,
    width: u16,
    dirty: bool,
}

/// How long "press Ctrl+C again" stays armed.
const CTRL_C_WINDOW: Duration = Duration::from_secs(2);

impl App {
    pub fn new(
        options: TuiOptions,
        ops: UnboundedSender<Op>,
        app_tx: UnboundedSender<AppEvent>,
    ) -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let status = StatusInfo {
            model: options.model.clone(),
            auth: options.auth,
            approval_mode: options.approval_mode,
            context_window: options.context_window,
            context_tokens: 0,
            session_tokens: 0,
            cwd: crate::status::shorten_home(&options.cwd, home.as_deref()),
            branch: None,
        };
        let mut app = Self {
            ops,
            app_tx,
            composer: Composer::new(options.history_file.clone()),
            status,
            transcript: Vec::new(),
            history_out: Vec::new(),
            inserted_any: false,
            effects: Vec::new(),
            turn: None,
            queued: VecDeque::new(),
            approvals: VecDeque::new(),
            popup: None,
            files: FilesState::NotStarted,
            shells: Vec::new(),
            stats: SessionStats::default(),
            started: Instant::now(),
            highlighter: Highlighter::new(),
            pager: None,
            dialog: None,
            next_dialog_id: 1,
            pending_switch: None,
            pending_refresh: None,
            exit: None,
            ctrl_c_at: None,
            hint: None,
            last_answer: String::new(),
            width: 80,
            dirty: true,
            options,
        };
        app.welcome();
        if app.options.open_auth_at_start {
            app.open_auth(Some("You are not signed in yet.".into()));
        }
        app
    }

    fn welcome(&mut self) {
        use ratatui::style::{Color, Modifier, Style};
        use ratatui::text::Span;
        let dim = Style::default().add_modifier(Modifier::DIM);
        let lines = vec![
            Line::from(vec![
                Span::styled(
                    ">_ ",
                    Style::default()
                        .fg(Color::Cyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::styled("qcode", Style::default().add_modifier(Modifier::BOLD)),
                Span::styled(format!(" {}", self.options.version), dim),
            ]),
            Line::from(Span::styled(
                format!("   {} · {}", self.status.model, self.status.cwd),
                dim,
            )),
            Line::from(Span::styled(
                "   /help for keys and commands · Ctrl+T transcript · Ctrl+C twice to exit",
                dim,
            )),
        ];
        self.emit_cell(Cell::Info { lines });
        if let Some(notice) = self.options.privacy_notice.clone() {
            self.emit_cell(Cell::Notice {
                kind: NoticeKind::Info,
                text: notice,
                hint: None,
            });
        }
    }

    // ---- outputs for the loop ------------------------------------------------------------

    /// Lines waiting to be written to the scrollback (empty while the pager is open).
    pub fn take_history(&mut self) -> Vec<Line<'static>> {
        if self.pager.is_some() {
            return Vec::new();
        }
        std::mem::take(&mut self.history_out)
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Why the app wants to stop, once it does.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.exit
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    pub fn status(&self) -> &StatusInfo {
        &self.status
    }

    pub fn composer(&self) -> &Composer {
        &self.composer
    }

    pub fn transcript(&self) -> &[Cell] {
        &self.transcript
    }

    pub fn pager_mut(&mut self) -> Option<&mut Pager> {
        self.pager.as_mut()
    }

    /// True when something changed since the last frame.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Forces the next frame (after the terminal was cleared or restored).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// True while something animates (spinner, elapsed time): the loop ticks frames.
    pub fn animating(&self) -> bool {
        self.turn.is_some()
            || !self.shells.is_empty()
            || self.hint.is_some()
            || self.dialog.as_ref().is_some_and(|(_, d)| d.animating())
    }

    pub fn set_width(&mut self, width: u16) {
        if width != self.width {
            self.width = width;
            self.dirty = true;
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    pub(crate) fn send(&mut self, op: Op) {
        // A closed engine is reported when its event channel closes; nothing to do here.
        let _ = self.ops.send(op);
    }

    fn hl(&self) -> Option<&Highlighter> {
        Some(&self.highlighter)
    }

    /// Writes a finished cell to the scrollback (with a blank line before it) and keeps it for
    /// the pager.
    pub(crate) fn emit_cell(&mut self, cell: Cell) {
        let lines = cell.lines(self.width as usize, self.hl(), Detail::Compact);
        self.emit_lines(lines, true);
        self.transcript.push(cell);
    }

    fn emit_lines(&mut self, lines: Vec<Line<'static>>, separate: bool) {
        if lines.is_empty() {
            return;
        }
        if separate && self.inserted_any {
            self.history_out.push(Line::default());
        }
        self.inserted_any = true;
        self.history_out.extend(lines);
        self.dirty = true;
    }

    pub(crate) fn notice(
        &mut self,
        kind: NoticeKind,
        text: impl Into<String>,
        hint: Option<String>,
    ) {
        self.emit_cell(Cell::Notice {
            kind,
            text: text.into(),
            hint,
        });
    }

    fn set_hint(&mut self, text: &str) {
        self.hint = Some((text.to_string(), Instant::now()));
        self.dirty = true;
    }

    /// Full transcript for the pager.
    fn pager_lines(&self) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for (i, cell) in self.transcript.iter().enumerate() {
            if i > 0 {
                out.push(Line::default());
            }
            out.extend(cell.lines(self.width as usize, self.hl(), Detail::Full));
        }
        if let Some(stream) = self.turn.as_ref().and_then(|t| t.stream.as_ref()) {
            out.push(Line::default());
            out.extend(crate::markdown::render(
                stream.source(),
                self.width as usize,
                self.hl(),
                crate::markdown::Highlighting::On,
            ));
        }
        out
    }

    pub fn handle_app_event(&mut self, event: AppEvent) {
        self.dirty = true;
        match event {
            AppEvent::FilesIndexed(files) => {
                self.files = FilesState::Ready(files);
                self.update_popup();
            }
            AppEvent::HighlighterReady => {}
            AppEvent::GitBranch(b) => self.status.branch = b,
            AppEvent::ShellDone {
                command,
                output,
                exit_code,
            } => {
                if let Some(i) = self.shells.iter().position(|c| *c == command) {
                    self.shells.remove(i);
                }
                self.emit_cell(Cell::Shell {
                    command,
                    output,
                    exit_code,
                });
            }
            AppEvent::Service { id, reply } => self.handle_service_reply(id, reply),
        }
    }

    /// The engine's event channel closed.
    pub fn engine_closed(&mut self) {
        if self.exit.is_none() {
            self.exit = Some(ExitReason::EngineStopped);
        }
    }

    /// Start background work that must stay off the start-up path (after the first frame).
    pub fn after_first_frame(&mut self) {
        let tx = self.app_tx.clone();
        self.highlighter.start_loading(move || {
            let _ = tx.send(AppEvent::HighlighterReady);
        });
        let tx = self.app_tx.clone();
        let cwd = self.options.cwd.clone();
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn_blocking(move || {
                let _ = tx.send(AppEvent::GitBranch(crate::status::git_branch(&cwd)));
            });
        }
    }
}
