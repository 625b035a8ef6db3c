//! Helpers: a client with fast retries pointed at a mock server, and event collection.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use qcode_client::{
    ChatClient, ChatRequest, ClientError, ClientOptions, CredentialSource, ProxyConfig,
    ResponseEvent, RetryPolicy, Secret, StaticCredentials,
};
use qcode_protocol::ChatMessage;
use qcode_test_support::mock_model::MockServer;
use tokio_util::sync::CancellationToken;

pub const KEY: &str = "sk-test-key-0123456789";

/// Retries fast: 10 ms initial delay, at most 3 attempts. No proxy, whatever the environment
/// says (the proxy tests set their own).
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
            max_total: Duration::from_secs(10),
        },
        user_agent: "qcode-test/1".into(),
        proxy: ProxyConfig::Direct,
    }
}

pub fn client_with(options: ClientOptions) -> ChatClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    ChatClient::new(options).unwrap()
}

pub fn client() -> ChatClient {
    client_with(fast_options())
}

pub fn creds(server: &MockServer) -> Arc<dyn CredentialSource> {
    Arc::new(StaticCredentials::new(server.url(), Some(Secret::new(KEY))))
}

pub fn request() -> ChatRequest<'static> {
    ChatRequest::new("mock-model", vec![ChatMessage::user("hi")])
}

/// Everything a stream yields: the events, then the error that ended it (if any).
#[derive(Debug)]
pub struct Collected {
    pub events: Vec<ResponseEvent>,
    pub error: Option<ClientError>,
}

impl Collected {
    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                ResponseEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn retries(&self) -> Vec<&ResponseEvent> {
        self.events
            .iter()
            .filter(|e| matches!(e, ResponseEvent::Retry { .. }))
            .collect()
    }
}

/// Runs a stream to its end; asserts nothing follows an error.
pub async fn collect_with(
    client: &ChatClient,
    creds: Arc<dyn CredentialSource>,
    request: &ChatRequest<'_>,
    cancel: CancellationToken,
) -> Collected {
    let mut stream = client.stream(creds, request, cancel);
    let mut events = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        assert!(error.is_none(), "item after an error: {item:?}");
        match item {
            Ok(event) => events.push(event),
            Err(e) => error = Some(e),
        }
    }
    Collected { events, error }
}

pub async fn collect(server: &MockServer) -> Collected {
    collect_with(
        &client(),
        creds(server),
        &request(),
        CancellationToken::new(),
    )
    .await
}

/// Runs `test` (a test of this binary) in a child process with `env` set, so that proxy and
/// certificate-store variables do not leak into tests running in parallel (the parent's own
/// are removed). Returns whether the child passed, and its output.
pub fn run_child(test: &str, env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NIX_SSL_CERT_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("QCODE_TEST_CHILD", test);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.contains("1 passed"), text)
}

/// Whether this process is the child [`run_child`] started for `test`.
pub fn in_child(test: &str) -> bool {
    std::env::var("QCODE_TEST_CHILD").is_ok_and(|t| t == test)
}
