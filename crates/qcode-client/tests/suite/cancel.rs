//! Cancellation drops the connection at once, mid-stream or during a retry delay.

use std::time::Duration;

use futures::StreamExt;
use qcode_client::{ClientError, ResponseEvent};
use qcode_test_support::mock_model::{MockServer, Reply, SseItem, chunk};
use tokio_util::sync::CancellationToken;

use super::support::{client_with, collect_with, creds, fast_options, request};

/// Idle timeout and retry delays far longer than the test: only cancellation can end it.
fn patient() -> qcode_client::ClientOptions {
    let mut options = fast_options();
    options.idle_timeout = Duration::from_secs(60);
    options.retry.initial_delay = Duration::from_secs(60);
    options.retry.max_delay = Duration::from_secs(60);
    options.retry.max_total = Duration::from_secs(600);
    options
}

#[tokio::test]
async fn cancel_during_a_stalled_stream() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("thinking")),
        SseItem::stall(),
    ]));
    let client = client_with(patient());
    let cancel = CancellationToken::new();
    let mut stream = client.stream(creds(&server), &request(), cancel.clone());
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ResponseEvent::TextDelta("thinking".into())
    );
    cancel.cancel();
    assert_eq!(stream.next().await.unwrap(), Err(ClientError::Cancelled));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn cancel_during_a_retry_delay() {
    let server = MockServer::start();
    server.enqueue(Reply::error(503, "busy", "server_error"));
    let client = client_with(patient());
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let got = collect_with(&client, creds(&server), &request(), cancel).await;
    assert_eq!(got.retries().len(), 1);
    assert_eq!(got.error, Some(ClientError::Cancelled));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn already_cancelled_sends_nothing() {
    let server = MockServer::start();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let got = collect_with(&client_with(patient()), creds(&server), &request(), cancel).await;
    assert_eq!(got.error, Some(ClientError::Cancelled));
    assert!(got.events.is_empty());
    assert!(server.requests().is_empty());
}
