//! Opening the verification URL in the user's browser — only when a graphical session exists
//! (`DISPLAY`/`WAYLAND_DISPLAY` on Linux and BSDs, always on macOS), only for http(s) URLs, and
//! never blocking: the opener runs detached with null stdio and is reaped on a thread.

use std::ffi::OsString;
use std::process::{Command, Stdio};

/// Whether to try opening a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrowserLaunch {
    /// Open one when a display is available.
    #[default]
    Auto,
    /// Never (`--no-browser`, SSH sessions the user knows about, tests).
    Never,
}

/// The opener command for `url`, or `None` when none should run. `os` is
/// `std::env::consts::OS`; `env` looks up environment variables.
pub fn browser_command(
    url: &str,
    launch: BrowserLaunch,
    os: &str,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<Command> {
    match launch {
        BrowserLaunch::Never => return None,
        BrowserLaunch::Auto => {}
    }
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let program = match os {
        "macos" => "open",
        "windows" => return None,
        _ => {
            let has = |name: &str| env(name).is_some_and(|v| !v.is_empty());
            if !has("DISPLAY") && !has("WAYLAND_DISPLAY") {
                return None;
            }
            "xdg-open"
        }
    };
    let mut cmd = Command::new(program);
    cmd.arg(parsed.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Some(cmd)
}

/// Tries to open `url`; returns whether an opener was started (not whether a page appeared).
pub fn open_browser(url: &str, launch: BrowserLaunch) -> bool {
    let Some(mut cmd) = browser_command(url, launch, std::env::consts::OS, |k| std::env::var_os(k))
    else {
        return false;
    };
    match cmd.spawn() {
        Ok(mut child) => {
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(
        vars: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<OsString> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn only_with_a_display_and_for_http() {
        let url = "https://chat.qwen.ai/authorize?user_code=AB-CD";
        assert!(browser_command(url, BrowserLaunch::Auto, "linux", env_with(&[])).is_none());
        assert!(
            browser_command(
                url,
                BrowserLaunch::Auto,
                "linux",
                env_with(&[("DISPLAY", "")])
            )
            .is_none()
        );
        let cmd = browser_command(
            url,
            BrowserLaunch::Auto,
            "linux",
            env_with(&[("DISPLAY", ":0")]),
        )
        .unwrap();
        assert_eq!(cmd.get_program(), "xdg-open");
        assert_eq!(cmd.get_args().collect::<Vec<_>>(), vec![url]);
        assert!(
            browser_command(
                url,
                BrowserLaunch::Auto,
                "linux",
                env_with(&[("WAYLAND_DISPLAY", "wayland-0")])
            )
            .is_some()
        );
        let mac = browser_command(url, BrowserLaunch::Auto, "macos", env_with(&[])).unwrap();
        assert_eq!(mac.get_program(), "open");
        assert!(browser_command(url, BrowserLaunch::Never, "macos", env_with(&[])).is_none());
        assert!(
            browser_command(
                "file:///etc/passwd",
                BrowserLaunch::Auto,
                "macos",
                env_with(&[])
            )
            .is_none()
        );
        assert!(!open_browser(url, BrowserLaunch::Never));
    }
}
