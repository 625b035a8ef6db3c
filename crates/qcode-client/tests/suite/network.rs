//! Hostile or mistaken network set-ups: `https://` against a plain-http server, names that do
//! not resolve, proxies (never for loopback, `NO_PROXY` honoured), and URLs with user info in
//! messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qcode_client::{ClientError, Secret, StaticCredentials};
use qcode_protocol::ErrorKind;
use qcode_test_support::mock_model::{MockServer, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::support::{KEY, client, collect_with, in_child, request, run_child};

/// A key-like value put into URLs' user info; it must never appear in a message.
const CANARY: &str = "sk-canary-7f3a9c1e5b";

/// A plain-http server like nginx: answers anything (a TLS ClientHello included) with
/// `400 Bad Request` and closes. Counts accepted connections.
async fn plain_http_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\
                          Content-Length: 11\r\nConnection: close\r\n\r\nbad request",
                    )
                    .await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (port, accepted)
}

async fn stream_error(base_url: &str) -> (ClientError, usize) {
    let creds = Arc::new(StaticCredentials::new(base_url, Some(Secret::new(KEY))));
    let got = collect_with(&client(), creds, &request(), CancellationToken::new()).await;
    let retries = got.retries().len();
    (got.error.unwrap(), retries)
}

#[tokio::test]
async fn https_against_a_plain_http_server_fails_at_once_and_says_so() {
    let (port, accepted) = plain_http_server().await;
    let (error, retries) = stream_error(&format!("https://127.0.0.1:{port}/v1")).await;
    assert_eq!(retries, 0, "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection attempt");
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(
        message.contains("this server speaks http, not https"),
        "{message}"
    );
    assert!(message.contains("127.0.0.1:"), "{message}");
    let hint = error.hint().unwrap();
    assert!(hint.contains("http://"), "{hint}");
    assert!(
        hint.contains(&format!("http://127.0.0.1:{port}/v1")),
        "{hint}"
    );
    assert_eq!(error.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn https_against_plain_http_never_shows_the_user_info() {
    let (port, _) = plain_http_server().await;
    let (error, _) = stream_error(&format!("https://user:{CANARY}@127.0.0.1:{port}/v1")).await;
    let all = format!("{error} {} {error:?}", error.hint().unwrap());
    assert!(!all.contains(CANARY), "{all}");
    assert!(all.contains("http://***@127.0.0.1:"), "{all}");
}

#[tokio::test]
async fn an_unknown_host_is_retried_at_most_once_and_named() {
    let started = Instant::now();
    let (error, retries) =
        stream_error(&format!("http://user:{CANARY}@qcode-nowhere.invalid/v1")).await;
    assert!(retries <= 1, "{retries} retries: {error:?}");
    let message = error.to_string();
    assert!(
        message.contains("cannot resolve qcode-nowhere.invalid"),
        "{message}"
    );
    assert!(!message.contains(CANARY), "{message}");
    assert!(!format!("{error:?}").contains(CANARY));
    assert!(!error.hint().unwrap_or_default().contains(CANARY));
    assert_eq!(error.kind(), ErrorKind::Network);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn list_models_names_an_unknown_host() {
    let creds = StaticCredentials::new("https://qcode-models.invalid/v1", None);
    let error = client()
        .list_models(&creds, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot resolve qcode-models.invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn user_info_is_redacted_in_not_found_and_invalid_url_errors() {
    let server = MockServer::start();
    server.enqueue(Reply::error(404, "no such model", "model_not_found"));
    let base = format!("http://user:{CANARY}@127.0.0.1:{}/v1", server.port());
    let (error, _) = stream_error(&base).await;
    let all = format!("{error} {error:?}");
    assert!(!all.contains(CANARY), "{all}");
    assert!(
        all.contains(&format!(
            "http://***@127.0.0.1:{}/v1/chat/completions",
            server.port()
        )),
        "{all}"
    );

    let (error, _) = stream_error(&format!("ftp://user:{CANARY}@example.com/v1")).await;
    let all = format!("{error} {error:?}");
    assert!(matches!(error, ClientError::InvalidBaseUrl { .. }), "{all}");
    assert!(!all.contains(CANARY), "{all}");
    assert!(all.contains("ftp://***@example.com/v1"), "{all}");
}

/// A client that reads the proxy variables (as qcode does by default).
fn env_client() -> qcode_client::ChatClient {
    client_with_proxy(qcode_client::ProxyConfig::Environment)
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

const LOOPBACK_CHILD: &str = "suite::network::child_loopback_is_not_proxied";

/// In the child: the proxy variables point at a closed port; every loopback form must still
/// reach the mock directly.
#[tokio::test]
async fn child_loopback_is_not_proxied() {
    if !in_child(LOOPBACK_CHILD) {
        return;
    }
    let server = MockServer::start();
    for host in ["127.0.0.1", "localhost"] {
        server.enqueue(Reply::text("direct", 100));
        let base = format!("http://{host}:{}/v1", server.port());
        let creds = Arc::new(StaticCredentials::new(base, Some(Secret::new(KEY))));
        let got = collect_with(&env_client(), creds, &request(), CancellationToken::new()).await;
        assert!(got.error.is_none(), "{host}: {:?}", got.error);
        assert_eq!(got.text(), "direct");
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn environment_proxies_are_not_used_for_loopback() {
    if std::env::var_os("QCODE_TEST_CHILD").is_some() {
        return;
    }
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let (passed, output) = run_child(
        LOOPBACK_CHILD,
        &[
            ("HTTP_PROXY", &proxy),
            ("HTTPS_PROXY", &proxy),
            ("ALL_PROXY", &proxy),
        ],
    );
    assert!(passed, "{output}");
}

const NO_PROXY_CHILD: &str = "suite::network::child_no_proxy_is_honoured";

/// In the child: `HTTP_PROXY` is the mock (acting as a forward proxy) and `NO_PROXY` names one
/// of two hosts: only the other one reaches the proxy.
#[tokio::test]
async fn child_no_proxy_is_honoured() {
    if !in_child(NO_PROXY_CHILD) {
        return;
    }
    let via = |host: &str| {
        let creds = Arc::new(StaticCredentials::new(
            format!("http://{host}/v1"),
            Some(Secret::new(KEY)),
        ));
        async move { collect_with(&env_client(), creds, &request(), CancellationToken::new()).await }
    };
    let direct = via("bypass.qcode.invalid").await;
    let error = direct.error.unwrap();
    assert!(
        error
            .to_string()
            .contains("cannot resolve bypass.qcode.invalid"),
        "{error}"
    );
    let proxied = via("proxied.qcode.invalid").await;
    assert!(proxied.error.is_none(), "{:?}", proxied.error);
    assert_eq!(proxied.text(), "via proxy");
}

#[test]
fn environment_no_proxy_is_honoured() {
    if std::env::var_os("QCODE_TEST_CHILD").is_some() {
        return;
    }
    let proxy = MockServer::start();
    proxy.enqueue(Reply::text("via proxy", 100));
    let port = proxy.port().to_string();
    let (passed, output) = run_child(
        NO_PROXY_CHILD,
        &[
            ("HTTP_PROXY", &format!("http://127.0.0.1:{port}")),
            ("NO_PROXY", "example.org, .bypass.qcode.invalid"),
        ],
    );
    assert!(passed, "{output}");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].path,
        "http://proxied.qcode.invalid/v1/chat/completions"
    );
}

fn client_with_proxy(proxy: qcode_client::ProxyConfig) -> qcode_client::ChatClient {
    super::support::client_with(qcode_client::ClientOptions {
        proxy,
        ..super::support::fast_options()
    })
}

async fn via(client: &qcode_client::ChatClient, base: String) -> super::support::Collected {
    let creds = Arc::new(StaticCredentials::new(base, Some(Secret::new(KEY))));
    collect_with(client, creds, &request(), CancellationToken::new()).await
}

#[tokio::test]
async fn a_configured_proxy_is_not_used_for_loopback() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let client = client_with_proxy(qcode_client::ProxyConfig::Manual(
        qcode_client::ProxySettings {
            http: Some(closed.clone()),
            https: Some(closed.clone()),
            all: Some(closed),
            no_proxy: None,
        },
    ));
    let server = MockServer::start();
    for host in ["127.0.0.1", "localhost", "127.0.0.1."] {
        server.enqueue(Reply::text("direct", 100));
        let got = via(&client, format!("http://{host}:{}/v1", server.port())).await;
        assert!(got.error.is_none(), "{host}: {:?}", got.error);
        assert_eq!(got.text(), "direct", "{host}");
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_configured_proxy_is_used_for_other_hosts_except_no_proxy() {
    let proxy = MockServer::start();
    proxy.enqueue(Reply::text("via proxy", 100));
    let client = client_with_proxy(qcode_client::ProxyConfig::Manual(
        qcode_client::ProxySettings {
            all: Some(format!("127.0.0.1:{}", proxy.port())),
            no_proxy: Some("bypass.qcode.invalid".into()),
            ..Default::default()
        },
    ));
    let got = via(&client, "http://proxied.qcode.invalid/v1".into()).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), "via proxy");
    let got = via(&client, "http://api.bypass.qcode.invalid/v1".into()).await;
    let error = got.error.unwrap();
    assert!(
        error
            .to_string()
            .contains("cannot resolve api.bypass.qcode.invalid"),
        "{error}"
    );
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].path,
        "http://proxied.qcode.invalid/v1/chat/completions"
    );

    let direct = client_with_proxy(qcode_client::ProxyConfig::Direct);
    let got = via(&direct, "http://proxied.qcode.invalid/v1".into()).await;
    assert!(matches!(got.error, Some(ClientError::UnknownHost { .. })));
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn an_unusable_proxy_url_is_a_config_error_without_its_credentials() {
    let options = qcode_client::ClientOptions {
        proxy: qcode_client::ProxyConfig::Manual(qcode_client::ProxySettings {
            https: Some(format!("http://user:{CANARY}@bad host:99999")),
            ..Default::default()
        }),
        ..super::support::fast_options()
    };
    let error = qcode_client::ChatClient::new(options).unwrap_err();
    let all = format!("{error} {error:?} {}", error.hint().unwrap());
    assert!(matches!(error, ClientError::InvalidProxy { .. }), "{all}");
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(!all.contains(CANARY), "{all}");
}

#[test]
fn redact_url_and_endpoint_debug_hide_user_info() {
    let url = format!("https://user:{CANARY}@api.example.com/v1?key={CANARY}");
    assert_eq!(
        qcode_client::redact_url(&url),
        "https://***@api.example.com/v1?[redacted]"
    );
    let endpoint = qcode_client::Endpoint::new(url, None);
    let debug = format!("{endpoint:?}");
    assert!(!debug.contains(CANARY), "{debug}");
    assert!(debug.contains("https://***@api.example.com/v1"), "{debug}");
}
