//! From SSE `data` payloads to [`ResponseEvent`]s: parses `chat.completion.chunk` JSON into
//! small borrowed structs and hides provider quirks.
//!
//! - Text and reasoning (`reasoning_content` or `reasoning`) deltas are emitted as they come;
//!   empty deltas (the role chunk) are dropped.
//! - Tool calls are assembled from fragments keyed by `index`; an `id` or `name` repeated in
//!   every fragment is not duplicated; a fragment with a *different* id at a known index starts
//!   a new call (some providers send parallel calls all at index 0). Calls are emitted, in
//!   index order, when the finish chunk arrives or the stream ends. A call without an id gets
//!   `call_<index>`. Arguments are passed on as raw text, even when truncated to invalid JSON.
//! - The first `finish_reason` wins; duplicates are ignored. `error_finish` is an error.
//! - Usage may come in the finish chunk or a usage-only chunk (`choices: []`); the last report
//!   wins and is emitted once, just before `Finish`, which is always the last event.
//! - `{"error": …}` objects become errors.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use qcode_protocol::{FinishReason, ToolCall, Usage};

use crate::provider::{ProviderError, from_stream_error};
use crate::sse::SseEvent;
use crate::{ClientError, ResponseEvent, Secret};

pub(crate) type Out = VecDeque<Result<ResponseEvent, ClientError>>;

/// What to do after one SSE event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    /// `[DONE]` arrived.
    Done,
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow, alias = "message")]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Text<'a>>,
    #[serde(default, borrow)]
    reasoning: Option<Text<'a>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    id: Option<Text<'a>>,
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    arguments: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's name for cached prompt tokens.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

/// A string field that tolerates other shapes: borrowed when the JSON has no escapes; `null`
/// becomes empty; an object or array is kept as its JSON text (e.g. `arguments` sent as an
/// object); numbers and booleans as their text.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed("")))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed("")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let value = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Text(Cow::Owned(value.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(Cow::Borrowed("")))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    index: u64,
    id: String,
    name: String,
    arguments: String,
}

/// Turns one stream's chunks into events.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    calls: Vec<PartialCall>,
    /// Calls already emitted, for generated ids.
    emitted_calls: usize,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    produced_output: bool,
    /// Bearer token to scrub from provider messages.
    secret: Option<Secret>,
}

impl Decoder {
    pub(crate) fn new(secret: Option<Secret>) -> Self {
        Self {
            secret,
            ..Self::default()
        }
    }

    /// Whether text, reasoning or a tool call was emitted (the request must not be retried).
    pub(crate) fn produced_output(&self) -> bool {
        self.produced_output
    }

    pub(crate) fn finish_seen(&self) -> bool {
        self.finish.is_some()
    }

    /// Handles one SSE event; events go to `out`.
    pub(crate) fn on_event(
        &mut self,
        event: SseEvent<'_>,
        out: &mut Out,
    ) -> Result<Step, ClientError> {
        let data = event.data.trim_ascii();
        if data == b"[DONE]" {
            return Ok(Step::Done);
        }
        if data.is_empty() {
            return Ok(Step::Continue);
        }
        if event.event == b"error" {
            return Err(self.error_event(data));
        }
        let chunk: Chunk<'_> = match serde_json::from_slice(data) {
            Ok(chunk) => chunk,
            Err(err) => {
                let text = String::from_utf8_lossy(data);
                let preview: String = text.chars().take(120).collect();
                return Err(ClientError::Malformed {
                    message: crate::provider::clean(
                        &format!(
                            "invalid JSON in a stream chunk ({err}); the chunk starts with {preview:?}"
                        ),
                        self.secret.as_ref(),
                    ),
                });
            }
        };
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            let whole = serde_json::json!({ "error": error });
            return Err(from_stream_error(&whole, self.secret.as_ref()));
        }
        for choice in chunk.choices.into_iter().flatten() {
            if choice.index.is_some_and(|i| i != 0) {
                continue; // we ask for one choice; ignore any others
            }
            let finish = choice.finish_reason.map(|t| t.0).filter(|r| !r.is_empty());
            if finish.as_deref() == Some("error_finish") {
                let text = choice
                    .delta
                    .and_then(|d| d.content)
                    .map(|t| t.0.into_owned())
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "the provider ended the answer with error_finish".into());
                let provider = ProviderError {
                    message: text,
                    code: Some("error_finish".into()),
                };
                return Err(ClientError::Provider {
                    message: provider.clean_message(self.secret.as_ref()),
                    code: provider.code,
                    // DashScope uses it for throttling and transient failures.
                    transient: true,
                });
            }
            if let Some(delta) = choice.delta {
                self.on_delta(delta, out);
            }
            if let Some(reason) = finish
                && self.finish.is_none()
            {
                self.finish = Some(FinishReason::parse(&reason));
                self.emit_calls(out);
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(convert_usage(&usage));
        }
        Ok(Step::Continue)
    }

    /// An `event: error` SSE event: JSON in any error shape, or plain text.
    fn error_event(&self, data: &[u8]) -> ClientError {
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            return from_stream_error(&value, self.secret.as_ref());
        }
        let provider = ProviderError {
            message: String::from_utf8_lossy(data).into_owned(),
            code: None,
        };
        ClientError::Provider {
            message: provider.clean_message(self.secret.as_ref()),
            transient: provider.is_transient(),
            code: None,
        }
    }

    fn on_delta(&mut self, delta: Delta<'_>, out: &mut Out) {
        for reasoning in [delta.reasoning_content, delta.reasoning]
            .into_iter()
            .flatten()
        {
            if !reasoning.0.is_empty() {
                self.produced_output = true;
                out.push_back(Ok(ResponseEvent::ReasoningDelta(reasoning.0.into_owned())));
            }
        }
        if let Some(content) = delta.content
            && !content.0.is_empty()
        {
            self.produced_output = true;
            out.push_back(Ok(ResponseEvent::TextDelta(content.0.into_owned())));
        }
        for fragment in delta.tool_calls.into_iter().flatten() {
            self.on_tool_fragment(fragment);
        }
    }

    fn on_tool_fragment(&mut self, fragment: ToolCallDelta<'_>) {
        let id = fragment.id.map(|t| t.0).filter(|s| !s.is_empty());
        let (name, arguments) = match fragment.function {
            Some(f) => (f.name.map(|t| t.0), f.arguments.map(|t| t.0)),
            None => (None, None),
        };
        // Find the call this fragment continues.
        let position = match fragment.index {
            Some(index) => self.calls.iter().rposition(|c| c.index == index),
            None => {
                // No index: a fragment announcing another call (a new id, or a different name)
                // starts one; anything else continues the last call.
                match self.calls.last() {
                    None => None,
                    Some(last) => {
                        let new_id = id.as_deref().is_some_and(|id| {
                            (!last.id.is_empty() && last.id != id)
                                || (last.id.is_empty() && !last.name.is_empty())
                        });
                        let new_name = name.as_deref().is_some_and(|n| {
                            !n.is_empty() && !last.name.is_empty() && last.name != n
                        });
                        if new_id || (new_name && id.is_none()) {
                            None
                        } else {
                            Some(self.calls.len() - 1)
                        }
                    }
                }
            }
        };
        let position = match (position, &id) {
            // A different id at a known index: a new parallel call sent at the same index.
            (Some(p), Some(id)) if !self.calls[p].id.is_empty() && self.calls[p].id != **id => None,
            (p, _) => p,
        };
        let position = match position {
            Some(p) => p,
            None => {
                let index = fragment.index.unwrap_or(self.calls.len() as u64);
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[position];
        if let Some(id) = id
            && call.id.is_empty()
        {
            call.id = id.into_owned();
        }
        if let Some(name) = name.filter(|n| !n.is_empty())
            && call.name != name
        {
            // Repeated names are ignored; a differing piece continues a name streamed in parts.
            call.name.push_str(&name);
        }
        if let Some(arguments) = arguments {
            call.arguments.push_str(&arguments);
        }
    }

    fn emit_calls(&mut self, out: &mut Out) {
        let mut calls = std::mem::take(&mut self.calls);
        calls.sort_by_key(|c| c.index); // stable: same-index calls keep arrival order
        for call in calls {
            if call.id.is_empty() && call.name.is_empty() && call.arguments.is_empty() {
                continue;
            }
            let id = if call.id.is_empty() {
                format!("call_{}", self.emitted_calls)
            } else {
                call.id
            };
            self.emitted_calls += 1;
            self.produced_output = true;
            out.push_back(Ok(ResponseEvent::ToolCall(ToolCall {
                id,
                name: call.name,
                arguments: call.arguments,
            })));
        }
    }

    /// The stream is over: pending tool calls, the usage report, then `Finish` (the finish
    /// reason seen, or `Unknown` when none came).
    pub(crate) fn finish(&mut self, out: &mut Out) {
        self.emit_calls(out);
        if let Some(usage) = self.usage.take() {
            out.push_back(Ok(ResponseEvent::Usage(usage)));
        }
        let finish = self.finish.clone().unwrap_or(FinishReason::Unknown);
        out.push_back(Ok(ResponseEvent::Finish(finish)));
    }
}

fn convert_usage(u: &WireUsage) -> Usage {
    let prompt_tokens = u.prompt_tokens.unwrap_or(0);
    let completion_tokens = u.completion_tokens.unwrap_or(0);
    Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: u.total_tokens.unwrap_or(prompt_tokens + completion_tokens),
        cached_tokens: u
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .or(u.prompt_cache_hit_tokens)
            .unwrap_or(0),
        reasoning_tokens: u
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0),
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
