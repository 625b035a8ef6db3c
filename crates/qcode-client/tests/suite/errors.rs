//! Failures that are not retried: status classification, quota, malformed and in-stream
//! errors, connection problems, and what the messages contain.

use std::sync::Arc;

use qcode_client::{ClientError, ResponseEvent, Secret, StaticCredentials};
use qcode_protocol::ErrorKind;
use qcode_test_support::mock_model::{MockServer, Reply, SseItem, chunk};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::{KEY, client, collect, collect_with, request};

#[tokio::test]
async fn quota_429_is_not_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::error(
        429,
        "You exceeded your current quota, please check your plan.",
        "insufficient_quota",
    ));
    server.enqueue(Reply::text("should not be used", 10));
    let got = collect(&server).await;
    assert_eq!(got.events, vec![]);
    let error = got.error.unwrap();
    assert_eq!(
        error,
        ClientError::Quota {
            message: "You exceeded your current quota, please check your plan.".into()
        }
    );
    assert_eq!(error.kind(), ErrorKind::Quota);
    assert!(!error.is_retryable());
    assert!(error.hint().unwrap().contains("quota"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unauthorized_with_static_key_fails_once_and_scrubs_the_key() {
    let server = MockServer::start();
    server.enqueue(Reply::error(
        401,
        &format!("Incorrect API key provided: {KEY}"),
        "invalid_api_key",
    ));
    let got = collect(&server).await;
    let error = got.error.unwrap();
    assert_eq!(
        error,
        ClientError::Unauthorized {
            status: 401,
            message: "Incorrect API key provided: [redacted]".into()
        }
    );
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert!(!error.to_string().contains(KEY));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn statuses_map_to_errors_without_retry() {
    let cases = [
        (
            Reply::error(404, "The model `nope` does not exist", "model_not_found"),
            ErrorKind::NotFound,
        ),
        (Reply::status(403).body("Forbidden"), ErrorKind::Auth),
        (
            Reply::error(400, "This model's maximum context length is 32768 tokens.", "context_length_exceeded"),
            ErrorKind::ContextTooLong,
        ),
        (
            Reply::status(400).json_body(json!({"code":"InvalidParameter","message":"Range of input length should be [1, 30720]"})),
            ErrorKind::ContextTooLong,
        ),
        (Reply::error(400, "tools[0] is invalid", "invalid_request_error"), ErrorKind::BadRequest),
        (Reply::error(501, "not implemented", "server_error"), ErrorKind::Server),
    ];
    for (reply, kind) in cases {
        let server = MockServer::start();
        server.enqueue(reply);
        let got = collect(&server).await;
        let error = got.error.unwrap();
        assert_eq!(error.kind(), kind, "{error:?}");
        assert!(error.hint().is_some());
        assert_eq!(server.requests().len(), 1, "{error:?} must not be retried");
    }
}

#[tokio::test]
async fn not_found_names_the_url_and_hints_at_model_list() {
    let server = MockServer::start();
    server.enqueue(Reply::error(404, "model not found", "model_not_found"));
    let error = collect(&server).await.error.unwrap();
    assert_eq!(
        error,
        ClientError::NotFound {
            url: format!("{}/chat/completions", server.url()),
            message: "model not found".into()
        }
    );
    assert!(error.hint().unwrap().contains("/model"));
}

#[tokio::test]
async fn long_html_error_bodies_are_summarised() {
    let server = MockServer::start();
    server.enqueue(Reply::status(400).body(&format!("<html>{}</html>", "x".repeat(5000))));
    let error = collect(&server).await.error.unwrap();
    assert_eq!(
        error,
        ClientError::BadRequest {
            status: 400,
            message: "an HTML page (5013 bytes) instead of an API answer".into()
        }
    );
}

#[tokio::test]
async fn garbage_chunk_after_output_is_malformed() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("hi")),
        SseItem::data("{\"choices\": [garbage"),
        SseItem::done(),
    ]));
    let got = collect(&server).await;
    assert_eq!(got.events, vec![ResponseEvent::TextDelta("hi".into())]);
    let error = got.error.unwrap();
    assert!(matches!(error, ClientError::Malformed { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn garbage_first_chunk_is_not_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![SseItem::data("<<not json>>")]));
    let got = collect(&server).await;
    assert!(
        matches!(got.error, Some(ClientError::Malformed { .. })),
        "{:?}",
        got.error
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn in_stream_error_after_output_ends_the_stream() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("partial")),
        SseItem::data_json(&chunk::error("Internal server error", "internal_error")),
    ]));
    let got = collect(&server).await;
    assert_eq!(got.events, vec![ResponseEvent::TextDelta("partial".into())]);
    assert_eq!(
        got.error,
        Some(ClientError::Provider {
            code: Some("internal_error".into()),
            message: "Internal server error".into(),
            transient: true
        })
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn error_finish_after_output_is_an_error() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("a")),
        SseItem::data_json(&chunk::with_delta(
            json!({"content": "Throttling"}),
            Some("error_finish"),
        )),
        SseItem::done(),
    ]));
    let got = collect(&server).await;
    assert_eq!(got.events, vec![ResponseEvent::TextDelta("a".into())]);
    assert_eq!(
        got.error,
        Some(ClientError::Provider {
            code: Some("error_finish".into()),
            message: "Throttling".into(),
            transient: true
        })
    );
}

#[tokio::test]
async fn invalid_base_url_is_a_config_error() {
    for url in ["localhost:8080/v1", "ftp://example.com/v1", "not a url"] {
        let creds = Arc::new(StaticCredentials::new(url, Some(Secret::new(KEY))));
        let got = collect_with(&client(), creds, &request(), CancellationToken::new()).await;
        let error = got.error.clone().unwrap();
        assert!(
            matches!(error, ClientError::InvalidBaseUrl { .. }),
            "{url}: {error:?}"
        );
        assert_eq!(error.kind(), ErrorKind::Config);
        assert!(got.retries().is_empty());
    }
}

#[test]
fn kinds_retryability_and_hints_are_consistent() {
    use qcode_client::TimeoutPhase;
    use std::time::Duration;
    let t = ClientError::Timeout {
        phase: TimeoutPhase::Idle,
        after: Duration::from_millis(1500),
    };
    assert_eq!(
        t.to_string(),
        "timed out after 1.5 s while waiting for the next part of the streamed answer"
    );
    assert!(t.is_retryable());
    assert_eq!(t.kind(), ErrorKind::Network);
    assert!(
        ClientError::Server {
            status: 503,
            message: String::new()
        }
        .is_retryable()
    );
    assert!(
        !ClientError::Server {
            status: 501,
            message: String::new()
        }
        .is_retryable()
    );
    assert!(
        ClientError::BadRequest {
            status: 408,
            message: String::new()
        }
        .is_retryable()
    );
    assert!(
        !ClientError::BadRequest {
            status: 400,
            message: String::new()
        }
        .is_retryable()
    );
    assert_eq!(ClientError::Cancelled.kind(), ErrorKind::Interrupted);
    assert_eq!(ClientError::Cancelled.hint(), None);
}
