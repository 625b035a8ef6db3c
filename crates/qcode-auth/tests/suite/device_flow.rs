//! The device flow against the real peer: pending → slow_down → approval, PKCE on the wire and
//! enforced by the server, denial, expiry (server's and local), cancellation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use qcode_auth::{AuthError, PollEvent, api_base_url, poll_device_flow, start_device_flow};
use qcode_test_support::oauth_server::{DEVICE_CODE_PATH, OAuthServerOptions, PkceMode};
use tokio_util::sync::CancellationToken;

use super::common::{DEVICE, cfg, fast_opts, http, server};

/// Polls at 0.5 s against a 1 s server interval: the first poll is pending, the second gets
/// slow_down (as `status`), the approval happens then, the third poll (1.5 s later) gets tokens.
async fn pending_slow_down_approve(status: u16) {
    let Some(server) = server(OAuthServerOptions {
        slow_down_status: status,
        resource_url: Some("http://127.0.0.1:9/api".into()),
        ..fast_opts()
    }) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let mut auth = start_device_flow(&http, &cfg).await.unwrap();
    assert_eq!(
        auth.interval,
        Duration::from_secs(1),
        "server's interval is used"
    );
    assert_eq!(auth.expires_in, Duration::from_secs(600));
    assert!(
        auth.verification_uri.ends_with("/device"),
        "{}",
        auth.verification_uri
    );
    assert!(auth.browser_url().contains(&auth.user_code.to_string()));
    auth.interval = Duration::from_millis(500);
    let events = Arc::new(Mutex::new(Vec::new()));
    let creds = {
        let events = Arc::clone(&events);
        let code = auth.user_code.clone();
        let server = &server;
        poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), move |e| {
            if matches!(e, PollEvent::SlowDown { .. }) {
                server.approve(&code).unwrap();
            }
            events.lock().unwrap().push(e);
        })
        .await
        .unwrap()
    };
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        matches!(events[0], PollEvent::Pending { next_poll_in, seconds_left }
        if next_poll_in == Duration::from_millis(500) && seconds_left > 590)
    );
    assert!(matches!(events[1], PollEvent::SlowDown { interval, .. }
        if interval == Duration::from_millis(1500)));
    assert_eq!(creds.token_type, "Bearer");
    assert!(!creds.access_token.is_empty() && !creds.refresh_token.is_empty());
    assert_eq!(
        creds.resource_url.as_deref(),
        Some("http://127.0.0.1:9/api")
    );
    assert_eq!(
        api_base_url(creds.resource_url.as_deref()),
        "http://127.0.0.1:9/api/v1"
    );
    assert!(creds.is_valid());
    assert_eq!(server.count_token_requests(DEVICE), 3);
}

#[tokio::test]
async fn full_flow_with_slow_down_as_400() {
    pending_slow_down_approve(400).await;
}

#[tokio::test]
async fn full_flow_with_slow_down_as_429() {
    pending_slow_down_approve(429).await;
}

fn b64_sha256(v: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

/// PKCE=required accepts us, and on the wire the challenge is S256 of the verifier sent on
/// every poll.
#[tokio::test]
async fn pkce_required_accepts_us_and_wire_carries_s256() {
    let Some(server) = server(OAuthServerOptions {
        pkce: PkceMode::Required,
        ..fast_opts()
    }) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let auth = start_device_flow(&http, &cfg).await.unwrap();
    let approved = std::sync::atomic::AtomicBool::new(false);
    poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), |_| {
        if !approved.swap(true, std::sync::atomic::Ordering::SeqCst) {
            server.approve(&auth.user_code).unwrap();
        }
    })
    .await
    .unwrap();
    let reqs = server.requests();
    let device = reqs.iter().find(|r| r.path == DEVICE_CODE_PATH).unwrap();
    assert_eq!(
        device.form_field("code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        device.form_field("client_id").as_deref(),
        Some(cfg.client_id.as_str())
    );
    assert_eq!(
        device.form_field("scope").as_deref(),
        Some("openid profile email model.completion")
    );
    let challenge = device.form_field("code_challenge").unwrap();
    assert_eq!(challenge.len(), 43);
    let polls = server.token_requests();
    assert_eq!(polls.len(), 2, "one pending poll, one success");
    for poll in &polls {
        assert_eq!(poll.form_field("grant_type").as_deref(), Some(DEVICE));
        let verifier = poll.form_field("code_verifier").unwrap();
        assert_eq!(verifier.len(), 43);
        assert_eq!(b64_sha256(&verifier), challenge);
    }
}

/// Proves the peer really checks the verifier: by hand, a wrong one and a missing one are
/// refused, the right one is accepted.
#[tokio::test]
async fn server_rejects_wrong_pkce_verifier() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let http = http();
    let base = server.base_url();
    let verifier = "right-verifier-right-verifier-right-verifier";
    let device: serde_json::Value = http
        .post(format!("{base}/api/v1/oauth2/device/code"))
        .form(&[
            ("client_id", qcode_auth::QWEN_OAUTH_CLIENT_ID),
            ("scope", "openid"),
            ("code_challenge", &b64_sha256(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server
        .approve(device["user_code"].as_str().unwrap())
        .unwrap();
    let device_code = device["device_code"].as_str().unwrap();
    let poll = |v: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", DEVICE),
            ("client_id", qcode_auth::QWEN_OAUTH_CLIENT_ID),
            ("device_code", device_code),
        ];
        if let Some(v) = v {
            form.push(("code_verifier", v));
        }
        let req = http.post(format!("{base}/api/v1/oauth2/token")).form(&form);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            (status, body)
        }
    };
    let (status, body) = poll(Some("wrong-verifier-wrong-verifier-wrong-verifier")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, body) = poll(None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let (status, body) = poll(Some(verifier)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn denial_is_access_denied() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let auth = start_device_flow(&http, &cfg).await.unwrap();
    server.deny(&auth.user_code).unwrap();
    let err = poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::AccessDenied), "{err}");
    assert_eq!(err.kind(), qcode_protocol::ErrorKind::Auth);
}

/// The server's `expired_token` ends the loop (the local deadline is pushed far away).
#[tokio::test]
async fn server_expiry_is_expired() {
    let Some(server) = server(OAuthServerOptions {
        device_code_ttl: 2,
        ..fast_opts()
    }) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let mut auth = start_device_flow(&http, &cfg).await.unwrap();
    assert_eq!(auth.expires_in, Duration::from_secs(2));
    auth.expires_in = Duration::from_secs(60);
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), |_| {}),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, AuthError::DeviceCodeExpired), "{err}");
    assert!(err.to_string().contains("qcode auth qwen-oauth"));
}

/// The local deadline ends the loop even if the server would keep answering "pending".
#[tokio::test]
async fn local_deadline_is_expired() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let mut auth = start_device_flow(&http, &cfg).await.unwrap();
    auth.expires_in = Duration::from_millis(2500);
    let mut pending = 0;
    let err = poll_device_flow(&http, &cfg, &auth, &CancellationToken::new(), |e| {
        assert!(matches!(e, PollEvent::Pending { .. }), "{e:?}");
        pending += 1;
    })
    .await
    .unwrap_err();
    assert!(matches!(err, AuthError::DeviceCodeExpired), "{err}");
    assert!(
        (1..=2).contains(&pending),
        "polls at 1 s and 2 s, deadline at 2.5 s: {pending}"
    );
}

#[tokio::test]
async fn cancel_stops_polling() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let http = http();
    let cfg = cfg(&server);
    let auth = start_device_flow(&http, &cfg).await.unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let err = poll_device_flow(&http, &cfg, &auth, &cancel, move |_| c2.cancel())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Cancelled), "{err}");
    assert_eq!(server.count_token_requests(DEVICE), 1);
}

/// An unreachable server is a Network error naming the URL.
#[tokio::test]
async fn unreachable_server_is_network_error() {
    let port = qcode_test_support::process::free_port().unwrap();
    let cfg = qcode_auth::QwenOAuthConfig::with_base_url(format!("http://127.0.0.1:{port}"));
    let err = start_device_flow(&http(), &cfg).await.unwrap_err();
    assert_eq!(err.kind(), qcode_protocol::ErrorKind::Network, "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}
