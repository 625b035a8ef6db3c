//! The Qwen OAuth device authorization grant (RFC 8628) with PKCE S256: one request for a
//! device code (carrying the challenge), then a poll loop of single token requests (each
//! carrying the verifier) that honours the server's interval and `slow_down` (sent as HTTP 400
//! or 429), stops on `access_denied`, `expired_token` or the code's own expiry, reports
//! progress, and can be cancelled at any moment.

use std::time::{Duration, Instant};

use oauth2::{
    DeviceCode, DeviceCodeErrorResponse, DeviceCodeErrorResponseType, PkceCodeChallenge,
    PkceCodeVerifier, StandardDeviceAuthorizationResponse,
};
use tokio_util::sync::CancellationToken;

use crate::config::{DEVICE_CODE_GRANT_TYPE, QwenOAuthConfig};
use crate::credentials::{QwenCredentials, TokenResponse, now_ms};
use crate::error::AuthError;
use crate::http::post_form;

/// A started login: what to show the user, plus the device code and PKCE verifier (redacted
/// in `Debug`) needed to poll.
pub struct DeviceAuthorization {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the device code, from `issued_at`.
    pub expires_in: Duration,
    /// Wait between polls (server's `interval`, or the configured default when absent).
    pub interval: Duration,
    pub issued_at: Instant,
    device_code: DeviceCode,
    pkce_verifier: PkceCodeVerifier,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .field("device_code", &"***")
            .field("pkce_verifier", &"***")
            .finish()
    }
}

impl DeviceAuthorization {
    /// The URL to open or encode as a QR code: the complete one (with the user code) if sent.
    pub fn browser_url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }

    /// When the device code expires (local clock).
    pub fn deadline(&self) -> Instant {
        self.issued_at + self.expires_in
    }
}

/// Progress of the poll loop, for countdowns and status lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollEvent {
    /// The user has not approved yet; the next poll is in `next_poll_in`.
    Pending {
        seconds_left: u64,
        next_poll_in: Duration,
    },
    /// The server asked us to poll less often; `interval` is the new wait.
    SlowDown {
        seconds_left: u64,
        interval: Duration,
    },
}

/// Asks the server for a device code, sending a fresh PKCE S256 challenge.
pub async fn start_device_flow(
    http: &reqwest::Client,
    cfg: &QwenOAuthConfig,
) -> Result<DeviceAuthorization, AuthError> {
    let url = cfg.device_code_url()?;
    let url = url.as_str();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let issued_at = Instant::now();
    let resp = post_form(
        http,
        url,
        &[
            ("client_id", cfg.client_id.as_str()),
            ("scope", cfg.scope.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", challenge.method().as_str()),
        ],
    )
    .await?;
    if resp.status != 200 {
        return Err(server_error(url, resp.status, &resp.body));
    }
    let mut parsed: serde_json::Value =
        serde_json::from_slice(&resp.body).map_err(|e| AuthError::InvalidResponse {
            url: url.to_string(),
            status: resp.status,
            reason: format!("not JSON: {e}"),
        })?;
    let sent_interval = parsed.get("interval").is_some_and(|v| !v.is_null());
    if !sent_interval && let Some(obj) = parsed.as_object_mut() {
        obj.remove("interval");
    }
    let details: StandardDeviceAuthorizationResponse =
        serde_json::from_value(parsed).map_err(|e| AuthError::InvalidResponse {
            url: url.to_string(),
            status: resp.status,
            reason: format!("not a device authorization response: {e}"),
        })?;
    Ok(DeviceAuthorization {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|u| u.secret().clone()),
        expires_in: details.expires_in(),
        interval: if sent_interval {
            details.interval().max(Duration::from_secs(1))
        } else {
            cfg.pacing.default_interval
        },
        issued_at,
        device_code: details.device_code().clone(),
        pkce_verifier: verifier,
    })
}

/// Polls the token endpoint until the user approves (→ credentials, not yet saved), denies,
/// the code expires, or `cancel` fires. Waits `interval` before each poll.
pub async fn poll_device_flow(
    http: &reqwest::Client,
    cfg: &QwenOAuthConfig,
    auth: &DeviceAuthorization,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(PollEvent),
) -> Result<QwenCredentials, AuthError> {
    let url = cfg.token_url()?;
    let url = url.as_str();
    let deadline = auth.deadline();
    let mut interval = auth.interval;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(AuthError::DeviceCodeExpired);
        }
        let wait = interval.min(deadline - now);
        tokio::select! {
            () = cancel.cancelled() => return Err(AuthError::Cancelled),
            () = tokio::time::sleep(wait) => {}
        }
        if Instant::now() >= deadline {
            return Err(AuthError::DeviceCodeExpired);
        }
        let form = [
            ("grant_type", DEVICE_CODE_GRANT_TYPE),
            ("client_id", cfg.client_id.as_str()),
            ("device_code", auth.device_code.secret().as_str()),
            ("code_verifier", auth.pkce_verifier.secret().as_str()),
        ];
        let request = post_form(http, url, &form);
        let resp = tokio::select! {
            () = cancel.cancelled() => return Err(AuthError::Cancelled),
            r = request => r?,
        };
        let seconds_left = deadline.saturating_duration_since(Instant::now()).as_secs();
        if resp.status == 200 {
            let token: TokenResponse =
                serde_json::from_slice(&resp.body).map_err(|e| AuthError::InvalidResponse {
                    url: url.to_string(),
                    status: 200,
                    reason: format!("not a token response: {e}"),
                })?;
            return token.into_new_credentials(now_ms()).ok_or_else(|| {
                AuthError::InvalidResponse {
                    url: url.to_string(),
                    status: 200,
                    reason: "the token response has no refresh_token".to_string(),
                }
            });
        }
        match poll_error(&resp.body) {
            Some(DeviceCodeErrorResponseType::AuthorizationPending) => {
                on_event(PollEvent::Pending {
                    seconds_left,
                    next_poll_in: interval,
                });
            }
            Some(DeviceCodeErrorResponseType::SlowDown) => {
                interval += cfg.pacing.slow_down_step;
                on_event(PollEvent::SlowDown {
                    seconds_left,
                    interval,
                });
            }
            // Qwen reportedly answers a too-fast poll with a bare 429.
            None if resp.status == 429 => {
                interval += cfg.pacing.slow_down_step;
                on_event(PollEvent::SlowDown {
                    seconds_left,
                    interval,
                });
            }
            Some(DeviceCodeErrorResponseType::AccessDenied) => return Err(AuthError::AccessDenied),
            Some(DeviceCodeErrorResponseType::ExpiredToken) => {
                return Err(AuthError::DeviceCodeExpired);
            }
            Some(DeviceCodeErrorResponseType::Basic(_)) | None => {
                return Err(server_error(url, resp.status, &resp.body));
            }
        }
    }
}

fn poll_error(body: &[u8]) -> Option<DeviceCodeErrorResponseType> {
    serde_json::from_slice::<DeviceCodeErrorResponse>(body)
        .ok()
        .map(|e| e.error().clone())
}

/// An OAuth error body (`error`, `error_description`) or, failing that, an invalid response.
pub(crate) fn server_error(url: &str, status: u16, body: &[u8]) -> AuthError {
    #[derive(serde::Deserialize)]
    struct OAuthErrorBody {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(e) => AuthError::OAuthServer {
            url: url.to_string(),
            status,
            error: e.error,
            description: e.error_description.map(|d| d.chars().take(300).collect()),
        },
        Err(_) => AuthError::InvalidResponse {
            url: url.to_string(),
            status,
            reason: "the body is not an OAuth error object".to_string(),
        },
    }
}
