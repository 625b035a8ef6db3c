//! `save_memory`: appends a fact under the `## Qwen Added Memories` heading of the global
//! context file, atomically.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, run_blocking, typed};
use crate::schema::{Param, Presence, Ty};

/// The heading facts are stored under (the same as Qwen Code's, so both tools share the file).
pub const MEMORY_HEADING: &str = "## Qwen Added Memories";
/// Longest accepted fact.
pub const MAX_FACT_CHARS: usize = 2000;

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::SaveMemory,
    name: "save_memory",
    kind: ToolKind::Memory,
    description: "Saves a short fact to the user's long-term memory (a global context file \
        loaded into every future session). Use it only when the user asks you to remember \
        something, or states a lasting preference about themselves or how they work (\"I \
        prefer tabs\", \"my name is …\"). Not for project details that belong in the project's \
        own files, and not for anything temporary. The fact should be one self-contained \
        sentence.",
    params: &[Param {
        name: "fact",
        ty: Ty::Str,
        presence: Presence::Required,
        description: "The fact to remember, as one clear sentence.",
    }],
};

#[derive(Debug, Deserialize)]
struct Args {
    fact: String,
}

#[derive(Debug)]
pub(crate) struct Plan {
    fact: String,
}

pub(crate) fn prepare(
    args: Map<String, Value>,
    ctx: &ToolContext,
) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let fact = normalize_fact(&args.fact)?;
    let facts = Facts::simple(
        &DEF,
        format!("Save to memory ({}): {fact}", ctx.memory_file.display()),
    );
    Ok((facts, Plan { fact }))
}

pub(crate) async fn execute(
    plan: Plan,
    ctx: &ToolContext,
    cancel: &CancellationToken,
) -> ToolResult {
    let file = ctx.memory_file.clone();
    run_blocking(DEF.name, cancel, move || {
        match save_fact(&file, &plan.fact) {
            Ok(message) => ToolResult::success(message),
            Err(e) => ToolResult::error(e.to_string()),
        }
    })
    .await
}

/// One line, without a leading list marker; refused when empty or longer than
/// [`MAX_FACT_CHARS`].
fn normalize_fact(raw: &str) -> Result<String, ToolError> {
    let fact = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let fact = fact.trim_start_matches(['-', '*', ' ']).trim().to_string();
    if fact.is_empty() {
        return Err(ToolError::invalid(DEF.name, "parameter `fact` is empty"));
    }
    if fact.chars().count() > MAX_FACT_CHARS {
        return Err(ToolError::invalid(
            DEF.name,
            format!(
                "the fact is longer than {MAX_FACT_CHARS} characters; save a short summary instead"
            ),
        ));
    }
    Ok(fact)
}

/// Saves `fact` under [`MEMORY_HEADING`] in the memory file at `path` (created when missing,
/// written atomically), as the `save_memory` tool does; returns the tool's message
/// (`Saved to memory: "…"`). Blocking file I/O: call it off the async runtime thread.
pub fn save_fact(path: &Path, fact: &str) -> Result<String, ToolError> {
    let fact = normalize_fact(fact)?;
    let current = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(ToolError::rejected(
                DEF.name,
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    let updated = add_fact(&current, &fact);
    // The global memory file lives in qcode's home: private from the first write.
    qcode_fs::write_private(path, updated.as_bytes()).map_err(|e| {
        ToolError::rejected(DEF.name, format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(format!("Saved to memory: \"{fact}\""))
}

/// Inserts `- fact` at the end of the memories section, creating the section at the end of
/// the file when it is missing.
pub(crate) fn add_fact(current: &str, fact: &str) -> String {
    let item = format!("- {fact}\n");
    let Some(start) = find_heading(current) else {
        let mut out = current.to_string();
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        out.push_str(MEMORY_HEADING);
        out.push('\n');
        out.push_str(&item);
        return out;
    };
    // The section ends at the next heading of level 1 or 2, or at the end of the file.
    let body_start = current[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .unwrap_or(current.len());
    let mut end = current.len();
    let mut pos = body_start;
    for line in current[body_start..].split_inclusive('\n') {
        if line.starts_with("# ") || line.starts_with("## ") {
            end = pos;
            break;
        }
        pos += line.len();
    }
    // Insert after the last non-blank line of the section.
    let section = &current[body_start..end];
    let keep = section.trim_end_matches(['\n', ' ', '\t', '\r']).len();
    let insert_at = body_start + keep;
    let mut out = String::with_capacity(current.len() + item.len() + 2);
    out.push_str(&current[..insert_at]);
    if insert_at > 0 && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&item);
    let rest = &current[insert_at..];
    let rest = rest.trim_start_matches(['\n', ' ', '\t', '\r']);
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    out
}

fn find_heading(text: &str) -> Option<usize> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == MEMORY_HEADING {
            return Some(pos);
        }
        pos += line.len();
    }
    None
}
