//! The types a tool call's caller sees: permission classes, summaries, results, progress.

use qcode_protocol::{TodoItem, ToolStatus};

/// The permission class of a tool: what the engine's approval policy is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    /// Reads files or lists/searches the workspace (`read_file`, `list_directory`, `glob`,
    /// `grep_search`).
    ReadOnly,
    /// Changes files (`edit`, `write_file`).
    Edit,
    /// Runs a shell command (`run_shell_command`).
    Execute,
    /// Fetches a URL (`web_fetch`).
    Fetch,
    /// Appends to the global memory file (`save_memory`).
    Memory,
    /// Updates the visible plan only (`todo_write`); touches nothing on disk.
    Plan,
    /// A tool of an MCP server ([`crate::ExternalTools`]): it can do anything, so it is never
    /// read-only.
    Mcp,
    /// Starts a subagent (`task`): the call itself changes nothing; every tool call of the
    /// subagent is decided on its own.
    Subagent,
}

impl ToolKind {
    /// The class as users read it (`/tools`): `read-only`, `edit`, `execute`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::Edit => "edit",
            Self::Execute => "execute",
            Self::Fetch => "fetch",
            Self::Memory => "memory",
            Self::Plan => "plan",
            Self::Mcp => "mcp",
            Self::Subagent => "subagent",
        }
    }
}

/// One tool as a front end lists it: name, permission class, first sentence of its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSummary {
    pub name: &'static str,
    /// [`ToolKind::as_str`].
    pub permission: &'static str,
    /// The description's first sentence, on one line.
    pub description: String,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolResultStatus {
    Success,
    /// The tool ran (or tried to) and failed; `output` tells the model why. A shell command that
    /// exits non-zero, is killed or times out is also `Error`.
    Error,
    /// The cancellation token fired while the tool ran.
    Cancelled,
}

impl From<ToolResultStatus> for ToolStatus {
    fn from(s: ToolResultStatus) -> Self {
        match s {
            ToolResultStatus::Success => ToolStatus::Success,
            ToolResultStatus::Error => ToolStatus::Error,
            ToolResultStatus::Cancelled => ToolStatus::Cancelled,
        }
    }
}

/// The outcome of one tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    pub status: ToolResultStatus,
    /// Exactly what the model receives.
    pub output: String,
    /// The unified diff that was applied (edit, write_file).
    pub diff: Option<String>,
    /// The new plan (todo_write), for front ends.
    pub todos: Option<Vec<TodoItem>>,
}

impl ToolResult {
    pub(crate) fn success(output: impl Into<String>) -> Self {
        Self {
            status: ToolResultStatus::Success,
            output: output.into(),
            diff: None,
            todos: None,
        }
    }

    pub(crate) fn error(output: impl Into<String>) -> Self {
        Self {
            status: ToolResultStatus::Error,
            output: output.into(),
            diff: None,
            todos: None,
        }
    }

    pub(crate) fn cancelled(output: impl Into<String>) -> Self {
        Self {
            status: ToolResultStatus::Cancelled,
            output: output.into(),
            diff: None,
            todos: None,
        }
    }
}

/// Progress reported while a tool runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolProgress {
    /// A chunk of a shell command's combined stdout/stderr, as it arrives.
    Output(String),
    /// How far an external tool got (an MCP server's `notifications/progress`), already
    /// throttled ([`crate::ProgressSink`]); the message is free of control characters.
    Progress {
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    },
}
