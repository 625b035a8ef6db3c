//! `AuthError`: everything that can go wrong while logging in, refreshing, or reading and
//! writing credentials. Every message says what happened and what to do; none contains a secret.

use std::path::PathBuf;

use qcode_protocol::ErrorKind;

/// What to tell a user who has to log in again.
pub const RELOGIN_HINT: &str = "run `/auth` in qcode or `qcode auth qwen-oauth` to log in again";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not logged in with Qwen OAuth ({} does not exist); run `/auth` in qcode or `qcode auth qwen-oauth` to log in", path.display())]
    NotLoggedIn { path: PathBuf },

    #[error(
        "the Qwen OAuth login has expired or was revoked (the server refused the refresh token with HTTP {status}); {RELOGIN_HINT}"
    )]
    LoginExpired { status: u16 },

    #[error(
        "the login request was denied in the browser; run `qcode auth qwen-oauth` again and approve it"
    )]
    AccessDenied,

    #[error(
        "the login code expired before it was approved; run `qcode auth qwen-oauth` again and approve it in time"
    )]
    DeviceCodeExpired,

    #[error("login cancelled")]
    Cancelled,

    #[error(
        "could not reach {url}: {detail}; check the network connection, proxy settings and the OAuth base URL"
    )]
    Network { url: String, detail: String },

    #[error("the OAuth server at {url} answered HTTP {status} `{error}`{}; check the OAuth base URL, or try again later", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuthServer {
        url: String,
        status: u16,
        error: String,
        description: Option<String>,
    },

    #[error(
        "unexpected answer from {url} (HTTP {status}): {reason}; check that the OAuth base URL points at a Qwen OAuth server"
    )]
    InvalidResponse {
        url: String,
        status: u16,
        reason: String,
    },

    #[error("invalid URL `{url}`: {reason}; fix the base URL in settings or on the command line")]
    InvalidUrl { url: String, reason: String },

    #[error("{} is not a valid Qwen OAuth credentials file ({reason}); {RELOGIN_HINT}", path.display())]
    InvalidCredentials { path: PathBuf, reason: String },

    #[error("{} is not a valid qcode credentials file ({reason}); save the key again with `qcode auth api-key`", path.display())]
    InvalidApiKeyFile { path: PathBuf, reason: String },

    #[error("no API key is saved in {}; run `qcode auth api-key` or set OPENAI_API_KEY", path.display())]
    NoApiKey { path: PathBuf },

    #[error("invalid API key: {reason}; paste the key exactly as your provider shows it")]
    InvalidApiKey { reason: String },

    #[error("could not {action} {}: {source}; check the permissions of that directory", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("timed out waiting for the credentials lock {}; another qcode or Qwen Code process may be refreshing the login. If none is running, delete that file and retry", path.display())]
    LockTimeout { path: PathBuf },
}

impl AuthError {
    /// The error class shared across qcode (exit codes, telemetry error kinds).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotLoggedIn { .. }
            | Self::LoginExpired { .. }
            | Self::AccessDenied
            | Self::DeviceCodeExpired
            | Self::InvalidCredentials { .. }
            | Self::NoApiKey { .. }
            | Self::LockTimeout { .. } => ErrorKind::Auth,
            Self::Cancelled => ErrorKind::Interrupted,
            Self::Network { .. } => ErrorKind::Network,
            Self::OAuthServer { status, .. } => match status {
                429 => ErrorKind::RateLimit,
                500..=599 => ErrorKind::Server,
                _ => ErrorKind::Auth,
            },
            Self::InvalidResponse { .. } => ErrorKind::Server,
            Self::InvalidUrl { .. } | Self::InvalidApiKeyFile { .. } | Self::Io { .. } => {
                ErrorKind::Config
            }
            Self::InvalidApiKey { .. } => ErrorKind::Input,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Keeps the kind; the message already says what to do.
impl From<AuthError> for qcode_protocol::Problem {
    fn from(e: AuthError) -> Self {
        qcode_protocol::Problem::new(e.kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_hints() {
        let e = AuthError::LoginExpired { status: 400 };
        assert_eq!(e.kind(), ErrorKind::Auth);
        let msg = e.to_string();
        assert!(
            msg.contains("/auth") && msg.contains("qcode auth qwen-oauth"),
            "{msg}"
        );
        assert_eq!(
            AuthError::Network {
                url: "http://x".into(),
                detail: "refused".into()
            }
            .kind(),
            ErrorKind::Network
        );
        assert_eq!(
            AuthError::InvalidUrl {
                url: "x".into(),
                reason: "r".into()
            }
            .kind(),
            ErrorKind::Config
        );
        assert_eq!(AuthError::Cancelled.kind(), ErrorKind::Interrupted);
        let server = AuthError::OAuthServer {
            url: "u".into(),
            status: 503,
            error: "temporarily_unavailable".into(),
            description: Some("busy".into()),
        };
        assert_eq!(server.kind(), ErrorKind::Server);
        assert_eq!(
            server.to_string(),
            "the OAuth server at u answered HTTP 503 `temporarily_unavailable` (busy); check the OAuth base URL, or try again later"
        );
    }
}
