//! The application state machine behind [`crate::run`]: it turns terminal keys, engine events
//! and internal app events into Ops, scrollback lines and a bottom pane to draw. It never
//! touches the terminal itself, so tests drive it directly.
//!
//! [`App`] holds a few sub-states, each a struct with its own methods and tests:
//! `transcript::Transcript` (committed cells and the scrollback queue),
//! `turn::RunningTurn` (the turn in flight, approvals, queued prompts, local commands),
//! `dialog_stack::Dialogs` (the open dialog, the pager, answers awaited from the engine),
//! `prompt::Prompt` (the composer, its popup, the hint line) and `subagents::Subagents` (the
//! live blocks of running subagents, their logs for the Ctrl+O pager). The `impl App` files route
//! input between them: `keys` (terminal input), `engine` (engine events), `commands` (slash
//! commands), `custom` (custom commands, MCP prompts, `/skills`), `dialogs` (dialog actions and
//! service calls), `subagents` (subagent events), `render` (the bottom pane). A new
//! feature adds a sub-state rather than fields on `App`.

mod agents;
mod commands;
mod custom;
mod dialog_stack;
mod dialogs;
mod engine;
mod keys;
mod prompt;
mod render;
mod sessions;
mod stats;
mod subagents;
mod transcript;
mod turn;

pub use dialogs::ServiceReply;
pub use prompt::PopupKind;
pub use render::FramePlan;
pub use stats::SessionStats;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use qcode_protocol::Op;
use ratatui::text::Line;
use tokio::sync::mpsc::UnboundedSender;

use crate::composer::Composer;
use crate::markdown::Highlighter;
use crate::pager::Pager;
use crate::status::StatusInfo;
use crate::transcript::{Cell, NoticeKind};
use crate::{ExitReason, TuiOptions};
use dialog_stack::Dialogs;
use prompt::Prompt;
use subagents::Subagents;
use transcript::{Separation, Transcript};
use turn::RunningTurn;

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

pub struct App {
    ops: UnboundedSender<Op>,
    app_tx: UnboundedSender<AppEvent>,
    pub(crate) options: TuiOptions,
    status: StatusInfo,
    stats: SessionStats,
    started: Instant,
    pub(crate) highlighter: Highlighter,
    effects: Vec<Effect>,
    /// MCP requests for input waiting for the one on screen to be answered.
    pub(crate) waiting_elicitations: std::collections::VecDeque<crate::services::ElicitationPrompt>,
    /// The `/mcp login` waiting for its browser (Esc / Ctrl-C cancel it).
    pub(crate) mcp_login: Option<(u64, tokio_util::sync::CancellationToken)>,
    /// How many `/mcp login`s this session started (the id of the newest).
    pub(crate) mcp_logins: u64,
    exit: Option<ExitReason>,
    width: u16,
    dirty: bool,
    transcript: Transcript,
    running: RunningTurn,
    dialogs: Dialogs,
    prompt: Prompt,
    subagents: Subagents,
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
            session: options.session_label.clone(),
            sandbox: options.sandbox.clone(),
        };
        let mut app = Self {
            ops,
            app_tx,
            status,
            stats: SessionStats::default(),
            started: Instant::now(),
            highlighter: Highlighter::new(),
            effects: Vec::new(),
            exit: None,
            width: 80,
            dirty: true,
            transcript: Transcript::default(),
            running: RunningTurn::default(),
            dialogs: Dialogs::default(),
            waiting_elicitations: Default::default(),
            mcp_login: None,
            mcp_logins: 0,
            prompt: Prompt::new(options.history_file.clone()),
            subagents: Subagents::default(),
            options,
        };
        app.welcome();
        let resumed = std::mem::take(&mut app.options.resumed);
        app.transcript
            .push_resumed(&resumed, app.width as usize, Some(&app.highlighter));
        for notice in std::mem::take(&mut app.options.start_notices) {
            app.notice(NoticeKind::Info, notice, None);
        }
        if let Some(text) = app.options.initial_input.take() {
            app.prompt.composer_mut().set_text(&text);
        }
        if let Some(conflict) = app.options.rewind_conflict.take() {
            app.ask_rewind_conflict(conflict);
        }
        if app.options.open_auth_at_start {
            app.open_auth(Some("You are not signed in yet.".into()));
        } else if app.options.open_resume_at_start {
            app.open_resume();
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
        if self.dialogs.pager_is_open() {
            return Vec::new();
        }
        self.transcript.take_pending()
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Why the app wants to stop, once it does.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.exit.clone()
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    pub fn status(&self) -> &StatusInfo {
        &self.status
    }

    pub fn composer(&self) -> &Composer {
        self.prompt.composer()
    }

    pub fn transcript(&self) -> &[Cell] {
        self.transcript.cells()
    }

    pub fn pager_mut(&mut self) -> Option<&mut Pager> {
        self.dialogs.pager_mut()
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
        self.running.animating()
            || self.prompt.hint().is_some()
            || self.dialogs.animating()
            || self.subagents.any_running()
    }

    /// True while the running turn streams an answer (its frames may be spaced wider).
    pub fn streaming_answer(&self) -> bool {
        self.running.current().is_some_and(|t| t.stream.is_some())
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

    /// Writes a finished cell to the scrollback (with a blank line before it) and keeps it for
    /// the pager.
    pub(crate) fn emit_cell(&mut self, cell: Cell) {
        self.transcript
            .push_cell(cell, self.width as usize, Some(&self.highlighter));
        self.dirty = true;
    }

    /// Writes a finished cell directly below the previous lines (no blank line between).
    pub(crate) fn emit_attached(&mut self, cell: Cell) {
        self.transcript
            .push_cell_attached(cell, self.width as usize, Some(&self.highlighter));
        self.dirty = true;
    }

    fn emit_lines(&mut self, lines: Vec<Line<'static>>, separation: Separation) {
        self.transcript.push_lines(lines, separation);
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
        self.prompt.set_hint(text, Instant::now());
        self.dirty = true;
    }

    /// Full transcript for the pager.
    fn pager_lines(&self) -> Vec<Line<'static>> {
        let streaming = self.running.current().and_then(|t| t.stream.as_ref());
        self.transcript
            .full_lines(self.width as usize, Some(&self.highlighter), streaming)
    }

    pub fn handle_app_event(&mut self, event: AppEvent) {
        self.dirty = true;
        match event {
            AppEvent::FilesIndexed(files) => {
                self.prompt.files_indexed(files);
                self.update_popup();
            }
            AppEvent::HighlighterReady => {}
            AppEvent::GitBranch(b) => self.status.branch = b,
            AppEvent::ShellDone {
                command,
                output,
                exit_code,
            } => {
                self.running.shell_done(&command);
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
        // Custom commands for /help and the popup (the popup asks again when it opens).
        self.refresh_custom_commands();
        let tx = self.app_tx.clone();
        let cwd = self.options.cwd.clone();
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            h.spawn_blocking(move || {
                let _ = tx.send(AppEvent::GitBranch(crate::status::git_branch(&cwd)));
            });
        }
        self.listen_for_elicitations();
    }
}
