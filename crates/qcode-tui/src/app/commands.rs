//! Slash-command execution (one exhaustive match over [`SlashCommand`]) and the pickers.

use qcode_protocol::{ApprovalMode, Op};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{App, Effect, PopupKind};
use crate::ExitReason;
use crate::popup::{Popup, PopupItem};
use crate::services::UsageStatistics;
use crate::slash::{COMMANDS, SlashCommand};
use crate::transcript::{Cell, NoticeKind};

/// What /init asks the model.
pub(crate) const INIT_PROMPT: &str = "Please study this project and write a concise QWEN.md at its root, as a guide for \
future coding sessions. First explore with your tools: list the top-level directories, read the \
README, the build and package files, and a few central source and test files. Then write QWEN.md \
with short sections: Purpose (what the project is and does), Build and test (the exact commands \
to build, run, test and lint), Layout (the main directories and what lives in each), and \
Conventions (code style, error handling, testing habits and anything else a contributor must \
follow). State only what you verified in the files, keep it under about 80 lines, and if a \
QWEN.md already exists, improve it instead of starting over.";

/// Key bindings shown by /help.
const KEYS: &[(&str, &str)] = &[
    ("Enter", "send"),
    ("Shift+Enter, Ctrl+J", "new line"),
    ("Esc, Ctrl+C", "cancel the running turn"),
    ("Ctrl+C twice, Ctrl+D", "exit (on an empty prompt)"),
    ("Shift+Tab", "cycle approval mode"),
    ("Ctrl+T", "full transcript"),
    ("Ctrl+O", "subagent transcripts (←/→ switch subagents)"),
    ("Ctrl+L", "clear the screen"),
    ("Ctrl+Z", "suspend"),
    ("↑ / ↓", "history"),
    ("Ctrl+A/E/W/U/K, Alt+←/→", "line editing"),
    ("@path", "attach a file (fuzzy picker, Tab completes)"),
    ("!command", "run a shell command locally"),
];

fn approval_description(mode: ApprovalMode) -> &'static str {
    match mode {
        ApprovalMode::Plan => "read-only: plan, never change anything",
        ApprovalMode::Default => "ask before edits, shell commands and fetches",
        ApprovalMode::AutoEdit => "edit files freely; ask before shell and fetches",
        ApprovalMode::Yolo => "run everything without asking",
    }
}

impl App {
    pub(crate) fn run_command(&mut self, command: SlashCommand, args: &str) {
        if let (Some(services), Some(spec)) = (
            self.options.services.as_ref(),
            COMMANDS.iter().find(|c| c.command == command),
        ) {
            services.command_used(spec.name);
        }
        match command {
            SlashCommand::Help => {
                let lines = help_lines(self.prompt.custom());
                self.emit_cell(Cell::Info { lines });
                // The next /help and the popup see files changed since.
                self.refresh_custom_commands();
            }
            SlashCommand::Skills => self.skills_command(),
            SlashCommand::Auth => self.open_auth(None),
            SlashCommand::Model => {
                if !args.is_empty() {
                    self.set_model(args);
                } else if let Some(services) = self.options.services.clone() {
                    self.open_model_dialog(services);
                } else {
                    self.open_model_picker();
                }
            }
            SlashCommand::Memory => self.memory_command(args),
            SlashCommand::Mcp => self.mcp_command(args),
            SlashCommand::Agents => self.agents_command(),
            SlashCommand::Init => {
                if self.running.is_running() {
                    self.notice(
                        NoticeKind::Error,
                        "A turn is running",
                        Some("wait for it to finish or press Esc, then run /init again".into()),
                    );
                } else if self.options.cwd.join("QWEN.md").exists() {
                    self.open_dialog(crate::dialog::Dialog::InitConfirm);
                } else {
                    self.send_init();
                }
            }
            SlashCommand::Tools => {
                let lines = self.tools_lines();
                self.emit_cell(Cell::Info { lines });
            }
            SlashCommand::Privacy => match args {
                "" | "status" | "log" => self.open_privacy(),
                "on" => self.privacy_set(UsageStatistics::On),
                "off" => self.privacy_set(UsageStatistics::Off),
                other => self.notice(
                    NoticeKind::Error,
                    format!("Unknown /privacy argument \"{other}\""),
                    Some("use /privacy, /privacy on or /privacy off".into()),
                ),
            },
            SlashCommand::ApprovalMode => {
                if args.is_empty() {
                    let items = ApprovalMode::ALL
                        .iter()
                        .map(|m| PopupItem {
                            value: m.as_str().into(),
                            label: m.as_str().into(),
                            description: approval_description(*m).into(),
                        })
                        .collect();
                    let mut p = Popup::new(items)
                        .with_title("Approval mode (Enter to choose, Esc to cancel)");
                    p.selected = ApprovalMode::ALL
                        .iter()
                        .position(|m| *m == self.status.approval_mode)
                        .unwrap_or(0);
                    self.prompt.show_popup(PopupKind::ApprovalMode, p);
                } else {
                    match ApprovalMode::parse(args) {
                        Some(mode) => self.set_approval_mode(mode),
                        None => self.notice(
                            NoticeKind::Error,
                            format!("Unknown approval mode \"{args}\""),
                            Some("use one of: plan, default, auto-edit, yolo".into()),
                        ),
                    }
                }
            }
            SlashCommand::Clear => {
                self.send(Op::ClearHistory);
                self.transcript.clear();
                self.subagents.clear_finished();
                self.status.context_tokens = 0;
                self.effects.push(Effect::ClearScreen);
            }
            SlashCommand::Resume => self.open_resume(),
            SlashCommand::Export => self.export_command(args),
            SlashCommand::Rename => self.rename_command(args),
            SlashCommand::Rewind => self.open_rewind(),
            SlashCommand::Compress => {
                self.send(Op::Compact);
                self.notice(NoticeKind::Info, "Compressing history…", None);
            }
            SlashCommand::Stats => {
                let lines = self.stats.lines(self.started.elapsed());
                self.emit_cell(Cell::Info { lines });
            }
            SlashCommand::About => {
                let text = self.about_text();
                let mut lines = vec![Line::from(Span::styled(
                    "About qcode",
                    Style::default().add_modifier(Modifier::BOLD),
                ))];
                lines.extend(text.lines().map(|l| Line::from(format!("  {l}"))));
                self.emit_cell(Cell::Info { lines });
            }
            SlashCommand::Copy => {
                let answer = self.transcript.last_answer().to_string();
                if answer.is_empty() {
                    self.notice(NoticeKind::Info, "Nothing to copy yet", None);
                } else {
                    let n = answer.lines().count();
                    self.effects.push(Effect::Copy(answer));
                    self.notice(
                        NoticeKind::Info,
                        format!("Copied the last answer ({n} lines) to the clipboard"),
                        Some("uses OSC 52; in tmux enable `set -g set-clipboard on`".into()),
                    );
                }
            }
            SlashCommand::Quit => self.quit(ExitReason::UserQuit),
        }
    }

    /// Asks the model to write QWEN.md.
    pub(crate) fn send_init(&mut self) {
        self.start_turn(INIT_PROMPT.to_string());
    }

    fn tools_lines(&self) -> Vec<Line<'static>> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let dim = Style::default().add_modifier(Modifier::DIM);
        let tools = &self.options.tools;
        if tools.is_empty() {
            return vec![Line::from("No tool list is available in this session")];
        }
        let name_w = tools.iter().map(|t| t.name.len()).max().unwrap_or(0) + 2;
        let perm_w = tools.iter().map(|t| t.permission.len()).max().unwrap_or(0) + 2;
        let mut lines = vec![Line::from(Span::styled("Built-in tools", bold))];
        for t in tools {
            lines.push(Line::from(vec![
                Span::raw(format!("  {:<name_w$}", t.name)),
                Span::styled(
                    format!("{:<perm_w$}", t.permission),
                    Style::default().fg(Color::Cyan),
                ),
                Span::styled(t.description.clone(), dim),
            ]));
        }
        lines.push(Line::from(Span::styled(
            "  read-only and plan tools run without asking inside the workspace; the others follow the approval mode",
            dim,
        )));
        lines
    }

    /// Plain text of /about (copyable).
    pub(crate) fn about_text(&self) -> String {
        format!(
            "version   {}\nplatform  {} {}\nmodel     {}\nauth      {}\napproval  {}",
            self.options.version,
            std::env::consts::OS,
            std::env::consts::ARCH,
            self.status.model,
            self.status.auth.as_str(),
            self.status.approval_mode.as_str(),
        )
    }

    pub(crate) fn set_model(&mut self, model: &str) {
        let model = model.trim().to_string();
        self.send(Op::SetModel {
            model: model.clone(),
        });
        self.status.model = model.clone();
        self.notice(NoticeKind::Info, format!("Model: {model}"), None);
    }

    fn open_model_picker(&mut self) {
        let mut models = self.options.models.clone();
        if !models.contains(&self.status.model) {
            models.insert(0, self.status.model.clone());
        }
        let items: Vec<PopupItem> = models
            .iter()
            .map(|m| PopupItem {
                value: m.clone(),
                label: m.clone(),
                description: if *m == self.status.model {
                    "current".into()
                } else {
                    String::new()
                },
            })
            .collect();
        let mut p = Popup::new(items)
            .with_title("Model (Enter to choose, Esc to cancel; or type /model <name>)");
        p.selected = models
            .iter()
            .position(|m| *m == self.status.model)
            .unwrap_or(0);
        self.prompt.show_popup(PopupKind::Model, p);
    }
}

/// Widest name column of /help; a longer command goes on a line of its own, with its
/// description below, so the table stays aligned on narrow terminals.
const HELP_NAME_COLUMN: usize = 24;

pub(crate) fn help_lines(custom: &[crate::services::CustomCommandInfo]) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let dim = Style::default().add_modifier(Modifier::DIM);
    let names: Vec<String> = COMMANDS
        .iter()
        .map(|c| {
            if c.args.is_empty() {
                format!("/{}", c.name)
            } else {
                format!("/{} {}", c.name, c.args)
            }
        })
        .collect();
    let col = names
        .iter()
        .map(String::len)
        .chain(KEYS.iter().map(|(k, _)| k.chars().count()))
        .filter(|&w| w <= HELP_NAME_COLUMN)
        .max()
        .unwrap_or(HELP_NAME_COLUMN)
        + 2;
    // A row is "  name<padding>description"; the padded name is its own span, which the
    // wrapper uses as the hanging indent of wrapped descriptions.
    let row = |name: &str, description: String, lines: &mut Vec<Line<'static>>| {
        if name.chars().count() + 2 > col {
            lines.push(Line::from(format!("  {name}")));
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(col + 2)),
                Span::styled(description, dim),
            ]));
        } else {
            lines.push(Line::from(vec![
                Span::raw(format!("  {name:<col$}")),
                Span::styled(description, dim),
            ]));
        }
    };
    let mut lines = vec![Line::from(Span::styled("Commands", bold))];
    for (c, name) in COMMANDS.iter().zip(&names) {
        let aliases = if c.aliases.is_empty() {
            String::new()
        } else {
            format!(" (/{})", c.aliases.join(", /"))
        };
        row(name, format!("{}{aliases}", c.description), &mut lines);
    }
    if !custom.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "Custom commands and MCP prompts",
            bold,
        )));
        for c in custom {
            row(
                &super::prompt::custom_label(c),
                super::prompt::custom_description(c),
                &mut lines,
            );
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("Keys", bold)));
    for (k, d) in KEYS {
        row(k, d.to_string(), &mut lines);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{CommandSource, CustomCommandInfo};

    #[test]
    fn help_lists_custom_commands_and_mcp_prompts_with_their_source() {
        let custom = vec![
            CustomCommandInfo {
                name: "review".into(),
                description: "Review a file".into(),
                argument_hint: "<path>".into(),
                source: CommandSource::User,
                blocked: None,
            },
            CustomCommandInfo {
                name: "status".into(),
                description: String::new(),
                argument_hint: String::new(),
                source: CommandSource::Project,
                blocked: Some(
                    "it runs shell commands and this folder is not trusted (`qcode trust`)".into(),
                ),
            },
            CustomCommandInfo {
                name: "mcp__everything__args-prompt".into(),
                description: "A prompt with two arguments".into(),
                argument_hint: "<city> [state]".into(),
                source: CommandSource::Mcp {
                    server: "everything".into(),
                },
                blocked: None,
            },
        ];
        let text: Vec<String> = help_lines(&custom).iter().map(|l| l.to_string()).collect();
        let start = text
            .iter()
            .position(|l| l == "Custom commands and MCP prompts")
            .unwrap();
        let end = text.iter().position(|l| l == "Keys").unwrap();
        insta::assert_snapshot!(text[start..end].join("\n"));
        assert!(
            !help_lines(&[])
                .iter()
                .any(|l| l.to_string().starts_with("Custom")),
            "no section without custom commands"
        );
    }
}
