//! Back ends of `qcode auth …`: log in with Qwen OAuth or an API key (the flows of
//! [`crate::login`], rendered as text), show the status, log out. They write human text to the
//! given writers (prompts and progress to `err`, results to `out`) and return typed results;
//! the binary only parses arguments and maps errors to exit codes. No secret is ever written
//! to either stream.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use qcode_protocol::{AuthKind, LoginEvent, Problem};
use tokio_util::sync::CancellationToken;

use crate::api_key::ApiKeyStore;
use crate::config::QWEN_OAUTH_DEFAULT_MODEL;
use crate::credentials::{QwenCredentialStore, QwenCredentials, now_ms};
use crate::error::AuthError;
use crate::lock::{CredentialsLock, LockPolicy};
use crate::login::{
    ApiKeyEvent, ApiKeyLogin, KeyCheck, QwenLoginOptions, QwenLoginSummary, qwen_device_login,
    save_api_key,
};

/// Where credentials live. Both are given by the caller (tests use temp dirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPaths {
    /// `$HOME/.qwen` (shared with Qwen Code).
    pub qwen_dir: PathBuf,
    /// `~/.qcode` or `$QCODE_HOME`.
    pub qcode_home: PathBuf,
}

impl AuthPaths {
    pub fn qwen_store(&self) -> QwenCredentialStore {
        QwenCredentialStore::new(&self.qwen_dir)
    }

    pub fn api_key_store(&self) -> ApiKeyStore {
        ApiKeyStore::new(&self.qcode_home)
    }
}

/// The two output streams of a command.
pub struct Console<'a> {
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
}

/// Renders the device flow's events as `qcode auth qwen-oauth` prints them (on `err`).
pub fn render_login_event(err: &mut dyn Write, event: &LoginEvent) {
    match event {
        LoginEvent::DeviceCode {
            verification_url,
            user_code,
            qr_lines,
            expires_in,
            browser_opened,
        } => {
            let _ = writeln!(
                err,
                "To log in with Qwen, open this page and approve the request:"
            );
            let _ = writeln!(err, "  {verification_url}");
            let _ = writeln!(err, "Code: {user_code}");
            if !qr_lines.is_empty() {
                let _ = writeln!(err, "Or scan this with your phone:");
                for line in qr_lines {
                    let _ = writeln!(err, "  {line}");
                }
            }
            if *browser_opened {
                let _ = writeln!(err, "Opened the page in your browser.");
            }
            let _ = writeln!(
                err,
                "Waiting for approval ({} left; Ctrl-C to cancel)…",
                clock(expires_in.as_secs())
            );
        }
        LoginEvent::Waiting { seconds_left } => {
            let _ = writeln!(err, "  still waiting… {} left", clock(*seconds_left));
        }
        LoginEvent::SlowDown {
            seconds_left,
            interval,
        } => {
            let _ = writeln!(
                err,
                "  the server asked to slow down; checking every {} s… {} left",
                interval.as_secs_f32().round(),
                clock(*seconds_left)
            );
        }
    }
}

/// `qcode auth qwen-oauth`: runs [`qwen_device_login`], printing the code, URL, QR code and a
/// countdown to `err`, and confirms on `out`.
pub async fn login_qwen_oauth(
    http: &reqwest::Client,
    paths: &AuthPaths,
    opts: &QwenLoginOptions,
    cancel: &CancellationToken,
    console: &mut Console<'_>,
) -> Result<QwenLoginSummary, Problem> {
    let err = &mut *console.err;
    let summary = qwen_device_login(http, paths, opts, cancel, |event| {
        render_login_event(err, &event);
    })
    .await?;
    let _ = writeln!(
        console.out,
        "Logged in with Qwen OAuth (API {}, model {QWEN_OAUTH_DEFAULT_MODEL}). Credentials saved to {}.",
        summary.api_base_url,
        summary.credentials_path.display()
    );
    Ok(summary)
}

/// `qcode auth api-key`: runs [`save_api_key`] without asking the provider and confirms on
/// `out`.
pub async fn login_api_key(
    paths: &AuthPaths,
    login: &ApiKeyLogin,
    console: &mut Console<'_>,
) -> Result<(), Problem> {
    let out = &mut *console.out;
    let model = login
        .model
        .as_deref()
        .map(|m| format!(", model {m}"))
        .unwrap_or_default();
    save_api_key(paths, login, KeyCheck::Skip, |event| match event {
        ApiKeyEvent::Checking { .. } | ApiKeyEvent::Accepted => {}
        ApiKeyEvent::Saved { path } => {
            let _ = writeln!(
                out,
                "Saved the API key for {}{model} to {}.",
                display_url(&login.base_url),
                path.display()
            );
        }
    })
    .await?;
    Ok(())
}

/// The Qwen OAuth side of [`AuthStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QwenLoginState {
    NotLoggedIn,
    Invalid {
        reason: String,
    },
    LoggedIn {
        api_base_url: String,
        model: &'static str,
        expiry_date_ms: i64,
        /// Seconds until the access token expires (negative: expired; the refresh token may
        /// still work).
        expires_in_secs: i64,
    },
}

/// The API-key side of [`AuthStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyState {
    NotSaved,
    Invalid {
        reason: String,
    },
    Saved {
        base_url: String,
        model: Option<String>,
    },
}

/// What is stored, without secrets. `active` is inferred when only one method is stored; the
/// binary may overwrite it with the method selected in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStatus {
    pub active: Option<AuthKind>,
    pub qwen: QwenLoginState,
    pub qwen_path: PathBuf,
    pub api_key: ApiKeyState,
    pub api_key_path: PathBuf,
}

/// Reads both stores (never fails on a broken file: it is reported as `Invalid`).
pub fn status(paths: &AuthPaths) -> AuthStatus {
    let qwen_store = paths.qwen_store();
    let key_store = paths.api_key_store();
    let qwen = match qwen_store.load() {
        Ok(None) => QwenLoginState::NotLoggedIn,
        Ok(Some(c)) => logged_in(&c),
        Err(e) => QwenLoginState::Invalid {
            reason: e.to_string(),
        },
    };
    let api_key = match key_store.load() {
        Ok(None) => ApiKeyState::NotSaved,
        Ok(Some(k)) => ApiKeyState::Saved {
            base_url: display_url(&k.base_url),
            model: k.model,
        },
        Err(e) => ApiKeyState::Invalid {
            reason: e.to_string(),
        },
    };
    let active = match (&qwen, &api_key) {
        (QwenLoginState::LoggedIn { .. }, ApiKeyState::Saved { .. }) => None,
        (QwenLoginState::LoggedIn { .. }, _) => Some(AuthKind::QwenOauth),
        (_, ApiKeyState::Saved { .. }) => Some(AuthKind::Openai),
        _ => None,
    };
    AuthStatus {
        active,
        qwen,
        qwen_path: qwen_store.path(),
        api_key,
        api_key_path: key_store.path(),
    }
}

fn logged_in(c: &QwenCredentials) -> QwenLoginState {
    QwenLoginState::LoggedIn {
        api_base_url: display_url(&c.api_base_url()),
        model: QWEN_OAUTH_DEFAULT_MODEL,
        expiry_date_ms: c.expiry_date,
        expires_in_secs: (c.expiry_date - now_ms()).div_euclid(1000),
    }
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let active = match self.active {
            Some(kind) => kind.as_str(),
            None => "as selected in settings",
        };
        writeln!(f, "Active method: {active}")?;
        match &self.qwen {
            QwenLoginState::NotLoggedIn => writeln!(f, "Qwen OAuth:    not logged in")?,
            QwenLoginState::Invalid { reason } => {
                writeln!(f, "Qwen OAuth:    unusable credentials file: {reason}")?;
            }
            QwenLoginState::LoggedIn {
                api_base_url,
                model,
                expires_in_secs,
                ..
            } => {
                let expiry = if *expires_in_secs > 0 {
                    format!("access token valid for {}", human(*expires_in_secs))
                } else {
                    "access token expired; it is refreshed on next use".to_string()
                };
                writeln!(
                    f,
                    "Qwen OAuth:    logged in; API {api_base_url}, model {model}, {expiry}"
                )?;
            }
        }
        writeln!(f, "               ({})", self.qwen_path.display())?;
        match &self.api_key {
            ApiKeyState::NotSaved => writeln!(f, "API key:       none saved")?,
            ApiKeyState::Invalid { reason } => {
                writeln!(f, "API key:       unusable credentials file: {reason}")?;
            }
            ApiKeyState::Saved { base_url, model } => {
                let model = model
                    .as_deref()
                    .map(|m| format!(", model {m}"))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "API key:       saved for {}{model}",
                    qcode_client::redact_url(base_url)
                )?;
            }
        }
        write!(f, "               ({})", self.api_key_path.display())
    }
}

/// What `qcode auth logout` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    QwenOauth,
    ApiKey,
    All,
}

/// Removes stored credentials. The Qwen OAuth file is removed under the refresh lock; Qwen Code
/// shares it, so it is logged out too (said in the output).
pub async fn logout(
    paths: &AuthPaths,
    scope: LogoutScope,
    cancel: &CancellationToken,
    console: &mut Console<'_>,
) -> Result<(), AuthError> {
    let (qwen, key) = match scope {
        LogoutScope::QwenOauth => (true, false),
        LogoutScope::ApiKey => (false, true),
        LogoutScope::All => (true, true),
    };
    if qwen {
        let store = paths.qwen_store();
        let lock =
            CredentialsLock::acquire(&store.lock_path(), &LockPolicy::default(), cancel).await?;
        let removed = store.remove();
        lock.release();
        if removed? {
            let _ = writeln!(
                console.out,
                "Logged out of Qwen OAuth (removed {}; Qwen Code shares this login and is logged out too).",
                store.path().display()
            );
        } else {
            let _ = writeln!(console.out, "No Qwen OAuth login to remove.");
        }
    }
    if key {
        let store = paths.api_key_store();
        if store.remove()? {
            let _ = writeln!(
                console.out,
                "Removed the saved API key ({}).",
                store.path().display()
            );
        } else {
            let _ = writeln!(console.out, "No saved API key to remove.");
        }
    }
    Ok(())
}

/// `m:ss`.
fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn human(secs: i64) -> String {
    match secs {
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A URL without credentials or query (they could hold secrets).
fn display_url(raw: &str) -> String {
    match url::Url::parse(raw.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => "(invalid URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_helpers() {
        assert_eq!(clock(600), "10:00");
        assert_eq!(clock(61), "1:01");
        assert_eq!(human(3 * 3600 + 5 * 60 + 9), "3 h 5 min");
        assert_eq!(human(125), "2 min");
        assert_eq!(human(9), "9 s");
        assert_eq!(
            display_url("https://user:pw@host.test/v1?key=sk-1#x"),
            "https://host.test/v1"
        );
        assert_eq!(display_url("::"), "(invalid URL)");
    }
}
