//! Opening the authorization URL: `BROWSER` when set (the usual convention: a `:`-separated
//! list of commands, `%s` replaced by the URL or the URL appended), else the platform's
//! opener (`xdg-open`, `open`). The URL is one argument of a program run directly — never
//! a shell line — and only an http(s) URL is opened.

use std::process::{Command, Stdio};

/// Tries to open `url`; `Err` says why not (the caller has printed the URL anyway).
pub fn open(url: &str, browser: Option<&str>) -> Result<(), String> {
    let parsed =
        url::Url::parse(url).map_err(|_| "the authorization URL is not valid".to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the authorization server gave a `{}:` URL; qcode opens only http(s) URLs",
            parsed.scheme()
        ));
    }
    let candidates: Vec<Vec<String>> = match browser.map(str::trim).filter(|b| !b.is_empty()) {
        Some(list) => list
            .split(':')
            .filter(|c| !c.trim().is_empty())
            .map(|c| command_line(c, url))
            .collect(),
        None => platform_openers()
            .iter()
            .map(|o| vec![o.to_string(), url.to_string()])
            .collect(),
    };
    let mut tried = Vec::new();
    for argv in candidates {
        let Some((program, args)) = argv.split_first() else {
            continue;
        };
        match Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                // Reap it whenever it ends (a browser may outlive the sign-in).
                std::thread::spawn(move || {
                    let _ = child.wait();
                });
                return Ok(());
            }
            Err(e) => tried.push(format!("`{program}`: {e}")),
        }
    }
    if tried.is_empty() {
        Err("no browser opener is known for this platform (set BROWSER)".into())
    } else {
        Err(format!("could not start a browser ({})", tried.join("; ")))
    }
}

/// One `BROWSER` entry as argv: words split on whitespace, `%s` replaced by the URL (or the
/// URL appended when there is none).
fn command_line(entry: &str, url: &str) -> Vec<String> {
    let mut words: Vec<String> = entry.split_whitespace().map(str::to_string).collect();
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url);
        }
    } else {
        words.push(url.to_string());
    }
    words
}

fn platform_openers() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open", "gio", "sensible-browser"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_entries_become_argv_without_a_shell() {
        assert_eq!(
            command_line("firefox --new-tab", "http://a/?x=1&y=$(id)"),
            ["firefox", "--new-tab", "http://a/?x=1&y=$(id)"]
        );
        assert_eq!(
            command_line("w3m %s -dump", "http://a/"),
            ["w3m", "http://a/", "-dump"]
        );
    }

    #[test]
    fn only_http_urls_are_opened() {
        let err = open("file:///etc/passwd", Some("true")).unwrap_err();
        assert!(err.contains("only http(s)"), "{err}");
        let err = open("http://127.0.0.1/", Some("/nonexistent/browser-xyz")).unwrap_err();
        assert!(err.contains("/nonexistent/browser-xyz"), "{err}");
        open("http://127.0.0.1/", Some("/nonexistent/browser-xyz:true")).unwrap();
    }
}
