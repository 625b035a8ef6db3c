//! Terminal modes: raw mode, bracketed paste, keyboard enhancement (so Shift+Enter is
//! distinguishable where the terminal supports it; others ignore the request), and restoring
//! all of it on exit, on error, on panic (a hook that restores, then chains to the previous
//! hook) and around Ctrl+Z suspension.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, KeyboardEnhancementFlags,
    PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};

/// Puts the terminal into the TUI's modes.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(
        out,
        EnableBracketedPaste,
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
    )?;
    Ok(())
}

/// Restores the terminal; safe to call more than once and when modes were never entered.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        PopKeyboardEnhancementFlags,
        DisableBracketedPaste,
        Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Leaves the alternate screen too (used by the panic hook: the pager may be open).
fn restore_all() {
    let _ = execute!(io::stdout(), LeaveAlternateScreen);
    restore();
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Installs a panic hook that restores the terminal before the previous hook prints.
/// Dropping the guard re-installs the previous hook.
pub struct PanicGuard {
    active: Arc<AtomicBool>,
}

impl PanicGuard {
    pub fn install() -> Self {
        let active = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&active);
        let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        let prev = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            if flag.load(Ordering::SeqCst) {
                restore_all();
            }
            prev(info);
        }));
        Self { active }
    }
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        // The hook stays installed (it chains to the previous one) but no longer touches the
        // terminal once the TUI has ended.
        self.active.store(false, Ordering::SeqCst);
    }
}

/// Suspends the process like a shell's Ctrl+Z: restore the terminal, stop with SIGTSTP (sent
/// by `kill`, no unsafe code), and re-enter the TUI's modes once the shell resumes us.
pub fn suspend() -> io::Result<()> {
    restore();
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TSTP", &pid])
        .status();
    // Execution continues here after `fg` (SIGCONT).
    enter()?;
    status.map(|_| ())
}
