//! `qcode agents list`: the session's subagents as `qcode_core::setup::subagents_for` loads
//! them, printed with `qcode_extensions::agents::listing` (the TUI's `/agents` uses the same
//! text through [`listing_for`]).

use qcode_config::ConfigSnapshot;

use crate::cli::{AgentsAction, AgentsArgs, Cli};

/// The `qcode agents list` / `/agents` text for `snapshot`: the agents, then the problems
/// found loading them.
pub fn listing_for(snapshot: &ConfigSnapshot) -> String {
    let tools = qcode_tools::ToolRegistry::builtin();
    let (subagents, notices) = qcode_core::setup::subagents_for(snapshot, &tools);
    let mut text = qcode_extensions::agents::listing(subagents.agents());
    // Refusals are already in the listing; the rest are problems with files.
    let refused: Vec<&str> = subagents
        .agents()
        .refused
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    for n in notices.iter().filter(|n| !refused.contains(&n.as_str())) {
        let clean: String = n.chars().filter(|c| !c.is_control()).collect();
        text.push_str(&format!("problem: {clean}\n"));
    }
    text
}

pub fn run(cli: &Cli, args: &AgentsArgs) -> i32 {
    match args.action {
        AgentsAction::List => match crate::session::load_config_quiet(cli) {
            Ok((snapshot, _)) => {
                print!("{}", listing_for(&snapshot));
                0
            }
            Err(p) => crate::exit::report(&p),
        },
    }
}
