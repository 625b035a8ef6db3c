//! Choosing the authentication method and turning it into credentials for the client:
//! an explicit choice (flag or settings) always wins; otherwise an API key from flag / env /
//! `.env` / `~/.qcode/credentials.json` means `openai`, and Qwen credentials in
//! `~/.qwen/oauth_creds.json` mean `qwen-oauth`.

use std::sync::Arc;

use futures::future::BoxFuture;
use qcode_client::{ChatClient, ClientOptions, CredentialSource, Secret, StaticCredentials};
use qcode_config::{ConfigSnapshot, EnvLayer, Source};
use qcode_core::{AuthResolver, Interaction, ResolvedAuth};
use qcode_protocol::{AuthKind, ErrorKind};

use crate::exit::Failure;

pub fn build_client() -> Result<ChatClient, qcode_client::ClientError> {
    ChatClient::new(ClientOptions::default())
}

/// The active method with its credentials and model.
pub struct Active {
    pub kind: AuthKind,
    pub credentials: Arc<dyn CredentialSource>,
    pub model: String,
}

pub struct Resolver {
    snapshot: ConfigSnapshot,
    #[allow(dead_code)]
    env: EnvLayer,
    #[allow(dead_code)]
    client: Arc<ChatClient>,
}

impl Resolver {
    pub fn new(snapshot: ConfigSnapshot, env: EnvLayer, client: Arc<ChatClient>) -> Self {
        Self {
            snapshot,
            env,
            client,
        }
    }

    /// The method to start with.
    pub async fn initial(&self, interaction: Interaction) -> Result<Active, Failure> {
        let _ = interaction;
        match self.snapshot.auth_type.as_ref().map(|s| s.value) {
            Some(kind) => self.activate(kind).await,
            None if self.snapshot.openai_api_key.is_some() => self.activate(AuthKind::Openai).await,
            None => Err(no_credentials(&self.snapshot)),
        }
    }

    async fn activate(&self, kind: AuthKind) -> Result<Active, Failure> {
        match kind {
            AuthKind::Openai => self.openai(),
            AuthKind::QwenOauth => Err(Failure::new(
                ErrorKind::Auth,
                "Qwen OAuth is not available in this build",
                Some("use an OpenAI-compatible key (OPENAI_API_KEY)".into()),
            )),
        }
    }

    fn openai(&self) -> Result<Active, Failure> {
        let s = &self.snapshot;
        let Some(key) = &s.openai_api_key else {
            return Err(Failure::new(
                ErrorKind::Auth,
                format!(
                    "OpenAI-compatible auth is selected{} but no API key is set",
                    chosen_by(s)
                ),
                Some(key_hint(s)),
            ));
        };
        let Some(model) = &s.model else {
            return Err(Failure::new(
                ErrorKind::Config,
                "no model is configured for the OpenAI-compatible provider",
                Some(format!(
                    "set OPENAI_MODEL (environment or .env) or pass --model; the base URL is {}",
                    s.openai_base_url.value
                )),
            ));
        };
        let credentials = StaticCredentials::new(
            s.openai_base_url.value.clone(),
            Some(Secret::new(key.value.expose())),
        );
        Ok(Active {
            kind: AuthKind::Openai,
            credentials: Arc::new(credentials),
            model: model.value.clone(),
        })
    }
}

impl AuthResolver for Resolver {
    fn resolve(
        &self,
        kind: AuthKind,
    ) -> BoxFuture<'_, Result<ResolvedAuth, (ErrorKind, String, Option<String>)>> {
        Box::pin(async move {
            match self.activate(kind).await {
                Ok(a) => Ok(ResolvedAuth {
                    kind: a.kind,
                    credentials: a.credentials,
                    model: Some(a.model),
                }),
                Err(f) => Err((f.kind, f.message, f.hint)),
            }
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
            "{}; or sign in with `qcode auth qwen-oauth`",
            key_hint(s)
        )),
    )
}

pub async fn auth_command(_cli: &crate::cli::Cli, _args: &crate::cli::AuthArgs) -> i32 {
    Failure::new(
        ErrorKind::Input,
        "`qcode auth` is not available in this build",
        None,
    )
    .report()
}

#[allow(dead_code)]
fn _source_is_default(s: &Source) -> bool {
    matches!(s, Source::Default)
}
