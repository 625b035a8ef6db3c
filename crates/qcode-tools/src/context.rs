//! The environment tools run in: workspace roots, the memory file, the HTTP client for
//! `web_fetch`, extra shell environment and the directory for background shell output.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Everything a tool needs from its caller. Built once per session by the engine.
#[derive(Clone)]
pub struct ToolContext {
    /// Canonical workspace roots; the first is the primary root (the working directory), against
    /// which relative paths are resolved. [`ToolContext::new`] canonicalizes them.
    pub workspace_roots: Vec<PathBuf>,
    /// The global context file `save_memory` appends to (e.g. `~/.qcode/QWEN.md`).
    pub memory_file: PathBuf,
    /// The client `web_fetch` uses, built on first use. Build it with `redirect::Policy::none()`
    /// so that `web_fetch` follows redirects itself and checks every hop (see
    /// [`crate::default_http_client`]).
    pub http: LazyHttpClient,
    /// Extra environment for shell commands. `QCODE=1` is always set in addition.
    pub shell_env: Vec<(String, String)>,
    /// Which of qcode's own environment variables shell commands see (by default everything
    /// but secrets and qcode's provider variables).
    pub shell_env_policy: crate::ShellEnvPolicy,
    /// Where background shell commands write their output files.
    pub background_dir: PathBuf,
    /// The background commands started in this session (stopped when it ends).
    pub background_jobs: crate::BackgroundJobs,
    /// Told before `edit`, `write_file` and `run_shell_command` change the workspace, for
    /// checkpoints (see [`crate::ChangeTracker`]); `None`: no tracking.
    pub change_tracker: Option<Arc<dyn crate::ChangeTracker>>,
    /// Where the `skill` tool finds skills; `None`: the session has none.
    pub skills: Option<Arc<dyn crate::SkillSource>>,
    /// The sandbox `run_shell_command` runs its commands in (default: none).
    pub sandbox: crate::ShellSandbox,
}

impl ToolContext {
    /// Builds a context, canonicalizing the workspace roots (roots that do not exist are an
    /// error: the caller must pass real directories).
    pub fn new(
        workspace_roots: Vec<PathBuf>,
        memory_file: PathBuf,
        http: LazyHttpClient,
        background_dir: PathBuf,
    ) -> std::io::Result<Self> {
        let roots = workspace_roots
            .iter()
            .map(|r| {
                std::fs::canonicalize(r).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("workspace root {} cannot be opened: {e}", r.display()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if roots.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "at least one workspace root is needed (the working directory)",
            ));
        }
        Ok(Self {
            workspace_roots: roots,
            memory_file,
            http,
            shell_env: Vec::new(),
            shell_env_policy: crate::ShellEnvPolicy::default(),
            background_dir,
            background_jobs: crate::BackgroundJobs::default(),
            change_tracker: None,
            skills: None,
            sandbox: crate::ShellSandbox::default(),
        })
    }

    /// The primary workspace root (relative paths are resolved against it).
    pub fn primary_root(&self) -> &Path {
        self.workspace_roots
            .first()
            .map(PathBuf::as_path)
            .unwrap_or(Path::new("/"))
    }
}

impl fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Environment values may hold secrets: show names only.
        let env_names: Vec<&str> = self.shell_env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ToolContext")
            .field("workspace_roots", &self.workspace_roots)
            .field("memory_file", &self.memory_file)
            .field("shell_env", &env_names)
            .field("shell_env_policy", &self.shell_env_policy.inherit)
            .field("background_dir", &self.background_dir)
            .field("change_tracker", &self.change_tracker.is_some())
            .field("skills", &self.skills.is_some())
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

/// An HTTP client built the first time it is needed: building one loads the system's root
/// certificates (hundreds of files), wasted start-up work for a session that never fetches.
#[derive(Clone)]
pub struct LazyHttpClient {
    cell: Arc<OnceLock<Result<reqwest::Client, String>>>,
    build: fn() -> reqwest::Result<reqwest::Client>,
}

impl LazyHttpClient {
    /// A client made by `build` on first use.
    pub fn new(build: fn() -> reqwest::Result<reqwest::Client>) -> Self {
        Self {
            cell: Arc::new(OnceLock::new()),
            build,
        }
    }

    /// [`default_http_client`], on first use.
    pub fn default_client() -> Self {
        Self::new(default_http_client)
    }

    /// An already built client.
    pub fn from_client(client: reqwest::Client) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(client));
        Self {
            cell: Arc::new(cell),
            build: default_http_client,
        }
    }

    /// The client, building it now if needed; the error says why it could not be built.
    pub fn get(&self) -> Result<&reqwest::Client, String> {
        self.cell
            .get_or_init(|| (self.build)().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A client suitable for [`ToolContext::http`]: no automatic redirects (web_fetch follows
/// them itself, checking each hop), 30 s timeout, a qcode user agent, the standard proxy
/// variables honoured but never for loopback (`localhost`, `127.0.0.0/8`, `[::1]`). Installs
/// rustls' `ring` crypto provider as the process default when none is installed yet (reqwest
/// is built with `rustls-no-provider` and would otherwise panic).
pub fn default_http_client() -> reqwest::Result<reqwest::Client> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("qcode/", env!("CARGO_PKG_VERSION"), " (web_fetch)"));
    with_env_proxies(builder, |name| std::env::var(name).ok())?.build()
}

/// Destinations never proxied: a proxy would reach its own loopback, not this machine's.
const LOOPBACK: &str = "localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104";

/// The standard proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` as the fallback for
/// both, `NO_PROXY`; upper case first, empty means unset, nothing when `REQUEST_METHOD` is set)
/// like reqwest reads them, except that loopback is always reached directly.
fn with_env_proxies(
    builder: reqwest::ClientBuilder,
    var: impl Fn(&str) -> Option<String>,
) -> reqwest::Result<reqwest::ClientBuilder> {
    let mut builder = builder.no_proxy();
    if var("REQUEST_METHOD").is_some() {
        return Ok(builder);
    }
    let first = |names: [&str; 2]| {
        names.into_iter().find_map(|n| {
            var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    let all = first(["ALL_PROXY", "all_proxy"]);
    let no_proxy = match first(["NO_PROXY", "no_proxy"]) {
        Some(list) => format!("{list}, {LOOPBACK}"),
        None => LOOPBACK.to_string(),
    };
    let no_proxy = reqwest::NoProxy::from_string(&no_proxy);
    if let Some(url) = first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone()) {
        builder = builder.proxy(reqwest::Proxy::http(url)?.no_proxy(no_proxy.clone()));
    }
    if let Some(url) = first(["HTTPS_PROXY", "https_proxy"]).or(all) {
        builder = builder.proxy(reqwest::Proxy::https(url)?.no_proxy(no_proxy));
    }
    Ok(builder)
}
