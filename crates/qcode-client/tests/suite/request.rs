//! The exact request sent over the wire: URL, headers and body JSON.

use std::sync::Arc;

use qcode_client::{ChatRequest, Endpoint, Secret, StaticCredentials};
use qcode_protocol::{ChatMessage, ToolCall, ToolSpec};
use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::{KEY, client, collect, collect_with, creds, request};

#[tokio::test]
async fn minimal_request_json_and_headers_are_exact() {
    let server = MockServer::start();
    server.enqueue(Reply::text("ok", 10));
    let got = collect(&server).await;
    assert!(got.error.is_none(), "{:?}", got.error);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    assert_eq!(r.header("user-agent"), Some("qcode-test/1"));
    assert_eq!(
        r.body_json().unwrap(),
        json!({
            "model": "mock-model",
            "messages": [{ "role": "user", "content": "hi" }],
            "stream": true,
            "stream_options": { "include_usage": true },
        })
    );
}

#[tokio::test]
async fn full_conversation_serialises_to_the_wire_shape() {
    let server = MockServer::start();
    server.enqueue(Reply::text("done", 10));
    let mut assistant = ChatMessage::assistant("");
    assistant.reasoning = Some("private thoughts".into());
    assistant.tool_calls = vec![
        ToolCall {
            id: "call_1".into(),
            name: "read_file".into(),
            arguments: r#"{"file_path":"/a"}"#.into(),
        },
        ToolCall {
            id: "call_2".into(),
            name: "list_directory".into(),
            arguments: String::new(),
        },
    ];
    let mut thinking_answer = ChatMessage::assistant("The file says hi.");
    thinking_answer.reasoning = Some("never sent".into());
    let mut req = ChatRequest::new(
        "qwen3-coder-plus",
        vec![
            ChatMessage::system("You are qcode."),
            ChatMessage::user("read /a"),
            assistant,
            ChatMessage::tool_result("call_1", "hi"),
            ChatMessage::tool_result("call_2", "a\nb"),
            thinking_answer,
        ],
    );
    req.tools = vec![ToolSpec {
        name: "read_file".into(),
        description: "Reads a file".into(),
        parameters: json!({"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]}),
    }];
    req.temperature = Some(0.2);
    req.max_tokens = Some(512);
    req.extra.insert("enable_thinking".into(), json!(true));
    req.extra
        .insert("metadata".into(), json!({"sessionId": "s1"}));
    // Extras never override the client's own fields.
    req.extra.insert("stream".into(), json!(false));
    req.extra.insert("model".into(), json!("other"));

    let got = collect_with(&client(), creds(&server), &req, CancellationToken::new()).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    let body = server.requests()[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({
            "model": "qwen3-coder-plus",
            "messages": [
                { "role": "system", "content": "You are qcode." },
                { "role": "user", "content": "read /a" },
                { "role": "assistant", "content": "", "tool_calls": [
                    { "id": "call_1", "type": "function",
                      "function": { "name": "read_file", "arguments": "{\"file_path\":\"/a\"}" } },
                    { "id": "call_2", "type": "function",
                      "function": { "name": "list_directory", "arguments": "{}" } }
                ]},
                { "role": "tool", "tool_call_id": "call_1", "content": "hi" },
                { "role": "tool", "tool_call_id": "call_2", "content": "a\nb" },
                { "role": "assistant", "content": "The file says hi." }
            ],
            "stream": true,
            "stream_options": { "include_usage": true },
            "tools": [{ "type": "function", "function": {
                "name": "read_file", "description": "Reads a file",
                "parameters": {"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]}
            }}],
            "temperature": 0.2,
            "max_tokens": 512,
            "enable_thinking": true,
            "metadata": { "sessionId": "s1" }
        })
    );
    let raw = server.requests()[0].body_text();
    assert!(!raw.contains("reasoning"), "reasoning leaked: {raw}");
    assert!(!raw.contains("null"), "null in body: {raw}");
}

#[tokio::test]
async fn endpoint_headers_base_path_and_no_bearer() {
    let server = MockServer::start();
    server.enqueue(Reply::text("ok", 10));
    let endpoint = Endpoint::new(
        format!("http://127.0.0.1:{}/compatible-mode/v1/", server.port()),
        None,
    )
    .with_header("X-DashScope-CacheControl", "enable")
    .with_header("User-Agent", "QCode/1.0 (linux; x86_64)");
    let got = collect_with(
        &client(),
        Arc::new(StaticCredentials(endpoint)),
        &request(),
        CancellationToken::new(),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    let r = &server.requests()[0];
    assert_eq!(r.path, "/compatible-mode/v1/chat/completions");
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("x-dashscope-cachecontrol"), Some("enable"));
    assert_eq!(r.header("user-agent"), Some("QCode/1.0 (linux; x86_64)"));
    assert_eq!(
        r.headers.iter().filter(|(k, _)| k == "user-agent").count(),
        1
    );
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let endpoint = Endpoint::new("http://x/v1", Some(Secret::new(KEY)))
        .with_header("X-Api-Key", "header-secret-value");
    let shown = format!("{endpoint:?} {}", Secret::new(KEY));
    assert!(!shown.contains(KEY), "{shown}");
    assert!(!shown.contains("header-secret-value"), "{shown}");
    assert!(shown.contains("X-Api-Key"), "{shown}");
}
