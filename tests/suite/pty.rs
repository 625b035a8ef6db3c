//! A small pseudo-terminal driver for end-to-end tests of the interactive `qcode`: spawns the
//! binary in a pty of a fixed size with a clean environment, parses everything it writes with
//! `vt100` (a scrollback buffer keeps the transcript lines the inline viewport pushed up),
//! answers the terminal queries it makes (cursor position), keeps the raw byte log, and lets a
//! test type keys and wait for text to appear. Like a terminal that supports synchronized
//! output, it shows a frame only once it is complete, so tests never see half-drawn screens. Waits poll every 20 ms up to a generous
//! timeout; nothing here asserts on timings.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;
/// Lines of scrollback kept by the parser (the transcript above the viewport).
const SCROLLBACK: usize = 10_000;
/// How long waits last before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);

/// Answers the queries the TUI sends to its terminal.
#[derive(Default)]
struct Replies {
    pending: Vec<Vec<u8>>,
}

impl vt100::Callbacks for Replies {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        // DSR 6: cursor position report, 1-based.
        if i1.is_none() && c == 'n' && params.first().and_then(|p| p.first()) == Some(&6) {
            let (row, col) = screen.cursor_position();
            self.pending
                .push(format!("\x1b[{};{}R", row + 1, col + 1).into_bytes());
        }
    }
}

/// Start and end of a synchronized update (the TUI wraps every frame in them).
const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
const SYNC_END: &[u8] = b"\x1b[?2026l";

struct Shared {
    parser: vt100::Parser<Replies>,
    raw: Vec<u8>,
    /// Bytes not yet given to the parser: an unfinished synchronized frame, or the start of a
    /// marker split across reads.
    pending: Vec<u8>,
    in_frame: bool,
    /// The reader thread ends after its next read ([`Pty::hang_up`]).
    stop: bool,
}

impl Shared {
    /// Feeds `bytes` to the parser the way a terminal that honours synchronized output shows
    /// them: a frame becomes visible only once complete, so a test never reads half a frame.
    fn feed(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        self.pending.extend_from_slice(bytes);
        loop {
            let marker = if self.in_frame { SYNC_END } else { SYNC_BEGIN };
            if let Some(at) = find(&self.pending, marker) {
                let upto = at + marker.len();
                self.parser.process(&self.pending[..upto]);
                self.pending.drain(..upto);
                self.in_frame = !self.in_frame;
                continue;
            }
            if !self.in_frame {
                // Keep a possible partial marker at the end for the next read.
                let keep = partial_suffix(&self.pending, SYNC_BEGIN);
                let upto = self.pending.len() - keep;
                self.parser.process(&self.pending[..upto]);
                self.pending.drain(..upto);
            }
            return;
        }
    }

    /// At EOF: whatever is left (e.g. a frame cut short by an exit).
    fn flush(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        self.parser.process(&rest);
        self.in_frame = false;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest suffix of `bytes` that is a proper prefix of `marker`.
fn partial_suffix(bytes: &[u8], marker: &[u8]) -> usize {
    (1..marker.len())
        .rev()
        .find(|&n| bytes.len() >= n && bytes[bytes.len() - n..] == marker[..n])
        .unwrap_or(0)
}

/// The program running in the pseudo-terminal.
pub struct Pty {
    shared: Arc<Mutex<Shared>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    /// `None` once the terminal hung up ([`Pty::hang_up`]).
    master: Option<Box<dyn MasterPty + Send>>,
    /// Held open so the terminal's settings survive the child's exit (a pty whose last slave
    /// descriptor closes gets its settings reset) and can be checked afterwards.
    slave: Option<Box<dyn SlavePty + Send>>,
    child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pty {
    /// Spawns `program` with exactly `env` (plus TERM=xterm-256color) in `cwd`, in a
    /// [`ROWS`]×[`COLS`] terminal.
    pub fn spawn(program: &Path, args: &[&str], env: &[(String, String)], cwd: &Path) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env_clear();
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(cwd);
        let child = pair.slave.spawn_command(cmd).unwrap();
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new_with_callbacks(
                NonZeroU16::new(ROWS).unwrap(),
                NonZeroU16::new(COLS).unwrap(),
                SCROLLBACK,
                Replies::default(),
            ),
            raw: Vec::new(),
            pending: Vec::new(),
            in_frame: false,
            stop: false,
        }));
        let thread_shared = Arc::clone(&shared);
        let thread_writer = Arc::clone(&writer);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        lock(&thread_shared).flush();
                        return;
                    }
                    Ok(n) => n,
                };
                let replies = {
                    let mut s = lock(&thread_shared);
                    s.feed(&buf[..n]);
                    if s.stop {
                        s.flush();
                        return;
                    }
                    std::mem::take(&mut s.parser.callbacks_mut().pending)
                };
                if !replies.is_empty() {
                    let mut w = lock(&thread_writer);
                    for r in replies {
                        let _ = w.write_all(&r);
                    }
                    let _ = w.flush();
                }
            }
        });
        Self {
            shared,
            writer,
            master: Some(pair.master),
            slave: Some(pair.slave),
            child,
            reader: Some(reader),
        }
    }

    /// Types `bytes` into the terminal.
    pub fn send(&self, bytes: impl AsRef<[u8]>) {
        let mut w = lock(&self.writer);
        w.write_all(bytes.as_ref()).unwrap();
        w.flush().unwrap();
    }

    /// Types `text` and then Enter (a carriage return, as a terminal sends it).
    pub fn send_line(&self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// The visible screen, rows joined with newlines (trailing blanks trimmed).
    pub fn screen_text(&self) -> String {
        lock(&self.shared).parser.screen().contents()
    }

    /// Everything written so far: the scrollback lines, then the visible screen.
    pub fn full_text(&self) -> String {
        let s = lock(&self.shared);
        let mut screen = s.parser.screen().clone();
        drop(s);
        screen.set_scrollback(usize::MAX);
        let depth = screen.scrollback();
        let mut lines = Vec::with_capacity(depth + usize::from(ROWS));
        // At offset k the first visible row is scrollback line `depth - k`.
        for k in (1..=depth).rev() {
            screen.set_scrollback(k);
            lines.extend(screen.rows(0, COLS).next());
        }
        screen.set_scrollback(0);
        lines.extend(screen.rows(0, COLS));
        let mut text = lines
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n");
        text.truncate(text.trim_end().len());
        text
    }

    /// The raw bytes the program wrote so far.
    pub fn raw(&self) -> Vec<u8> {
        lock(&self.shared).raw.clone()
    }

    /// Waits until `needle` is on the visible screen; returns the screen. Fails the test
    /// (showing the screen) after [`WAIT`].
    #[track_caller]
    pub fn wait_for_text(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?} on screen"), |screen| {
            screen.contains(needle)
        })
    }

    /// Waits until `needle` is anywhere in the transcript (scrollback or screen).
    #[track_caller]
    pub fn wait_for_transcript(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.full_text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {needle:?} in the transcript:\n{text}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `check` holds for the visible screen; returns the screen.
    #[track_caller]
    pub fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen_text();
            if check(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the program to exit; returns its exit code. Fails the test after [`WAIT`].
    #[track_caller]
    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.signal().is_none(),
                    "killed by a signal: {status}; the screen:\n{}",
                    self.screen_text()
                );
                // Let the reader drain what the program wrote last.
                self.drain_output();
                return status.exit_code();
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting for the program to exit; the screen:\n{}",
                    self.screen_text()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// After the exit: waits until the byte log stops growing.
    fn drain_output(&self) {
        let mut last = usize::MAX;
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let now_len = lock(&self.shared).raw.len();
            if now_len == last || Instant::now() >= deadline {
                return;
            }
            last = now_len;
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes the terminal the way a terminal emulator does when its window closes (or tmux
    /// when its session is killed): the reader stops after one more read (a keystroke makes the
    /// program redraw), then every descriptor of the master side is closed, so the program's
    /// terminal hangs up — SIGHUP, and its reads fail or block.
    pub fn hang_up(&mut self) {
        lock(&self.shared).stop = true;
        self.send("x");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        *lock(&self.writer) = Box::new(std::io::sink());
        self.master = None;
        self.slave = None;
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    /// Sends `signal` (e.g. "TERM") to the program with `kill(1)`.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// The terminal's local modes: (canonical input, echo). A TUI turns both off (raw mode);
    /// a restored terminal has both on.
    pub fn local_modes(&self) -> (bool, bool) {
        let termios = self.master.as_ref().unwrap().get_termios().unwrap();
        let flags = termios.local_flags.bits();
        (flags & libc::ICANON != 0, flags & libc::ECHO != 0)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // With the child gone and the slave closed, the reader sees EOF (EIO) and ends.
        self.slave = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Byte sequences of keys as a terminal sends them.
pub mod keys {
    pub const ENTER: &str = "\r";
    pub const ESC: &str = "\x1b";
    pub const CTRL_D: &str = "\x04";
}
