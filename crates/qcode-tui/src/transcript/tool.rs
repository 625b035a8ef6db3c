//! Tool-call cells: a status icon, the one-line summary, the duration, and the output or diff
//! truncated to a few lines (Ctrl+T shows everything). A running tool that reports progress
//! (an MCP server's `notifications/progress`) shows it on a line of its own.

use qcode_protocol::ToolStatus;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::Detail;

/// Output lines shown for a finished tool in the scrollback.
pub const OUTPUT_PREVIEW_LINES: usize = 5;
/// Diff lines shown for an edit in the scrollback.
pub const DIFF_PREVIEW_LINES: usize = 20;
/// Output lines shown for a running tool in the live viewport.
pub const LIVE_OUTPUT_LINES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolState {
    Running,
    Done(ToolStatus),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCell {
    pub call_id: String,
    pub name: String,
    pub summary: String,
    pub state: ToolState,
    pub output: String,
    pub diff: Option<String>,
    pub duration_ms: u64,
    /// The latest progress the running tool reported (shown live only).
    pub progress: Option<ToolProgressLine>,
}

/// A running tool's latest progress: `progress` of `total` (when known) and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolProgressLine {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

impl ToolProgressLine {
    /// "▸ 40% · message" with a total of 100 or a fraction of 1, "▸ 3/10 · message" with
    /// another total, "▸ 7 · message" without one.
    pub fn text(&self) -> String {
        let amount = match self.total {
            Some(t) if t > 0.0 && (t == 100.0 || t == 1.0) => {
                format!("{:.0}%", (self.progress / t * 100.0).clamp(0.0, 100.0))
            }
            Some(t) => format!("{}/{}", number(self.progress), number(t)),
            None => number(self.progress),
        };
        match self.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("▸ {amount} · {m}"),
            None => format!("▸ {amount}"),
        }
    }
}

/// A progress figure: whole numbers without decimals, others with at most two.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl ToolCell {
    pub fn new(call_id: &str, name: &str, summary: &str) -> Self {
        Self {
            call_id: call_id.to_string(),
            name: name.to_string(),
            summary: if summary.trim().is_empty() {
                name.to_string()
            } else {
                summary.to_string()
            },
            state: ToolState::Running,
            output: String::new(),
            diff: None,
            duration_ms: 0,
            progress: None,
        }
    }

    fn header(&self, spinner: &str) -> Line<'static> {
        let (icon, style) = match self.state {
            ToolState::Running => (spinner.to_string(), Style::default().fg(Color::Cyan)),
            ToolState::Done(ToolStatus::Success) => {
                ("✓".to_string(), Style::default().fg(Color::Green))
            }
            ToolState::Done(ToolStatus::Error) => {
                ("✗".to_string(), Style::default().fg(Color::Red))
            }
            ToolState::Done(ToolStatus::Denied) => {
                ("⊘".to_string(), Style::default().fg(Color::Yellow))
            }
            ToolState::Done(ToolStatus::Cancelled) => (
                "✗".to_string(),
                Style::default().add_modifier(Modifier::DIM),
            ),
        };
        let mut spans = vec![
            Span::styled(icon, style.add_modifier(Modifier::BOLD)),
            Span::raw(" "),
            Span::styled(
                first_line(&self.summary),
                Style::default().add_modifier(Modifier::BOLD),
            ),
        ];
        let dim = Style::default().add_modifier(Modifier::DIM);
        match self.state {
            ToolState::Running => {}
            ToolState::Done(ToolStatus::Denied) => spans.push(Span::styled(" · denied", dim)),
            ToolState::Done(ToolStatus::Cancelled) => spans.push(Span::styled(" · cancelled", dim)),
            ToolState::Done(ToolStatus::Success | ToolStatus::Error) => {
                spans.push(Span::styled(
                    format!(" · {}", format_duration_ms(self.duration_ms)),
                    dim,
                ));
            }
        }
        Line::from(spans)
    }

    /// Lines of the finished cell (scrollback: truncated; pager: everything).
    pub fn lines(&self, detail: Detail) -> Vec<Line<'static>> {
        let mut out = vec![self.header("•")];
        let (text, limit, body): (&str, usize, Body) = match (&self.diff, detail) {
            (Some(d), Detail::Compact) if !d.trim().is_empty() => {
                (d, DIFF_PREVIEW_LINES, Body::Diff)
            }
            (Some(d), Detail::Full) if !d.trim().is_empty() => (d, usize::MAX, Body::Diff),
            (_, Detail::Compact) => (&self.output, OUTPUT_PREVIEW_LINES, Body::Output),
            (_, Detail::Full) => (&self.output, usize::MAX, Body::Output),
        };
        let body_lines: Vec<&str> = text.trim_end_matches('\n').lines().collect();
        let show_output =
            body == Body::Diff || !matches!(self.state, ToolState::Done(ToolStatus::Denied));
        if show_output && !text.trim().is_empty() {
            for l in body_lines.iter().take(limit) {
                out.push(body_line(l, body, self.state));
            }
            if body_lines.len() > limit {
                out.push(Line::from(Span::styled(
                    format!(
                        "  … +{} lines (Ctrl+T to view all)",
                        body_lines.len() - limit
                    ),
                    Style::default().add_modifier(Modifier::DIM),
                )));
            }
        }
        out
    }

    /// Lines for the live viewport while the tool runs: header with spinner and output tail.
    pub fn live_lines(&self, spinner: &str) -> Vec<Line<'static>> {
        let mut out = vec![self.header(spinner)];
        if let Some(p) = &self.progress {
            out.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(p.text(), Style::default().fg(Color::Cyan)),
            ]));
        }
        let lines: Vec<&str> = self.output.trim_end_matches('\n').lines().collect();
        let skip = lines.len().saturating_sub(LIVE_OUTPUT_LINES);
        for l in &lines[skip..] {
            out.push(body_line(l, Body::Output, self.state));
        }
        out
    }
}

/// What a tool cell's body shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// A unified diff, coloured line by line.
    Diff,
    /// The tool's output (dim, or red after an error).
    Output,
}

fn body_line(l: &str, body: Body, state: ToolState) -> Line<'static> {
    let text = l.replace('\t', "    ");
    let style = if body == Body::Diff {
        diff_style(l)
    } else if matches!(state, ToolState::Done(ToolStatus::Error)) {
        Style::default().fg(Color::Red)
    } else {
        Style::default().add_modifier(Modifier::DIM)
    };
    Line::from(vec![Span::raw("  "), Span::styled(text, style)])
}

/// Colour of one unified-diff line: additions green, removals red, hunk headers cyan.
pub fn diff_style(line: &str) -> Style {
    if line.starts_with("+++") || line.starts_with("---") {
        Style::default().add_modifier(Modifier::BOLD)
    } else if line.starts_with('+') {
        Style::default().fg(Color::Green)
    } else if line.starts_with('-') {
        Style::default().fg(Color::Red)
    } else if line.starts_with("@@") {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().add_modifier(Modifier::DIM)
    }
}

/// Lines of a unified diff, coloured.
pub fn diff_lines(diff: &str) -> Vec<Line<'static>> {
    diff.lines()
        .map(|l| Line::from(Span::styled(l.replace('\t', "    "), diff_style(l))))
        .collect()
}

fn first_line(s: &str) -> String {
    let mut lines = s.lines();
    let first = lines.next().unwrap_or("").to_string();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// "850ms", "2.4s", "1m 05s".
pub fn format_duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(progress: f64, total: Option<f64>, message: Option<&str>) -> String {
        ToolProgressLine {
            progress,
            total,
            message: message.map(str::to_string),
        }
        .text()
    }

    #[test]
    fn progress_reads_as_percent_fraction_or_count() {
        assert_eq!(line(40.0, Some(100.0), Some("copying")), "▸ 40% · copying");
        assert_eq!(line(0.25, Some(1.0), None), "▸ 25%");
        assert_eq!(line(3.0, Some(10.0), None), "▸ 3/10");
        assert_eq!(line(2.5, Some(7.0), Some("")), "▸ 2.5/7");
        assert_eq!(line(7.0, None, Some("rows")), "▸ 7 · rows");
        assert_eq!(line(150.0, Some(100.0), None), "▸ 100%");
    }

    #[test]
    fn a_running_tool_shows_its_progress_line_and_a_finished_one_does_not() {
        let mut t = ToolCell::new("c1", "mcp__srv__op", "mcp__srv__op");
        t.progress = Some(ToolProgressLine {
            progress: 3.0,
            total: Some(10.0),
            message: Some("step".into()),
        });
        let live: Vec<String> = t.live_lines("⠋").iter().map(|l| l.to_string()).collect();
        assert_eq!(live, vec!["⠋ mcp__srv__op", "  ▸ 3/10 · step"]);
        t.state = ToolState::Done(ToolStatus::Success);
        let done: Vec<String> = t
            .lines(Detail::Compact)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(done.iter().all(|l| !l.contains('▸')), "{done:?}");
    }
}
