//! Answers no real server gives on demand, from a tiny scripted HTTP responder: a device
//! response without `interval` (RFC default applies), a bare HTTP 429 while polling (treated as
//! slow_down, as Qwen reportedly sends), unknown OAuth errors and non-JSON 5xx pages.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_auth::{
    AuthError, PollEvent, PollPacing, QwenOAuthConfig, QwenTokenManager, poll_device_flow,
    start_device_flow,
};
use tokio_util::sync::CancellationToken;

use super::common::http;

/// Serves `replies` in order, one per connection; records each request's path and body.
/// (path, body) of each request the responder saw.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

pub(super) fn scripted(replies: Vec<(u16, &'static str)>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (status, body) in replies {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut len = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut req_body = vec![0; len];
            reader.read_exact(&mut req_body).unwrap();
            log.lock()
                .unwrap()
                .push((path, String::from_utf8(req_body).unwrap()));
            let ctype = if body.starts_with('{') {
                "application/json"
            } else {
                "text/html"
            };
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    (url, seen)
}

fn cfg(url: &str) -> QwenOAuthConfig {
    QwenOAuthConfig {
        pacing: PollPacing {
            default_interval: Duration::from_millis(50),
            slow_down_step: Duration::from_millis(50),
        },
        ..QwenOAuthConfig::with_base_url(url)
    }
}

const DEVICE_NO_INTERVAL: &str = r#"{"device_code":"dc","user_code":"UC-1","verification_uri":"https://chat.example/authorize","verification_uri_complete":"https://chat.example/authorize?user_code=UC-1","expires_in":300}"#;
const TOKENS: &str = r#"{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":3600,"resource_url":"portal.qwen.ai"}"#;

#[tokio::test]
async fn missing_interval_and_bare_429() {
    let (url, seen) = scripted(vec![
        (200, DEVICE_NO_INTERVAL),
        (429, "Too Many Requests"),
        (400, r#"{"error":"authorization_pending"}"#),
        (200, TOKENS),
    ]);
    let cfg = cfg(&url);
    let auth = start_device_flow(&http(), &cfg).await.unwrap();
    assert_eq!(
        auth.interval,
        Duration::from_millis(50),
        "configured default (RFC: 5 s)"
    );
    assert_eq!(
        auth.browser_url(),
        "https://chat.example/authorize?user_code=UC-1"
    );
    let mut events = Vec::new();
    let creds = poll_device_flow(&http(), &cfg, &auth, &CancellationToken::new(), |e| {
        events.push(e)
    })
    .await
    .unwrap();
    assert!(
        matches!(events[0], PollEvent::SlowDown { interval, .. } if interval == Duration::from_millis(100))
    );
    assert!(
        matches!(events[1], PollEvent::Pending { next_poll_in, .. } if next_poll_in == Duration::from_millis(100))
    );
    assert_eq!(events.len(), 2);
    assert_eq!(creds.access_token.expose(), "at");
    assert_eq!(creds.api_base_url(), "https://portal.qwen.ai/v1");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, "/api/v1/oauth2/device/code");
    assert!(seen[1..].iter().all(|(p, b)| p == "/api/v1/oauth2/token"
        && b.contains("device_code=dc")
        && b.contains("code_verifier=")));
}

#[tokio::test]
async fn unknown_oauth_error_and_html_5xx() {
    let (url, _) = scripted(vec![
        (200, DEVICE_NO_INTERVAL),
        (
            400,
            r#"{"error":"invalid_client","error_description":"unknown client"}"#,
        ),
    ]);
    let config = cfg(&url);
    let auth = start_device_flow(&http(), &config).await.unwrap();
    let err = poll_device_flow(&http(), &config, &auth, &CancellationToken::new(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::OAuthServer { status: 400, error, .. } if error == "invalid_client"),
        "{err}"
    );

    let (url, _) = scripted(vec![(502, "<html>bad gateway</html>")]);
    let err = start_device_flow(&http(), &cfg(&url)).await.unwrap_err();
    assert!(
        matches!(err, AuthError::InvalidResponse { status: 502, .. }),
        "{err}"
    );
}

/// A refresh answered 503 is reported, and the login is kept (only 400/401 remove it).
#[tokio::test]
async fn refresh_server_error_keeps_the_file() {
    let (url, _) = scripted(vec![(503, r#"{"error":"temporarily_unavailable"}"#)]);
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"{"access_token":"a","refresh_token":"r","token_type":"Bearer","expiry_date":1}"#;
    std::fs::write(tmp.path().join("oauth_creds.json"), text).unwrap();
    let m = QwenTokenManager::new(http(), cfg(&url), tmp.path());
    let err = m.valid_credentials().await.unwrap_err();
    assert!(
        matches!(err, AuthError::OAuthServer { status: 503, .. }),
        "{err}"
    );
    assert_eq!(err.kind(), qcode_protocol::ErrorKind::Server);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("oauth_creds.json")).unwrap(),
        text
    );
    assert!(!tmp.path().join("oauth_creds.lock").exists());
}
