//! Retries: visible `Retry` events, `Retry-After`, budgets, and the no-duplicate-output rule.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use qcode_client::{
    ClientError, ResponseEvent, RetryPolicy, Secret, StaticCredentials, TimeoutPhase,
};
use qcode_protocol::FinishReason;
use qcode_test_support::mock_model::{MockServer, Reply, SseItem, chunk};
use tokio_util::sync::CancellationToken;

use super::support::{KEY, client_with, collect, collect_with, creds, fast_options, request};

fn retry_event(got: &ResponseEvent) -> (u32, u32, Duration, String) {
    match got {
        ResponseEvent::Retry {
            attempt,
            max_attempts,
            delay,
            reason,
        } => (*attempt, *max_attempts, *delay, reason.clone()),
        other => panic!("not a retry: {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds_is_honoured() {
    let server = MockServer::start();
    server.enqueue(
        Reply::error(429, "Rate limit reached", "rate_limit_exceeded").header("Retry-After", "1"),
    );
    server.enqueue(Reply::text("after wait", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        retry_event(&got.events[0]),
        (
            2,
            3,
            Duration::from_secs(1),
            "rate limited (HTTP 429)".into()
        )
    );
    assert_eq!(got.text(), "after wait");
    assert_eq!(
        got.events.last(),
        Some(&ResponseEvent::Finish(FinishReason::Stop))
    );
    assert_eq!(server.requests().len(), 2);
    // The retry sends the identical request.
    let requests = server.requests();
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = MockServer::start();
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1));
    server.enqueue(Reply::status(503).header("Retry-After", &at).body("busy"));
    server.enqueue(Reply::text("ok", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    let (attempt, _, delay, reason) = retry_event(&got.events[0]);
    assert_eq!(attempt, 2);
    assert!(delay <= Duration::from_secs(1), "{delay:?}");
    assert_eq!(reason, "provider error (HTTP 503)");
}

#[tokio::test]
async fn retry_after_beyond_the_budget_fails_with_a_clear_message() {
    let server = MockServer::start();
    server.enqueue(
        Reply::error(429, "slow down", "rate_limit_exceeded").header("Retry-After", "3600"),
    );
    let got = collect(&server).await;
    assert!(got.retries().is_empty());
    match got.error {
        Some(ClientError::RateLimited { message }) => {
            assert!(
                message.starts_with("slow down (the provider asked to wait 3600 s"),
                "{message}"
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = MockServer::start();
    for status in [500, 502, 504] {
        server.enqueue(Reply::error(status, "upstream failed", "server_error"));
    }
    let got = collect(&server).await;
    let retries: Vec<_> = got.retries().into_iter().map(retry_event).collect();
    assert_eq!(retries.len(), 2);
    assert_eq!((retries[0].0, retries[0].1), (2, 3));
    assert_eq!((retries[1].0, retries[1].1), (3, 3));
    assert_eq!(retries[0].3, "provider error (HTTP 500)");
    assert_eq!(retries[1].3, "provider error (HTTP 502)");
    assert!(retries.iter().all(|r| r.2 <= Duration::from_millis(50)));
    assert_eq!(
        got.error,
        Some(ClientError::Server {
            status: 504,
            message: "upstream failed".into()
        })
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn request_timeout_408_is_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::status(408).body("timeout"));
    server.enqueue(Reply::text("ok", 10));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.retries().len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_reset_before_any_response_is_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::reset_connection());
    server.enqueue(Reply::text("second try", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.retries().len(), 1);
    assert_eq!(got.text(), "second try");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn reset_mid_stream_before_output_is_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::comment(": ping"),
        SseItem::delay(10),
        SseItem::reset(),
    ]));
    server.enqueue(Reply::text("fresh", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        retry_event(got.retries()[0]).3,
        "the connection broke before any output"
    );
    assert_eq!(got.text(), "fresh");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn reset_mid_stream_after_output_is_an_error_without_retry() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::text("Half an ans")),
        SseItem::delay(30),
        SseItem::reset(),
    ]));
    server.enqueue(Reply::text("must not be requested", 100));
    let got = collect(&server).await;
    assert_eq!(
        got.events,
        vec![ResponseEvent::TextDelta("Half an ans".into())]
    );
    match got.error {
        Some(ClientError::Stream { message }) => {
            // One plain cause, no library details (those need QCODE_DEBUG).
            assert_eq!(
                message,
                "the server closed the connection in the middle of the answer"
            )
        }
        other => panic!("expected Stream error, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.pending_replies(), 1);
}

#[tokio::test]
async fn an_empty_200_answer_is_said_at_once_and_retried_only_once() {
    let server = MockServer::start();
    for _ in 0..3 {
        server.enqueue(Reply::sse(vec![]));
    }
    let got = collect(&server).await;
    assert_eq!(got.retries().len(), 1, "{:?}", got.events);
    assert_eq!(
        retry_event(got.retries()[0]).3,
        "the server returned an empty response"
    );
    let error = got.error.expect("an error");
    assert_eq!(error, ClientError::EmptyResponse { status: 200 });
    assert_eq!(
        error.to_string(),
        "the server returned an empty response (HTTP 200 with no data)"
    );
    assert!(error.hint().unwrap_or_default().contains("context size"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.pending_replies(), 1);
}

#[tokio::test]
async fn an_empty_json_answer_is_an_empty_response_too() {
    let server = MockServer::start();
    server.enqueue(Reply::status(200).header("content-type", "application/json"));
    server.enqueue(Reply::text("second time lucky", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        retry_event(got.retries()[0]).3,
        "the server returned an empty response"
    );
    assert_eq!(got.text(), "second time lucky");
}

#[tokio::test]
async fn empty_stream_is_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![SseItem::comment("ping")]));
    server.enqueue(Reply::text("now", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.retries().len(), 1);
    assert_eq!(got.text(), "now");
}

#[tokio::test]
async fn throttling_error_in_stream_before_output_is_retried() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::data_json(&chunk::error("Requests throttled, try later", "Throttling")),
    ]));
    server.enqueue(Reply::text("ok", 100));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        retry_event(got.retries()[0]).3,
        "provider error (Throttling)"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn stall_after_output_hits_the_idle_timeout() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("start")),
        SseItem::stall(),
    ]));
    let mut options = fast_options();
    options.idle_timeout = Duration::from_millis(300);
    let got = collect_with(
        &client_with(options),
        creds(&server),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(got.events, vec![ResponseEvent::TextDelta("start".into())]);
    assert_eq!(
        got.error,
        Some(ClientError::Timeout {
            phase: TimeoutPhase::Idle,
            after: Duration::from_millis(300)
        })
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn stall_before_output_is_retried_after_the_idle_timeout() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::role()),
        SseItem::stall(),
    ]));
    server.enqueue(Reply::text("recovered", 100));
    let mut options = fast_options();
    options.idle_timeout = Duration::from_millis(200);
    let got = collect_with(
        &client_with(options),
        creds(&server),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        retry_event(got.retries()[0]).3,
        "the provider did not answer in time"
    );
    assert_eq!(got.text(), "recovered");
}

#[tokio::test]
async fn refused_local_server_is_reported_at_once_with_host_and_port() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let creds = Arc::new(StaticCredentials::new(
        format!("http://127.0.0.1:{port}/v1"),
        Some(Secret::new(KEY)),
    ));
    let got = collect_with(
        &client_with(fast_options()),
        creds,
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert!(
        got.retries().is_empty(),
        "a local server that is down is not retried"
    );
    match &got.error {
        Some(e @ ClientError::LocalServerDown { host_port }) => {
            assert_eq!(host_port, &format!("127.0.0.1:{port}"));
            assert_eq!(e.kind(), qcode_protocol::ErrorKind::Network);
            assert!(e.hint().unwrap().contains("ollama serve"));
        }
        other => panic!("expected LocalServerDown, got {other:?}"),
    }
}

#[tokio::test]
async fn no_retry_policy_fails_at_once() {
    let server = MockServer::start();
    server.enqueue(Reply::error(503, "overloaded", "server_error"));
    let mut options = fast_options();
    options.retry = RetryPolicy::none();
    let got = collect_with(
        &client_with(options),
        creds(&server),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert!(got.retries().is_empty());
    assert!(matches!(
        got.error,
        Some(ClientError::Server { status: 503, .. })
    ));
}

#[tokio::test]
async fn no_response_headers_is_a_response_timeout() {
    let server = MockServer::start();
    server.enqueue(Reply::hang());
    server.enqueue(Reply::hang());
    let mut options = fast_options();
    options.idle_timeout = Duration::from_millis(200);
    options.retry.max_attempts = 2;
    let got = collect_with(
        &client_with(options),
        creds(&server),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(got.retries().len(), 1);
    assert_eq!(
        got.error,
        Some(ClientError::Timeout {
            phase: TimeoutPhase::Response,
            after: Duration::from_millis(200)
        })
    );
    assert_eq!(server.requests().len(), 2);
}
