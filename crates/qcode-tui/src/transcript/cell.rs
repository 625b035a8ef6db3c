//! Finished transcript cells and how they render.

use qcode_protocol::{ReviewDecision, TodoItem, TodoStatus};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{SubagentSummary, ToolCell};
use crate::markdown::{self, Highlighter, Highlighting};

/// How much of a cell to show: the scrollback shows previews, the pager everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Compact,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Warning,
    Retry,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// What the user sent (paste placeholders already expanded).
    User {
        text: String,
    },
    /// A finished answer's markdown source.
    Assistant {
        markdown: String,
    },
    /// The model's reasoning; collapsed to one line in the scrollback.
    Reasoning {
        text: String,
        secs: u64,
    },
    /// Boxed: a tool cell is several times the size of the other variants, and every cell of
    /// a long session is kept.
    Tool(Box<ToolCell>),
    /// A finished subagent, collapsed to one line under its `task` call.
    Subagent(SubagentSummary),
    /// A local `!command` and its output.
    Shell {
        command: String,
        output: String,
        exit_code: Option<i32>,
    },
    Notice {
        kind: NoticeKind,
        text: String,
        hint: Option<String>,
    },
    /// The user's answer to an approval request.
    Decision {
        tool: String,
        decision: ReviewDecision,
    },
    Todos {
        items: Vec<TodoItem>,
    },
    /// Preformatted output of a slash command (/help, /stats, /about).
    Info {
        lines: Vec<Line<'static>>,
    },
}

fn dim() -> Style {
    Style::default().add_modifier(Modifier::DIM)
}

impl Cell {
    /// Logical (unwrapped) lines of the cell.
    pub fn lines(
        &self,
        width: usize,
        hl: Option<&Highlighter>,
        detail: Detail,
    ) -> Vec<Line<'static>> {
        match self {
            Cell::User { text } => user_lines(text, detail),
            Cell::Assistant { markdown } => markdown::render(markdown, width, hl, Highlighting::On),
            Cell::Reasoning { text, secs } => match detail {
                Detail::Compact => vec![reasoning_summary(text, *secs)],
                Detail::Full => {
                    let mut out = vec![Line::from(Span::styled(
                        format!("✻ Thought for {secs}s"),
                        dim(),
                    ))];
                    out.extend(text.trim().lines().map(|l| {
                        Line::from(Span::styled(
                            l.to_string(),
                            dim().add_modifier(Modifier::ITALIC),
                        ))
                    }));
                    out
                }
            },
            Cell::Tool(t) => t.lines(detail),
            Cell::Subagent(s) => s.lines(detail),
            Cell::Shell {
                command,
                output,
                exit_code,
            } => shell_lines(command, output, *exit_code, detail),
            Cell::Notice { kind, text, hint } => notice_lines(*kind, text, hint.as_deref()),
            Cell::Decision { tool, decision } => vec![decision_line(tool, decision)],
            Cell::Todos { items } => todo_lines(items),
            Cell::Info { lines } => lines.clone(),
        }
    }
}

fn user_lines(text: &str, detail: Detail) -> Vec<Line<'static>> {
    let prompt = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let all: Vec<&str> = text.lines().collect();
    let limit = match detail {
        Detail::Compact => 12,
        Detail::Full => usize::MAX,
    };
    let mut out: Vec<Line<'static>> = all
        .iter()
        .take(limit)
        .enumerate()
        .map(|(i, l)| {
            let lead = if i == 0 {
                Span::styled("› ", prompt)
            } else {
                Span::raw("  ")
            };
            Line::from(vec![
                lead,
                Span::styled(l.to_string(), Style::default().add_modifier(Modifier::BOLD)),
            ])
        })
        .collect();
    if all.len() > limit {
        out.push(Line::from(Span::styled(
            format!("  … +{} lines", all.len() - limit),
            dim(),
        )));
    }
    if out.is_empty() {
        out.push(Line::from(Span::styled("› ", prompt)));
    }
    out
}

fn reasoning_summary(text: &str, secs: u64) -> Line<'static> {
    let first = text
        .lines()
        .map(|l| l.trim().trim_matches(|c| c == '*' || c == '#').trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut summary: String = first.chars().take(70).collect();
    if first.chars().count() > 70 {
        summary.push('…');
    }
    let mut spans = vec![Span::styled(format!("✻ Thought for {secs}s"), dim())];
    if !summary.is_empty() {
        spans.push(Span::styled(
            format!(" · {summary}"),
            dim().add_modifier(Modifier::ITALIC),
        ));
    }
    Line::from(spans)
}

fn shell_lines(
    command: &str,
    output: &str,
    exit_code: Option<i32>,
    detail: Detail,
) -> Vec<Line<'static>> {
    let ok = exit_code == Some(0);
    let icon = if ok {
        Span::styled("$ ", Style::default().fg(Color::Green))
    } else {
        Span::styled("$ ", Style::default().fg(Color::Red))
    };
    let mut out = vec![Line::from(vec![
        icon,
        Span::styled(
            command.to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ])];
    let lines: Vec<&str> = output.trim_end().lines().collect();
    let limit = match detail {
        Detail::Compact => 20,
        Detail::Full => usize::MAX,
    };
    for l in lines.iter().take(limit) {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(l.replace('\t', "    "), dim()),
        ]));
    }
    if lines.len() > limit {
        out.push(Line::from(Span::styled(
            format!("  … +{} lines (Ctrl+T to view all)", lines.len() - limit),
            dim(),
        )));
    }
    match exit_code {
        Some(0) => {}
        Some(code) => out.push(Line::from(Span::styled(
            format!("  exit code {code}"),
            Style::default().fg(Color::Red),
        ))),
        None => out.push(Line::from(Span::styled(
            "  killed by a signal",
            Style::default().fg(Color::Red),
        ))),
    }
    out
}

fn notice_lines(kind: NoticeKind, text: &str, hint: Option<&str>) -> Vec<Line<'static>> {
    let (icon, style) = match kind {
        NoticeKind::Info => ("•", dim()),
        NoticeKind::Warning => ("⚠", Style::default().fg(Color::Yellow)),
        NoticeKind::Retry => ("↻", Style::default().fg(Color::Yellow)),
        NoticeKind::Error => ("✗", Style::default().fg(Color::Red)),
    };
    let mut out: Vec<Line<'static>> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let lead = if i == 0 {
                format!("{icon} ")
            } else {
                "  ".to_string()
            };
            Line::from(Span::styled(format!("{lead}{l}"), style))
        })
        .collect();
    if let Some(h) = hint {
        out.push(Line::from(Span::styled(format!("  hint: {h}"), dim())));
    }
    out
}

fn decision_line(tool: &str, decision: &ReviewDecision) -> Line<'static> {
    match decision {
        ReviewDecision::AllowOnce => Line::from(vec![
            Span::styled("✔ ", Style::default().fg(Color::Green)),
            Span::styled(format!("Allowed {tool} once"), dim()),
        ]),
        ReviewDecision::AllowForSession => Line::from(vec![
            Span::styled("✔ ", Style::default().fg(Color::Green)),
            Span::styled(format!("Allowed {tool} for this session"), dim()),
        ]),
        ReviewDecision::Deny { message } => {
            let mut spans = vec![
                Span::styled("✘ ", Style::default().fg(Color::Red)),
                Span::styled(format!("Denied {tool}"), dim()),
            ];
            if let Some(m) = message.as_deref().filter(|m| !m.trim().is_empty()) {
                spans.push(Span::styled(format!(" — {m}"), dim()));
            }
            Line::from(spans)
        }
    }
}

fn todo_lines(items: &[TodoItem]) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        "• Plan",
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for item in items {
        let (mark, style) = match item.status {
            TodoStatus::Pending => ("☐", Style::default()),
            TodoStatus::InProgress => (
                "◐",
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            ),
            TodoStatus::Completed => ("☑", dim().add_modifier(Modifier::CROSSED_OUT)),
        };
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{mark} {}", item.content), style),
        ]));
    }
    out
}

#[cfg(test)]
mod tests;
