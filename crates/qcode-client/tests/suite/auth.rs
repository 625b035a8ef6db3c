//! The 401 path: `on_unauthorized` is called once and the retry carries the new credentials.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use qcode_client::{ClientError, CredentialSource, Endpoint, Secret};
use qcode_test_support::mock_model::{MockServer, Reply};
use tokio_util::sync::CancellationToken;

use super::support::{client, collect_with, request};

/// Hands out `old-token`; after a 401 hands out `new-token` (or nothing when `refuse`).
struct Rotating {
    base_url: String,
    refreshed: AtomicUsize,
    endpoint_calls: AtomicUsize,
    refuse: bool,
}

impl Rotating {
    fn new(server: &MockServer, refuse: bool) -> Arc<Self> {
        Arc::new(Self {
            base_url: server.url(),
            refreshed: AtomicUsize::new(0),
            endpoint_calls: AtomicUsize::new(0),
            refuse,
        })
    }

    fn endpoint_with(&self, token: &str) -> Endpoint {
        Endpoint::new(&self.base_url, Some(Secret::new(token)))
            .with_header("X-DashScope-AuthType", "qwen-oauth")
    }
}

impl CredentialSource for Rotating {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        self.endpoint_calls.fetch_add(1, Ordering::SeqCst);
        let token = if self.refreshed.load(Ordering::SeqCst) > 0 {
            "new-token"
        } else {
            "old-token"
        };
        let endpoint = self.endpoint_with(token);
        Box::pin(async move { Ok(endpoint) })
    }

    fn on_unauthorized<'a>(
        &'a self,
        rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async move {
            assert_eq!(
                rejected.bearer.as_ref().map(Secret::expose),
                Some("old-token")
            );
            self.refreshed.fetch_add(1, Ordering::SeqCst);
            Ok((!self.refuse).then(|| self.endpoint_with("new-token")))
        })
    }
}

fn bearers(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn unauthorized_refreshes_once_and_retries_with_the_new_bearer() {
    let server = MockServer::start();
    server.enqueue(Reply::error(401, "token expired", "invalid_token"));
    server.enqueue(Reply::text("welcome back", 100));
    let creds = Rotating::new(&server, false);
    let got = collect_with(
        &client(),
        creds.clone(),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), "welcome back");
    assert!(got.retries().is_empty(), "a refresh is not a backoff retry");
    assert_eq!(creds.refreshed.load(Ordering::SeqCst), 1);
    assert_eq!(creds.endpoint_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        bearers(&server),
        vec!["Bearer old-token", "Bearer new-token"]
    );
    assert_eq!(
        server.requests()[1].header("x-dashscope-authtype"),
        Some("qwen-oauth")
    );
}

#[tokio::test]
async fn second_unauthorized_is_final() {
    let server = MockServer::start();
    server.enqueue(Reply::error(401, "token expired", "invalid_token"));
    server.enqueue(Reply::error(401, "still bad", "invalid_token"));
    server.enqueue(Reply::text("never", 100));
    let creds = Rotating::new(&server, false);
    let got = collect_with(
        &client(),
        creds.clone(),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        got.error,
        Some(ClientError::Unauthorized {
            status: 401,
            message: "still bad".into()
        })
    );
    assert_eq!(creds.refreshed.load(Ordering::SeqCst), 1);
    assert_eq!(
        bearers(&server),
        vec!["Bearer old-token", "Bearer new-token"]
    );
}

#[tokio::test]
async fn refused_refresh_reports_the_original_401() {
    let server = MockServer::start();
    server.enqueue(Reply::error(401, "token expired", "invalid_token"));
    let creds = Rotating::new(&server, true);
    let got = collect_with(
        &client(),
        creds.clone(),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        got.error,
        Some(ClientError::Unauthorized {
            status: 401,
            message: "token expired".into()
        })
    );
    assert_eq!(creds.refreshed.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 1);
}

/// A source that cannot produce credentials: its error is passed through unchanged.
struct Broken;

impl CredentialSource for Broken {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        Box::pin(async {
            Err(ClientError::Credentials {
                message: "the refresh token was revoked".into(),
            })
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async { Ok(None) })
    }
}

#[tokio::test]
async fn credential_source_errors_are_passed_through() {
    let got = collect_with(
        &client(),
        Arc::new(Broken),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        got.error,
        Some(ClientError::Credentials {
            message: "the refresh token was revoked".into()
        })
    );
    assert!(got.events.is_empty());
}
