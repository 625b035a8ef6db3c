//! `/agents`: the subagent definitions through [`crate::Services::list_agents`] (the TUI reads
//! no files), shown as one block: each agent's name and source, what it is for, its tools and
//! model; then the definitions that were refused or could not be read.

use qcode_protocol::Problem;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::App;
use super::dialogs::ServiceReply;
use crate::services::AgentListing;
use crate::transcript::subagent::one_line;
use crate::transcript::{Cell, NoticeKind};

impl App {
    pub(crate) fn agents_command(&mut self) {
        if let Some(s) = self.services("agents") {
            self.spawn_reply(
                0,
                async move { ServiceReply::Agents(s.list_agents().await) },
            );
        }
    }

    pub(crate) fn agents_listed(&mut self, result: Result<AgentListing, Problem>) {
        match result {
            Ok(listing) => self.emit_cell(Cell::Info {
                lines: agents_lines(&listing),
            }),
            Err(e) => self.notice(
                NoticeKind::Error,
                format!("Cannot list the subagents: {}", e.one_line()),
                e.hint.clone(),
            ),
        }
    }
}

/// The `/agents` block.
pub(crate) fn agents_lines(listing: &AgentListing) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let dim = Style::default().add_modifier(Modifier::DIM);
    let mut lines = vec![Line::from(Span::styled(
        format!("Subagents ({})", listing.agents.len()),
        bold,
    ))];
    for a in &listing.agents {
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(one_line(&a.name), bold.fg(Color::Cyan)),
            Span::styled(format!("  {}", one_line(&a.source)), dim),
        ]));
        lines.push(Line::from(vec![
            Span::raw("    "),
            Span::raw(one_line(&a.description)),
        ]));
        lines.push(Line::from(vec![
            Span::raw("    "),
            Span::styled(
                format!(
                    "tools: {} · model: {}",
                    one_line(&a.tools),
                    one_line(&a.model)
                ),
                dim,
            ),
        ]));
    }
    if !listing.problems.is_empty() {
        lines.push(Line::from(Span::styled("Not loaded", bold)));
        for p in &listing.problems {
            lines.push(Line::from(vec![
                Span::styled("  ⚠ ", Style::default().fg(Color::Yellow)),
                Span::raw(one_line(p)),
            ]));
        }
    }
    lines.push(Line::from(Span::styled(
        "  the model starts them with the task tool; Ctrl+O shows what they did",
        dim,
    )));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::AgentInfo;
    use crate::testutil::lines_text;

    #[test]
    fn the_agents_block_lists_every_definition_and_the_refused_ones() {
        let listing = AgentListing {
            agents: vec![
                AgentInfo {
                    name: "general-purpose".into(),
                    description: "A general-purpose agent for multi-step tasks.".into(),
                    source: "built-in".into(),
                    tools: "every tool of the session except task".into(),
                    model: "inherit".into(),
                },
                AgentInfo {
                    name: "reviewer".into(),
                    description: "Reviews a diff\nfor bugs.".into(),
                    source: "project .qcode/agents/reviewer.md".into(),
                    tools: "read_file, grep".into(),
                    model: "qwen3-coder-plus".into(),
                },
            ],
            problems: vec![
                ".qcode/agents/deploy.md: agent `deploy` gives run_shell_command beyond the read-only tools and this project is not trusted; run `qcode trust` to use it".into(),
            ],
        };
        insta::assert_snapshot!(lines_text(&agents_lines(&listing), 100));
    }
}
