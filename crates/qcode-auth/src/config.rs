//! Qwen OAuth endpoints and client settings, and the API base URL derived from a token's
//! `resource_url`. Plain data: the caller builds a `QwenOAuthConfig` and passes it in.

use std::time::Duration;

use oauth2::{DeviceAuthorizationUrl, TokenUrl};

use crate::error::AuthError;

/// Qwen's OAuth server.
pub const QWEN_OAUTH_BASE_URL: &str = "https://chat.qwen.ai";
/// Qwen Code's public client id (no secret). Sharing it lets qcode and Qwen Code share a login.
pub const QWEN_OAUTH_CLIENT_ID: &str = "f0304373b74a44d2b584a3fb70ca9e56";
pub const QWEN_OAUTH_SCOPE: &str = "openid profile email model.completion";
pub const DEVICE_CODE_PATH: &str = "/api/v1/oauth2/device/code";
pub const TOKEN_PATH: &str = "/api/v1/oauth2/token";
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Model used with Qwen OAuth unless the user picks another.
pub const QWEN_OAUTH_DEFAULT_MODEL: &str = "coder-model";
/// API base URL when a Qwen OAuth token carries no `resource_url`.
pub const DEFAULT_DASHSCOPE_BASE_URL: &str = "https://dashscope.aliyuncs.com/compatible-mode/v1";

/// How the device-flow poll loop paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPacing {
    /// Interval when the server sends none (RFC 8628: 5 s).
    pub default_interval: Duration,
    /// Added to the interval on each `slow_down` (RFC 8628: 5 s).
    pub slow_down_step: Duration,
}

impl Default for PollPacing {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(5),
            slow_down_step: Duration::from_secs(5),
        }
    }
}

/// What a refresh refused with HTTP 400/401 does to the shared credentials file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedRefresh {
    /// The login is dead: remove `oauth_creds.json` (only Qwen's own OAuth server may decide
    /// that — the file is shared with Qwen Code).
    RemoveLogin,
    /// Keep the file: a server other than Qwen's refused it, which says nothing about the login.
    KeepLogin,
}

/// Where and as whom to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QwenOAuthConfig {
    /// Scheme + host (+ optional port) of the OAuth server, e.g. `https://chat.qwen.ai`.
    pub base_url: String,
    pub client_id: String,
    pub scope: String,
    pub pacing: PollPacing,
    /// [`RefusedRefresh::RemoveLogin`] for Qwen's own server, else `KeepLogin`.
    pub on_refused_refresh: RefusedRefresh,
}

impl Default for QwenOAuthConfig {
    fn default() -> Self {
        Self {
            base_url: QWEN_OAUTH_BASE_URL.to_string(),
            client_id: QWEN_OAUTH_CLIENT_ID.to_string(),
            scope: QWEN_OAUTH_SCOPE.to_string(),
            pacing: PollPacing::default(),
            on_refused_refresh: RefusedRefresh::RemoveLogin,
        }
    }
}

impl QwenOAuthConfig {
    /// The default configuration pointed at another OAuth server (tests, proxies). A refusal
    /// from a server that is not Qwen's own never removes the shared login.
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        let official = base_url.trim().trim_end_matches('/') == QWEN_OAUTH_BASE_URL;
        Self {
            base_url,
            on_refused_refresh: if official {
                RefusedRefresh::RemoveLogin
            } else {
                RefusedRefresh::KeepLogin
            },
            ..Self::default()
        }
    }

    pub fn device_code_url(&self) -> Result<DeviceAuthorizationUrl, AuthError> {
        let url = self.endpoint(DEVICE_CODE_PATH)?;
        DeviceAuthorizationUrl::new(url.clone()).map_err(|e| invalid_url(&url, e))
    }

    pub fn token_url(&self) -> Result<TokenUrl, AuthError> {
        let url = self.endpoint(TOKEN_PATH)?;
        TokenUrl::new(url.clone()).map_err(|e| invalid_url(&url, e))
    }

    fn endpoint(&self, path: &str) -> Result<String, AuthError> {
        let base = self.base_url.trim().trim_end_matches('/');
        let parsed = url::Url::parse(base).map_err(|e| invalid_url(base, e))?;
        match parsed.scheme() {
            "https" | "http" => {}
            other => {
                return Err(AuthError::InvalidUrl {
                    url: base.to_string(),
                    reason: format!("scheme `{other}` is not http or https"),
                });
            }
        }
        if parsed.host_str().is_none() {
            return Err(AuthError::InvalidUrl {
                url: base.to_string(),
                reason: "it has no host".to_string(),
            });
        }
        Ok(format!("{base}{path}"))
    }
}

fn invalid_url(url: &str, e: url::ParseError) -> AuthError {
    AuthError::InvalidUrl {
        url: url.to_string(),
        reason: e.to_string(),
    }
}

/// The OpenAI-compatible API base URL for a Qwen OAuth token: `resource_url` with `https://`
/// added when it has no scheme and `/v1` appended unless already there; without one, DashScope.
pub fn api_base_url(resource_url: Option<&str>) -> String {
    let Some(raw) = resource_url.map(str::trim).filter(|s| !s.is_empty()) else {
        return DEFAULT_DASHSCOPE_BASE_URL.to_string();
    };
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let trimmed = with_scheme.trim_end_matches('/');
    if trimmed.ends_with("/v1") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_url_rules() {
        assert_eq!(
            api_base_url(Some("portal.qwen.ai")),
            "https://portal.qwen.ai/v1"
        );
        assert_eq!(
            api_base_url(Some("https://portal.qwen.ai/v1")),
            "https://portal.qwen.ai/v1"
        );
        assert_eq!(
            api_base_url(Some("https://portal.qwen.ai/v1/")),
            "https://portal.qwen.ai/v1"
        );
        assert_eq!(
            api_base_url(Some("http://127.0.0.1:9/")),
            "http://127.0.0.1:9/v1"
        );
        assert_eq!(api_base_url(None), DEFAULT_DASHSCOPE_BASE_URL);
        assert_eq!(api_base_url(Some("  ")), DEFAULT_DASHSCOPE_BASE_URL);
    }

    #[test]
    fn endpoints_and_bad_urls() {
        let cfg = QwenOAuthConfig::with_base_url("http://127.0.0.1:8080/");
        assert_eq!(
            cfg.token_url().unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1/oauth2/token"
        );
        assert_eq!(
            cfg.device_code_url().unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1/oauth2/device/code"
        );
        assert_eq!(
            QwenOAuthConfig::default().token_url().unwrap().as_str(),
            "https://chat.qwen.ai/api/v1/oauth2/token"
        );
        let bad = QwenOAuthConfig::with_base_url("ftp://x")
            .token_url()
            .unwrap_err();
        assert_eq!(bad.kind(), qcode_protocol::ErrorKind::Config);
        assert!(
            QwenOAuthConfig::with_base_url("not a url")
                .token_url()
                .is_err()
        );
    }
}
