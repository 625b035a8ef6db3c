//! `todo_write`: replaces the visible plan; validated, returned as text for the model and as
//! items for front ends.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use qcode_protocol::{TodoItem, TodoStatus};

use crate::error::ToolError;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, typed};
use crate::schema::{Param, Presence, Ty};

/// Most items in a plan.
pub const MAX_TODOS: usize = 100;

const ITEM: &[Param] = &[
    Param {
        name: "id",
        ty: Ty::Str,
        presence: Presence::Required,
        description: "A stable, unique identifier of the item (e.g. \"1\").",
    },
    Param {
        name: "content",
        ty: Ty::Str,
        presence: Presence::Required,
        description: "What to do, in one short sentence.",
    },
    Param {
        name: "status",
        ty: Ty::Enum(&["pending", "in_progress", "completed"]),
        presence: Presence::Required,
        description: "pending, in_progress or completed.",
    },
];

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::TodoWrite,
    name: "todo_write",
    kind: ToolKind::Plan,
    description: "Creates or updates the task list for the current work, shown to the user. \
        Use it for tasks with several steps: write the whole list each time (it replaces the \
        previous one), keep exactly one item `in_progress` while working, and mark items \
        `completed` as soon as they are done. Not needed for simple one-step requests.",
    params: &[Param {
        name: "todos",
        ty: Ty::ObjArray(ITEM),
        presence: Presence::Required,
        description: "The complete, updated list of items.",
    }],
};

#[derive(Debug, Deserialize)]
struct Args {
    todos: Vec<TodoItem>,
}

#[derive(Debug)]
pub(crate) struct Plan {
    todos: Vec<TodoItem>,
}

pub(crate) fn prepare(args: Map<String, Value>) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    if args.todos.len() > MAX_TODOS {
        return Err(ToolError::invalid(
            DEF.name,
            format!(
                "at most {MAX_TODOS} items are allowed, got {}",
                args.todos.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for (i, t) in args.todos.iter().enumerate() {
        if t.id.trim().is_empty() {
            return Err(ToolError::invalid(
                DEF.name,
                format!("`todos[{i}].id` is empty"),
            ));
        }
        if t.content.trim().is_empty() {
            return Err(ToolError::invalid(
                DEF.name,
                format!("`todos[{i}].content` is empty"),
            ));
        }
        if !seen.insert(t.id.as_str()) {
            return Err(ToolError::invalid(
                DEF.name,
                format!(
                    "`todos[{i}].id` \"{}\" is used by more than one item; ids must be unique",
                    t.id
                ),
            ));
        }
    }
    let facts = Facts::simple(&DEF, format!("Update plan ({} items)", args.todos.len()));
    Ok((facts, Plan { todos: args.todos }))
}

pub(crate) fn execute(plan: Plan) -> ToolResult {
    let done = plan
        .todos
        .iter()
        .filter(|t| t.status == TodoStatus::Completed)
        .count();
    let mut out = if plan.todos.is_empty() {
        "The plan is now empty.".to_string()
    } else {
        format!("Plan updated ({done}/{} completed):", plan.todos.len())
    };
    for t in &plan.todos {
        let mark = match t.status {
            TodoStatus::Pending => "[ ]",
            TodoStatus::InProgress => "[>]",
            TodoStatus::Completed => "[x]",
        };
        out.push_str(&format!("\n{mark} {}: {}", t.id, t.content));
    }
    ToolResult {
        todos: Some(plan.todos),
        ..ToolResult::success(out)
    }
}
