//! Approval policy: a pure function from (mode, tool facts, allow-lists) to a decision.
//! The engine asks the front end only when this says [`Policy::Ask`].

pub(crate) mod shell;

use qcode_protocol::ApprovalMode;

/// What a tool does, as far as approval is concerned (the tool's permission class).
pub use qcode_tools::ToolKind as ToolClass;

/// Facts about one prepared call.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub tool: &'a str,
    pub class: ToolClass,
    /// Resolves outside the workspace roots, writes a file that configures qcode, git or the
    /// shell (the tools flag those paths the same way), or targets a private network address.
    /// Such a call asks in every mode but yolo, whatever the allow-lists say.
    pub leaves_workspace: bool,
    /// For "allow for session" and allow-lists: the tool name, or for shell the command (the
    /// shell tool passes its leading words for a plain command, the whole text otherwise).
    pub permission_key: &'a str,
    /// A shell command to run outside the session's sandbox (`sandbox: "off"`): asks in every
    /// mode, yolo included, whatever the allow-lists say.
    pub escapes_sandbox: bool,
}

/// Whether the front end can ask the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Interactive,
    Headless,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    Allow,
    Ask,
    Deny(String),
}

/// Pre-approvals: `--allowed-tools` / `tools.allowed` entries and "allow for session" answers.
/// An entry is a tool name (`edit`) or a shell prefix (`run_shell_command(cargo test)`).
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    entries: Vec<String>,
}

impl AllowList {
    pub fn new(entries: impl IntoIterator<Item = String>) -> Self {
        let mut list = Self::default();
        for e in entries {
            list.add(e);
        }
        list
    }

    pub fn add(&mut self, entry: String) {
        let entry = entry.trim().to_string();
        if !entry.is_empty() && !self.entries.contains(&entry) {
            self.entries.push(entry);
        }
    }

    /// The entry that "allow for session" adds for this call. For shell it is a prefix rule
    /// when the command (as the tool keyed it: its leading words, or its whole text) is one
    /// simple command of literal words; otherwise the whole text, which then only allows that
    /// exact command again (see [`shell_allowed`]).
    pub fn session_entry(facts: &CallFacts<'_>) -> String {
        match facts.class {
            ToolClass::Execute => {
                let key = facts.permission_key.trim();
                match shell::parse(key).ok().and_then(|s| s.plain_words()) {
                    Some(words) => format!("{}({})", facts.tool, quote_words(&words)),
                    None => format!("{}({key})", facts.tool),
                }
            }
            ToolClass::ReadOnly
            | ToolClass::Edit
            | ToolClass::Fetch
            | ToolClass::Memory
            | ToolClass::Plan
            | ToolClass::Mcp
            | ToolClass::Subagent => facts.tool.to_string(),
        }
    }

    pub fn allows(&self, facts: &CallFacts<'_>) -> bool {
        let mut patterns = Vec::new();
        for entry in &self.entries {
            match entry.split_once('(') {
                Some((name, rest)) if name.trim() == facts.tool => {
                    patterns.push(rest.strip_suffix(')').unwrap_or(rest).trim());
                }
                Some(_) => {}
                None if entry == facts.tool => return true,
                // An MCP tool's key is its server's (`mcp__srv`): the entry allows every tool
                // of that server.
                None if facts.class == ToolClass::Mcp && *entry == facts.permission_key => {
                    return true;
                }
                None => {}
            }
        }
        if patterns.is_empty() {
            return false;
        }
        match facts.class {
            ToolClass::Execute => shell_allowed(facts.permission_key, &patterns),
            ToolClass::ReadOnly
            | ToolClass::Edit
            | ToolClass::Fetch
            | ToolClass::Memory
            | ToolClass::Plan
            | ToolClass::Mcp
            | ToolClass::Subagent => patterns
                .iter()
                .any(|p| key_has_prefix(facts.permission_key, p)),
        }
    }
}

/// Whether the shell allow-list entries `patterns` (the text inside `run_shell_command(…)`)
/// pre-approve `command`.
///
/// The command is split into its simple commands ([`shell::parse`]); it is allowed when
/// - it can be classified at all (no `eval`, `sh -c`, here-document, computed command name, …),
/// - and either its whole text equals an entry that is not a single plain command (such an
///   entry — `cargo build && cargo test`, `FOO=1 make` — allows exactly that text),
/// - or no redirection writes to a file and every simple command, including those inside
///   substitutions, has no `VAR=` assignment and starts with the words of some plain entry
///   (`cargo test` allows `cargo test --all`, not `cargo testing`).
pub(crate) fn shell_allowed(command: &str, patterns: &[&str]) -> bool {
    let command = command.trim();
    let Ok(script) = shell::parse(command) else {
        return false;
    };
    let mut prefixes = Vec::new();
    for pattern in patterns {
        // An entry that cannot be classified itself allows nothing.
        let Ok(rule) = shell::parse(pattern) else {
            continue;
        };
        match rule.plain_words() {
            Some(words) => prefixes.push(words),
            None if *pattern == command => return true,
            None => {}
        }
    }
    !script.writes_files
        && !script.commands.is_empty()
        && script
            .commands
            .iter()
            .all(|c| prefixes.iter().any(|p| c.starts_with(p)))
}

/// Words as a shell command line, single-quoting those with characters the shell would read.
fn quote_words(words: &[String]) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,=".contains(c);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            // A first word with `=` would read back as an assignment.
            if !w.is_empty() && w.chars().all(safe) && !(i == 0 && w.contains('=')) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Non-shell keys: `web_fetch example.com` has prefix `web_fetch`, word by word.
fn key_has_prefix(key: &str, prefix: &str) -> bool {
    let key = key.trim();
    !prefix.is_empty()
        && (key == prefix
            || key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(char::is_whitespace)))
}

/// Decides one call.
pub fn decide(
    mode: ApprovalMode,
    facts: &CallFacts<'_>,
    allow: &AllowList,
    interaction: Interaction,
) -> Policy {
    let wanted = match mode {
        // Starting a subagent changes nothing: each of its calls is decided on its own, in a
        // mode never more permissive than this one.
        _ if facts.class == ToolClass::Subagent => Policy::Allow,
        // A fetch of a private-network address (loopback, LAN, cloud metadata) asks in every
        // mode: yolo trusts the model with the workspace, not with the local network.
        ApprovalMode::Yolo if facts.class == ToolClass::Fetch && facts.leaves_workspace => {
            Policy::Ask
        }
        ApprovalMode::Yolo => Policy::Allow,
        ApprovalMode::Plan => match facts.class {
            ToolClass::ReadOnly | ToolClass::Plan if !facts.leaves_workspace => Policy::Allow,
            ToolClass::ReadOnly | ToolClass::Plan | ToolClass::Fetch => {
                ask_unless_allowed(facts, allow)
            }
            ToolClass::Subagent => Policy::Allow,
            ToolClass::Edit | ToolClass::Execute | ToolClass::Memory | ToolClass::Mcp => {
                Policy::Deny(format!(
                    "`{}` is not available in plan mode (read-only). Describe the change you would make instead; the user can switch modes to let you apply it.",
                    facts.tool
                ))
            }
        },
        ApprovalMode::Default | ApprovalMode::AutoEdit => match facts.class {
            ToolClass::ReadOnly | ToolClass::Plan | ToolClass::Subagent
                if !facts.leaves_workspace =>
            {
                Policy::Allow
            }
            ToolClass::Edit if mode == ApprovalMode::AutoEdit && !facts.leaves_workspace => {
                Policy::Allow
            }
            // Leaving the workspace always asks, whatever the allow-lists say.
            _ if facts.leaves_workspace => Policy::Ask,
            ToolClass::ReadOnly
            | ToolClass::Plan
            | ToolClass::Edit
            | ToolClass::Execute
            | ToolClass::Fetch
            | ToolClass::Memory
            | ToolClass::Mcp
            | ToolClass::Subagent => ask_unless_allowed(facts, allow),
        },
    };
    let wanted = match wanted {
        Policy::Allow | Policy::Ask if facts.escapes_sandbox => Policy::Ask,
        other => other,
    };
    match (wanted, interaction) {
        (Policy::Ask, Interaction::Headless) if facts.escapes_sandbox => Policy::Deny(format!(
            "`{}` outside the sandbox needs the user's approval, and this is a non-interactive run that cannot ask. Do not retry it; continue without it or explain what the command needs. (The user can allow unsandboxed commands with --allow-unsandboxed.)",
            facts.tool
        )),
        (Policy::Ask, Interaction::Headless) => Policy::Deny(format!(
            "`{}` needs the user's approval, and this is a non-interactive run that cannot ask. Do not retry it; continue without it or explain what you would do. {}",
            facts.tool,
            how_to_pre_approve(facts)
        )),
        (other, _) => other,
    }
}

/// The hint for a headless denial: the entry that would allow the call, or for a shell command
/// no entry can describe, why not.
fn how_to_pre_approve(facts: &CallFacts<'_>) -> String {
    if facts.leaves_workspace {
        return if facts.class == ToolClass::Fetch {
            "(It targets a private-network address, which always needs the user's approval, in every mode; no flag pre-approves it.)".to_string()
        } else {
            "(It leaves the workspace, which always needs the user's approval outside yolo mode.)"
                .to_string()
        };
    }
    if facts.class == ToolClass::Execute
        && let Err(why) = shell::parse(facts.permission_key)
    {
        return format!(
            "(The command contains {why}, so no allow-list entry for a command can approve it; the user can allow every shell command with --allowed-tools {} or --approval-mode yolo.)",
            facts.tool
        );
    }
    format!(
        "(The user can pre-approve with --allowed-tools {} or --approval-mode.)",
        AllowList::session_entry(facts)
    )
}

fn ask_unless_allowed(facts: &CallFacts<'_>, allow: &AllowList) -> Policy {
    if allow.allows(facts) {
        Policy::Allow
    } else {
        Policy::Ask
    }
}

#[cfg(test)]
mod tests;
