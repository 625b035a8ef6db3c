//! One server's life: connect (spawn + `initialize`, or streamable HTTP), list its tools, keep
//! them fresh on `notifications/tools/list_changed`, route progress notifications to the call
//! that asked for them, notice a crash, and close on shutdown.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_config::{McpServerConfig, McpTransport};
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationCapability,
    FormElicitationCapability, Implementation, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, Tool,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::elicitation::{ElicitationPolicy, Notices};
use crate::process::{ServerProcess, Spawn, describe_exit};

/// The protocol version offered in `initialize`: the newest revision that still has the
/// handshake (rmcp 3.11 offers 2026-07-28, which servers and the conformance suite of today do
/// not know; a server answering an older version is followed down by the SDK).
pub const OFFERED_PROTOCOL: ProtocolVersion = ProtocolVersion::V_2025_11_25;

/// One progress notification of a running call.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Where a server is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// Starting (spawned, `initialize` or the first `tools/list` not yet answered).
    Starting,
    Ready,
    /// Could not start, or stopped working; the message says what happened (with the last lines
    /// of its stderr for a stdio server).
    Failed(String),
    /// Never started (e.g. folder not trusted); the reason says what to do.
    NotStarted(String),
    /// Closed by [`crate::McpManager::shutdown`].
    Stopped,
}

/// What a connection task needs from the manager.
#[derive(Clone)]
pub(crate) struct Env {
    pub project_root: PathBuf,
    pub init_timeout: Duration,
    pub inherit: crate::process::Lookup,
    /// Where stored OAuth sign-ins are looked up (`None`: never).
    pub oauth: Option<crate::oauth::TokenStore>,
    pub elicitation: ElicitationPolicy,
    pub notices: Notices,
}

/// State shared between the manager, the connection task and the SDK's handler.
pub(crate) struct Shared {
    pub config: McpServerConfig,
    pub state: Mutex<ServerState>,
    pub tools: Mutex<Vec<Tool>>,
    pub peer: Mutex<Option<Peer<RoleClient>>>,
    pub process: Mutex<Option<Arc<ServerProcess>>>,
    pub progress: Mutex<HashMap<ProgressToken, mpsc::UnboundedSender<Progress>>>,
    pub changes: Arc<watch::Sender<u64>>,
}

impl Shared {
    pub fn new(config: McpServerConfig, changes: Arc<watch::Sender<u64>>) -> Self {
        let state = match config.startable.reason() {
            Some(reason) => ServerState::NotStarted(reason),
            None => ServerState::Starting,
        };
        Self {
            config,
            state: Mutex::new(state),
            tools: Mutex::new(Vec::new()),
            peer: Mutex::new(None),
            process: Mutex::new(None),
            progress: Mutex::new(HashMap::new()),
            changes,
        }
    }

    pub fn state(&self) -> ServerState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ServerState::Failed("internal state lost".into()))
    }

    pub fn set_state(&self, state: ServerState) {
        if let Ok(mut s) = self.state.lock() {
            // A stopped server stays stopped (a late start result must not revive it).
            if *s != ServerState::Stopped {
                *s = state;
            }
        }
        self.changes.send_modify(|n| *n += 1);
    }

    /// Back to the start of a server's life, for a reconnect (its old connection task has
    /// ended): starting, no tools, no connection, no process.
    pub fn reset(&self) {
        if let Ok(mut s) = self.state.lock() {
            *s = ServerState::Starting;
        }
        if let Ok(mut t) = self.tools.lock() {
            t.clear();
        }
        if let Ok(mut p) = self.peer.lock() {
            *p = None;
        }
        if let Ok(mut p) = self.process.lock() {
            *p = None;
        }
        if let Ok(mut p) = self.progress.lock() {
            p.clear();
        }
        self.changes.send_modify(|n| *n += 1);
    }

    fn set_tools(&self, tools: Vec<Tool>) {
        if let Ok(mut t) = self.tools.lock() {
            *t = tools;
        }
        self.changes.send_modify(|n| *n += 1);
    }

    pub fn process(&self) -> Option<Arc<ServerProcess>> {
        self.process.lock().ok().and_then(|p| p.clone())
    }

    /// "its process exited with status 1; its stderr ended with: …" for a stdio server.
    pub async fn death_note(&self) -> String {
        let Some(proc) = self.process() else {
            return String::new();
        };
        match proc.wait_exit(Duration::from_millis(500)).await {
            Some(status) => format!(
                " (its process {}){}",
                describe_exit(status),
                proc.stderr_suffix().await
            ),
            None => proc.stderr.suffix(),
        }
    }
}

/// The SDK's callbacks for one server.
#[derive(Clone)]
struct Handler {
    shared: Arc<Shared>,
    elicitation: ElicitationPolicy,
    notices: Notices,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        ClientConfig::new(
            capabilities,
            Implementation::new("qcode", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(OFFERED_PROTOCOL)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        Ok(crate::elicitation::respond(
            &self.shared.config.name,
            request,
            &self.elicitation,
            &self.notices,
        )
        .await)
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let sink = self
            .shared
            .progress
            .lock()
            .ok()
            .and_then(|m| m.get(&params.progress_token).cloned());
        if let Some(sink) = sink {
            let _ = sink.send(Progress {
                progress: params.progress,
                total: params.total,
                message: params.message,
            });
        }
    }

    async fn on_tool_list_changed(&self, context: NotificationContext<RoleClient>) {
        let shared = self.shared.clone();
        let peer = context.peer.clone();
        tokio::spawn(async move {
            if let Ok(tools) = peer.list_all_tools().await {
                shared.set_tools(tools);
            }
        });
    }
}

type Service = RunningService<RoleClient, Handler>;

/// Connects, lists tools, then keeps the connection until `stop` (or the server dies), and
/// closes it: the whole life of one server, run as one task.
pub(crate) async fn run(shared: Arc<Shared>, env: Env, stop: CancellationToken) {
    let connected = tokio::select! {
        r = connect(&shared, &env) => Some(r),
        _ = stop.cancelled() => None,
    };
    let service = match connected {
        Some(Ok(service)) => service,
        Some(Err(message)) => {
            shared.set_state(ServerState::Failed(message));
            stop_process(&shared).await;
            return;
        }
        // Shut down while starting: the dropped transport closed its stdin.
        None => {
            stop_process(&shared).await;
            return;
        }
    };
    if let Ok(mut p) = shared.peer.lock() {
        *p = Some(service.peer().clone());
    }
    shared.set_state(ServerState::Ready);

    let exited = async {
        match shared.process() {
            Some(proc) => proc.exited().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        status = exited => {
            let what = match status {
                Some(s) => format!("the server {} unexpectedly", describe_exit(s)),
                None => "the server stopped unexpectedly".into(),
            };
            let tail = match shared.process() {
                Some(p) => p.stderr_suffix().await,
                None => String::new(),
            };
            shared.set_state(ServerState::Failed(format!("{what}{tail}")));
        }
    }
    if let Ok(mut p) = shared.peer.lock() {
        *p = None;
    }
    // Closing the service drops the transport, which closes the server's stdin.
    let _ = tokio::time::timeout(Duration::from_secs(2), service.cancel()).await;
    stop_process(&shared).await;
}

async fn stop_process(shared: &Shared) {
    if let Some(proc) = shared.process() {
        proc.stop().await;
    }
}

async fn connect(shared: &Arc<Shared>, env: &Env) -> Result<Service, String> {
    let handler = Handler {
        shared: shared.clone(),
        elicitation: env.elicitation.clone(),
        notices: env.notices.clone(),
    };
    let secs = env.init_timeout.as_secs_f64();
    let service = match &shared.config.transport {
        McpTransport::Stdio {
            command,
            args,
            env: vars,
            cwd,
        } => {
            let cwd = cwd.clone().unwrap_or_else(|| env.project_root.clone());
            let inherit = env.inherit.clone();
            let spec = Spawn {
                command,
                args,
                env: vars,
                cwd: &cwd,
                inherit: &*inherit,
            };
            let (proc, stdout, stdin) = crate::process::spawn(&spec)
                .map_err(|e| format!("could not start `{command}` (in {}): {e}", cwd.display()))?;
            if let Ok(mut p) = shared.process.lock() {
                *p = Some(Arc::new(proc));
            }
            match tokio::time::timeout(env.init_timeout, handler.serve((stdout, stdin))).await {
                Ok(Ok(service)) => service,
                Ok(Err(e)) => {
                    let note = shared.death_note().await;
                    // (`death_note` waited for the exit.) The SDK's message for a dead pipe
                    // names its own types: say what happened instead.
                    let exited = shared.process().is_some_and(|p| p.exit_status().is_some());
                    return Err(if exited {
                        format!("the server exited before answering `initialize`{note}")
                    } else {
                        format!("`initialize` failed: {}{note}", init_error(&e))
                    });
                }
                Err(_) => {
                    let tail = shared
                        .process()
                        .map(|p| p.stderr.suffix())
                        .unwrap_or_default();
                    return Err(format!(
                        "the server did not answer `initialize` within {secs} s{tail}"
                    ));
                }
            }
        }
        McpTransport::Http { url, headers } => {
            let name = &shared.config.name;
            let transport = crate::http::transport(name, url, headers, env.oauth.as_ref()).await?;
            match tokio::time::timeout(env.init_timeout, handler.serve(transport)).await {
                Ok(Ok(service)) => service,
                Ok(Err(e)) if e.is_authorization_required() => {
                    return Err(crate::oauth::needs_sign_in_message(name));
                }
                Ok(Err(e)) => {
                    return Err(format!(
                        "could not connect to {}: {}",
                        crate::http::redact(url),
                        init_error(&e)
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "{} did not answer `initialize` within {secs} s",
                        crate::http::redact(url)
                    ));
                }
            }
        }
        McpTransport::Sse { url, .. } => {
            return Err(format!(
                "{} uses the legacy SSE transport, which the MCP SDK qcode is built on does not support; if the server also speaks streamable HTTP, configure it with `httpUrl`",
                crate::http::redact(url)
            ));
        }
    };
    let listed = tokio::time::timeout(env.init_timeout, service.peer().list_all_tools()).await;
    match listed {
        Ok(Ok(tools)) => shared.set_tools(tools),
        // A server may answer `initialize` to anyone and want a sign-in for its tools.
        Ok(Err(e)) if e.is_authorization_required() => {
            let _ = service.cancel().await;
            return Err(crate::oauth::needs_sign_in_message(&shared.config.name));
        }
        Ok(Err(e)) => {
            let note = shared.death_note().await;
            let _ = service.cancel().await;
            return Err(format!(
                "`tools/list` failed: {}{note}",
                short_error(&e.to_string())
            ));
        }
        Err(_) => {
            let _ = service.cancel().await;
            return Err(format!(
                "the server did not answer `tools/list` within {secs} s"
            ));
        }
    }
    Ok(service)
}

/// What went wrong in `initialize`: for a transport error the innermost cause ("Connection
/// refused (os error 111)"), not the SDK's wrapper naming its own types.
fn init_error(e: &rmcp::service::ClientInitializeError) -> String {
    match e {
        rmcp::service::ClientInitializeError::TransportError { error, .. } => {
            let mut cause: &(dyn std::error::Error + 'static) = &*error.error;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            short_error(&cause.to_string())
        }
        other => short_error(&other.to_string()),
    }
}

/// An SDK error message cut to one readable line (some embed whole messages), with URLs
/// redacted.
pub(crate) fn short_error(text: &str) -> String {
    let text = crate::http::scrub_urls(text);
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}
