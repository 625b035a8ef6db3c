//! `task`: hands a self-contained job to a subagent (issue 14). This crate only defines the
//! tool — its schema, the validation of its arguments into a [`TaskRequest`] and its
//! permission class [`ToolKind::Subagent`]; the engine (`qcode-core`) runs the subagent, a child
//! engine with its own history and restricted tools, because only the engine can route its
//! events and approvals. The list of agents the model may pick is given by the caller
//! ([`crate::ToolRegistry::with_task_tool`]): this crate does not know where definitions live.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ToolError;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, typed};
use crate::schema::{Param, Presence, Ty};

/// The tool's name, as the model calls it (Qwen Code's).
pub const TASK_TOOL: &str = "task";

/// The most characters of `description` shown to the user (longer ones are cut).
pub const MAX_TASK_DESCRIPTION_CHARS: usize = 120;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::Task,
    name: TASK_TOOL,
    kind: ToolKind::Subagent,
    description: "Starts a subagent: a helper with its own conversation and tools that does one \
        self-contained job and returns only its final answer. Use it for searches and \
        investigations whose intermediate results the main conversation does not need, or to \
        work on independent parts of a task at the same time (several task calls in one \
        message run side by side). The subagent sees nothing of this conversation: the \
        `prompt` must contain everything it needs to know, and say what it should report \
        back. Its answer is the result of this call; it is not shown to the user, so relay \
        what matters.",
    params: &[
        Param {
            name: "subagent_type",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The name of the agent to start, from the list in this tool's description.",
        },
        Param {
            name: "description",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "A short (3-5 words) description of the job, shown to the user.",
        },
        Param {
            name: "prompt",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The whole assignment: what to do, everything the subagent needs to know, and what to report back.",
        },
    ],
};

/// A validated `task` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRequest {
    /// The agent's name (checked against the session's agents by the engine).
    pub subagent_type: String,
    /// One line, at most [`MAX_TASK_DESCRIPTION_CHARS`] characters.
    pub description: String,
    pub prompt: String,
}

#[derive(Debug, Deserialize)]
struct Args {
    subagent_type: String,
    description: String,
    prompt: String,
}

/// The tool's description with the agents the model may pick (`listing`: one `- name: what
/// it is for` line each).
pub(crate) fn description_with(listing: &str) -> String {
    format!(
        "{}\n\nAvailable agents (subagent_type: when to use it):\n{}",
        DEF.description,
        listing.trim_end()
    )
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    agents: &[String],
) -> Result<(Facts, TaskRequest), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let subagent_type = args.subagent_type.trim().to_string();
    if !agents.contains(&subagent_type) {
        return Err(ToolError::invalid(
            DEF.name,
            format!(
                "there is no agent `{}`; the available agents are: {}",
                one_line(&subagent_type, 64),
                agents.join(", ")
            ),
        ));
    }
    let description = one_line(&args.description, MAX_TASK_DESCRIPTION_CHARS);
    if description.is_empty() {
        return Err(ToolError::invalid(
            DEF.name,
            "`description` must not be empty (a few words for the user)",
        ));
    }
    if args.prompt.trim().is_empty() {
        return Err(ToolError::invalid(
            DEF.name,
            "`prompt` must not be empty: it is the subagent's whole assignment",
        ));
    }
    let facts = Facts::simple(&DEF, format!("Task ({subagent_type}): {description}"));
    Ok((
        facts,
        TaskRequest {
            subagent_type,
            description,
            prompt: args.prompt,
        },
    ))
}

/// A `task` call executed outside the engine (which runs subagents itself) has nothing to run.
pub(crate) fn execute_outside_engine() -> ToolResult {
    ToolResult::error("task: subagents are started by the engine; this call was not run")
}

/// `text` on one line without control characters, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_valid_call_names_a_known_agent_and_has_a_prompt() {
        let agents = vec!["general-purpose".to_string(), "reviewer".to_string()];
        let (facts, req) = prepare(
            args(
                json!({"subagent_type": " reviewer ", "description": "Review\n the diff",
                        "prompt": "Look at src/"}),
            ),
            &agents,
        )
        .unwrap();
        assert_eq!(req.subagent_type, "reviewer");
        assert_eq!(req.description, "Review the diff");
        assert_eq!(facts.summary, "Task (reviewer): Review the diff");
        let unknown = prepare(
            args(json!({"subagent_type": "nope", "description": "d", "prompt": "p"})),
            &agents,
        )
        .unwrap_err()
        .message_for_model();
        assert!(unknown.contains("general-purpose, reviewer"), "{unknown}");
        for bad in [
            json!({"subagent_type": "reviewer", "description": " ", "prompt": "p"}),
            json!({"subagent_type": "reviewer", "description": "d", "prompt": "\n"}),
        ] {
            assert!(prepare(args(bad), &agents).is_err());
        }
    }

    #[test]
    fn long_descriptions_are_cut_and_lose_control_characters() {
        let long = format!("a\u{1b}[2J{}", "x".repeat(300));
        let cut = one_line(&long, MAX_TASK_DESCRIPTION_CHARS);
        assert_eq!(cut.chars().count(), MAX_TASK_DESCRIPTION_CHARS);
        assert!(!cut.contains('\u{1b}') && cut.ends_with('…'));
    }

    #[test]
    fn the_description_lists_the_agents() {
        let d = description_with("- general-purpose: anything\n");
        assert!(d.starts_with("Starts a subagent"));
        assert!(d.ends_with(
            "Available agents (subagent_type: when to use it):\n- general-purpose: anything"
        ));
    }
}
