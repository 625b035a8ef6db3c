//! The terminal loop: one `tokio::select!` over terminal input, engine events, internal app
//! events and signals; frames are drawn by the [`FrameScheduler`] (coalesced, ≤ ~60 fps, ≤ ~30
//! fps for a streaming answer, none when nothing changed). The first frame is drawn before any
//! background work starts.

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use base64::Engine;
use crossterm::event::Event as TermEvent;
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use qcode_protocol::EngineHandle;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Size;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::unbounded_channel;

use crate::app::{App, Effect};
use crate::frame::FrameScheduler;
use crate::screen::{ColorMode, InlineScreen, strip_colors};
use crate::{ExitReason, TuiError, TuiExit, TuiOptions, term};

type Backend = CrosstermBackend<BufWriter<Stdout>>;

/// Spinner/elapsed-time refresh while something animates.
const ANIMATION_TICK: Duration = Duration::from_millis(80);

pub async fn run(handle: EngineHandle, options: TuiOptions) -> Result<TuiExit, TuiError> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let _panic_guard = term::PanicGuard::install();
    term::enter()?;
    let result = match Loop::start(handle, options) {
        Ok(l) => l.run().await,
        Err(e) => Err(TuiError::from(e)),
    };
    term::restore();
    result
}

struct Loop {
    app: App,
    screen: InlineScreen<Backend>,
    pager: Option<Terminal<Backend>>,
    frames: FrameScheduler,
    handle: EngineHandle,
    app_rx: tokio::sync::mpsc::UnboundedReceiver<crate::AppEvent>,
    colors: ColorMode,
}

fn backend() -> Backend {
    CrosstermBackend::new(BufWriter::with_capacity(1 << 16, io::stdout()))
}

impl Loop {
    fn start(handle: EngineHandle, options: TuiOptions) -> io::Result<Self> {
        let (w, h) = crossterm::terminal::size()?;
        let row = match crossterm::cursor::position() {
            Ok((0, y)) => y,
            Ok((_, y)) => y + 1,
            Err(_) => h.saturating_sub(1),
        };
        let colors = if options.no_color {
            ColorMode::NoColor
        } else {
            ColorMode::Color
        };
        let screen = InlineScreen::new(backend(), Size::new(w, h), row, colors)?;
        let (app_tx, app_rx) = unbounded_channel();
        let app = App::new(options, handle.ops.clone(), app_tx);
        Ok(Self {
            app,
            screen,
            pager: None,
            frames: FrameScheduler::new(),
            handle,
            app_rx,
            colors,
        })
    }

    fn draw(&mut self) -> io::Result<()> {
        let now = Instant::now();
        self.frames.drawn(now);
        if let Some(term) = self.pager.as_mut() {
            let colors = self.colors;
            if let Some(pager) = self.app.pager_mut() {
                term.draw(|f| {
                    let area = f.area();
                    pager.render(area, f.buffer_mut());
                    if colors == ColorMode::NoColor {
                        strip_colors(f.buffer_mut());
                    }
                })?;
            }
            return Ok(());
        }
        let history = self.app.take_history();
        let size = self.screen.size();
        let plan = self.app.plan(size.width, self.screen.max_height());
        let app = &mut self.app;
        self.screen
            .update(&history, plan.height(), |f| app.render(&plan, f))
    }

    fn apply_effects(&mut self) -> io::Result<()> {
        for effect in self.app.take_effects() {
            match effect {
                Effect::ClearScreen => self.screen.clear_screen()?,
                Effect::Copy(text) => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = io::stdout();
                    write!(out, "\x1b]52;c;{b64}\x07")?;
                    out.flush()?;
                }
                Effect::Suspend => {
                    self.draw()?;
                    self.screen.park_cursor()?;
                    term::suspend()?;
                    let (w, h) = crossterm::terminal::size()?;
                    self.screen.resume(Size::new(w, h))?;
                }
                Effect::OpenPager => {
                    execute!(io::stdout(), EnterAlternateScreen)?;
                    let mut t = Terminal::new(backend())?;
                    t.clear()?;
                    self.pager = Some(t);
                }
                Effect::ClosePager => {
                    self.pager = None;
                    execute!(io::stdout(), LeaveAlternateScreen)?;
                    self.screen.invalidate(None)?;
                }
            }
            self.app.mark_dirty();
        }
        Ok(())
    }

    /// What follows each event: the effects, then a frame when one is due. `from_engine`: the
    /// event came from the engine (while an answer streams its frames are spaced wider).
    fn after_event(&mut self, from_engine: bool) -> Result<(), TuiError> {
        self.apply_effects()?;
        let now = Instant::now();
        if self.app.take_dirty() {
            if from_engine && self.app.streaming_answer() {
                self.frames.request_streaming(now);
            } else {
                self.frames.request(now);
            }
        }
        if self.app.animating() && self.frames.deadline().is_none() {
            self.frames.request_at(now + ANIMATION_TICK);
        }
        if self.frames.due(now) {
            self.draw()?;
        }
        Ok(())
    }

    async fn run(mut self) -> Result<TuiExit, TuiError> {
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sighup = signal(SignalKind::hangup())?;
        self.draw()?;
        self.app.after_first_frame();
        let mut input = spawn_input_reader();
        let mut engine_open = true;
        let reason = loop {
            if let Some(reason) = self.app.exit_reason() {
                break reason;
            }
            let deadline = self.frames.deadline().map(tokio::time::Instant::from_std);
            let mut from_engine = false;
            tokio::select! {
                ev = input.recv() => match ev {
                    Some(Ok(ev)) => {
                        if let TermEvent::Resize(w, h) = ev {
                            self.screen.resize(Size::new(w, h))?;
                            if let Some(t) = self.pager.as_mut() {
                                t.autoresize()?;
                            }
                        }
                        self.app.handle_terminal_event(ev);
                    }
                    // The terminal went away (its window closed): reads fail with EIO.
                    Some(Err(e)) if e.raw_os_error() == Some(EIO) => break ExitReason::HangUp,
                    Some(Err(e)) => return Err(e.into()),
                    None => break ExitReason::HangUp,
                },
                ev = self.handle.events.recv(), if engine_open => match ev {
                    Some(ev) => {
                        from_engine = true;
                        self.app.handle_engine_event(ev);
                    }
                    None => {
                        engine_open = false;
                        self.app.engine_closed();
                    }
                },
                Some(ev) = self.app_rx.recv() => self.app.handle_app_event(ev),
                _ = sigterm.recv() => break ExitReason::Terminated,
                _ = sighup.recv() => break ExitReason::HangUp,
                () = sleep_until(deadline), if deadline.is_some() => {}
            }
            match self.after_event(from_engine) {
                Ok(()) => {}
                // Writing to a terminal that hung up fails with EIO too, and may be noticed
                // before the read does: the same hang-up.
                Err(TuiError::Io(e)) if e.raw_os_error() == Some(EIO) => break ExitReason::HangUp,
                Err(e) => return Err(e),
            }
        };
        if self.pager.take().is_some() {
            let _ = execute!(io::stdout(), LeaveAlternateScreen);
            self.screen.invalidate(None)?;
        }
        drop(input);
        // Flush what is left of the transcript, then leave the prompt below it — unless the
        // terminal is gone, where every write fails and nobody would see it.
        let flushed = self.draw().and_then(|()| self.screen.park_cursor());
        if reason != ExitReason::HangUp {
            flushed?;
        }
        Ok(TuiExit {
            reason,
            stats: self.app.stats().clone(),
        })
    }
}

/// `EIO`, what reading a terminal that hung up fails with (the same number on Linux and macOS).
const EIO: i32 = 5;

/// How often the input thread checks whether the loop ended.
const INPUT_POLL: Duration = Duration::from_millis(50);

/// How long dropping the input thread waits for it to end. It checks for the stop every
/// [`INPUT_POLL`]; one blocked in a read that never returns (the terminal hung up) is left
/// behind rather than holding the process open.
const INPUT_JOIN: Duration = Duration::from_millis(500);

/// The terminal-input thread; dropping it stops the thread and waits for it (at most
/// [`INPUT_JOIN`]), so that no read of a later TUI run (or of the cursor-position query at its
/// start) goes to this one.
struct InputReader {
    rx: tokio::sync::mpsc::UnboundedReceiver<io::Result<TermEvent>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Disconnected when the thread ends.
    ended: Option<std::sync::mpsc::Receiver<()>>,
}

impl InputReader {
    async fn recv(&mut self) -> Option<io::Result<TermEvent>> {
        self.rx.recv().await
    }
}

impl Drop for InputReader {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let ended = self
            .ended
            .take()
            .is_none_or(|rx| rx.recv_timeout(INPUT_JOIN) != Err(RecvTimeoutError::Timeout));
        if let Some(thread) = self.thread.take()
            && ended
        {
            let _ = thread.join();
        }
    }
}

/// Reads terminal input on a thread of its own. crossterm's async `EventStream` takes the
/// event reader's lock with a zero timeout every time it is polled — once per loop iteration,
/// i.e. once per streamed token — which cost several `sched_yield` calls per token. A blocking
/// reader feeding a channel costs nothing between keystrokes (it wakes every [`INPUT_POLL`] to
/// see whether to stop). (`cursor::position()` shares the reader, so it may only be called
/// while no reader runs.)
fn spawn_input_reader() -> InputReader {
    use std::sync::atomic::Ordering;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("qcode-input".into())
        .spawn(move || {
            let _ended = ended_tx;
            while !flag.load(Ordering::SeqCst) {
                match crossterm::event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) if flag.load(Ordering::SeqCst) => break,
                    Ok(true) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
                let ev = crossterm::event::read();
                let failed = ev.is_err();
                if tx.send(ev).is_err() || failed {
                    break;
                }
            }
        });
    match spawned {
        Ok(thread) => InputReader {
            rx,
            stop,
            thread: Some(thread),
            ended: Some(ended),
        },
        Err(e) => {
            // Without a reader the session cannot take input: end it as if the terminal went
            // away.
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let _ = tx.send(Err(e));
            InputReader {
                rx,
                stop,
                thread: None,
                ended: None,
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
