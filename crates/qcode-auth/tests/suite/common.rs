//! Shared set-up: start the OAuth peer (or skip loudly outside CI), fast pacing, a full login.

use std::time::Duration;

use qcode_auth::{
    PollPacing, QwenCredentials, QwenOAuthConfig, http_client, poll_device_flow, start_device_flow,
};
use qcode_test_support::oauth_server::{OAuthServer, OAuthServerOptions};
use tokio_util::sync::CancellationToken;

/// The peer, or `None` (test returns early after a SKIP message) when it is missing locally.
pub fn server(opts: OAuthServerOptions) -> Option<OAuthServer> {
    match OAuthServer::start_or_skip(opts) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

pub fn http() -> reqwest::Client {
    http_client().unwrap()
}

/// A config for `server` with 1 s slow-down steps (the peer is started with its own step 0).
pub fn cfg(server: &OAuthServer) -> QwenOAuthConfig {
    QwenOAuthConfig {
        pacing: PollPacing {
            default_interval: Duration::from_millis(200),
            slow_down_step: Duration::from_secs(1),
        },
        ..QwenOAuthConfig::with_base_url(server.base_url())
    }
}

pub fn fast_opts() -> OAuthServerOptions {
    OAuthServerOptions {
        interval: 1,
        slow_down_step: 0,
        ..OAuthServerOptions::default()
    }
}

/// Runs the device flow, approving as soon as the first poll was answered.
pub async fn login(server: &OAuthServer) -> QwenCredentials {
    let http = http();
    let cfg = cfg(server);
    let auth = start_device_flow(&http, &cfg).await.unwrap();
    server.approve(&auth.user_code).unwrap();
    poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), |_| {})
        .await
        .unwrap()
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub const REFRESH: &str = "refresh_token";
pub const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
