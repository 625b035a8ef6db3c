//! [`ChatRequest`] and its exact wire JSON (OpenAI Chat Completions, streaming).
//!
//! Wire rules: `stream: true` and `stream_options: {include_usage: true}` always; `tools` only
//! when there are some; assistant messages with tool calls keep `content` as a string (`""`,
//! never `null`) and send `tool_calls: [{id, type: "function", function: {name, arguments}}]`
//! (empty `arguments` go out as `"{}"`); tool results are `{role: "tool", tool_call_id,
//! content}`; the local `reasoning` text is never sent. Extra provider fields are added at the
//! top level but never replace a field the client sets itself.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use qcode_protocol::{ChatMessage, Role, ToolCall, ToolSpec};

/// One streaming chat request. The messages are borrowed where the caller keeps them (the
/// engine's history is serialised in place, never copied per request).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest<'a> {
    pub model: String,
    pub messages: std::borrow::Cow<'a, [ChatMessage]>,
    /// Tools the model may call; omitted from the request when empty.
    pub tools: Vec<ToolSpec>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Provider extensions added to the top level of the body (e.g. `enable_thinking`,
    /// `metadata`, `parallel_tool_calls`).
    pub extra: Map<String, Value>,
}

impl<'a> ChatRequest<'a> {
    pub fn new(
        model: impl Into<String>,
        messages: impl Into<std::borrow::Cow<'a, [ChatMessage]>>,
    ) -> Self {
        Self {
            model: model.into(),
            messages: messages.into(),
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
            extra: Map::new(),
        }
    }

    /// The request body exactly as sent.
    pub fn to_body(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&WireRequest(self))
    }
}

struct WireRequest<'a>(&'a ChatRequest<'a>);

impl Serialize for WireRequest<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = serializer.serialize_map(None)?;
        let mut set = vec!["model", "messages", "stream", "stream_options"];
        map.serialize_entry("model", &r.model)?;
        map.serialize_entry("messages", &WireMessages(&r.messages))?;
        map.serialize_entry("stream", &true)?;
        map.serialize_entry(
            "stream_options",
            &StreamOptions {
                include_usage: true,
            },
        )?;
        if !r.tools.is_empty() {
            set.push("tools");
            map.serialize_entry("tools", &WireTools(&r.tools))?;
        }
        if let Some(t) = r.temperature {
            set.push("temperature");
            map.serialize_entry("temperature", &t)?;
        }
        if let Some(m) = r.max_tokens {
            set.push("max_tokens");
            map.serialize_entry("max_tokens", &m)?;
        }
        for (key, value) in &r.extra {
            if !set.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

struct WireMessages<'a>(&'a [ChatMessage]);

impl Serialize for WireMessages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(WireMessage))
    }
}

struct WireMessage<'a>(&'a ChatMessage);

impl Serialize for WireMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = serializer.serialize_map(None)?;
        match m.role {
            Role::System => {
                map.serialize_entry("role", "system")?;
                map.serialize_entry("content", &m.content)?;
            }
            Role::User => {
                map.serialize_entry("role", "user")?;
                map.serialize_entry("content", &m.content)?;
            }
            Role::Assistant => {
                map.serialize_entry("role", "assistant")?;
                map.serialize_entry("content", &m.content)?;
                if !m.tool_calls.is_empty() {
                    map.serialize_entry("tool_calls", &WireToolCalls(&m.tool_calls))?;
                }
            }
            Role::Tool => {
                map.serialize_entry("role", "tool")?;
                map.serialize_entry("tool_call_id", m.tool_call_id.as_deref().unwrap_or(""))?;
                map.serialize_entry("content", &m.content)?;
            }
        }
        map.end()
    }
}

struct WireToolCalls<'a>(&'a [ToolCall]);

impl Serialize for WireToolCalls<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|call| WireToolCall {
            id: &call.id,
            kind: "function",
            function: WireFunctionCall {
                name: &call.name,
                arguments: if call.arguments.trim().is_empty() {
                    "{}"
                } else {
                    &call.arguments
                },
            },
        }))
    }
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

struct WireTools<'a>(&'a [ToolSpec]);

impl Serialize for WireTools<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|tool| WireTool {
            kind: "function",
            function: WireFunction {
                name: &tool.name,
                description: &tool.description,
                parameters: &tool.parameters,
            },
        }))
    }
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}
