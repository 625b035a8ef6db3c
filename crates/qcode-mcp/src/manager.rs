//! [`McpManager`]: every configured server started in parallel, their tools under unique
//! names, calls with timeout, cancellation and progress, and a shutdown that leaves no process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_config::{McpOrigin, McpServerConfig};
use rmcp::model::{CallToolRequest, CallToolRequestParams, ClientRequest, ServerResult};
use rmcp::service::{PeerRequestOptions, ServiceError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::content::{ToolOutput, to_output};
use crate::error::McpError;
use crate::names::NameAllocator;
use crate::server::{Env, Progress, ServerState, Shared, short_error};

/// How long the first model request waits for servers still starting.
pub const DEFAULT_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server has to answer `initialize` and the first `tools/list`.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(30);
/// A tool call's timeout when the entry sets no `timeout` (Qwen Code's default: 10 minutes).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// Knobs of [`McpManager::start`].
#[derive(Clone)]
pub struct McpOptions {
    /// The default working directory of stdio servers.
    pub project_root: PathBuf,
    pub init_timeout: Duration,
    pub call_timeout: Duration,
    /// Looks qcode's own environment up, for the few variables a stdio server inherits
    /// ([`crate::SAFE_VARS`]).
    pub inherit: crate::process::Lookup,
    /// Stored OAuth sign-ins of HTTP servers (see [`crate::oauth`]); `None`: none are used.
    pub oauth: Option<crate::oauth::TokenStore>,
    /// What to do when a server asks the user for input (default: decline, with a notice).
    pub elicitation: crate::ElicitationPolicy,
}

impl McpOptions {
    /// Defaults, inheriting the safe variables from the process environment.
    pub fn new(project_root: PathBuf) -> Self {
        Self {
            project_root,
            init_timeout: DEFAULT_INIT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            inherit: Arc::new(|name| std::env::var(name).ok()),
            oauth: None,
            elicitation: crate::ElicitationPolicy::Decline,
        }
    }
}

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// `mcp__<server>__<tool>` (unique, ≤ 64 characters).
    pub name: String,
    pub server: String,
    /// The server's own name for it.
    pub tool: String,
    pub description: String,
    /// The server's JSON schema for the arguments, as given.
    pub input_schema: serde_json::Value,
    /// The server's entry says `trust: true`.
    pub trusted_server: bool,
    /// The server's `readOnlyHint` (a hint only: never trust it for approvals).
    pub read_only_hint: Option<bool>,
}

/// One server as `/mcp` or `qcode mcp list` would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    pub name: String,
    /// `stdio`, `http` or `sse`.
    pub transport: &'static str,
    pub origin: McpOrigin,
    pub state: ServerState,
    /// Tools offered (after `includeTools` / `excludeTools`).
    pub tools: usize,
    /// The process id of a running stdio server.
    pub pid: Option<u32>,
}

/// A connected server's own description of itself (from its `initialize` answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    /// The protocol version the server answered with (e.g. `2025-06-18`).
    pub protocol_version: String,
    /// The server's `instructions`, if it gave any.
    pub instructions: Option<String>,
}

/// What a caller gives [`McpManager::call`] besides the arguments.
#[derive(Debug, Clone, Default)]
pub struct CallControl {
    /// Cancelling sends `notifications/cancelled` and returns [`McpError::Cancelled`] at once.
    pub cancel: CancellationToken,
    /// Receives the call's progress notifications.
    pub progress: Option<mpsc::UnboundedSender<Progress>>,
}

/// One server's connection task and the token that stops it.
struct Task {
    server: String,
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

/// The MCP client of a session.
pub struct McpManager {
    pub(crate) servers: Vec<Arc<Shared>>,
    tasks: Mutex<Vec<Task>>,
    /// What a (re)started connection task needs.
    env: Env,
    stop: CancellationToken,
    changes: Arc<watch::Sender<u64>>,
    call_timeout: Duration,
}

impl McpManager {
    /// Starts every startable server in the background and returns at once. Must be called
    /// from within a tokio runtime; without one every server is marked failed.
    pub fn start(configs: Vec<McpServerConfig>, options: McpOptions) -> Self {
        let (changes, _) = watch::channel(0u64);
        let changes = Arc::new(changes);
        let stop = CancellationToken::new();
        let env = Env {
            project_root: options.project_root,
            init_timeout: options.init_timeout,
            inherit: options.inherit,
            oauth: options.oauth,
            elicitation: options.elicitation,
            notices: Default::default(),
        };
        let runtime = tokio::runtime::Handle::try_current();
        let mut servers = Vec::new();
        let mut tasks = Vec::new();
        for config in configs {
            let shared = Arc::new(Shared::new(config, changes.clone()));
            if shared.state() == ServerState::Starting {
                match &runtime {
                    Ok(rt) => {
                        let token = stop.child_token();
                        tasks.push(Task {
                            server: shared.config.name.clone(),
                            stop: token.clone(),
                            handle: rt.spawn(crate::server::run(
                                shared.clone(),
                                env.clone(),
                                token,
                            )),
                        });
                    }
                    Err(_) => shared.set_state(ServerState::Failed(
                        "qcode started it outside its async runtime".into(),
                    )),
                }
            }
            servers.push(shared);
        }
        Self {
            servers,
            tasks: Mutex::new(tasks),
            env,
            stop,
            changes,
            call_timeout: options.call_timeout,
        }
    }

    /// Waits until no server is starting any more, or `timeout` passes; returns the names of
    /// those still starting (the first model request goes on without them).
    pub async fn wait_ready(&self, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.changes.subscribe();
        loop {
            let starting: Vec<String> = self
                .servers
                .iter()
                .filter(|s| s.state() == ServerState::Starting)
                .map(|s| s.config.name.clone())
                .collect();
            if starting.is_empty() {
                return starting;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return starting; },
                _ = tokio::time::sleep_until(deadline) => return starting,
            }
        }
    }

    /// A counter that changes whenever a server's state or tool list changes (e.g. after
    /// `notifications/tools/list_changed`): compare it between model requests.
    pub fn generation(&self) -> u64 {
        *self.changes.borrow()
    }

    /// What a ready server said of itself in `initialize`: its name, its version and the
    /// protocol version agreed on. `None` for an unknown server or one not connected.
    pub fn server_info(&self, name: &str) -> Option<ServerInfo> {
        let server = self.servers.iter().find(|s| s.config.name == name)?;
        let peer = server.peer.lock().ok().and_then(|p| p.clone())?;
        let info = peer.peer_info()?;
        let (name, version) = match &info.server_info {
            Some(i) => (i.name.clone(), i.version.clone()),
            None => (String::new(), String::new()),
        };
        Some(ServerInfo {
            name,
            version,
            protocol_version: info.protocol_version.to_string(),
            instructions: info.instructions.clone(),
        })
    }

    /// Every server, in configuration order.
    pub fn statuses(&self) -> Vec<ServerStatus> {
        let tools = self.tools();
        self.servers
            .iter()
            .map(|s| ServerStatus {
                name: s.config.name.clone(),
                transport: s.config.transport.kind(),
                origin: s.config.origin.clone(),
                state: s.state(),
                tools: tools.iter().filter(|t| t.server == s.config.name).count(),
                pid: s
                    .process()
                    .filter(|p| p.exit_status().is_none())
                    .map(|p| p.pid),
            })
            .collect()
    }

    /// The tools of every ready server, with unique names (see [`crate::names`]).
    pub fn tools(&self) -> Vec<McpTool> {
        let mut names = NameAllocator::default();
        let mut out = Vec::new();
        for s in &self.servers {
            if s.state() != ServerState::Ready {
                continue;
            }
            let listed = s.tools.lock().map(|t| t.clone()).unwrap_or_default();
            let c = &s.config;
            for tool in listed {
                let name = tool.name.to_string();
                if (!c.include_tools.is_empty() && !c.include_tools.contains(&name))
                    || c.exclude_tools.contains(&name)
                {
                    continue;
                }
                out.push(McpTool {
                    name: names.allocate(&c.name, &name),
                    server: c.name.clone(),
                    description: tool
                        .description
                        .as_deref()
                        .or(tool.title.as_deref())
                        .unwrap_or("")
                        .to_string(),
                    input_schema: serde_json::Value::Object((*tool.input_schema).clone()),
                    trusted_server: c.trust,
                    read_only_hint: tool.annotations.as_ref().and_then(|a| a.read_only_hint),
                    tool: name,
                });
            }
        }
        out
    }

    /// Calls the tool offered as `name` with `arguments` (a JSON object, or null for none).
    pub async fn call(
        &self,
        name: &str,
        arguments: serde_json::Value,
        control: CallControl,
    ) -> Result<ToolOutput, McpError> {
        let tool = self
            .tools()
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        let server = self
            .servers
            .iter()
            .find(|s| s.config.name == tool.server)
            .ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        let arguments = match arguments {
            serde_json::Value::Object(map) => Some(map),
            serde_json::Value::Null => None,
            _ => return Err(McpError::BadArguments(tool.name)),
        };
        let peer = server
            .peer
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| McpError::NotReady {
                server: tool.server.clone(),
            })?;
        let mut params = CallToolRequestParams::new(tool.tool.clone());
        params.arguments = arguments;
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let failed = |message: String| McpError::Call {
            server: tool.server.clone(),
            tool: tool.tool.clone(),
            message,
        };
        let refused = |e: &ServiceError| {
            e.auth_challenge().map(|challenge| McpError::SignInRefused {
                server: tool.server.clone(),
                tool: tool.tool.clone(),
                challenge: challenge.to_string(),
            })
        };
        let mut handle = match peer
            .send_request_with_option(request, PeerRequestOptions::no_options())
            .await
        {
            Ok(h) => h,
            Err(e) => {
                return Err(match refused(&e) {
                    Some(r) => r,
                    None => failed(self.lost(server, &e).await),
                });
            }
        };
        // The SDK picks the progress token while sending; the sink is registered right after,
        // before any answer can have made the round trip (a notification for an unknown token
        // is dropped).
        let token = handle.progress_token.clone();
        let _unregister = control.progress.map(|sink| {
            if let Ok(mut m) = server.progress.lock() {
                m.insert(token.clone(), sink);
            }
            Unregister {
                server: server.clone(),
                token,
            }
        });
        let timeout = server.config.timeout.unwrap_or(self.call_timeout);
        enum End {
            Answer(
                Box<
                    Result<
                        Result<ServerResult, ServiceError>,
                        tokio::sync::oneshot::error::RecvError,
                    >,
                >,
            ),
            Cancelled,
            TimedOut,
        }
        let end = tokio::select! {
            r = &mut handle.rx => End::Answer(Box::new(r)),
            _ = control.cancel.cancelled() => End::Cancelled,
            _ = tokio::time::sleep(timeout) => End::TimedOut,
        };
        match end {
            End::Answer(answer) => match *answer {
                Ok(Ok(ServerResult::CallToolResult(result))) => Ok(to_output(&result)),
                Ok(Ok(_)) => Err(failed(
                    "the server answered `tools/call` with something other than a tool result"
                        .into(),
                )),
                Ok(Err(ServiceError::McpError(e))) => Err(failed(format!(
                    "the server refused the call: {} (code {})",
                    short_error(&e.message),
                    e.code.0
                ))),
                Ok(Err(e)) => Err(match refused(&e) {
                    Some(r) => r,
                    None => failed(self.lost(server, &e).await),
                }),
                Err(_) => Err(failed(
                    self.lost(server, &ServiceError::TransportClosed).await,
                )),
            },
            End::Cancelled => {
                let _ = handle.cancel(Some("cancelled by the user".into())).await;
                Err(McpError::Cancelled)
            }
            End::TimedOut => {
                let _ = handle.cancel(Some("timed out".into())).await;
                Err(McpError::TimedOut {
                    server: tool.server.clone(),
                    tool: tool.tool.clone(),
                    after: timeout,
                })
            }
        }
    }

    /// Notices for the user since the last call (e.g. "MCP server `x` asked for input …;
    /// declined"), oldest first.
    pub fn take_notices(&self) -> Vec<String> {
        self.env
            .notices
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// Reconnects the server `name`: closes its connection (a stdio server's process is
    /// stopped as at shutdown, so none is left behind), starts it again, and waits until it is
    /// ready or failed (at most the `initialize` timeout, twice: `initialize` and the first
    /// `tools/list`). Its tool list is fetched anew, and [`Self::generation`] changes. Returns
    /// the state it ended in.
    pub async fn reconnect(&self, name: &str) -> Result<ServerState, McpError> {
        let server = self
            .servers
            .iter()
            .find(|s| s.config.name == name)
            .ok_or_else(|| McpError::UnknownServer(name.to_string()))?;
        if let ServerState::NotStarted(reason) = server.state() {
            return Err(McpError::NotStartable {
                server: name.to_string(),
                reason,
            });
        }
        if self.stop.is_cancelled() {
            return Err(McpError::ShuttingDown);
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| McpError::NotStartable {
                server: name.to_string(),
                reason: "qcode called it outside its async runtime".into(),
            })?;
        let old = self.tasks.lock().ok().and_then(|mut tasks| {
            let i = tasks.iter().position(|t| t.server == name)?;
            Some(tasks.remove(i))
        });
        if let Some(old) = old {
            old.stop.cancel();
            let _ = old.handle.await;
        }
        {
            // Checked and spawned under the lock: a shutdown cancels `stop` before it takes
            // the tasks, so it either sees this one or this one is never started.
            let mut tasks = self.tasks.lock().map_err(|_| McpError::ShuttingDown)?;
            if self.stop.is_cancelled() {
                return Err(McpError::ShuttingDown);
            }
            server.reset();
            let token = self.stop.child_token();
            let handle = runtime.spawn(crate::server::run(
                server.clone(),
                self.env.clone(),
                token.clone(),
            ));
            tasks.push(Task {
                server: name.to_string(),
                stop: token,
                handle,
            });
        }
        let mut rx = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + self.env.init_timeout * 2;
        while server.state() == ServerState::Starting {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        Ok(server.state())
    }

    /// The message for a call whose connection failed; marks a dead server failed.
    async fn lost(&self, server: &Shared, e: &ServiceError) -> String {
        let note = server.death_note().await;
        let message = match e {
            ServiceError::TransportClosed => format!("the connection to the server closed{note}"),
            other => format!("{}{note}", short_error(&other.to_string())),
        };
        if server.process().is_some_and(|p| p.exit_status().is_some()) {
            server.set_state(ServerState::Failed(message.clone()));
        }
        message
    }

    /// Closes every server (stdin closed, then SIGTERM, then SIGKILL for stdio servers) and
    /// waits until they are gone.
    pub async fn shutdown(&self) {
        for s in &self.servers {
            if matches!(s.state(), ServerState::Starting | ServerState::Ready) {
                s.set_state(ServerState::Stopped);
                // `set_state` keeps Stopped; record it even over a late Failed.
            }
        }
        self.stop.cancel();
        let tasks: Vec<Task> = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for task in tasks {
            let _ = task.handle.await;
        }
    }
}

impl Drop for McpManager {
    /// Without [`McpManager::shutdown`], the connection tasks still close their servers when
    /// the runtime lets them run; the processes are killed when their handles drop.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Removes a call's progress sink when the call ends.
struct Unregister {
    server: Arc<Shared>,
    token: rmcp::model::ProgressToken,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        if let Ok(mut m) = self.server.progress.lock() {
            m.remove(&self.token);
        }
    }
}
