//! The engine's external tools over `qcode-mcp`'s [`McpManager`] (an adapter, like
//! `auth_glue.rs`): starts the configured servers in the background when a session starts,
//! offers their tools, runs calls with the turn's cancellation, and reports each server's
//! problem once, before a model request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_config::ConfigSnapshot;
use qcode_mcp::{CallControl, McpError, McpManager, McpOptions, ServerState};
use qcode_tools::{
    ExternalFuture, ExternalOutput, ExternalTool, ExternalTools, ToolResultStatus, clean_schema,
};
use tokio_util::sync::CancellationToken;

/// A session's MCP servers as the engine's external tools.
pub struct McpTools {
    manager: Arc<McpManager>,
    discovery: Duration,
    waited: AtomicBool,
    /// Servers whose problem was already reported.
    reported: Mutex<HashSet<String>>,
}

/// Starts the snapshot's servers (none: `None`). Returns at once: the servers start in the
/// background. Must run inside the tokio runtime.
pub fn start(snapshot: &ConfigSnapshot) -> Option<Arc<McpTools>> {
    if snapshot.mcp_servers.is_empty() {
        return None;
    }
    let mut options = McpOptions::new(snapshot.project_root.clone());
    options.oauth = Some(qcode_mcp::oauth::TokenStore::in_home(
        &snapshot.paths.qcode_home,
    ));
    let manager = McpManager::start(snapshot.mcp_servers.clone(), options);
    Some(Arc::new(McpTools {
        manager: Arc::new(manager),
        discovery: Duration::from_millis(snapshot.mcp_discovery_timeout_ms.value),
        waited: AtomicBool::new(false),
        reported: Mutex::new(HashSet::new()),
    }))
}

impl McpTools {
    /// The servers (for their prompts, `src/tui_services/commands.rs`).
    pub fn manager(&self) -> &McpManager {
        &self.manager
    }

    /// Closes every server and waits until their processes are gone.
    pub async fn shutdown(&self) {
        self.manager.shutdown().await;
    }

    fn first_report(&self, server: &str) -> bool {
        self.reported
            .lock()
            .map(|mut r| r.insert(server.to_string()))
            .unwrap_or(false)
    }
}

/// `/mcp`'s text: one line per server (name, transport, where configured, state, tools).
pub fn status_text(mcp: Option<&McpTools>) -> String {
    let Some(mcp) = mcp else {
        return "No MCP servers are configured (see `qcode mcp add --help`).".into();
    };
    let mut out = String::from("MCP servers");
    for s in mcp.manager.statuses() {
        out.push_str(&format!(
            "\n  {} ({}, {}): {}",
            s.name,
            s.transport,
            s.origin.label(),
            describe_state(&s.state, s.tools)
        ));
    }
    out
}

/// A server's state as `/mcp` and `qcode mcp list` show it.
pub fn describe_state(state: &ServerState, tools: usize) -> String {
    match state {
        ServerState::Starting => "starting".into(),
        ServerState::Ready => format!(
            "connected, {tools} tool{}",
            if tools == 1 { "" } else { "s" }
        ),
        ServerState::Failed(why) => format!("failed: {why}"),
        ServerState::NotStarted(why) => why.clone(),
        ServerState::Stopped => "stopped".into(),
    }
}

impl ExternalTools for McpTools {
    fn discover(&self) -> ExternalFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut out = Vec::new();
            if !self.waited.swap(true, Ordering::SeqCst) {
                let missing = self.manager.wait_ready(self.discovery).await;
                if !missing.is_empty() {
                    let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
                    out.push(format!(
                        "MCP server{} {} still starting after {:.1} s (mcp.discoveryTimeout); going on without {}",
                        if missing.len() == 1 { "" } else { "s" },
                        names.join(", "),
                        self.discovery.as_secs_f64(),
                        if missing.len() == 1 { "it" } else { "them" },
                    ));
                }
            }
            for status in self.manager.statuses() {
                let line = match &status.state {
                    ServerState::Failed(why) => {
                        format!("MCP server `{}` is not available: {why}", status.name)
                    }
                    ServerState::NotStarted(why) => format!(
                        "MCP server `{}` (from {}) is {why}",
                        status.name,
                        status.origin.label()
                    ),
                    ServerState::Starting | ServerState::Ready | ServerState::Stopped => continue,
                };
                if self.first_report(&status.name) {
                    out.push(line);
                }
            }
            out
        })
    }

    fn tools(&self) -> Vec<ExternalTool> {
        self.manager
            .tools()
            .into_iter()
            .map(|t| ExternalTool {
                server_key: format!("mcp__{}", qcode_mcp::names::sanitize(&t.server)),
                parameters: clean_schema(&t.input_schema),
                name: t.name,
                server: t.server,
                tool: t.tool,
                description: t.description,
                trusted: t.trusted_server,
            })
            .collect()
    }

    fn call(
        &self,
        name: String,
        arguments: serde_json::Value,
        cancel: CancellationToken,
    ) -> ExternalFuture<'_, ExternalOutput> {
        Box::pin(async move {
            let control = CallControl {
                cancel,
                progress: None,
            };
            match self.manager.call(&name, arguments, control).await {
                Ok(out) => ExternalOutput {
                    status: if out.is_error {
                        ToolResultStatus::Error
                    } else {
                        ToolResultStatus::Success
                    },
                    text: out.text,
                },
                Err(McpError::Cancelled) => ExternalOutput {
                    status: ToolResultStatus::Cancelled,
                    text: format!("{name}: cancelled by the user"),
                },
                Err(e) => ExternalOutput {
                    status: ToolResultStatus::Error,
                    text: e.to_string(),
                },
            }
        })
    }
}
