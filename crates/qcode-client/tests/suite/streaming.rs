//! Successful streams against the mock: text, reasoning, tool calls, usage, and the quirks
//! real providers send, over real HTTP with exact byte splits.

use std::time::Instant;

use qcode_client::ResponseEvent;
use qcode_protocol::{FinishReason, ToolCall, Usage};
use qcode_test_support::mock_model::MockServer;
use qcode_test_support::mock_model::{MockUsage, Reply, SseItem, chunk};

use super::support::collect;

fn usage(prompt: u64, completion: u64, cached: u64, reasoning: u64) -> ResponseEvent {
    ResponseEvent::Usage(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        cached_tokens: cached,
        reasoning_tokens: reasoning,
    })
}

fn text(s: &str) -> ResponseEvent {
    ResponseEvent::TextDelta(s.into())
}

#[tokio::test]
async fn text_reply_events_in_order() {
    let server = MockServer::start();
    server.enqueue(Reply::text("Hello, wörld!", 5).with_usage(MockUsage::new(12, 4).cached(8)));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![
            text("Hello"),
            text(", wör"),
            text("ld!"),
            usage(12, 4, 8, 0),
            ResponseEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[tokio::test]
async fn reasoning_then_text() {
    let server = MockServer::start();
    server.enqueue(
        Reply::reasoning_then_text("Let me think.", "Done.", 100)
            .with_usage(MockUsage::new(5, 20).reasoning(15)),
    );
    let got = collect(&server).await;
    assert_eq!(
        got.events,
        vec![
            ResponseEvent::ReasoningDelta("Let me think.".into()),
            text("Done."),
            usage(5, 20, 0, 15),
            ResponseEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[tokio::test]
async fn tool_calls_assembled_from_fragments() {
    let server = MockServer::start();
    server.enqueue(Reply::tool_calls(
        vec![
            (
                "call_1",
                "read_file",
                r#"{"file_path":"/tmp/a.rs","limit":10}"#,
            ),
            ("call_2", "run_shell_command", r#"{"command":"ls -la"}"#),
        ],
        3,
    ));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![
            ResponseEvent::ToolCall(ToolCall {
                id: "call_1".into(),
                name: "read_file".into(),
                arguments: r#"{"file_path":"/tmp/a.rs","limit":10}"#.into(),
            }),
            ResponseEvent::ToolCall(ToolCall {
                id: "call_2".into(),
                name: "run_shell_command".into(),
                arguments: r#"{"command":"ls -la"}"#.into(),
            }),
            usage(10, 5, 0, 0),
            ResponseEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

/// A stream with every quirk, written in 7-byte pieces with pauses so the client's reads split
/// lines, CRLF pairs and UTF-8 characters.
#[tokio::test]
async fn quirky_stream_split_into_small_pieces() {
    let mut raw = String::new();
    raw.push_str(&format!("data: {}\r\n\r\n", chunk::role()));
    raw.push_str(": keep-alive\r\n\r\n");
    raw.push_str("event: message\nid: 1\nretry: 500\n");
    raw.push_str(&format!("data: {}\n\n", chunk::text("Grüße 世界 🎉")));
    raw.push_str(&format!("data: {}\r\r", chunk::reasoning("hmm")));
    raw.push_str(&format!(
        "data: {}\n\n",
        serde_json::json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c9","type":"function","function":{"name":"glob","arguments":"{\"pattern\":"}}]}}]})
    ));
    raw.push_str(&format!(
        "data: {}\n\n",
        serde_json::json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c9","type":"function","function":{"name":"glob","arguments":"\"*.rs\"}"}}]}}]})
    ));
    raw.push_str(&format!("data: {}\n\n", chunk::finish("tool_calls")));
    raw.push_str(&format!("data: {}\n\n", chunk::finish("tool_calls")));
    raw.push_str(&format!(
        "data: {}\n\n",
        chunk::usage(&MockUsage::new(7, 3).cached(2).reasoning(1))
    ));
    raw.push_str("data: [DONE]\n\n");
    let mut items = Vec::new();
    for piece in raw.as_bytes().chunks(7) {
        items.push(SseItem::raw(piece.to_vec()));
        items.push(SseItem::delay(1));
    }
    let server = MockServer::start();
    server.enqueue(Reply::sse(items));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![
            text("Grüße 世界 🎉"),
            ResponseEvent::ReasoningDelta("hmm".into()),
            ResponseEvent::ToolCall(ToolCall {
                id: "c9".into(),
                name: "glob".into(),
                arguments: r#"{"pattern":"*.rs"}"#.into(),
            }),
            usage(7, 3, 2, 1),
            ResponseEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[tokio::test]
async fn stream_without_done_but_with_finish_is_complete() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("bye")),
        SseItem::data_json(&chunk::finish("stop")),
        SseItem::data_json(&chunk::usage(&MockUsage::new(1, 1))),
    ]));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![
            text("bye"),
            usage(1, 1, 0, 0),
            ResponseEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[tokio::test]
async fn body_ending_without_finish_or_done_reports_unknown_finish() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![SseItem::data_json(&chunk::text("cut sh"))]).close_delimited());
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![text("cut sh"), ResponseEvent::Finish(FinishReason::Unknown)]
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn reset_after_finish_still_completes() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::text("all there")),
        SseItem::data_json(&chunk::finish("stop")),
        SseItem::delay(20),
        SseItem::reset(),
    ]));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![text("all there"), ResponseEvent::Finish(FinishReason::Stop)]
    );
}

#[tokio::test]
async fn truncated_tool_call_json_is_passed_on_with_length_finish() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::data_json(&chunk::tool_call_begin(0, "w1", "write_file")),
        SseItem::data_json(&chunk::tool_call_args(
            0,
            r#"{"file_path":"/x","content":"ab"#,
        )),
        SseItem::data_json(&chunk::finish("length")),
        SseItem::done(),
    ]));
    let got = collect(&server).await;
    assert_eq!(
        got.events,
        vec![
            ResponseEvent::ToolCall(ToolCall {
                id: "w1".into(),
                name: "write_file".into(),
                arguments: r#"{"file_path":"/x","content":"ab"#.into(),
            }),
            ResponseEvent::Finish(FinishReason::Length),
        ]
    );
}

/// A 100k-token answer (~400 KB of text in 100k chunks) streams completely.
#[tokio::test]
async fn large_reply_streams_completely() {
    let answer: String = (0..100_000)
        .map(|i| format!("t{:02} ", i % 100))
        .collect::<String>();
    let server = MockServer::start();
    server.enqueue(Reply::text(&answer, 4));
    let started = Instant::now();
    let got = collect(&server).await;
    let took = started.elapsed();
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), answer);
    assert_eq!(got.events.len(), 100_000 + 2);
    eprintln!("large reply: {} bytes of text in {took:?}", answer.len());
}

#[tokio::test]
async fn non_streamed_json_completion_is_accepted() {
    let server = MockServer::start();
    server.enqueue(Reply::status(200).json_body(serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Reading it.",
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "read_file", "arguments": "{\"file_path\":\"/a\"}"}},
                    {"id": "b", "type": "function", "function": {"name": "glob", "arguments": "{}"}}
                ]
            },
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}
    })));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        got.events,
        vec![
            text("Reading it."),
            ResponseEvent::ToolCall(ToolCall {
                id: "a".into(),
                name: "read_file".into(),
                arguments: r#"{"file_path":"/a"}"#.into(),
            }),
            ResponseEvent::ToolCall(ToolCall {
                id: "b".into(),
                name: "glob".into(),
                arguments: "{}".into(),
            }),
            usage(9, 6, 0, 0),
            ResponseEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[tokio::test]
async fn html_page_with_200_is_malformed_not_retried() {
    let server = MockServer::start();
    server.enqueue(
        Reply::status(200)
            .header("Content-Type", "text/html")
            .body("<html>login</html>"),
    );
    let got = collect(&server).await;
    assert!(
        matches!(&got.error, Some(qcode_client::ClientError::Malformed { message }) if message.contains("HTML page")),
        "{:?}",
        got.error
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn stream_is_send_and_static() {
    use futures::StreamExt;
    let server = MockServer::start();
    server.enqueue(Reply::text("moved", 100));
    let client = super::support::client();
    let stream = client.stream(
        super::support::creds(&server),
        &super::support::request(),
        tokio_util::sync::CancellationToken::new(),
    );
    drop(client);
    let events: Vec<_> = tokio::spawn(stream.collect::<Vec<_>>()).await.unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], Ok(text("moved")));
}
