//! Session statistics tracked from engine events, shown by `/stats` and returned on exit.

use std::time::Duration;

use qcode_protocol::Usage;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::status::format_tokens;
use crate::transcript::tool::format_duration_ms;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionStats {
    pub turns: u64,
    pub requests: u64,
    pub tool_calls: u64,
    pub tool_failures: u64,
    pub tool_time: Duration,
    pub model_time: Duration,
    pub errors: u64,
    pub retries: u64,
    /// `None` until the server reports usage (some local servers never do).
    pub usage: Option<Usage>,
}

impl SessionStats {
    pub fn lines(&self, session: Duration) -> Vec<Line<'static>> {
        let label = Style::default().add_modifier(Modifier::DIM);
        let row = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("  {k:<16}"), label),
                Span::raw(v),
            ])
        };
        vec![
            Line::from(Span::styled(
                "Session stats",
                Style::default().add_modifier(Modifier::BOLD),
            )),
            row("duration", format_duration_ms(session.as_millis() as u64)),
            row("turns", self.turns.to_string()),
            row(
                "requests",
                format!(
                    "{} ({} retries, {} errors)",
                    self.requests, self.retries, self.errors
                ),
            ),
            row(
                "time working",
                format_duration_ms(self.model_time.as_millis() as u64),
            ),
            row(
                "tool calls",
                format!(
                    "{} ({} failed, {})",
                    self.tool_calls,
                    self.tool_failures,
                    format_duration_ms(self.tool_time.as_millis() as u64)
                ),
            ),
            row(
                "tokens",
                match &self.usage {
                    Some(u) => format!(
                        "{} total · {} prompt ({} cached) · {} output ({} reasoning)",
                        format_tokens(u.total_tokens),
                        format_tokens(u.prompt_tokens),
                        format_tokens(u.cached_tokens),
                        format_tokens(u.completion_tokens),
                        format_tokens(u.reasoning_tokens),
                    ),
                    None if self.requests == 0 => "none yet".to_string(),
                    None => "not reported by the server".to_string(),
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::lines_text;

    #[test]
    fn stats_view() {
        let empty = SessionStats::default().lines(Duration::from_millis(800));
        let busy = SessionStats {
            turns: 3,
            requests: 7,
            tool_calls: 12,
            tool_failures: 1,
            tool_time: Duration::from_millis(4_250),
            model_time: Duration::from_secs(95),
            errors: 1,
            retries: 2,
            usage: Some(Usage {
                prompt_tokens: 48_200,
                completion_tokens: 3_100,
                total_tokens: 51_300,
                cached_tokens: 30_000,
                reasoning_tokens: 900,
            }),
        }
        .lines(Duration::from_secs(600));
        let unreported = SessionStats {
            requests: 2,
            ..SessionStats::default()
        }
        .lines(Duration::from_secs(5));
        insta::assert_snapshot!(format!(
            "{}\n---\n{}\n---\n{}",
            lines_text(&empty, 80),
            lines_text(&busy, 80),
            lines_text(&unreported, 80)
        ));
    }
}
