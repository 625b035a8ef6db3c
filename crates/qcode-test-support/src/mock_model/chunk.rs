//! Single `chat.completion.chunk` objects in the shape real providers stream them, for building
//! custom scripts: `SseItem::data_json(&chunk::text("hi"))`. Every chunk carries `"usage": null`
//! as OpenAI does when `include_usage` is on, except the usage-only chunk.

use bytes::Bytes;
use serde_json::{Value, json};

use super::MockUsage;

const ID: &str = "chatcmpl-mock";
const MODEL: &str = "mock-model";
const CREATED: u64 = 1_700_000_000;

/// A chunk with one choice carrying `delta` and `finish_reason`.
pub fn with_delta(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason }],
        "usage": null,
    })
}

/// The first chunk: `{"role":"assistant","content":""}`.
pub fn role() -> Value {
    with_delta(json!({ "role": "assistant", "content": "" }), None)
}

/// A content delta.
pub fn text(piece: &str) -> Value {
    with_delta(json!({ "content": piece }), None)
}

/// A content delta as a complete `data: …\n\n` line, built without an intermediate `Value`
/// (fast enough for replies of hundreds of thousands of chunks).
pub fn text_line(piece: &str) -> Bytes {
    let escaped = Value::String(piece.to_string());
    Bytes::from(format!(
        "data: {{\"id\":\"{ID}\",\"object\":\"chat.completion.chunk\",\"created\":{CREATED},\"model\":\"{MODEL}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{escaped}}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
    ))
}

/// A reasoning delta (`reasoning_content`, Qwen / DeepSeek style).
pub fn reasoning(piece: &str) -> Value {
    with_delta(json!({ "reasoning_content": piece }), None)
}

/// The first fragment of a tool call: index, id, type, name and empty arguments.
pub fn tool_call_begin(index: usize, id: &str, name: &str) -> Value {
    with_delta(
        json!({ "tool_calls": [{
            "index": index, "id": id, "type": "function",
            "function": { "name": name, "arguments": "" }
        }]}),
        None,
    )
}

/// A later fragment of a tool call: arguments keyed by index only.
pub fn tool_call_args(index: usize, piece: &str) -> Value {
    with_delta(
        json!({ "tool_calls": [{ "index": index, "function": { "arguments": piece } }] }),
        None,
    )
}

/// A finish chunk with an empty delta.
pub fn finish(reason: &str) -> Value {
    with_delta(json!({}), Some(reason))
}

/// The usage-only chunk sent after the finish: `choices: []`.
pub fn usage(usage: &MockUsage) -> Value {
    json!({
        "id": ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [],
        "usage": usage.to_json(),
    })
}

/// An in-stream error object: `{"error":{"message","code"}}`.
pub fn error(message: &str, code: &str) -> Value {
    json!({ "error": { "message": message, "code": code, "type": code } })
}
