//! Approval policy: a pure function from (mode, tool facts, allow-lists) to a decision.
//! The engine asks the front end only when this says [`Policy::Ask`].

use qcode_protocol::ApprovalMode;

/// What a tool does, as far as approval is concerned (the tool's permission class).
pub use qcode_tools::ToolKind as ToolClass;

/// Facts about one prepared call.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub tool: &'a str,
    pub class: ToolClass,
    /// Resolves outside the workspace roots (or targets a private network address).
    pub leaves_workspace: bool,
    /// For "allow for session" and allow-lists: the tool name, or for shell the command.
    pub permission_key: &'a str,
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

    /// The entry that "allow for session" adds for this call.
    pub fn session_entry(facts: &CallFacts<'_>) -> String {
        match facts.class {
            ToolClass::Execute => format!("{}({})", facts.tool, facts.permission_key),
            ToolClass::ReadOnly
            | ToolClass::Edit
            | ToolClass::Fetch
            | ToolClass::Memory
            | ToolClass::Plan => facts.tool.to_string(),
        }
    }

    pub fn allows(&self, facts: &CallFacts<'_>) -> bool {
        self.entries
            .iter()
            .any(|entry| match entry.split_once('(') {
                Some((name, rest)) => {
                    let prefix = rest.strip_suffix(')').unwrap_or(rest).trim();
                    name.trim() == facts.tool && command_has_prefix(facts.permission_key, prefix)
                }
                None => entry == facts.tool,
            })
    }
}

/// `cargo test --all` has prefix `cargo test`, but `cargo testing` does not; a command chaining
/// further commands (`;`, `&&`, `|`, `` ` ``, `$(`) never matches a prefix.
fn command_has_prefix(command: &str, prefix: &str) -> bool {
    let command = command.trim();
    if prefix.is_empty() {
        return false;
    }
    if ["&&", "||", ";", "|", "`", "$(", "\n", ">", "<"]
        .iter()
        .any(|op| command.contains(op))
    {
        return command == prefix;
    }
    command == prefix
        || command
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
}

/// Decides one call.
pub fn decide(
    mode: ApprovalMode,
    facts: &CallFacts<'_>,
    allow: &AllowList,
    interaction: Interaction,
) -> Policy {
    let wanted = match mode {
        ApprovalMode::Yolo => Policy::Allow,
        ApprovalMode::Plan => match facts.class {
            ToolClass::ReadOnly | ToolClass::Plan if !facts.leaves_workspace => Policy::Allow,
            ToolClass::ReadOnly | ToolClass::Plan | ToolClass::Fetch => {
                ask_unless_allowed(facts, allow)
            }
            ToolClass::Edit | ToolClass::Execute | ToolClass::Memory => Policy::Deny(format!(
                "`{}` is not available in plan mode (read-only). Describe the change you would make instead; the user can switch modes to let you apply it.",
                facts.tool
            )),
        },
        ApprovalMode::Default | ApprovalMode::AutoEdit => match facts.class {
            ToolClass::ReadOnly | ToolClass::Plan if !facts.leaves_workspace => Policy::Allow,
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
            | ToolClass::Memory => ask_unless_allowed(facts, allow),
        },
    };
    match (wanted, interaction) {
        (Policy::Ask, Interaction::Headless) => Policy::Deny(format!(
            "`{}` needs the user's approval, and this is a non-interactive run that cannot ask. Do not retry it; continue without it or explain what you would do. (The user can pre-approve with --allowed-tools {} or --approval-mode.)",
            facts.tool,
            AllowList::session_entry(facts)
        )),
        (other, _) => other,
    }
}

fn ask_unless_allowed(facts: &CallFacts<'_>, allow: &AllowList) -> Policy {
    if allow.allows(facts) {
        Policy::Allow
    } else {
        Policy::Ask
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn facts<'a>(tool: &'a str, class: ToolClass, key: &'a str, leaves: bool) -> CallFacts<'a> {
        CallFacts {
            tool,
            class,
            leaves_workspace: leaves,
            permission_key: key,
        }
    }

    #[test]
    fn modes() {
        let none = AllowList::default();
        let read = facts("read_file", ToolClass::ReadOnly, "read_file", false);
        let edit = facts("edit", ToolClass::Edit, "edit", false);
        let shell = facts("run_shell_command", ToolClass::Execute, "cargo test", false);
        let i = Interaction::Interactive;
        assert_eq!(decide(ApprovalMode::Plan, &read, &none, i), Policy::Allow);
        assert!(matches!(
            decide(ApprovalMode::Plan, &edit, &none, i),
            Policy::Deny(_)
        ));
        assert_eq!(decide(ApprovalMode::Default, &edit, &none, i), Policy::Ask);
        assert_eq!(
            decide(ApprovalMode::AutoEdit, &edit, &none, i),
            Policy::Allow
        );
        assert_eq!(
            decide(ApprovalMode::AutoEdit, &shell, &none, i),
            Policy::Ask
        );
        assert_eq!(decide(ApprovalMode::Yolo, &shell, &none, i), Policy::Allow);
    }

    #[test]
    fn outside_workspace_asks_even_in_auto_edit_and_with_allow_list() {
        let allow = AllowList::new(["edit".to_string()]);
        let out = facts("edit", ToolClass::Edit, "edit", true);
        assert_eq!(
            decide(
                ApprovalMode::AutoEdit,
                &out,
                &allow,
                Interaction::Interactive
            ),
            Policy::Ask
        );
        let read_out = facts("read_file", ToolClass::ReadOnly, "read_file", true);
        assert_eq!(
            decide(
                ApprovalMode::Default,
                &read_out,
                &allow,
                Interaction::Interactive
            ),
            Policy::Ask
        );
        assert_eq!(
            decide(ApprovalMode::Yolo, &out, &allow, Interaction::Interactive),
            Policy::Allow
        );
    }

    #[test]
    fn headless_denies_what_would_ask_with_a_reason() {
        let shell = facts("run_shell_command", ToolClass::Execute, "rm -rf x", false);
        match decide(
            ApprovalMode::Default,
            &shell,
            &AllowList::default(),
            Interaction::Headless,
        ) {
            Policy::Deny(reason) => assert!(
                reason.contains("--allowed-tools run_shell_command(rm -rf x)"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shell_prefixes() {
        let allow = AllowList::new(["run_shell_command(cargo test)".to_string()]);
        let ok = facts(
            "run_shell_command",
            ToolClass::Execute,
            "cargo test --all",
            false,
        );
        let not_word = facts(
            "run_shell_command",
            ToolClass::Execute,
            "cargo testing",
            false,
        );
        let chained = facts(
            "run_shell_command",
            ToolClass::Execute,
            "cargo test && rm -rf /",
            false,
        );
        let h = Interaction::Headless;
        assert_eq!(decide(ApprovalMode::Default, &ok, &allow, h), Policy::Allow);
        assert!(matches!(
            decide(ApprovalMode::Default, &not_word, &allow, h),
            Policy::Deny(_)
        ));
        assert!(matches!(
            decide(ApprovalMode::Default, &chained, &allow, h),
            Policy::Deny(_)
        ));
        let whole = AllowList::new(["run_shell_command".to_string()]);
        assert_eq!(
            decide(ApprovalMode::Default, &chained, &whole, h),
            Policy::Allow
        );
    }
}
