//! Choosing the authentication method and turning it into credentials for the client.
//!
//! An explicit choice (`--auth-type`, settings `security.auth.selectedType`) always wins.
//! Otherwise: an API key from flag / env / `.env` means `openai`; then a key saved in
//! `~/.qcode/credentials.json`; then Qwen credentials in `~/.qwen/oauth_creds.json` mean
//! `qwen-oauth`. An incomplete explicit choice is a [`Problem`] that says what is missing.

use std::sync::Arc;

use qcode_client::{
    ChatClient, ClientError, ClientOptions, CredentialSource, Endpoint, Secret, StaticCredentials,
};
use qcode_config::{ConfigSnapshot, Source};
use qcode_protocol::{AuthKind, ErrorKind, Problem};

use crate::api_key::ApiKeyStore;
use crate::cli::{AuthPaths, AuthStatus, LogoutScope, status};
use crate::config::{QWEN_OAUTH_DEFAULT_MODEL, QwenOAuthConfig};
use crate::credentials::QwenCredentialStore;
use crate::error::RELOGIN_HINT;
use crate::headers::{dashscope_headers, user_agent, wants_dashscope_headers};
use crate::manager::QwenTokenManager;
use crate::source::{QwenSource, signed_out};

/// qcode's version (one workspace version for every crate), for the user agent and headers.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The chat client with qcode's user agent.
pub fn build_client() -> Result<ChatClient, ClientError> {
    ChatClient::new(ClientOptions {
        user_agent: user_agent(VERSION),
        ..ClientOptions::default()
    })
}

/// Where the snapshot says credentials live.
pub fn auth_paths(s: &ConfigSnapshot) -> AuthPaths {
    AuthPaths {
        qwen_dir: s.paths.qwen_dir.clone(),
        qcode_home: s.paths.qcode_home.clone(),
    }
}

/// The Qwen OAuth server the snapshot points at.
pub fn oauth_config(s: &ConfigSnapshot) -> QwenOAuthConfig {
    QwenOAuthConfig::with_base_url(s.qwen_oauth_base_url.value.clone())
}

/// The active method with its credentials and model.
pub struct Active {
    pub kind: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    pub model: String,
}

/// Resolves methods over one configuration snapshot. Every call re-reads the stores: the user
/// may have just signed in or saved a key.
#[derive(Clone)]
pub struct Resolver {
    snapshot: ConfigSnapshot,
    /// Set once a key was saved during this session (`/auth`): from then on the OpenAI-
    /// compatible method uses the saved key, its base URL and model, over a key from flag,
    /// environment or `.env`. Shared by clones (the engine's and `/auth`'s).
    prefer_saved: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What [`Resolver::start`] does when no usable credentials are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingAuth {
    /// Fail with the auth problem (headless runs: exit code 41).
    Fail,
    /// Start anyway with credentials that answer "not signed in: run /auth" (interactive).
    SignedOut,
}

/// Whether a session started with usable credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsState {
    Ready,
    SignedOut,
}

impl Resolver {
    pub fn new(snapshot: ConfigSnapshot) -> Self {
        Self {
            snapshot,
            prefer_saved: Default::default(),
        }
    }

    /// From now on, the OpenAI-compatible method uses the key saved in `credentials.json`
    /// (with its base URL and model) over a key from flag, environment or `.env`: the user just
    /// saved it with `/auth` and expects the session to use it.
    pub fn prefer_saved_key(&self) {
        self.prefer_saved
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The method to start with: explicit, else inferred.
    pub fn initial(&self) -> Result<Active, Problem> {
        self.activate(self.initial_kind()?)
    }

    /// [`Self::initial`] for a session start: with [`MissingAuth::SignedOut`] an auth problem
    /// (nothing to sign in with) starts [`signed_out`] instead; any other problem fails.
    pub fn start(&self, missing: MissingAuth) -> Result<(Active, CredentialsState), Problem> {
        match (self.initial(), missing) {
            (Ok(active), _) => Ok((active, CredentialsState::Ready)),
            (Err(p), MissingAuth::SignedOut) if p.kind == ErrorKind::Auth => {
                Ok((signed_out(&self.snapshot), CredentialsState::SignedOut))
            }
            (Err(p), MissingAuth::Fail | MissingAuth::SignedOut) => Err(p),
        }
    }

    fn initial_kind(&self) -> Result<AuthKind, Problem> {
        let s = &self.snapshot;
        if let Some(explicit) = &s.auth_type {
            return Ok(explicit.value);
        }
        if s.openai_api_key.is_some() {
            return Ok(AuthKind::Openai);
        }
        // A local server (Ollama, llama.cpp, vLLM, LM Studio) named by flag, environment or
        // settings needs no key.
        if s.openai_base_url.source != Source::Default && is_loopback_url(&s.openai_base_url.value)
        {
            return Ok(AuthKind::Openai);
        }
        let paths = auth_paths(s);
        match paths.api_key_store().load() {
            Ok(Some(_)) => return Ok(AuthKind::Openai),
            Ok(None) => {}
            Err(e) => {
                return Err(Problem::new(e.kind(), e.to_string())
                    .with_hint("run `qcode auth api-key` to save it again, or `qcode auth logout --api-key` to remove it"));
            }
        }
        if paths.qwen_store().path().exists() {
            return Ok(AuthKind::QwenOauth);
        }
        Err(no_credentials(s))
    }

    /// Credentials and model for `kind`, or what is missing.
    pub fn activate(&self, kind: AuthKind) -> Result<Active, Problem> {
        match kind {
            AuthKind::Openai => self.openai(),
            AuthKind::QwenOauth => self.qwen(),
        }
    }

    fn openai(&self) -> Result<Active, Problem> {
        let s = &self.snapshot;
        let stored = ApiKeyStore::new(&s.paths.qcode_home).load().map_err(|e| {
            Problem::new(e.kind(), e.to_string())
                .with_hint("run `qcode auth api-key` to save it again")
        })?;
        let configured = &s.openai_base_url;
        let prefer_saved = self.prefer_saved.load(std::sync::atomic::Ordering::Relaxed);
        if prefer_saved && let Some(st) = &stored {
            let key = st.api_key.expose();
            return Ok(Active {
                kind: AuthKind::Openai,
                credentials: Arc::new(StaticCredentials(openai_endpoint(
                    &st.base_url,
                    (!key.is_empty()).then(|| key.to_string()),
                ))),
                model: st
                    .model
                    .clone()
                    .or_else(|| s.model.as_ref().map(|m| m.value.clone()))
                    .unwrap_or_default(),
            });
        }
        let (key, base_url, stored_model) = match (&s.openai_api_key, &stored) {
            (Some(key), _) => (
                Some(key.value.expose().to_string()),
                configured.value.clone(),
                None,
            ),
            // A saved key is sent only to the base URL it was saved with.
            (None, Some(st))
                if configured.source == Source::Default
                    || same_base_url(&configured.value, &st.base_url) =>
            {
                let key = st.api_key.expose();
                (
                    (!key.is_empty()).then(|| key.to_string()),
                    st.base_url.clone(),
                    st.model.clone(),
                )
            }
            // Another base URL was chosen: a local server needs no key; anything else would
            // receive a key that belongs to someone else.
            (None, Some(_) | None) if is_loopback_url(&configured.value) => {
                (None, configured.value.clone(), None)
            }
            (None, Some(st)) => {
                return Err(Problem::new(
                    ErrorKind::Auth,
                    format!(
                        "the saved API key belongs to {} and is not sent to {} (set by {})",
                        qcode_client::redact_url(&st.base_url),
                        qcode_client::redact_url(&configured.value),
                        configured.source
                    ),
                )
                .with_hint(format!(
                    "set OPENAI_API_KEY for that provider, or save a key for it with `qcode auth api-key --base-url {}`",
                    qcode_client::redact_url(&configured.value)
                )));
            }
            (None, None) => {
                return Err(Problem::new(
                    ErrorKind::Auth,
                    format!(
                        "OpenAI-compatible auth is selected{} but no API key is set",
                        chosen_by(s)
                    ),
                )
                .with_hint(key_hint(s)));
            }
        };
        let Some(model) = s.model.as_ref().map(|m| m.value.clone()).or(stored_model) else {
            return Err(Problem::new(
                ErrorKind::Config,
                "no model is configured for the OpenAI-compatible provider",
            )
            .with_hint(format!(
                "set OPENAI_MODEL (environment or .env) or pass --model; the base URL is {}",
                qcode_client::redact_url(&base_url)
            )));
        };
        Ok(Active {
            kind: AuthKind::Openai,
            credentials: Arc::new(StaticCredentials(openai_endpoint(&base_url, key))),
            model,
        })
    }

    fn qwen(&self) -> Result<Active, Problem> {
        let s = &self.snapshot;
        let store = QwenCredentialStore::new(&s.paths.qwen_dir);
        match store.load() {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Problem::new(
                    ErrorKind::Auth,
                    format!(
                        "Qwen OAuth is selected{} but you are not signed in",
                        chosen_by(s)
                    ),
                )
                .with_hint("run `qcode auth qwen-oauth` (or /auth in the interactive session)"));
            }
            Err(e) => {
                return Err(Problem::new(ErrorKind::Auth, e.to_string()).with_hint(RELOGIN_HINT));
            }
        }
        let http = crate::http::http_client().map_err(|e| Problem::internal(e.to_string()))?;
        let manager = QwenTokenManager::new(http, oauth_config(s), s.paths.qwen_dir.clone());
        Ok(Active {
            kind: AuthKind::QwenOauth,
            credentials: Arc::new(QwenSource::new(manager)),
            model: qwen_model(s),
        })
    }
}

/// The model for Qwen OAuth: a flag, `QWEN_MODEL` or settings apply; `OPENAI_MODEL` belongs
/// to the key provider, so it is ignored here; else [`QWEN_OAUTH_DEFAULT_MODEL`].
pub fn qwen_model(s: &ConfigSnapshot) -> String {
    s.model
        .as_ref()
        .filter(|m| {
            !matches!(
                m.source,
                Source::Env("OPENAI_MODEL")
                    | Source::DotEnv {
                        var: "OPENAI_MODEL",
                        ..
                    }
            )
        })
        .map(|m| m.value.clone())
        .unwrap_or_else(|| QWEN_OAUTH_DEFAULT_MODEL.to_string())
}

/// ` (by <source>)` when the method was chosen explicitly.
pub fn chosen_by(s: &ConfigSnapshot) -> String {
    match &s.auth_type {
        Some(src) => format!(" (by {})", src.source),
        None => String::new(),
    }
}

/// Where an API key can come from, naming the `.env` file in use (or where one was looked for).
pub fn key_hint(s: &ConfigSnapshot) -> String {
    let env_file = match &s.dotenv_path {
        Some(p) => format!("the .env file in use is {}", p.display()),
        None => "no .env file was found (looked for .qcode/.env and .env from the working directory up, then ~/.qcode/.env and ~/.env)".into(),
    };
    format!(
        "set OPENAI_API_KEY (and OPENAI_MODEL, optionally OPENAI_BASE_URL) in the environment or a .env file; {env_file}"
    )
}

/// Neither a key nor a Qwen login: an auth problem with every way to fix it.
pub fn no_credentials(s: &ConfigSnapshot) -> Problem {
    Problem::new(
        ErrorKind::Auth,
        "no credentials: no API key is configured and you are not signed in with Qwen",
    )
    .with_hint(format!(
        "{}; or run `qcode auth api-key` or `qcode auth qwen-oauth`",
        key_hint(s)
    ))
}

/// The endpoint for an OpenAI-compatible base URL and key (DashScope headers where it wants them).
fn openai_endpoint(base_url: &str, key: Option<String>) -> Endpoint {
    let mut endpoint = Endpoint::new(base_url.to_string(), key.map(Secret::new));
    if wants_dashscope_headers(AuthKind::Openai, base_url) {
        for (k, v) in dashscope_headers(AuthKind::Openai, VERSION) {
            endpoint = endpoint.with_header(k, v);
        }
    }
    endpoint
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`): a local model
/// server, which needs no key.
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return false;
    };
    match parsed.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The same base URL, ignoring a trailing slash and the case of scheme and host.
fn same_base_url(a: &str, b: &str) -> bool {
    let norm = |u: &str| match url::Url::parse(u.trim()) {
        Ok(p) => p.as_str().trim_end_matches('/').to_string(),
        Err(_) => u.trim().trim_end_matches('/').to_string(),
    };
    norm(a) == norm(b)
}

/// What `qcode auth status` shows for `s`: the stores, the active method as the snapshot
/// decides it (an explicit choice, else a key from flag / env / `.env`, else what is stored),
/// and, when a key comes from flag / env / `.env`, where from and for which base URL.
pub fn status_report(s: &ConfigSnapshot) -> String {
    let mut status: AuthStatus = status(&auth_paths(s));
    if let Some(explicit) = &s.auth_type {
        status.active = Some(explicit.value);
    } else if s.openai_api_key.is_some() {
        status.active = Some(AuthKind::Openai);
    }
    let mut out = format!("{status}\n");
    if let Some(key) = &s.openai_api_key {
        out.push_str(&format!(
            "An API key is also set by {} (base URL {}).\n",
            key.source,
            qcode_client::redact_url(&s.openai_base_url.value)
        ));
    }
    out
}

/// What `qcode auth logout` without a scope flag removes: the selected method's credentials,
/// else the only stored method's, else everything.
pub fn default_logout_scope(s: &ConfigSnapshot) -> LogoutScope {
    match s
        .auth_type
        .as_ref()
        .map(|a| a.value)
        .or(status(&auth_paths(s)).active)
    {
        Some(AuthKind::QwenOauth) => LogoutScope::QwenOauth,
        Some(AuthKind::Openai) => LogoutScope::ApiKey,
        None => LogoutScope::All,
    }
}
