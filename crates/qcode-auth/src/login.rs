//! The two sign-in flows, once each, for both front ends: the Qwen OAuth device flow and saving
//! an API key. They report progress through a callback and return a summary or a [`Problem`];
//! rendering is the caller's (`qcode auth` prints, the TUI forwards to its dialog). Recording
//! the chosen method in the settings is left to the caller as well.

use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use qcode_client::{
    ChatClient, ChatRequest, ClientError, CredentialSource, Endpoint, StaticCredentials,
};
use qcode_protocol::{AuthKind, ChatMessage, LoginEvent, Problem};
use tokio_util::sync::CancellationToken;

use crate::api_key::ApiKeyCredentials;
use crate::browser::{BrowserLaunch, open_browser};
use crate::cli::AuthPaths;
use crate::config::QwenOAuthConfig;
use crate::device::{PollEvent, poll_device_flow, start_device_flow};
use crate::error::AuthError;
use crate::headers::{dashscope_headers, wants_dashscope_headers};
use crate::lock::{CredentialsLock, LockPolicy};
use crate::qr::qr_lines;
use crate::resolve::{VERSION, build_client};
use crate::secret::Secret;

/// Whether the login shows a QR code of the verification URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrDisplay {
    #[default]
    Show,
    Hide,
}

#[derive(Debug, Clone, Default)]
pub struct QwenLoginOptions {
    pub oauth: QwenOAuthConfig,
    pub browser: BrowserLaunch,
    pub qr: QrDisplay,
}

impl QwenLoginOptions {
    /// For `qcode auth qwen-oauth`: the browser opens unless `no_browser` or stderr is not a
    /// terminal (a headless sign-in prints the URL and code only); the QR code shows only on a
    /// terminal.
    pub fn for_command_line(oauth: QwenOAuthConfig, no_browser: bool, stderr_is_tty: bool) -> Self {
        Self {
            oauth,
            browser: if no_browser || !stderr_is_tty {
                BrowserLaunch::Never
            } else {
                BrowserLaunch::Auto
            },
            qr: if stderr_is_tty {
                QrDisplay::Show
            } else {
                QrDisplay::Hide
            },
        }
    }
}

/// What a finished Qwen OAuth login produced (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QwenLoginSummary {
    pub api_base_url: String,
    pub credentials_path: PathBuf,
    pub expiry_date_ms: i64,
}

/// The Qwen OAuth device flow: starts it, reports the code (with the QR code unless hidden,
/// and whether a browser was opened), polls honouring `slow_down` while reporting the
/// countdown, and saves the credentials under the credentials lock. `cancel` stops it at any
/// point with [`AuthError::Cancelled`]'s message.
pub async fn qwen_device_login(
    http: &reqwest::Client,
    paths: &AuthPaths,
    opts: &QwenLoginOptions,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(LoginEvent),
) -> Result<QwenLoginSummary, Problem> {
    let auth = tokio::select! {
        () = cancel.cancelled() => return Err(AuthError::Cancelled.into()),
        r = start_device_flow(http, &opts.oauth) => r?,
    };
    let url = auth.browser_url().to_string();
    on_event(LoginEvent::DeviceCode {
        qr_lines: match opts.qr {
            QrDisplay::Show => qr_lines(&url),
            QrDisplay::Hide => Vec::new(),
        },
        browser_opened: open_browser(&url, opts.browser),
        verification_url: url,
        user_code: auth.user_code.clone(),
        expires_in: auth.expires_in,
    });
    let creds = poll_device_flow(http, &opts.oauth, &auth, cancel, |event| {
        on_event(match event {
            PollEvent::Pending { seconds_left, .. } => LoginEvent::Waiting { seconds_left },
            PollEvent::SlowDown {
                seconds_left,
                interval,
            } => LoginEvent::SlowDown {
                seconds_left,
                interval,
            },
        });
    })
    .await?;
    let store = paths.qwen_store();
    let lock = CredentialsLock::acquire(&store.lock_path(), &LockPolicy::default(), cancel).await?;
    let saved = store.save(&creds);
    lock.release();
    saved?;
    Ok(QwenLoginSummary {
        api_base_url: creds.api_base_url(),
        credentials_path: store.path(),
        expiry_date_ms: creds.expiry_date,
    })
}

/// A key to save for an OpenAI-compatible provider.
#[derive(Debug, Clone)]
pub struct ApiKeyLogin {
    pub base_url: String,
    pub model: Option<String>,
    pub api_key: Secret,
}

impl ApiKeyLogin {
    /// What was typed into a dialog: surrounding whitespace and trailing `/`s of the base URL
    /// dropped, the model and key trimmed.
    pub fn typed(base_url: &str, model: &str, api_key: &str) -> Self {
        Self {
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            model: Some(model.trim().to_string()),
            api_key: Secret::new(api_key.trim()),
        }
    }
}

/// Whether the key is tried against the provider before it is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// Save without asking the provider (`qcode auth api-key`).
    Skip,
    /// `GET {base}/models`, or a one-token chat request when the provider answers 404
    /// (`/auth` in the TUI).
    AgainstProvider,
}

/// Progress of [`save_api_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyEvent {
    /// The key is being tried against the provider at `base_url`.
    Checking { base_url: String },
    /// The provider accepted the key.
    Accepted,
    /// The key was saved to `path`.
    Saved { path: PathBuf },
}

/// The API-key flow: validates the base URL, the key and the model, checks the key against
/// the provider if asked, then saves it (0600) in `<qcode_home>/credentials.json`. Returns
/// where it was saved.
pub async fn save_api_key(
    paths: &AuthPaths,
    login: &ApiKeyLogin,
    check: KeyCheck,
    mut on_event: impl FnMut(ApiKeyEvent),
) -> Result<PathBuf, Problem> {
    let creds = ApiKeyCredentials {
        base_url: login.base_url.clone(),
        api_key: login.api_key.clone(),
        model: login.model.clone(),
    };
    creds.validate()?;
    match check {
        KeyCheck::Skip => {}
        KeyCheck::AgainstProvider => {
            let client = build_client()
                .map_err(|e| Problem::internal(format!("cannot build the HTTP client: {e}")))?;
            on_event(ApiKeyEvent::Checking {
                base_url: creds.base_url.clone(),
            });
            check_key(
                &client,
                &creds.base_url,
                creds.api_key.expose(),
                creds.model.as_deref().unwrap_or_default(),
            )
            .await?;
            on_event(ApiKeyEvent::Accepted);
        }
    }
    let store = paths.api_key_store();
    store.save(&creds)?;
    let path = store.path();
    on_event(ApiKeyEvent::Saved { path: path.clone() });
    Ok(path)
}

/// `GET {base}/models`, or — when the provider has no model list (404) — a one-token chat
/// request.
async fn check_key(
    client: &ChatClient,
    base_url: &str,
    key: &str,
    model: &str,
) -> Result<(), Problem> {
    let bearer = (!key.is_empty()).then(|| qcode_client::Secret::new(key));
    let mut endpoint = Endpoint::new(base_url, bearer);
    if wants_dashscope_headers(AuthKind::Openai, base_url) {
        for (k, v) in dashscope_headers(AuthKind::Openai, VERSION) {
            endpoint = endpoint.with_header(k, v);
        }
    }
    let creds: Arc<dyn CredentialSource> = Arc::new(StaticCredentials(endpoint));
    match client.list_models(&*creds, CancellationToken::new()).await {
        Ok(_) => Ok(()),
        Err(ClientError::NotFound { .. }) => {
            let mut request = ChatRequest::new(model, vec![ChatMessage::user("Say OK.")]);
            request.max_tokens = Some(1);
            let mut stream = client.stream(creds, &request, CancellationToken::new());
            match stream.next().await {
                Some(Ok(_)) | None => Ok(()),
                Some(Err(e)) => Err(check_failed(&e)),
            }
        }
        Err(e) => Err(check_failed(&e)),
    }
}

fn check_failed(e: &ClientError) -> Problem {
    let p = Problem::new(e.kind(), format!("the key check failed: {e}"));
    match e.hint() {
        Some(h) => p.with_hint(h),
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_options_follow_the_terminal() {
        let o = QwenLoginOptions::for_command_line(QwenOAuthConfig::default(), false, true);
        assert_eq!((o.browser, o.qr), (BrowserLaunch::Auto, QrDisplay::Show));
        let o = QwenLoginOptions::for_command_line(QwenOAuthConfig::default(), true, true);
        assert_eq!((o.browser, o.qr), (BrowserLaunch::Never, QrDisplay::Show));
        let o = QwenLoginOptions::for_command_line(QwenOAuthConfig::default(), false, false);
        assert_eq!((o.browser, o.qr), (BrowserLaunch::Never, QrDisplay::Hide));
    }

    #[test]
    fn a_typed_key_is_trimmed() {
        let l = ApiKeyLogin::typed(" https://x.test/v1// ", " m1 ", " sk-1\n");
        assert_eq!(l.base_url, "https://x.test/v1");
        assert_eq!(l.model.as_deref(), Some("m1"));
        assert_eq!(l.api_key.expose(), "sk-1");
    }
}
