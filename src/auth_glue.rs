//! Choosing the authentication method and turning it into credentials for the client.
//!
//! An explicit choice (`--auth-type`, settings `security.auth.selectedType`) always wins.
//! Otherwise: an API key from flag / env / `.env` means `openai`; then a key saved in
//! `~/.qcode/credentials.json`; then Qwen credentials in `~/.qwen/oauth_creds.json` mean
//! `qwen-oauth`. An incomplete explicit choice is an error that says what is missing.

use std::sync::Arc;

use futures::future::BoxFuture;
use qcode_auth::{ApiKeyStore, AuthPaths, QwenCredentialStore, QwenOAuthConfig, QwenTokenManager};
use qcode_client::{
    ChatClient, ClientError, ClientOptions, CredentialSource, Endpoint, Secret, StaticCredentials,
};
use qcode_config::{ConfigSnapshot, Source};
use qcode_core::{AuthResolver, ResolvedAuth};
use qcode_protocol::{AuthKind, ErrorKind};

use crate::exit::Failure;

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn build_client() -> Result<ChatClient, ClientError> {
    ChatClient::new(ClientOptions {
        user_agent: qcode_auth::user_agent(VERSION),
        ..ClientOptions::default()
    })
}

pub fn auth_paths(s: &ConfigSnapshot) -> AuthPaths {
    AuthPaths {
        qwen_dir: s.paths.qwen_dir.clone(),
        qcode_home: s.paths.qcode_home.clone(),
    }
}

pub fn oauth_config(s: &ConfigSnapshot) -> QwenOAuthConfig {
    QwenOAuthConfig::with_base_url(s.qwen_oauth_base_url.value.clone())
}

/// The active method with its credentials and model.
pub struct Active {
    pub kind: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    pub model: String,
}

pub struct Resolver {
    snapshot: ConfigSnapshot,
}

impl Resolver {
    pub fn new(snapshot: ConfigSnapshot) -> Self {
        Self { snapshot }
    }

    /// The method to start with: explicit, else inferred.
    pub fn initial(&self) -> Result<Active, Failure> {
        self.activate(self.initial_kind()?)
    }

    fn initial_kind(&self) -> Result<AuthKind, Failure> {
        let s = &self.snapshot;
        if let Some(explicit) = &s.auth_type {
            return Ok(explicit.value);
        }
        if s.openai_api_key.is_some() {
            return Ok(AuthKind::Openai);
        }
        let paths = auth_paths(s);
        if matches!(paths.api_key_store().load(), Ok(Some(_))) {
            return Ok(AuthKind::Openai);
        }
        if paths.qwen_store().path().exists() {
            return Ok(AuthKind::QwenOauth);
        }
        Err(no_credentials(s))
    }

    pub fn activate(&self, kind: AuthKind) -> Result<Active, Failure> {
        match kind {
            AuthKind::Openai => self.openai(),
            AuthKind::QwenOauth => self.qwen(),
        }
    }

    fn openai(&self) -> Result<Active, Failure> {
        let s = &self.snapshot;
        let stored = ApiKeyStore::new(&s.paths.qcode_home).load().map_err(|e| {
            Failure::new(
                e.kind(),
                e.to_string(),
                Some("run `qcode auth api-key` to save it again".into()),
            )
        })?;
        let (key, base_url, stored_model) = match (&s.openai_api_key, &stored) {
            (Some(key), _) => (
                key.value.expose().to_string(),
                s.openai_base_url.value.clone(),
                None,
            ),
            (None, Some(st)) => {
                // A base URL given by flag / env / settings still wins over the saved one.
                let base = match s.openai_base_url.source {
                    Source::Default => st.base_url.clone(),
                    Source::Cli(_)
                    | Source::Env(_)
                    | Source::DotEnv { .. }
                    | Source::UserSettings(_)
                    | Source::ProjectSettings(_) => s.openai_base_url.value.clone(),
                };
                (st.api_key.expose().to_string(), base, st.model.clone())
            }
            (None, None) => {
                return Err(Failure::new(
                    ErrorKind::Auth,
                    format!(
                        "OpenAI-compatible auth is selected{} but no API key is set",
                        chosen_by(s)
                    ),
                    Some(key_hint(s)),
                ));
            }
        };
        let Some(model) = s.model.as_ref().map(|m| m.value.clone()).or(stored_model) else {
            return Err(Failure::new(
                ErrorKind::Config,
                "no model is configured for the OpenAI-compatible provider",
                Some(format!(
                    "set OPENAI_MODEL (environment or .env) or pass --model; the base URL is {base_url}"
                )),
            ));
        };
        let mut endpoint = Endpoint::new(base_url.clone(), Some(Secret::new(key)));
        if qcode_auth::wants_dashscope_headers(AuthKind::Openai, &base_url) {
            for (k, v) in qcode_auth::dashscope_headers(AuthKind::Openai, VERSION) {
                endpoint = endpoint.with_header(k, v);
            }
        }
        Ok(Active {
            kind: AuthKind::Openai,
            credentials: Arc::new(StaticCredentials(endpoint)),
            model,
        })
    }

    fn qwen(&self) -> Result<Active, Failure> {
        let s = &self.snapshot;
        let store = QwenCredentialStore::new(&s.paths.qwen_dir);
        match store.load() {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Failure::new(
                    ErrorKind::Auth,
                    format!(
                        "Qwen OAuth is selected{} but you are not signed in",
                        chosen_by(s)
                    ),
                    Some(
                        "run `qcode auth qwen-oauth` (or /auth in the interactive session)".into(),
                    ),
                ));
            }
            Err(e) => {
                return Err(Failure::new(
                    ErrorKind::Auth,
                    e.to_string(),
                    Some(qcode_auth::RELOGIN_HINT.into()),
                ));
            }
        }
        let http = qcode_auth::http_client()
            .map_err(|e| Failure::new(ErrorKind::Internal, e.to_string(), None))?;
        let manager = QwenTokenManager::new(http, oauth_config(s), s.paths.qwen_dir.clone());
        // OPENAI_MODEL belongs to the key provider; a flag, QWEN_MODEL or settings apply here.
        let model = s
            .model
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
            .unwrap_or_else(|| qcode_auth::QWEN_OAUTH_DEFAULT_MODEL.to_string());
        Ok(Active {
            kind: AuthKind::QwenOauth,
            credentials: Arc::new(QwenSource { manager }),
            model,
        })
    }
}

impl AuthResolver for Resolver {
    fn resolve(
        &self,
        kind: AuthKind,
    ) -> BoxFuture<'_, Result<ResolvedAuth, (ErrorKind, String, Option<String>)>> {
        // Re-read the snapshot's stores: the user may have just signed in or saved a key.
        let result = match self.activate(kind) {
            Ok(a) => Ok(ResolvedAuth {
                kind: a.kind,
                credentials: a.credentials,
                model: Some(a.model),
            }),
            Err(f) => Err((f.kind, f.message, f.hint)),
        };
        Box::pin(async move { result })
    }
}

/// Qwen OAuth credentials: refreshed before expiry and after a 401, shared with Qwen Code.
struct QwenSource {
    manager: QwenTokenManager,
}

fn qwen_endpoint(creds: &qcode_auth::QwenCredentials) -> Endpoint {
    let mut e = Endpoint::new(
        creds.api_base_url(),
        Some(Secret::new(creds.access_token.expose())),
    );
    for (k, v) in qcode_auth::dashscope_headers(AuthKind::QwenOauth, VERSION) {
        e = e.with_header(k, v);
    }
    e
}

fn to_client_error(e: qcode_auth::AuthError) -> ClientError {
    ClientError::Credentials {
        message: e.to_string(),
    }
}

impl CredentialSource for QwenSource {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        Box::pin(async move {
            let creds = self
                .manager
                .valid_credentials()
                .await
                .map_err(to_client_error)?;
            Ok(qwen_endpoint(&creds))
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async move {
            let token = rejected
                .bearer
                .as_ref()
                .map(|b| b.expose().to_string())
                .unwrap_or_default();
            let creds = self
                .manager
                .refresh_after_unauthorized(&token)
                .await
                .map_err(to_client_error)?;
            Ok(Some(qwen_endpoint(&creds)))
        })
    }
}

fn chosen_by(s: &ConfigSnapshot) -> String {
    match &s.auth_type {
        Some(src) => format!(" (by {})", src.source),
        None => String::new(),
    }
}

fn key_hint(s: &ConfigSnapshot) -> String {
    let env_file = match &s.dotenv_path {
        Some(p) => format!("the .env file in use is {}", p.display()),
        None => "no .env file was found (looked for .qcode/.env and .env from the working directory up, then ~/.qcode/.env and ~/.env)".into(),
    };
    format!(
        "set OPENAI_API_KEY (and OPENAI_MODEL, optionally OPENAI_BASE_URL) in the environment or a .env file; {env_file}"
    )
}

fn no_credentials(s: &ConfigSnapshot) -> Failure {
    Failure::new(
        ErrorKind::Auth,
        "no credentials: no API key is configured and you are not signed in with Qwen",
        Some(format!(
            "{}; or run `qcode auth api-key` or `qcode auth qwen-oauth`",
            key_hint(s)
        )),
    )
}
