//! Token refresh against the real peer: proactive refresh of an expiring token, no network when
//! the token is valid or another process already refreshed, 401 handling, refresh failure.

use qcode_auth::{
    AuthError, QwenCredentialStore, QwenOAuthConfig, QwenTokenManager, RefusedRefresh, now_ms,
};
use qcode_test_support::oauth_server::OAuthServerOptions;

use super::common::{REFRESH, cfg, fast_opts, http, login, server};

fn manager(
    server: &qcode_test_support::oauth_server::OAuthServer,
    dir: &std::path::Path,
) -> QwenTokenManager {
    QwenTokenManager::new(http(), cfg(server), dir)
}

/// ACCESS_TTL=2: the token is inside the 30 s margin at once, so each call refreshes, using the
/// rotated refresh token each time; resource_url survives.
#[tokio::test]
async fn expiring_token_is_refreshed_with_rotation() {
    let Some(server) = server(OAuthServerOptions {
        access_ttl: 2,
        resource_url: Some("portal.example.test".into()),
        ..fast_opts()
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let qwen_dir = tmp.path().join(".qwen");
    let store = QwenCredentialStore::new(&qwen_dir);
    let first = login(&server).await;
    assert!(first.expiry_date <= now_ms() + 2_000);
    store.save(&first).unwrap();

    let m = manager(&server, &qwen_dir);
    let second = m.valid_credentials().await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "oidc-provider rotates"
    );
    assert_eq!(second.resource_url.as_deref(), Some("portal.example.test"));
    assert_eq!(second.api_base_url(), "https://portal.example.test/v1");
    let on_disk = store.load().unwrap().unwrap();
    assert_eq!(on_disk, second);

    let refreshes = server.token_requests();
    let refreshes: Vec<_> = refreshes
        .iter()
        .filter(|r| r.form_field("grant_type").as_deref() == Some(REFRESH))
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(
        refreshes[0].form_field("refresh_token").as_deref(),
        Some(first.refresh_token.expose())
    );
    assert_eq!(
        refreshes[0].form_field("client_id").as_deref(),
        Some(qcode_auth::QWEN_OAUTH_CLIENT_ID)
    );

    let third = m.valid_credentials().await.unwrap();
    assert_ne!(third.access_token, second.access_token);
    let last = server.token_requests().pop().unwrap();
    assert_eq!(
        last.form_field("refresh_token").as_deref(),
        Some(second.refresh_token.expose())
    );
    assert_eq!(server.count_token_requests(REFRESH), 2);
}

/// A valid token costs no request; a file rewritten by another process is noticed; a 401 for a
/// token the file no longer holds is answered from the file without a refresh.
#[tokio::test]
async fn valid_tokens_and_other_process_refresh_cost_no_request() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let creds = login(&server).await;
    store.save(&creds).unwrap();
    let m = manager(&server, tmp.path());
    assert_eq!(m.valid_credentials().await.unwrap(), creds);
    assert_eq!(m.clone().valid_credentials().await.unwrap(), creds);

    // "Another process" refreshed: same length file, different token.
    let mut other = creds.clone();
    other.access_token = qcode_auth::Secret::new("x".repeat(creds.access_token.expose().len()));
    store.save(&other).unwrap();
    assert_eq!(
        m.valid_credentials().await.unwrap().access_token,
        other.access_token
    );
    let after_401 = m
        .refresh_after_unauthorized(creds.access_token.expose())
        .await
        .unwrap();
    assert_eq!(after_401.access_token, other.access_token);
    assert_eq!(server.count_token_requests(REFRESH), 0);

    // A 401 for the token the file holds forces a refresh.
    let fresh = m
        .refresh_after_unauthorized(other.access_token.expose())
        .await
        .unwrap();
    assert_ne!(fresh.access_token, other.access_token);
    assert_eq!(server.count_token_requests(REFRESH), 1);
    assert_eq!(store.load().unwrap().unwrap(), fresh);
}

/// A refresh token Qwen's own server refuses (here: an already rotated one, HTTP 400
/// invalid_grant) removes the file and says how to log in again.
#[tokio::test]
async fn refused_refresh_removes_file_and_is_login_expired() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let original = login(&server).await;
    store.save(&original).unwrap();
    // The peer stands in for chat.qwen.ai: its refusal counts as Qwen's.
    let official = QwenOAuthConfig {
        on_refused_refresh: RefusedRefresh::RemoveLogin,
        ..cfg(&server)
    };
    let m = QwenTokenManager::new(http(), official, tmp.path());
    m.refresh_after_unauthorized(original.access_token.expose())
        .await
        .unwrap();
    // Put the stale login (rotated refresh token) back, as an old copy would.
    let mut stale = original.clone();
    stale.expiry_date = now_ms() - 1_000;
    store.save(&stale).unwrap();
    let err = m.valid_credentials().await.unwrap_err();
    assert!(
        matches!(err, AuthError::LoginExpired { status: 400 }),
        "{err}"
    );
    assert_eq!(err.kind(), qcode_protocol::ErrorKind::Auth);
    let msg = err.to_string();
    assert!(
        msg.contains("/auth") && msg.contains("qcode auth qwen-oauth"),
        "{msg}"
    );
    assert!(!store.path().exists(), "credentials file removed");
    assert!(!store.lock_path().exists(), "lock released");
    let again = m.valid_credentials().await.unwrap_err();
    assert!(matches!(again, AuthError::NotLoggedIn { .. }), "{again}");
}

/// Without a file: NotLoggedIn, no request, no lock left behind.
#[tokio::test]
async fn no_file_is_not_logged_in() {
    let tmp = tempfile::tempdir().unwrap();
    let m = QwenTokenManager::new(
        http(),
        qcode_auth::QwenOAuthConfig::with_base_url("http://127.0.0.1:9"),
        tmp.path(),
    );
    let err = m.valid_credentials().await.unwrap_err();
    assert!(matches!(err, AuthError::NotLoggedIn { .. }), "{err}");
    let err = m.refresh_after_unauthorized("t").await.unwrap_err();
    assert!(matches!(err, AuthError::NotLoggedIn { .. }), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// The same refusal from an OAuth server that is not Qwen's own (a base URL a project or a
/// typo pointed elsewhere) says the login failed but never deletes the login shared with
/// Qwen Code.
#[tokio::test]
async fn a_refusal_by_a_non_default_server_keeps_the_shared_login() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let original = login(&server).await;
    store.save(&original).unwrap();
    let m = manager(&server, tmp.path());
    assert_eq!(cfg(&server).on_refused_refresh, RefusedRefresh::KeepLogin);
    m.refresh_after_unauthorized(original.access_token.expose())
        .await
        .unwrap();
    let mut stale = original.clone();
    stale.expiry_date = now_ms() - 1_000;
    store.save(&stale).unwrap();
    let err = m.valid_credentials().await.unwrap_err();
    assert!(matches!(err, AuthError::LoginExpired { .. }), "{err}");
    assert_eq!(
        store.load().unwrap().unwrap(),
        stale,
        "the file is kept as it was"
    );
    assert!(!store.lock_path().exists(), "lock released");
}

/// While our refresh was refused, another process (Qwen Code breaking a lock, or a login
/// just made) wrote newer tokens: they are used, and nothing is deleted.
#[tokio::test]
async fn newer_tokens_written_meanwhile_are_used_not_deleted() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let dead = login(&server).await;
    let official = QwenOAuthConfig {
        on_refused_refresh: RefusedRefresh::RemoveLogin,
        ..cfg(&server)
    };
    let m = QwenTokenManager::new(http(), official, tmp.path());
    // Rotate `dead`'s refresh token away so the server refuses it.
    store.save(&dead).unwrap();
    m.refresh_after_unauthorized(dead.access_token.expose())
        .await
        .unwrap();
    let newer = login(&server).await;
    let mut stale = dead.clone();
    stale.expiry_date = now_ms() - 1_000;
    store.save(&stale).unwrap();
    // A proxy for the token endpoint that writes `newer` to the file before answering, as
    // another process would while our request is in flight.
    let proxy = WritingProxy::start(&server.base_url(), store.clone(), newer.clone());
    let m = QwenTokenManager::new(
        http(),
        QwenOAuthConfig {
            on_refused_refresh: RefusedRefresh::RemoveLogin,
            ..QwenOAuthConfig::with_base_url(proxy.url.clone())
        },
        tmp.path(),
    );
    let got = m.valid_credentials().await.unwrap();
    assert_eq!(got.refresh_token, newer.refresh_token);
    assert!(store.path().exists());
    assert_eq!(
        store.load().unwrap().unwrap().refresh_token,
        newer.refresh_token
    );
}

/// Forwards each request to `upstream` and, before relaying the answer, saves `creds`.
struct WritingProxy {
    url: String,
}

impl WritingProxy {
    fn start(
        upstream: &str,
        store: QwenCredentialStore,
        creds: qcode_auth::QwenCredentials,
    ) -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_end_matches('/').to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                // Relay the request as is (the peer closes after answering), save `creds`,
                // then relay the answer.
                let host = upstream.trim_start_matches("http://").to_string();
                let mut up = std::net::TcpStream::connect(&host).unwrap();
                write!(
                    up,
                    "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .unwrap();
                up.write_all(&body).unwrap();
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).unwrap();
                store.save(&creds).unwrap();
                let mut stream = stream;
                let _ = stream.write_all(&answer);
            }
        });
        Self { url }
    }
}
