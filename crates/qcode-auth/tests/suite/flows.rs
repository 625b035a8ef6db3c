//! The two sign-in flows as both front ends see them: their progress events in order, what
//! they leave on disk, and the text `qcode auth` renders from the same events.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_auth::{
    ApiKeyEvent, ApiKeyLogin, AuthPaths, BrowserLaunch, KeyCheck, PollPacing, QrDisplay,
    QwenLoginOptions, QwenOAuthConfig, Secret, qwen_device_login, render_login_event, save_api_key,
};
use qcode_protocol::{ErrorKind, LoginEvent};
use qcode_test_support::mock_model::{MockServer, Reply};
use tokio_util::sync::CancellationToken;

use super::common::{cfg, fast_opts, http, server};
use super::scripted::scripted;

fn paths(tmp: &tempfile::TempDir) -> AuthPaths {
    AuthPaths {
        qwen_dir: tmp.path().join(".qwen"),
        qcode_home: tmp.path().join(".qcode"),
    }
}

const DEVICE: &str = r#"{"device_code":"dc","user_code":"UC-1","verification_uri":"https://chat.example/authorize","verification_uri_complete":"https://chat.example/authorize?user_code=UC-1","expires_in":300}"#;
const TOKENS: &str = r#"{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":3600,"resource_url":"portal.qwen.ai"}"#;

/// Device code, slow_down, pending, tokens: one event each, in that order, and the rendering.
#[tokio::test]
async fn device_flow_events_in_order_with_slow_down() {
    let (url, _) = scripted(vec![
        (200, DEVICE),
        (429, "Too Many Requests"),
        (400, r#"{"error":"authorization_pending"}"#),
        (200, TOKENS),
    ]);
    let opts = QwenLoginOptions {
        oauth: QwenOAuthConfig {
            pacing: PollPacing {
                default_interval: Duration::from_millis(50),
                slow_down_step: Duration::from_secs(1),
            },
            ..QwenOAuthConfig::with_base_url(url)
        },
        browser: BrowserLaunch::Never,
        qr: QrDisplay::Hide,
    };
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let mut events = Vec::new();
    let summary = qwen_device_login(&http(), &paths, &opts, &CancellationToken::new(), |e| {
        events.push(e)
    })
    .await
    .unwrap();
    assert_eq!(summary.api_base_url, "https://portal.qwen.ai/v1");
    assert_eq!(summary.credentials_path, paths.qwen_store().path());
    assert_eq!(
        paths
            .qwen_store()
            .load()
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        "at"
    );
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[0],
        LoginEvent::DeviceCode {
            verification_url: "https://chat.example/authorize?user_code=UC-1".into(),
            user_code: "UC-1".into(),
            qr_lines: Vec::new(),
            expires_in: Duration::from_secs(300),
            browser_opened: false,
        }
    );
    assert!(
        matches!(events[1], LoginEvent::SlowDown { interval, seconds_left }
            if interval == Duration::from_millis(1050) && seconds_left > 290),
        "{events:?}"
    );
    assert!(
        matches!(events[2], LoginEvent::Waiting { .. }),
        "{events:?}"
    );

    let mut text = Vec::new();
    for e in &events {
        render_login_event(&mut text, e);
    }
    let text = String::from_utf8(text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "To log in with Qwen, open this page and approve the request:",
            "  https://chat.example/authorize?user_code=UC-1",
            "Code: UC-1",
            "Waiting for approval (5:00 left; Ctrl-C to cancel)…",
        ]
    );
    assert!(
        lines[4].starts_with("  the server asked to slow down; checking every 1 s… 4:5"),
        "{text}"
    );
    assert!(lines[5].starts_with("  still waiting… 4:5"), "{text}");
    assert_eq!(lines.len(), 6, "{text}");
}

/// Against the real OAuth peer: the code comes first (with its QR code), approving it saves
/// the login; cancelled while waiting, the flow says so and saves nothing.
#[tokio::test]
async fn device_flow_against_the_peer_then_cancelled() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let server = Arc::new(server);
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let opts = QwenLoginOptions {
        oauth: cfg(&server),
        browser: BrowserLaunch::Never,
        qr: QrDisplay::Show,
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let summary = {
        let events = Arc::clone(&events);
        let server = Arc::clone(&server);
        qwen_device_login(
            &http(),
            &paths,
            &opts,
            &CancellationToken::new(),
            move |e| {
                if let LoginEvent::DeviceCode { user_code, .. } = &e {
                    server.approve(user_code).unwrap();
                }
                events.lock().unwrap().push(e);
            },
        )
        .await
        .unwrap()
    };
    assert_eq!(summary.credentials_path, paths.qwen_store().path());
    assert!(paths.qwen_store().load().unwrap().is_some());
    let events = events.lock().unwrap().clone();
    assert!(
        matches!(&events[0], LoginEvent::DeviceCode { qr_lines, verification_url, .. }
            if !qr_lines.is_empty() && verification_url.starts_with(&server.base_url())),
        "{events:?}"
    );
    assert!(
        events[1..]
            .iter()
            .all(|e| matches!(e, LoginEvent::Waiting { .. } | LoginEvent::SlowDown { .. })),
        "{events:?}"
    );

    std::fs::remove_file(paths.qwen_store().path()).unwrap();
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    let p = qwen_device_login(&http(), &paths, &opts, &cancel, move |e| {
        if matches!(e, LoginEvent::DeviceCode { .. }) {
            canceller.cancel();
        }
    })
    .await
    .unwrap_err();
    assert_eq!(p.kind, ErrorKind::Interrupted);
    assert_eq!(p.message, "login cancelled");
    assert!(!paths.qwen_store().path().exists());
}

fn key_login(base_url: &str, key: &str) -> ApiKeyLogin {
    ApiKeyLogin {
        base_url: base_url.into(),
        model: Some("m1".into()),
        api_key: Secret::new(key),
    }
}

#[tokio::test]
async fn key_checked_against_the_provider_then_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let mock = MockServer::start();
    mock.set_models(&["m1"]);
    let mut events = Vec::new();
    let saved = save_api_key(
        &paths,
        &key_login(&mock.url(), "sk-1"),
        KeyCheck::AgainstProvider,
        |e| events.push(e),
    )
    .await
    .unwrap();
    assert_eq!(saved, paths.api_key_store().path());
    assert_eq!(
        events,
        [
            ApiKeyEvent::Checking {
                base_url: mock.url()
            },
            ApiKeyEvent::Accepted,
            ApiKeyEvent::Saved {
                path: saved.clone()
            },
        ]
    );
    assert!(mock.requests().is_empty());
    let requests = mock.listing_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-1"));
    let stored = paths.api_key_store().load().unwrap().unwrap();
    assert_eq!(stored.api_key.expose(), "sk-1");
    assert_eq!(stored.model.as_deref(), Some("m1"));
}

#[tokio::test]
async fn a_404_model_list_falls_back_to_a_one_token_request() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let mock = MockServer::start();
    mock.enqueue_models(Reply::error(404, "no such route", "not_found"));
    mock.enqueue(Reply::text("OK", 2));
    save_api_key(
        &paths,
        &key_login(&mock.url(), "sk-2"),
        KeyCheck::AgainstProvider,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(mock.listing_requests().len(), 1);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].body_json().unwrap();
    assert_eq!(body["model"], "m1");
    assert_eq!(body["max_tokens"], 1);
    assert!(paths.api_key_store().path().exists());
}

#[tokio::test]
async fn a_rejected_key_is_an_auth_problem_and_not_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let mock = MockServer::start();
    mock.enqueue_models(Reply::error(401, "Incorrect API key", "invalid_api_key"));
    let mut events = Vec::new();
    let p = save_api_key(
        &paths,
        &key_login(&mock.url(), "sk-bad"),
        KeyCheck::AgainstProvider,
        |e| events.push(e),
    )
    .await
    .unwrap_err();
    assert_eq!(p.kind, ErrorKind::Auth);
    assert!(p.message.starts_with("the key check failed: "), "{p:?}");
    assert!(p.message.contains("Incorrect API key"), "{p:?}");
    assert!(!p.one_line().contains("sk-bad"), "{p:?}");
    assert_eq!(
        events,
        [ApiKeyEvent::Checking {
            base_url: mock.url()
        }]
    );
    assert!(!paths.api_key_store().path().exists());
}

#[tokio::test]
async fn skipping_the_check_sends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let mut events = Vec::new();
    // Nothing listens there: a check would fail.
    save_api_key(
        &paths,
        &key_login("http://127.0.0.1:9/v1", "sk-3"),
        KeyCheck::Skip,
        |e| events.push(e),
    )
    .await
    .unwrap();
    assert_eq!(
        events,
        [ApiKeyEvent::Saved {
            path: paths.api_key_store().path()
        }]
    );

    // Invalid input is refused before anything else.
    let mut events = Vec::new();
    let p = save_api_key(
        &paths,
        &key_login("ftp://x", "sk-4"),
        KeyCheck::AgainstProvider,
        |e| events.push(e),
    )
    .await
    .unwrap_err();
    assert_eq!(p.kind, ErrorKind::Config);
    assert!(events.is_empty());
}
