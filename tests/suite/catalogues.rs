//! The usage-statistics catalogues agree with what qcode really has: every built-in tool and
//! slash command is counted under its own name (not silently as "other"/"custom"), and every
//! catalogue name is either real or listed as reserved for a named, planned feature.

use std::collections::BTreeSet;

use qcode_telemetry::catalogue::{
    BUILTIN_COMMANDS, BUILTIN_TOOLS, RESERVED_COMMANDS, RESERVED_TOOLS,
};
use qcode_telemetry::{SlashCommand, ToolName};

fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    names.into_iter().collect()
}

#[test]
fn tool_catalogue_is_the_tool_registry() {
    // `task` is registered when the session has agents (it always has the built-in one).
    let registry = qcode_tools::ToolRegistry::builtin()
        .with_task_tool(&[("general-purpose".to_string(), "any job".to_string())]);
    let specs = registry.specs();
    let real = set(specs.iter().map(|s| s.name.as_str()));
    let catalogue = set(BUILTIN_TOOLS.iter().copied());
    assert_eq!(
        real, catalogue,
        "catalogue::BUILTIN_TOOLS must list exactly the registry's tools"
    );
    for name in &real {
        assert_eq!(ToolName::from_call_name(name).as_str(), *name);
    }
    for (name, feature) in RESERVED_TOOLS {
        assert!(
            !real.contains(name),
            "{name} exists now: move it to BUILTIN_TOOLS"
        );
        assert!(!feature.is_empty());
    }
}

#[test]
fn command_catalogue_is_the_slash_command_table() {
    let real = set(qcode_tui::slash::COMMANDS.iter().map(|c| c.name));
    let catalogue = set(BUILTIN_COMMANDS.iter().copied());
    assert_eq!(
        real, catalogue,
        "catalogue::BUILTIN_COMMANDS must list exactly the TUI's canonical command names"
    );
    for name in &real {
        assert_eq!(SlashCommand::from_input(name).as_str(), *name);
    }
    let aliases = set(qcode_tui::slash::COMMANDS
        .iter()
        .flat_map(|c| c.aliases.iter().copied()));
    for (name, feature) in RESERVED_COMMANDS {
        assert!(
            !real.contains(name),
            "/{name} exists now: move it to BUILTIN_COMMANDS"
        );
        assert!(
            !aliases.contains(name),
            "/{name} is an alias; the statistics see canonical names only"
        );
        assert!(!feature.is_empty());
    }
}
