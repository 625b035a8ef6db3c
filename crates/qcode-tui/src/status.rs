//! The status line (model, auth, approval mode, the shell sandbox, context used, session tokens, cwd and git
//! branch) and the "Working 3s · Esc to cancel" line shown while the model works.

use std::path::Path;

use qcode_protocol::{ApprovalMode, AuthKind};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::wrap::str_width;

/// Braille spinner frames.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Debug, Clone, PartialEq)]
pub struct StatusInfo {
    pub model: String,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
    pub context_window: Option<u64>,
    /// Prompt tokens of the latest request (what the context holds).
    pub context_tokens: u64,
    pub session_tokens: u64,
    pub cwd: String,
    pub branch: Option<String>,
    /// What the session is, when worth saying (`resumed 1a2b3c4d`).
    pub session: Option<String>,
    /// The shell sandbox's mode (`workspace-write`, `off`, …), when known.
    pub sandbox: Option<String>,
}

/// Colour that makes the risk of an approval mode visible.
pub fn mode_style(mode: ApprovalMode) -> Style {
    match mode {
        ApprovalMode::Plan => Style::default().fg(Color::Blue),
        ApprovalMode::Default => Style::default(),
        ApprovalMode::AutoEdit => Style::default().fg(Color::Yellow),
        ApprovalMode::Yolo => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// "1234" → "1.2k", "1234567" → "1.2M".
pub fn format_tokens(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    }
}

impl StatusInfo {
    /// Context used, in percent of the window, when the window is known.
    pub fn context_percent(&self) -> Option<u64> {
        let w = self.context_window.filter(|w| *w > 0)?;
        Some((self.context_tokens.saturating_mul(100) / w).min(100))
    }

    /// One line: left part (model · auth · mode), right part (context · tokens · cwd branch),
    /// right-aligned when there is room, dropped piece by piece when there is not.
    pub fn line(&self, width: u16) -> Line<'static> {
        let dim = Style::default().add_modifier(Modifier::DIM);
        let sep = || Span::styled(" · ", dim);
        let left = vec![
            Span::styled(self.model.clone(), Style::default().fg(Color::Cyan)),
            sep(),
            Span::styled(self.auth.as_str(), dim),
            sep(),
            Span::styled(self.approval_mode.as_str(), mode_style(self.approval_mode)),
        ];
        let mut left = left;
        if let Some(mode) = &self.sandbox {
            let style = match mode.as_str() {
                "off" | "unavailable" => Style::default().fg(Color::Yellow),
                _ => dim,
            };
            left.push(sep());
            left.push(Span::styled(format!("sandbox: {mode}"), style));
        }
        if let Some(s) = &self.session {
            left.push(sep());
            left.push(Span::styled(s.clone(), Style::default().fg(Color::Magenta)));
        }
        let mut right_parts: Vec<Vec<Span<'static>>> = Vec::new();
        if let Some(p) = self.context_percent() {
            let style = if p >= 90 {
                Style::default().fg(Color::Red)
            } else if p >= 70 {
                Style::default().fg(Color::Yellow)
            } else {
                dim
            };
            // The window itself too: a local server's is what it was started with.
            let window = format_tokens(self.context_window.unwrap_or_default());
            right_parts.push(vec![Span::styled(
                format!("{p}% of {window} context"),
                style,
            )]);
        }
        if self.session_tokens > 0 {
            right_parts.push(vec![Span::styled(
                format!("{} tokens", format_tokens(self.session_tokens)),
                dim,
            )]);
        }
        let mut place = vec![Span::styled(self.cwd.clone(), dim)];
        if let Some(b) = &self.branch {
            place.push(Span::styled(
                format!(" ({b})"),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::DIM),
            ));
        }
        right_parts.push(place);
        let width = width as usize;
        let left_w: usize = left.iter().map(|s| str_width(&s.content)).sum();
        loop {
            let right: Vec<Span<'static>> = right_parts
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    let mut v = if i > 0 { vec![sep()] } else { Vec::new() };
                    v.extend(p.iter().cloned());
                    v
                })
                .collect();
            let right_w: usize = right.iter().map(|s| str_width(&s.content)).sum();
            if right_parts.is_empty() || left_w + 2 + right_w <= width {
                let mut spans = left.clone();
                if !right.is_empty() {
                    spans.push(Span::raw(
                        " ".repeat(width.saturating_sub(left_w + right_w).max(2)),
                    ));
                    spans.extend(right);
                }
                return Line::from(spans);
            }
            right_parts.pop();
        }
    }
}

/// "⠋ Working 3s · Esc to cancel".
pub fn working_line(frame: usize, elapsed_secs: u64, label: &str) -> Line<'static> {
    let spinner = SPINNER[frame % SPINNER.len()];
    let time = if elapsed_secs >= 60 {
        format!("{}m {:02}s", elapsed_secs / 60, elapsed_secs % 60)
    } else {
        format!("{elapsed_secs}s")
    };
    Line::from(vec![
        Span::styled(format!("{spinner} "), Style::default().fg(Color::Cyan)),
        Span::styled(
            label.to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(" {time} · Esc to cancel"),
            Style::default().add_modifier(Modifier::DIM),
        ),
    ])
}

/// The cwd with the home directory shown as `~`.
pub fn shorten_home(cwd: &Path, home: Option<&Path>) -> String {
    if let Some(h) = home
        && let Ok(rest) = cwd.strip_prefix(h)
    {
        return if rest.as_os_str().is_empty() {
            "~".to_string()
        } else {
            format!("~/{}", rest.display())
        };
    }
    cwd.display().to_string()
}

/// The current git branch, read from `.git/HEAD` (walking up; `.git` files of worktrees are
/// followed). A detached HEAD shows the short commit id. No subprocess.
pub fn git_branch(cwd: &Path) -> Option<String> {
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        let dot_git = d.join(".git");
        let head = if dot_git.is_dir() {
            Some(dot_git.join("HEAD"))
        } else if dot_git.is_file() {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let gitdir = text.trim().strip_prefix("gitdir:")?.trim().to_string();
            let p = Path::new(&gitdir);
            Some(if p.is_absolute() {
                p.join("HEAD")
            } else {
                d.join(p).join("HEAD")
            })
        } else {
            None
        };
        if let Some(head) = head {
            let text = std::fs::read_to_string(head).ok()?;
            let text = text.trim();
            return Some(match text.strip_prefix("ref:") {
                Some(r) => r.trim().trim_start_matches("refs/heads/").to_string(),
                None => text.chars().take(7).collect(),
            });
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::lines_text;

    fn info() -> StatusInfo {
        StatusInfo {
            model: "qwen3-coder-plus".into(),
            auth: AuthKind::QwenOauth,
            approval_mode: ApprovalMode::AutoEdit,
            context_window: Some(1_000_000),
            context_tokens: 123_000,
            session_tokens: 45_678,
            cwd: "~/src/qcode".into(),
            branch: Some("main".into()),
            session: None,
            sandbox: None,
        }
    }

    #[test]
    fn status_line_shows_the_sandbox_mode() {
        let s = StatusInfo {
            sandbox: Some("workspace-write".into()),
            ..info()
        };
        let text = lines_text(&[s.line(120)], 120);
        assert!(
            text.contains("auto-edit · sandbox: workspace-write"),
            "{text}"
        );
        let off = StatusInfo {
            sandbox: Some("off".into()),
            ..info()
        };
        let line = off.line(120);
        assert_eq!(line.spans[6].content, "sandbox: off");
        assert_eq!(line.spans[6].style.fg, Some(Color::Yellow));
    }

    #[test]
    fn status_line_says_the_session_is_resumed() {
        let s = StatusInfo {
            session: Some("resumed 1a2b3c4d".into()),
            ..info()
        };
        insta::assert_snapshot!(lines_text(&[s.line(100)], 100));
    }

    #[test]
    fn status_line_snapshot_wide_and_narrow() {
        let s = info();
        insta::assert_snapshot!(format!(
            "{}\n{}\n{}",
            lines_text(&[s.line(100)], 100),
            lines_text(&[s.line(60)], 60),
            lines_text(&[s.line(40)], 40)
        ));
        assert_eq!(s.context_percent(), Some(12));
        let yolo = StatusInfo {
            approval_mode: ApprovalMode::Yolo,
            ..info()
        };
        let line = yolo.line(100);
        assert_eq!(line.spans[4].content, "yolo");
        assert_eq!(line.spans[4].style.fg, Some(Color::Red));
    }

    #[test]
    fn status_line_in_each_approval_mode() {
        let lines: Vec<String> = ApprovalMode::ALL
            .iter()
            .map(|mode| {
                let s = StatusInfo {
                    approval_mode: *mode,
                    ..info()
                };
                lines_text(&[s.line(90)], 90)
            })
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
        for (mode, color) in [
            (ApprovalMode::Plan, Some(Color::Blue)),
            (ApprovalMode::Default, None),
            (ApprovalMode::AutoEdit, Some(Color::Yellow)),
        ] {
            assert_eq!(mode_style(mode).fg, color, "{mode:?}");
        }
    }

    #[test]
    fn status_line_context_window_tokens_and_auth() {
        let rows = [
            // A fresh session: nothing used yet.
            StatusInfo {
                context_tokens: 0,
                session_tokens: 0,
                ..info()
            },
            // Full (capped at 100%), API key, no git branch.
            StatusInfo {
                auth: AuthKind::Openai,
                context_window: Some(128_000),
                context_tokens: 140_000,
                session_tokens: 2_345_678,
                branch: None,
                ..info()
            },
            // The model's window is not known: no percentage.
            StatusInfo {
                context_window: None,
                ..info()
            },
        ];
        let text: Vec<String> = rows.iter().map(|s| lines_text(&[s.line(90)], 90)).collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn working_line_and_formats() {
        assert_eq!(
            working_line(0, 3, "Working").to_string(),
            "⠋ Working 3s · Esc to cancel"
        );
        assert_eq!(
            working_line(1, 65, "Working").to_string(),
            "⠙ Working 1m 05s · Esc to cancel"
        );
        assert_eq!(format_tokens(999), "999");
        assert_eq!(format_tokens(45_678), "45.7k");
        assert_eq!(
            shorten_home(Path::new("/home/u/p"), Some(Path::new("/home/u"))),
            "~/p"
        );
        assert_eq!(
            shorten_home(Path::new("/home/u"), Some(Path::new("/home/u"))),
            "~"
        );
        assert_eq!(
            shorten_home(Path::new("/tmp"), Some(Path::new("/home/u"))),
            "/tmp"
        );
    }

    #[test]
    fn reads_branch_from_head() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
        assert_eq!(
            git_branch(&dir.path().join("a/b")).as_deref(),
            Some("feature/x")
        );
        std::fs::write(dir.path().join(".git/HEAD"), "0123456789abcdef\n").unwrap();
        assert_eq!(git_branch(dir.path()).as_deref(), Some("0123456"));
    }
}
