//! Custom commands and MCP prompts typed in the TUI. Their list and their expansion come from
//! [`crate::Services`] (the TUI reads no command file): the list is asked for after the first
//! frame, each time the command popup opens and on `/help`; a `/name` that is no built-in is
//! expanded by the services, which also re-read an edited file. A command whose `!{…}` needs
//! approval opens the same question a shell call asks; allowing it expands the command again
//! with those commands allowed, declining cancels it and nothing is sent. The expanded prompt
//! is sent as the user message (with the command's `model` for that turn only); the
//! transcript shows what was typed.

use qcode_protocol::{Problem, ReviewDecision};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::App;
use super::dialogs::ServiceReply;
use super::turn::QueuedTurn;
use crate::dialog::{CommandShellApproval, Dialog};
use crate::services::{CommandExpansion, CommandRequest, CustomCommands, SkillList};
use crate::transcript::{Cell, NoticeKind};

impl App {
    /// Asks the services for the custom commands again (cheap when no file changed).
    pub(crate) fn refresh_custom_commands(&mut self) {
        if let Some(s) = self.options.services.clone() {
            self.spawn_reply(0, async move {
                ServiceReply::CustomCommands(s.custom_commands().await)
            });
        }
    }

    pub(crate) fn custom_commands_listed(&mut self, list: CustomCommands) {
        for problem in list.problems {
            self.notice(NoticeKind::Warning, problem, None);
        }
        self.prompt.set_custom(list.commands);
        if matches!(self.prompt.popup(), Some((super::PopupKind::Slash, _))) {
            // Updating an open popup: no new listing is asked for.
            let _ = self.prompt.refresh_popup();
        }
    }

    /// `/name args` where `name` is no built-in: a custom command or MCP prompt, if the
    /// services know it.
    pub(crate) fn run_custom(&mut self, name: &str, args: &str, suggestion: Option<&'static str>) {
        if self.options.services.is_none() {
            self.unknown_command(name, suggestion);
            return;
        }
        let request = CommandRequest {
            name: name.to_string(),
            args: args.to_string(),
            mode: self.status.approval_mode,
            approved: Vec::new(),
            for_session: false,
        };
        self.expand_custom(request, suggestion);
    }

    fn expand_custom(&mut self, request: CommandRequest, suggestion: Option<&'static str>) {
        let Some(s) = self.options.services.clone() else {
            return;
        };
        self.spawn_reply(0, async move {
            let result = s.expand_command(request.clone()).await;
            ServiceReply::CommandExpanded {
                request,
                suggestion,
                result,
            }
        });
    }

    fn unknown_command(&mut self, name: &str, suggestion: Option<&'static str>) {
        let hint = suggestion.map_or_else(
            || "type /help to see all commands".to_string(),
            |s| format!("did you mean /{s}?"),
        );
        self.notice(
            NoticeKind::Error,
            format!("Unknown command /{name}"),
            Some(hint),
        );
    }

    pub(crate) fn custom_expanded(
        &mut self,
        request: CommandRequest,
        suggestion: Option<&'static str>,
        result: Result<CommandExpansion, Problem>,
    ) {
        match result {
            Err(problem) => self.notice(
                NoticeKind::Error,
                format!("{} · nothing was sent", problem.message),
                problem.hint,
            ),
            Ok(CommandExpansion::NotFound) => self.unknown_command(&request.name, suggestion),
            Ok(CommandExpansion::NeedsApproval {
                commands,
                directory,
            }) => {
                self.open_dialog(Dialog::CommandShell(Box::new(CommandShellApproval::new(
                    request, commands, directory,
                ))));
            }
            Ok(CommandExpansion::Ready(prompt)) => {
                if let Some(s) = &self.options.services {
                    s.custom_command_used();
                }
                let shown = if request.args.is_empty() {
                    format!("/{}", request.name)
                } else {
                    format!("/{} {}", request.name, request.args)
                };
                self.send_or_queue(QueuedTurn {
                    text: prompt.text,
                    shown,
                    model: prompt.model,
                });
            }
        }
    }

    /// The answer to a custom command's `!{…}` question.
    pub(crate) fn command_shell_decided(&mut self, decision: ReviewDecision) {
        let Some(Dialog::CommandShell(d)) = self.dialogs.get() else {
            return;
        };
        let (mut request, commands) = (d.request.clone(), d.commands.clone());
        self.close_dialog();
        self.emit_cell(Cell::Decision {
            tool: format!("/{}", request.name),
            decision: decision.clone(),
        });
        match decision {
            ReviewDecision::AllowOnce | ReviewDecision::AllowForSession => {
                request.for_session = decision == ReviewDecision::AllowForSession;
                request.approved = commands;
                self.expand_custom(request, None);
            }
            ReviewDecision::Deny { .. } => self.notice(
                NoticeKind::Info,
                format!(
                    "/{} cancelled: its shell command was not allowed · nothing was sent",
                    request.name
                ),
                None,
            ),
        }
    }

    // ---- /skills -------------------------------------------------------------------------

    pub(crate) fn skills_command(&mut self) {
        if let Some(s) = self.services("skills") {
            self.spawn_reply(0, async move { ServiceReply::Skills(s.skills().await) });
        }
    }

    pub(crate) fn skills_listed(&mut self, skills: SkillList) {
        let lines = skills_lines(&skills);
        self.emit_cell(Cell::Info { lines });
    }
}

/// `/skills`: name, where from, description.
pub(crate) fn skills_lines(list: &SkillList) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let dim = Style::default().add_modifier(Modifier::DIM);
    let skills = &list.skills;
    let notes = list
        .notes
        .iter()
        .map(|n| Line::from(Span::styled(format!("  ! {n}"), dim)));
    if skills.is_empty() {
        let mut lines = vec![
            Line::from(Span::styled("No skills are loaded", bold)),
            Line::from(Span::styled(
                "  a skill is a folder with a SKILL.md in ~/.qcode/skills, or in a trusted project's .qcode/skills, .agents/skills or .qwen/skills",
                dim,
            )),
        ];
        lines.extend(notes);
        return lines;
    }
    let name_w = skills
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let source_w = skills
        .iter()
        .map(|s| s.source.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut lines = vec![Line::from(Span::styled("Skills", bold))];
    for s in skills {
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<name_w$}", s.name)),
            Span::styled(
                format!("{:<source_w$}", s.source),
                Style::default().fg(ratatui::style::Color::Cyan),
            ),
            Span::styled(s.description.clone(), dim),
        ]));
    }
    lines.extend(notes);
    lines.push(Line::from(Span::styled(
        "  the model sees each skill's name and description and loads one with the skill tool",
        dim,
    )));
    lines
}
