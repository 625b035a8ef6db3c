//! The engine's external tools over `qcode-mcp`'s [`McpManager`] (an adapter, like
//! `auth_glue.rs`): starts the configured servers in the background when a session starts,
//! offers their tools, runs calls with the turn's cancellation and progress, reports each
//! server's problem once, before a model request, reconnects a server for `/mcp reconnect`,
//! signs in to one for `/mcp login` (the flow of `qcode mcp login`, `mcp_cmd::sign_in`),
//! and routes a server's request for input (`elicitation/create`) to the TUI's dialog — or,
//! headless, declines it with a warning naming the server.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_config::ConfigSnapshot;
use qcode_mcp::{
    CallControl, ElicitationPolicy, ElicitationRequest, Elicitor, McpError, McpManager, McpOptions,
    ServerState,
};
use qcode_protocol::elicitation::ElicitationAnswer;
use qcode_protocol::{ErrorKind, Problem};
use qcode_tools::{
    ExternalFuture, ExternalOutput, ExternalTool, ExternalTools, ProgressSink, ToolResultStatus,
    clean_schema,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// A session's MCP servers as the engine's external tools.
pub struct McpTools {
    manager: Arc<McpManager>,
    discovery: Duration,
    waited: AtomicBool,
    /// Servers whose problem was already reported.
    reported: Mutex<HashSet<String>>,
    /// Requests for input waiting for the TUI (interactive sessions only).
    asks: Option<Asks>,
}

/// Who answers a server's request for input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// The user, in the TUI's dialog.
    User,
    /// Nobody (headless): declined, with a warning naming the server.
    Nobody,
}

/// The requests for input on their way to the TUI, and the answers it owes.
struct Asks {
    requests: tokio::sync::Mutex<mpsc::UnboundedReceiver<(u64, ElicitationRequest)>>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<ElicitationAnswer>>>>,
}

/// The policy that hands each request to the TUI (through [`McpTools::next_elicitation`])
/// and waits for [`McpTools::answer_elicitation`]; a request nobody answers is cancelled.
fn ask_the_user() -> (Elicitor, Asks) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<ElicitationAnswer>>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(1));
    let waiting = pending.clone();
    let elicitor: Elicitor = Arc::new(move |request| {
        let id = next.fetch_add(1, Ordering::Relaxed);
        let (answer_tx, answer_rx) = oneshot::channel();
        if let Ok(mut p) = waiting.lock() {
            p.insert(id, answer_tx);
        }
        let sent = tx.send((id, request)).is_ok();
        Box::pin(async move {
            if !sent {
                return ElicitationAnswer::Cancel;
            }
            answer_rx.await.unwrap_or(ElicitationAnswer::Cancel)
        })
    });
    let asks = Asks {
        requests: tokio::sync::Mutex::new(rx),
        pending,
    };
    (elicitor, asks)
}

/// Starts the snapshot's servers (none: `None`). Returns at once: the servers start in the
/// background. Must run inside the tokio runtime.
pub fn start(snapshot: &ConfigSnapshot, asker: Asker) -> Option<Arc<McpTools>> {
    if snapshot.mcp_servers.is_empty() {
        return None;
    }
    let mut options = McpOptions::new(snapshot.project_root.clone());
    options.oauth = Some(qcode_mcp::oauth::TokenStore::in_home(
        &snapshot.paths.qcode_home,
    ));
    let asks = match asker {
        Asker::User => {
            let (elicitor, asks) = ask_the_user();
            options.elicitation = ElicitationPolicy::Ask(elicitor);
            Some(asks)
        }
        Asker::Nobody => None,
    };
    let manager = McpManager::start(snapshot.mcp_servers.clone(), options);
    Some(Arc::new(McpTools {
        manager: Arc::new(manager),
        discovery: Duration::from_millis(snapshot.mcp_discovery_timeout_ms.value),
        waited: AtomicBool::new(false),
        reported: Mutex::new(HashSet::new()),
        asks,
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

    /// The next request for input for the TUI; `None` in a headless session.
    pub async fn next_elicitation(&self) -> Option<qcode_tui::ElicitationPrompt> {
        let asks = self.asks.as_ref()?;
        let (id, request) = asks.requests.lock().await.recv().await?;
        Some(qcode_tui::ElicitationPrompt {
            id,
            server: request.server,
            message: request.message,
            fields: request.fields,
        })
    }

    /// The user's answer to request `id` (a request already given up on is ignored).
    pub fn answer_elicitation(&self, id: u64, answer: ElicitationAnswer) {
        let sender = self
            .asks
            .as_ref()
            .and_then(|a| a.pending.lock().ok().and_then(|mut p| p.remove(&id)));
        if let Some(sender) = sender {
            let _ = sender.send(answer);
        }
    }

    fn first_report(&self, server: &str) -> bool {
        self.reported
            .lock()
            .map(|mut r| r.insert(server.to_string()))
            .unwrap_or(false)
    }
}

/// `/mcp`'s text: one line per server (name, transport, where configured, state, tools;
/// a failure with the last lines of its stderr), and how to reconnect one.
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
            in_session(&s.name, describe_state(&s.state, s.tools))
        ));
    }
    out.push_str("\n`/mcp reconnect NAME` restarts a server and lists its tools again; `/mcp login NAME` signs in to one that needs it.");
    out
}

/// `/mcp reconnect NAME`: restarts the server and says how it went.
pub async fn reconnect(mcp: Option<&McpTools>, name: &str) -> Result<String, Problem> {
    let Some(mcp) = mcp else {
        return Err(Problem::new(
            ErrorKind::Input,
            "No MCP servers are configured (see `qcode mcp add --help`).",
        ));
    };
    let state = mcp.manager.reconnect(name).await.map_err(|e| match e {
        McpError::UnknownServer(_) => Problem::new(ErrorKind::Input, e.to_string())
            .with_hint("/mcp lists the configured servers"),
        other => Problem::new(ErrorKind::Tool, other.to_string()),
    })?;
    // A new failure of this server is reported again before the next request.
    if let Ok(mut r) = mcp.reported.lock() {
        r.remove(name);
    }
    let tools = mcp
        .manager
        .tools()
        .iter()
        .filter(|t| t.server == name)
        .count();
    Ok(match state {
        ServerState::Ready => format!(
            "Reconnected MCP server `{name}`: {}",
            describe_state(&state, tools)
        ),
        other => format!(
            "MCP server `{name}` did not come back: {}",
            describe_state(&other, tools)
        ),
    })
}

/// `/mcp login NAME`: the server's sign-in (the flow of `qcode mcp login NAME`, with its
/// checks: a project's server only in a trusted folder), each line to show sent on
/// `progress`; on success the server is reconnected so its tools are there at once. `cancel`
/// stops waiting for the browser (the redirect listener closes with it).
pub async fn login(
    mcp: Option<&McpTools>,
    snapshot: &ConfigSnapshot,
    name: &str,
    cancel: CancellationToken,
    progress: mpsc::UnboundedSender<String>,
) -> Result<String, Problem> {
    if mcp.is_none() {
        return Err(Problem::new(
            ErrorKind::Input,
            "No MCP servers are configured (see `qcode mcp add --help`).",
        ));
    }
    let show = move |line: String| {
        let _ = progress.send(line);
    };
    let signed_in = tokio::select! {
        biased;
        () = cancel.cancelled() => {
            return Err(Problem::new(
                ErrorKind::Interrupted,
                format!("signing in to `{name}` was cancelled"),
            ));
        }
        r = crate::mcp_cmd::sign_in(snapshot, name, crate::mcp_cmd::LOGIN_TIMEOUT, None, &show) => r?,
    };
    let reconnected = reconnect(mcp, name).await?;
    Ok(format!("{signed_in}\n{reconnected}"))
}

/// A server's state as the session shows it (`/mcp`, its warning): "needs sign-in" names
/// `/mcp login` as well as the command.
fn in_session(name: &str, state: String) -> String {
    let command = qcode_mcp::oauth::needs_sign_in_message(name);
    if state.contains(&command) {
        state.replace(
            &command,
            &format!("needs sign-in: run `/mcp login {name}` (or `qcode mcp login {name}`)"),
        )
    } else {
        state
    }
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
            out.extend(self.manager.take_notices());
            for status in self.manager.statuses() {
                let line = match &status.state {
                    ServerState::Failed(why) => {
                        // Interactive: the TUI can sign in itself.
                        let why = if self.asks.is_some() {
                            in_session(&status.name, why.clone())
                        } else {
                            why.clone()
                        };
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
        progress: ProgressSink,
    ) -> ExternalFuture<'_, ExternalOutput> {
        Box::pin(async move {
            let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel();
            let control = CallControl {
                cancel,
                progress: Some(progress_tx),
            };
            let call = self.manager.call(&name, arguments, control);
            tokio::pin!(call);
            let result = loop {
                tokio::select! {
                    result = &mut call => break result,
                    Some(p) = progress_rx.recv() => {
                        progress.report(p.progress, p.total, p.message.as_deref());
                    }
                }
            };
            match result {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> ElicitationRequest {
        ElicitationRequest {
            server: "srv".into(),
            message: "name?".into(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn the_session_names_slash_mcp_login_for_a_server_that_needs_sign_in() {
        let needs = qcode_mcp::oauth::needs_sign_in_message("docs");
        assert_eq!(
            in_session("docs", needs),
            "needs sign-in: run `/mcp login docs` (or `qcode mcp login docs`)"
        );
        // Another server's message, or another failure, is left as it is.
        let other = qcode_mcp::oauth::needs_sign_in_message("other");
        assert_eq!(in_session("docs", other.clone()), other);
        assert_eq!(in_session("docs", "exited".into()), "exited");
    }

    #[tokio::test]
    async fn a_request_reaches_the_tui_and_its_answer_the_server() {
        let (elicitor, asks) = ask_the_user();
        let tools = McpTools {
            manager: Arc::new(McpManager::start(
                Vec::new(),
                McpOptions::new(std::env::temp_dir()),
            )),
            discovery: Duration::ZERO,
            waited: AtomicBool::new(false),
            reported: Mutex::new(HashSet::new()),
            asks: Some(asks),
        };
        let waiting = tokio::spawn(elicitor(request()));
        let prompt = tools.next_elicitation().await.unwrap();
        assert_eq!(
            (prompt.server.as_str(), prompt.message.as_str()),
            ("srv", "name?")
        );
        let values = json!({"a": 1}).as_object().unwrap().clone();
        tools.answer_elicitation(prompt.id, ElicitationAnswer::Accept(values.clone()));
        assert_eq!(waiting.await.unwrap(), ElicitationAnswer::Accept(values));
        // A second answer for the same id, or one for an unknown id, is ignored.
        tools.answer_elicitation(prompt.id, ElicitationAnswer::Decline);
        tools.answer_elicitation(99, ElicitationAnswer::Decline);

        // A request whose dialog goes away unanswered is cancelled.
        let waiting = tokio::spawn(elicitor(request()));
        let prompt = tools.next_elicitation().await.unwrap();
        if let Some(asks) = &tools.asks {
            asks.pending.lock().unwrap().remove(&prompt.id);
        }
        assert_eq!(waiting.await.unwrap(), ElicitationAnswer::Cancel);
    }

    #[tokio::test]
    async fn a_headless_session_has_no_requests_for_the_tui() {
        let tools = McpTools {
            manager: Arc::new(McpManager::start(
                Vec::new(),
                McpOptions::new(std::env::temp_dir()),
            )),
            discovery: Duration::ZERO,
            waited: AtomicBool::new(false),
            reported: Mutex::new(HashSet::new()),
            asks: None,
        };
        assert!(tools.next_elicitation().await.is_none());
    }
}
