//! Built-in tools of the qcode agent, their JSON schemas, permission classes and workspace rules.
//!
//! The engine calls [`ToolRegistry::specs`] to offer the tools to the model, then for each call
//! [`ToolRegistry::prepare`] (argument validation against the same schema, path resolution,
//! diffs) and, once its approval policy allows it, [`PreparedCall::execute`]. This crate decides
//! nothing about approval: it reports the facts the policy needs — the [`ToolKind`], whether a
//! path leaves the workspace ([`PreparedCall::outside_workspace`]), whether a URL targets a
//! private network ([`PreparedCall::targets_private_network`]), the approval details and the
//! "allow for session" key.
//!
//! Tools: `read_file`, `write_file`, `edit`, `list_directory`, `glob`, `grep_search`,
//! `run_shell_command`, `todo_write`, `web_fetch`, `save_memory` (names and parameters as in
//! Qwen Code, which models are tuned for), and `skill` when a session has skills
//! ([`ToolRegistry::with_skill_tool`]; the answers come from a [`SkillSource`]). [`memory::save_fact`] is `save_memory` without a
//! tool call, for front ends (`/memory add`).
//!
//! Front ends list the tools with [`ToolRegistry::summaries`] (name, permission class as text,
//! first sentence of the description).
//!
//! [`ChangeTracker`] is the seam for checkpoints: `edit`, `write_file` and `run_shell_command`
//! report what they are about to change to the tracker in [`ToolContext::change_tracker`]
//! (this crate does not know how or where anything is kept).
//!
//! Tools from outside the process (MCP servers) come in through the [`ExternalTools`] seam
//! ([`ToolRegistry::with_external`]): the registry offers them after the built-ins (a built-in
//! name wins), prepares their calls with the permission class [`ToolKind::Mcp`] and the facts
//! the approval dialog needs, and caps their output at [`MAX_EXTERNAL_OUTPUT_CHARS`]. The
//! binary implements the seam over `qcode-mcp`; this crate knows nothing of MCP.
//!
//! `task` ([`ToolRegistry::with_task_tool`], [`TASK_TOOL`]) starts a subagent: this crate
//! validates the call into a [`TaskRequest`] ([`PreparedCall::task_request`]) and the engine
//! runs it, since a subagent is a child engine. [`ToolRegistry::restricted`] is a subagent's
//! tool list.
//! Shell commands run in the sandbox of [`ToolContext::sandbox`] ([`CommandSandbox`], a seam
//! the binary implements over `qcode-sandbox`): the launcher it names goes before `bash -c`,
//! and a failed command's result gets its explanation when the sandbox stopped it.
//!
//! It must not talk to the model, render anything, or read configuration files.

mod context;
mod error;
mod external;
mod paths;
mod registry;
mod schema;
mod subagents;
mod textfile;
mod tools;
mod tracker;

pub use context::{LazyHttpClient, ToolContext, default_http_client};
pub use error::ToolError;
pub use external::{
    ExternalFuture, ExternalOutput, ExternalTool, ExternalTools, MAX_EXTERNAL_OUTPUT_CHARS,
    PROGRESS_INTERVAL, ProgressSink, clean_schema,
};
pub use registry::{
    PreparedCall, ToolKind, ToolProgress, ToolRegistry, ToolResult, ToolResultStatus, ToolSummary,
};
pub use subagents::{MAX_TASK_DESCRIPTION_CHARS, TASK_TOOL, TaskRequest};
pub use tools::shell::BackgroundJobs;
pub use tools::shell::env::{EnvInherit, ShellEnvPolicy};
pub use tools::shell::permission_key as shell_permission_key;
pub use tools::shell::sandbox::{CommandSandbox, ShellSandbox, Unsandboxed};
pub use tools::skill::SkillSource;
pub use tools::web_fetch::is_non_public as is_non_public_address;
pub use tracker::{ChangeTracker, CommandToken};

/// The memory file `save_memory` writes, for front ends that add a fact themselves
/// (`/memory add`) with the same rules and message.
pub mod memory {
    pub use crate::tools::memory::{MAX_FACT_CHARS, MEMORY_HEADING, save_fact};
}

/// Limits the tools apply, for documentation and front ends.
pub mod limits {
    pub use crate::tools::glob::MAX_RESULTS as GLOB_MAX_RESULTS;
    pub use crate::tools::grep::{
        DEFAULT_LIMIT as GREP_DEFAULT_LIMIT, MAX_LIMIT as GREP_MAX_LIMIT,
    };
    pub use crate::tools::list_directory::MAX_ENTRIES as LIST_MAX_ENTRIES;
    pub use crate::tools::memory::{MAX_FACT_CHARS, MEMORY_HEADING};
    pub use crate::tools::read_file::{
        DEFAULT_LINE_LIMIT as READ_DEFAULT_LINE_LIMIT, MAX_LINE_CHARS as READ_MAX_LINE_CHARS,
        MAX_OUTPUT_CHARS as READ_MAX_OUTPUT_CHARS,
        MAX_UNPAGED_FILE_BYTES as READ_MAX_UNPAGED_FILE_BYTES,
    };
    pub use crate::tools::shell::{
        DEFAULT_TIMEOUT_MS as SHELL_DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS as SHELL_MAX_TIMEOUT_MS,
    };
    pub use crate::tools::todo::MAX_TODOS;
    pub use crate::tools::web_fetch::{
        MAX_BODY_BYTES as FETCH_MAX_BODY_BYTES, MAX_OUTPUT_CHARS as FETCH_MAX_OUTPUT_CHARS,
        MAX_REDIRECTS as FETCH_MAX_REDIRECTS,
    };
}
