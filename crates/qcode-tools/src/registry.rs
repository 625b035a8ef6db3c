//! The tool registry and the life of one call: `prepare` (validate the arguments, resolve paths,
//! compute diffs — everything the engine needs to decide on approval) and `execute`.

use qcode_protocol::{ApprovalDetails, ToolCall, ToolSpec};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::external::{self, ExternalHandle, ExternalTool, ExternalTools};
use crate::schema::{Param, object_schema, parse_arguments};
use crate::subagents::{self, TaskRequest};
use crate::tools::{
    edit, glob, grep, list_directory, memory, read_file, shell, skill, todo, web_fetch, write_file,
};

mod types;
pub use types::{ToolKind, ToolProgress, ToolResult, ToolResultStatus, ToolSummary};

/// Which built-in tool a definition belongs to (matched exhaustively in `prepare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolId {
    ReadFile,
    WriteFile,
    Edit,
    ListDirectory,
    Glob,
    GrepSearch,
    RunShellCommand,
    TodoWrite,
    WebFetch,
    SaveMemory,
    Skill,
    Task,
}

/// The static description of one tool: name, permission class, text for the model, parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToolDef {
    pub id: ToolId,
    pub name: &'static str,
    pub kind: ToolKind,
    pub description: &'static str,
    pub params: &'static [Param],
}

/// What a tool's `prepare` found out, for the engine's approval decision.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub summary: String,
    pub outside_workspace: bool,
    pub private_network: bool,
    pub details: ApprovalDetails,
    pub permission_key: String,
    /// A shell command the model asked to run outside the sandbox (asks in every mode).
    pub escapes_sandbox: bool,
}

impl Facts {
    /// Facts for a tool whose approval needs only a summary.
    pub(crate) fn simple(def: &ToolDef, summary: String) -> Self {
        Self {
            details: ApprovalDetails::Other {
                summary: summary.clone(),
            },
            summary,
            outside_workspace: false,
            private_network: false,
            permission_key: def.name.to_string(),
            escapes_sandbox: false,
        }
    }
}

/// The tool-specific work a prepared call will do.
#[derive(Debug)]
enum Action {
    ReadFile(read_file::Plan),
    WriteFile(write_file::Plan),
    Edit(edit::Plan),
    ListDirectory(list_directory::Plan),
    Glob(glob::Plan),
    Grep(grep::Plan),
    Shell(shell::Plan),
    Todo(todo::Plan),
    WebFetch(web_fetch::Plan),
    SaveMemory(memory::Plan),
    External(external::Plan),
    Skill(skill::Plan),
    Task(TaskRequest),
}

/// A validated tool call, ready for the approval decision and then execution.
#[derive(Debug)]
pub struct PreparedCall {
    name: String,
    kind: ToolKind,
    /// An external tool whose server is trusted (`trust: true`): no approval needed.
    pre_approved: bool,
    arguments: Value,
    facts: Facts,
    action: Action,
}

impl PreparedCall {
    /// The permission class.
    pub fn kind(&self) -> ToolKind {
        self.kind
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for a tool of a server configured with `trust: true`: it needs no approval in any
    /// mode but plan.
    pub fn pre_approved(&self) -> bool {
        self.pre_approved
    }

    /// A one-line human summary ("Read src/main.rs", "Shell: cargo test").
    pub fn summary(&self) -> String {
        self.facts.summary.clone()
    }

    /// The validated arguments (optional `null`s removed, numbers normalised).
    pub fn arguments(&self) -> &Value {
        &self.arguments
    }

    /// True when a path (or the shell's directory) resolves outside every workspace root; such
    /// a call needs approval even in auto-edit mode.
    pub fn outside_workspace(&self) -> bool {
        self.facts.outside_workspace
    }

    /// True for `web_fetch` of a URL whose host is (or resolves to) a loopback, private,
    /// link-local or otherwise non-public address; such a call needs explicit approval even in
    /// yolo mode.
    pub fn targets_private_network(&self) -> bool {
        self.facts.private_network
    }

    /// True for `run_shell_command` with `sandbox: "off"` in a sandboxed session, unless the
    /// user pre-approved unsandboxed commands: the approval policy then asks in every mode
    /// (and a non-interactive run denies it).
    pub fn escapes_sandbox(&self) -> bool {
        self.facts.escapes_sandbox
    }

    /// What the user sees when asked: a diff for edits/writes, command and directory for shell,
    /// the URL for fetches, a summary otherwise.
    pub fn approval_details(&self) -> ApprovalDetails {
        self.facts.details.clone()
    }

    /// The key for "allow for the rest of the session": the tool name; for shell the command's
    /// leading words (e.g. "cargo test"), or the whole command when it chains several commands;
    /// for web_fetch "web_fetch <host>".
    pub fn permission_key(&self) -> String {
        self.facts.permission_key.clone()
    }

    /// For a `task` call: what to start. The engine runs these itself (a subagent is a child
    /// engine); [`PreparedCall::execute`] does not.
    pub fn task_request(&self) -> Option<&TaskRequest> {
        match &self.action {
            Action::Task(request) => Some(request),
            _ => None,
        }
    }

    /// Runs the call. Never panics on bad input; failures become `ToolResultStatus::Error`.
    pub async fn execute(
        self,
        ctx: &ToolContext,
        cancel: CancellationToken,
        progress: &mpsc::UnboundedSender<ToolProgress>,
    ) -> ToolResult {
        if cancel.is_cancelled() {
            return ToolResult::cancelled(format!("{}: cancelled before it started", self.name));
        }
        match self.action {
            Action::ReadFile(p) => read_file::execute(p, &cancel).await,
            Action::WriteFile(p) => {
                write_file::execute(p, ctx.change_tracker.clone(), &cancel).await
            }
            Action::Edit(p) => edit::execute(p, ctx.change_tracker.clone(), &cancel).await,
            Action::ListDirectory(p) => list_directory::execute(p, ctx, &cancel).await,
            Action::Glob(p) => glob::execute(p, ctx, &cancel).await,
            Action::Grep(p) => grep::execute(p, ctx, &cancel).await,
            Action::Shell(p) => shell::execute(p, ctx, cancel, progress).await,
            Action::Todo(p) => todo::execute(p),
            Action::WebFetch(p) => web_fetch::execute(p, ctx, &cancel).await,
            Action::SaveMemory(p) => memory::execute(p, ctx, &cancel).await,
            Action::External(p) => external::execute(p, cancel, progress).await,
            Action::Skill(p) => skill::execute(p, &cancel).await,
            Action::Task(_) => subagents::execute_outside_engine(),
        }
    }
}

/// The built-in tools, and the external ones when [`ToolRegistry::with_external`] added them.
#[derive(Debug, Clone)]
pub struct ToolRegistry {
    defs: Vec<&'static ToolDef>,
    external: Option<ExternalHandle>,
    /// Only these external tools are offered (a subagent's list); `None`: all.
    external_only: Option<Vec<String>>,
    /// The agents `task` may start, when it is registered.
    task: Option<TaskAgents>,
}

/// The agents the `task` tool offers: names and the listing in its description.
#[derive(Debug, Clone)]
struct TaskAgents {
    names: Vec<String>,
    listing: String,
}

impl ToolRegistry {
    /// All ten built-in tools.
    pub fn builtin() -> Self {
        Self {
            defs: vec![
                &read_file::DEF,
                &write_file::DEF,
                &edit::DEF,
                &list_directory::DEF,
                &glob::DEF,
                &grep::DEF,
                &shell::DEF,
                &todo::DEF,
                &web_fetch::DEF,
                &memory::DEF,
            ],
            external: None,
            external_only: None,
            task: None,
        }
    }

    /// The registry with the `task` tool, offering `agents` (name, when to use it; names must
    /// be what the engine knows them by). Without agents nothing is added.
    pub fn with_task_tool(mut self, agents: &[(String, String)]) -> Self {
        if agents.is_empty() {
            return self;
        }
        if !self.defs.iter().any(|d| d.id == ToolId::Task) {
            self.defs.push(&subagents::DEF);
        }
        let mut listing = String::new();
        for (name, description) in agents {
            listing.push_str(&format!("- {name}: {description}\n"));
        }
        self.task = Some(TaskAgents {
            names: agents.iter().map(|(n, _)| n.clone()).collect(),
            listing,
        });
        self
    }

    /// A subagent's registry: the tools named in `only` (all when `None`), never `task` unless
    /// `keep_task` (a deeper nesting level is configured). External tools follow the same list.
    pub fn restricted(&self, only: Option<&[String]>, keep_task: bool) -> Self {
        let mut r = self.clone();
        r.defs.retain(|d| {
            (d.id != ToolId::Task || keep_task)
                && only.is_none_or(|o| o.iter().any(|n| n == d.name))
        });
        if !r.defs.iter().any(|d| d.id == ToolId::Task) {
            r.task = None;
        }
        if let Some(o) = only {
            r.external_only = Some(o.to_vec());
        }
        r
    }

    /// This registry with the tools of `external` (MCP servers) offered after the built-in
    /// ones. A built-in tool's name always wins over an external one.
    pub fn with_external(mut self, external: Arc<dyn ExternalTools>) -> Self {
        self.external = Some(ExternalHandle(external));
        self
    }

    /// The external tools' source, if any (the engine asks it to finish discovery before a
    /// model request).
    pub fn external(&self) -> Option<&Arc<dyn ExternalTools>> {
        self.external.as_ref().map(|h| &h.0)
    }

    /// The external tools offered now, without those whose name a built-in tool has.
    fn external_tools(&self) -> Vec<ExternalTool> {
        let Some(h) = &self.external else {
            return Vec::new();
        };
        let mut tools = h.0.tools();
        tools.retain(|t| !self.defs.iter().any(|d| d.name == t.name));
        if let Some(only) = &self.external_only {
            tools.retain(|t| only.contains(&t.name));
        }
        tools
    }

    /// The registry with the `skill` tool added (offered when the session has skills; its
    /// answers come from [`ToolContext::skills`]).
    pub fn with_skill_tool(mut self) -> Self {
        if !self.defs.iter().any(|d| d.id == ToolId::Skill) {
            self.defs.push(&skill::DEF);
        }
        self
    }

    /// A registry restricted to the named tools (unknown names are ignored), e.g. for
    /// `--allowed-tools` or a read-only sub-agent.
    pub fn only(names: &[&str]) -> Self {
        let mut r = Self::builtin();
        r.defs.retain(|d| names.contains(&d.name));
        r
    }

    /// The names of the registered tools.
    pub fn names(&self) -> Vec<&'static str> {
        self.defs.iter().map(|d| d.name).collect()
    }

    /// The permission class of a tool, if it is registered.
    pub fn kind_of(&self, name: &str) -> Option<ToolKind> {
        self.defs.iter().find(|d| d.name == name).map(|d| d.kind)
    }

    /// The registered tools for a listing (`/tools`), in registry order.
    pub fn summaries(&self) -> Vec<ToolSummary> {
        self.defs
            .iter()
            .map(|d| ToolSummary {
                name: d.name,
                permission: d.kind.as_str(),
                description: first_sentence(d.description),
            })
            .collect()
    }

    /// The JSON schemas offered to the model.
    pub fn specs(&self) -> Vec<ToolSpec> {
        let mut specs: Vec<ToolSpec> = self
            .defs
            .iter()
            .map(|d| ToolSpec {
                name: d.name.to_string(),
                description: match (&self.task, d.id) {
                    (Some(agents), ToolId::Task) => subagents::description_with(&agents.listing),
                    _ => d.description.to_string(),
                },
                parameters: object_schema(d.params),
            })
            .collect();
        specs.extend(self.external_tools().into_iter().map(|t| ToolSpec {
            name: t.name,
            description: t.description,
            parameters: t.parameters,
        }));
        specs
    }

    /// Validates a call and gathers what the approval decision needs. The returned error's
    /// `Display` is the message to send back to the model as the tool result.
    ///
    /// Async because `web_fetch` resolves the URL's host (to flag private-network targets);
    /// the other tools only touch the local file system.
    pub async fn prepare(
        &self,
        call: &ToolCall,
        ctx: &ToolContext,
    ) -> Result<PreparedCall, ToolError> {
        let Some(def) = self.defs.iter().find(|d| d.name == call.name).copied() else {
            return self.prepare_external(call);
        };
        let args: Map<String, Value> = parse_arguments(def.name, &call.arguments, def.params)?;
        let arguments = Value::Object(args.clone());
        let (facts, action) = match def.id {
            ToolId::ReadFile => {
                read_file::prepare(args, ctx).map(|(f, p)| (f, Action::ReadFile(p)))?
            }
            ToolId::WriteFile => {
                write_file::prepare(args, ctx).map(|(f, p)| (f, Action::WriteFile(p)))?
            }
            ToolId::Edit => edit::prepare(args, ctx).map(|(f, p)| (f, Action::Edit(p)))?,
            ToolId::ListDirectory => {
                list_directory::prepare(args, ctx).map(|(f, p)| (f, Action::ListDirectory(p)))?
            }
            ToolId::Glob => glob::prepare(args, ctx).map(|(f, p)| (f, Action::Glob(p)))?,
            ToolId::GrepSearch => grep::prepare(args, ctx).map(|(f, p)| (f, Action::Grep(p)))?,
            ToolId::RunShellCommand => {
                shell::prepare(args, ctx).map(|(f, p)| (f, Action::Shell(p)))?
            }
            ToolId::TodoWrite => todo::prepare(args).map(|(f, p)| (f, Action::Todo(p)))?,
            ToolId::WebFetch => web_fetch::prepare(args)
                .await
                .map(|(f, p)| (f, Action::WebFetch(p)))?,
            ToolId::SaveMemory => {
                memory::prepare(args, ctx).map(|(f, p)| (f, Action::SaveMemory(p)))?
            }
            ToolId::Skill => skill::prepare(args, ctx).map(|(f, p)| (f, Action::Skill(p)))?,
            ToolId::Task => {
                let names = self
                    .task
                    .as_ref()
                    .map(|t| t.names.as_slice())
                    .unwrap_or(&[]);
                subagents::prepare(args, names).map(|(f, r)| (f, Action::Task(r)))?
            }
        };
        Ok(PreparedCall {
            name: def.name.to_string(),
            kind: def.kind,
            pre_approved: false,
            arguments,
            facts,
            action,
        })
    }

    /// An external tool's call: the arguments must be a JSON object (the server validates
    /// them against its own schema).
    fn prepare_external(&self, call: &ToolCall) -> Result<PreparedCall, ToolError> {
        let tools = self.external_tools();
        let (Some(handle), Some(tool)) = (
            self.external.clone(),
            tools.iter().find(|t| t.name == call.name),
        ) else {
            let mut available = self.names().join(", ");
            for t in &tools {
                available.push_str(", ");
                available.push_str(&t.name);
            }
            return Err(ToolError::UnknownTool {
                name: call.name.clone(),
                available,
            });
        };
        let raw = if call.arguments.trim().is_empty() {
            "{}"
        } else {
            call.arguments.as_str()
        };
        let arguments = match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Object(_)) => v,
            Ok(Value::Null) => Value::Object(Map::new()),
            Ok(_) => {
                return Err(ToolError::invalid(
                    &tool.name,
                    "the arguments must be a JSON object".to_string(),
                ));
            }
            Err(e) => {
                return Err(ToolError::invalid(
                    &tool.name,
                    format!("the arguments are not valid JSON: {e}"),
                ));
            }
        };
        let facts = Facts {
            summary: format!(
                "{} ({} on MCP server {})",
                tool.name,
                external::printable(&tool.tool),
                external::printable(&tool.server)
            ),
            outside_workspace: false,
            private_network: false,
            details: external::details(tool, &arguments),
            permission_key: tool.server_key.clone(),
            escapes_sandbox: false,
        };
        Ok(PreparedCall {
            name: tool.name.clone(),
            kind: ToolKind::Mcp,
            pre_approved: tool.trusted,
            action: Action::External(external::Plan {
                handle,
                name: tool.name.clone(),
                arguments: arguments.clone(),
            }),
            arguments,
            facts,
        })
    }
}

/// Deserializes validated arguments into a tool's typed argument struct.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    tool: &str,
    args: Map<String, Value>,
) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(args)).map_err(|e| ToolError::invalid(tool, e.to_string()))
}

/// Runs blocking file-system work off the async threads; returns a cancelled result as soon as
/// `cancel` fires (the closure should also check the token to stop early).
pub(crate) async fn run_blocking<F>(tool: &str, cancel: &CancellationToken, f: F) -> ToolResult
where
    F: FnOnce() -> ToolResult + Send + 'static,
{
    let handle = tokio::task::spawn_blocking(f);
    tokio::select! {
        res = handle => match res {
            Ok(r) => r,
            Err(e) => ToolResult::error(format!("{tool}: internal error while running the tool: {e}")),
        },
        () = cancel.cancelled() => ToolResult::cancelled(format!("{tool}: cancelled")),
    }
}

/// `text` on one line, up to and including its first `. ` (all of it if there is none).
fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_string(),
        None => flat,
    }
}

#[cfg(test)]
mod tests;
