//! The slash-command catalogue as data: name, aliases, description and argument hint. Only
//! commands that work are listed; adding one means adding a row here and a match arm in
//! `app::commands` (the match is exhaustive over [`SlashCommand`]). Custom commands and MCP
//! prompts come from [`crate::Services::custom_commands`]; a built-in name or alias always
//! wins over them ([`is_builtin`]).

/// Every built-in command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlashCommand {
    Help,
    Auth,
    Model,
    ApprovalMode,
    Memory,
    Init,
    Tools,
    Agents,
    Skills,
    Mcp,
    Privacy,
    Clear,
    Resume,
    Export,
    Rename,
    Rewind,
    Compress,
    Stats,
    About,
    Copy,
    Quit,
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub command: SlashCommand,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub description: &'static str,
    pub args: &'static str,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        command: SlashCommand::Help,
        name: "help",
        aliases: &["?"],
        description: "Show keys and commands",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Auth,
        name: "auth",
        aliases: &["login"],
        description: "Sign in with Qwen OAuth or save an API key",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Model,
        name: "model",
        aliases: &[],
        description: "Switch the model",
        args: "[name]",
    },
    CommandSpec {
        command: SlashCommand::ApprovalMode,
        name: "approval-mode",
        aliases: &["approvals"],
        description: "Choose what runs without asking",
        args: "[plan|default|auto-edit|yolo]",
    },
    CommandSpec {
        command: SlashCommand::Memory,
        name: "memory",
        aliases: &[],
        description: "Show, add to or reload the context files (QWEN.md)",
        args: "[show|add <fact>|refresh]",
    },
    CommandSpec {
        command: SlashCommand::Init,
        name: "init",
        aliases: &[],
        description: "Have the model analyse the project and write QWEN.md",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Tools,
        name: "tools",
        aliases: &[],
        description: "List the built-in tools and their permission class",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Agents,
        name: "agents",
        aliases: &[],
        description: "List the subagent definitions (source, tools, model)",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Skills,
        name: "skills",
        aliases: &[],
        description: "List the skills the model can use and where they come from",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Mcp,
        name: "mcp",
        aliases: &[],
        description: "MCP servers: status, tools and errors; reconnect or sign in to one",
        args: "[reconnect|login <name>]",
    },
    CommandSpec {
        command: SlashCommand::Privacy,
        name: "privacy",
        aliases: &[],
        description: "Usage statistics: what is sent, where, and turning it off",
        args: "[on|off]",
    },
    CommandSpec {
        command: SlashCommand::Clear,
        name: "clear",
        aliases: &["new", "reset"],
        description: "Forget the conversation and clear the screen",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Resume,
        name: "resume",
        aliases: &[],
        description: "Pick a recorded session of this project and continue it",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Export,
        name: "export",
        aliases: &[],
        description: "Write this session to a file (markdown; .json / .jsonl by extension)",
        args: "[file]",
    },
    CommandSpec {
        command: SlashCommand::Rename,
        name: "rename",
        aliases: &[],
        description: "Set this session's title (shown by /resume)",
        args: "<title>",
    },
    CommandSpec {
        command: SlashCommand::Rewind,
        name: "rewind",
        aliases: &[],
        description: "Go back to before a prompt: files, conversation or both",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Compress,
        name: "compress",
        aliases: &["compact", "summarize"],
        description: "Summarise older history to free context",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Stats,
        name: "stats",
        aliases: &["usage"],
        description: "Tokens, requests, tool calls and durations",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::About,
        name: "about",
        aliases: &["version"],
        description: "Version, platform, model and auth",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Copy,
        name: "copy",
        aliases: &[],
        description: "Copy the last answer to the clipboard (OSC 52)",
        args: "",
    },
    CommandSpec {
        command: SlashCommand::Quit,
        name: "quit",
        aliases: &["exit", "q"],
        description: "Leave qcode",
        args: "",
    },
];

/// A parsed `/name args` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    Command {
        spec: &'static CommandSpec,
        args: &'a str,
    },
    Unknown {
        name: &'a str,
        suggestion: Option<&'static str>,
    },
}

/// Looks up a name or alias (case-insensitive).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    let name = name.to_ascii_lowercase();
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
}

/// Whether `name` is a built-in command or alias (case-insensitive).
pub fn is_builtin(name: &str) -> bool {
    find(name).is_some()
}

/// Every built-in name and alias, for the back end that loads custom commands (they always
/// win over a custom command of the same name).
pub fn builtin_names() -> Vec<String> {
    COMMANDS
        .iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
        .map(str::to_string)
        .collect()
}

/// Parses a line starting with `/`. Returns `None` when it is not a command (e.g. a path like
/// `/usr/bin` followed by more text is still treated as a command name; only `//` escapes).
pub fn parse(line: &str) -> Option<Parsed<'_>> {
    let rest = line.trim_start().strip_prefix('/')?;
    if rest.starts_with('/') {
        return None;
    }
    let (name, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    Some(match find(name) {
        Some(spec) => Parsed::Command { spec, args },
        None => Parsed::Unknown {
            name,
            suggestion: suggest(name),
        },
    })
}

/// Commands whose name or alias starts with (then contains) `prefix`, for the popup.
pub fn filter(prefix: &str) -> Vec<&'static CommandSpec> {
    let p = prefix.to_ascii_lowercase();
    let mut starts: Vec<&'static CommandSpec> = COMMANDS
        .iter()
        .filter(|c| c.name.starts_with(&p) || c.aliases.iter().any(|a| a.starts_with(&p)))
        .collect();
    for c in COMMANDS {
        if c.name.contains(&p) && !starts.contains(&c) {
            starts.push(c);
        }
    }
    starts
}

/// The closest command name by edit distance, if it is close enough to be a likely typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let mut best: Option<(usize, &'static str)> = None;
    for c in COMMANDS {
        for candidate in std::iter::once(c.name).chain(c.aliases.iter().copied()) {
            let d = edit_distance(&name, candidate);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c.name));
            }
        }
    }
    let limit = (name.chars().count() / 2).clamp(1, 3);
    best.filter(|(d, _)| *d <= limit).map(|(_, n)| n)
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_aliases_and_args() {
        assert_eq!(
            parse("/model qwen3-coder-plus"),
            Some(Parsed::Command {
                spec: find("model").unwrap(),
                args: "qwen3-coder-plus"
            })
        );
        assert!(
            matches!(parse("/exit"), Some(Parsed::Command { spec, .. }) if spec.command == SlashCommand::Quit)
        );
        assert_eq!(parse("//not a command"), None);
        assert_eq!(parse("hello"), None);
    }

    #[test]
    fn unknown_commands_get_suggestions() {
        assert_eq!(
            parse("/hlep"),
            Some(Parsed::Unknown {
                name: "hlep",
                suggestion: Some("help")
            })
        );
        assert_eq!(
            parse("/modle"),
            Some(Parsed::Unknown {
                name: "modle",
                suggestion: Some("model")
            })
        );
        assert_eq!(
            parse("/xyzzyplugh"),
            Some(Parsed::Unknown {
                name: "xyzzyplugh",
                suggestion: None
            })
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn filter_orders_prefix_matches_first() {
        let names: Vec<&str> = filter("c").iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["clear", "compress", "copy", "mcp", "privacy"]);
        let names: Vec<&str> = filter("ode").iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["model", "approval-mode"]);
        assert_eq!(filter("").len(), COMMANDS.len());
    }
}
