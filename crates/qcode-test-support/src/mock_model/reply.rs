//! What the mock server answers: [`Reply`] (status, headers, a full body or a scripted stream of
//! [`SseItem`]s) and builders for realistic OpenAI-compatible streams (text, reasoning, tool
//! calls, usage) in the shapes real providers send.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::chunk;

/// One step of a scripted response body. Every `Raw` piece is written with its own `write`
/// call (and its own HTTP chunk when the reply is chunked), so tests control the byte splits.
#[derive(Debug, Clone)]
pub enum SseItem {
    /// Exact bytes.
    Raw(Bytes),
    /// Sleep before the next item.
    Delay(Duration),
    /// Abort the TCP connection with a RST (SO_LINGER 0, then close).
    Reset,
    /// Stop sending; keep the connection open until the client closes it (or the server stops).
    Stall,
}

impl SseItem {
    /// Exact bytes, written as one piece.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Self::Raw(Bytes::from(bytes.into()))
    }

    /// `data: {json}\n\n`.
    pub fn data_json(value: &Value) -> Self {
        Self::raw(format!("data: {value}\n\n"))
    }

    /// `data: {text}\n\n` for arbitrary text (e.g. deliberately broken JSON).
    pub fn data(text: &str) -> Self {
        Self::raw(format!("data: {text}\n\n"))
    }

    /// A comment (keep-alive) line followed by a blank line; a leading `:` is added when missing.
    pub fn comment(text: &str) -> Self {
        if text.starts_with(':') {
            Self::raw(format!("{text}\n\n"))
        } else {
            Self::raw(format!(": {text}\n\n"))
        }
    }

    /// `data: [DONE]\n\n`.
    pub fn done() -> Self {
        Self::raw("data: [DONE]\n\n")
    }

    pub fn delay(ms: u64) -> Self {
        Self::Delay(Duration::from_millis(ms))
    }

    pub fn reset() -> Self {
        Self::Reset
    }

    pub fn stall() -> Self {
        Self::Stall
    }
}

/// Token counts for the usage chunk of a scripted stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Sent as `prompt_tokens_details.cached_tokens` when set.
    pub cached_tokens: Option<u64>,
    /// Sent as `completion_tokens_details.reasoning_tokens` when set.
    pub reasoning_tokens: Option<u64>,
}

impl Default for MockUsage {
    fn default() -> Self {
        Self::new(10, 5)
    }
}

impl MockUsage {
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            cached_tokens: None,
            reasoning_tokens: None,
        }
    }

    pub fn cached(mut self, tokens: u64) -> Self {
        self.cached_tokens = Some(tokens);
        self
    }

    pub fn reasoning(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = Some(tokens);
        self
    }

    /// The provider's `usage` object.
    pub fn to_json(&self) -> Value {
        let mut usage = json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        });
        if let Some(cached) = self.cached_tokens {
            usage["prompt_tokens_details"] = json!({ "cached_tokens": cached });
        }
        if let Some(reasoning) = self.reasoning_tokens {
            usage["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
        }
        usage
    }
}

/// How a streamed body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Transfer-Encoding: chunked`, one HTTP chunk per raw item (what real providers do).
    Chunked,
    /// No length: the body ends when the server closes the connection.
    CloseDelimited,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Full(Bytes),
    Stream(Vec<SseItem>),
    /// No response at all: reset the connection as soon as the request was read.
    ResetConnection,
    /// No response at all: keep the connection open and silent until the client gives up.
    Hang,
}

/// One scripted answer to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) framing: Framing,
    /// Position of the usage chunk in a convenience stream, so `with_usage` can replace it.
    usage_slot: Option<usize>,
    /// Hold the reply back until this many requests arrived (see [`Reply::after_requests`]).
    pub(crate) after_requests: Option<usize>,
}

impl Reply {
    /// This reply, sent only once the server has received `n` requests in all (or after 10 s).
    pub fn after_requests(mut self, n: usize) -> Self {
        self.after_requests = Some(n);
        self
    }

    /// A `200 text/event-stream` response made of exactly these items.
    pub fn sse(items: Vec<SseItem>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "text/event-stream".into()),
                ("Cache-Control".into(), "no-cache".into()),
            ],
            body: Body::Stream(items),
            framing: Framing::Chunked,
            usage_slot: None,
            after_requests: None,
        }
    }

    /// A response with this status and (until `body`/`json_body`) an empty body.
    pub fn status(code: u16) -> Self {
        Self {
            status: code,
            headers: Vec::new(),
            body: Body::Full(Bytes::new()),
            framing: Framing::Chunked,
            usage_slot: None,
            after_requests: None,
        }
    }

    /// No HTTP response: the connection is reset right after the request was read.
    pub fn reset_connection() -> Self {
        Self {
            body: Body::ResetConnection,
            ..Self::status(0)
        }
    }

    /// No HTTP response: read the request, then send nothing (not even headers) until the
    /// client closes the connection (tests response timeouts).
    pub fn hang() -> Self {
        Self {
            body: Body::Hang,
            ..Self::status(0)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body (and `Content-Type: application/json`).
    pub fn json_body(mut self, value: Value) -> Self {
        self.headers
            .push(("Content-Type".into(), "application/json".into()));
        self.body = Body::Full(Bytes::from(value.to_string()));
        self
    }

    /// A plain-text body.
    pub fn body(mut self, text: &str) -> Self {
        self.headers
            .push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
        self.body = Body::Full(Bytes::from(text.to_string()));
        self
    }

    /// Send a streamed body without chunked framing; it ends when the connection closes.
    pub fn close_delimited(mut self) -> Self {
        self.framing = Framing::CloseDelimited;
        self
    }

    /// A provider error in OpenAI's shape: `{"error":{"message","type","code"}}`.
    pub fn error(code: u16, message: &str, error_code: &str) -> Self {
        Self::status(code).json_body(json!({
            "error": { "message": message, "type": error_code, "code": error_code }
        }))
    }

    /// A realistic text answer: a role chunk, content deltas of `chunk_chars` characters, a
    /// `stop` finish chunk, a usage-only chunk (`choices: []`) and `[DONE]`.
    pub fn text(text: &str, chunk_chars: usize) -> Self {
        let mut items = vec![SseItem::data_json(&chunk::role())];
        items.extend(pieces(text, chunk_chars).map(|p| SseItem::Raw(chunk::text_line(p))));
        Self::finish_stream(items, "stop")
    }

    /// Reasoning deltas (`reasoning_content`, as Qwen and DeepSeek send them), then text.
    pub fn reasoning_then_text(reasoning: &str, text: &str, chunk_chars: usize) -> Self {
        let mut items = vec![SseItem::data_json(&chunk::role())];
        items.extend(
            pieces(reasoning, chunk_chars).map(|p| SseItem::data_json(&chunk::reasoning(p))),
        );
        items.extend(pieces(text, chunk_chars).map(|p| SseItem::Raw(chunk::text_line(p))));
        Self::finish_stream(items, "stop")
    }

    /// Tool calls as real providers stream them: per call a first fragment with `index`, `id`,
    /// `type`, `function.name` and empty `arguments`, then argument pieces of `fragment_chars`
    /// characters keyed by `index` only; then a `tool_calls` finish, usage chunk and `[DONE]`.
    pub fn tool_calls<I, A, B, C>(calls: I, fragment_chars: usize) -> Self
    where
        I: IntoIterator<Item = (A, B, C)>,
        A: AsRef<str>,
        B: AsRef<str>,
        C: AsRef<str>,
    {
        let mut items = vec![SseItem::data_json(&chunk::role())];
        for (index, (id, name, args)) in calls.into_iter().enumerate() {
            items.push(SseItem::data_json(&chunk::tool_call_begin(
                index,
                id.as_ref(),
                name.as_ref(),
            )));
            items.extend(
                pieces(args.as_ref(), fragment_chars)
                    .map(|p| SseItem::data_json(&chunk::tool_call_args(index, p))),
            );
        }
        Self::finish_stream(items, "tool_calls")
    }

    /// Replaces the usage chunk of a convenience stream (`text`, `tool_calls`, ...).
    pub fn with_usage(mut self, usage: MockUsage) -> Self {
        if let (Some(slot), Body::Stream(items)) = (self.usage_slot, &mut self.body)
            && let Some(item) = items.get_mut(slot)
        {
            *item = SseItem::data_json(&chunk::usage(&usage));
        }
        self
    }

    fn finish_stream(mut items: Vec<SseItem>, finish: &str) -> Self {
        items.push(SseItem::data_json(&chunk::finish(finish)));
        let slot = items.len();
        items.push(SseItem::data_json(&chunk::usage(&MockUsage::default())));
        items.push(SseItem::done());
        let mut reply = Self::sse(items);
        reply.usage_slot = Some(slot);
        reply
    }
}

/// Splits `text` into pieces of at most `chars` characters (never inside a character).
pub fn pieces(text: &str, chars: usize) -> impl Iterator<Item = &str> {
    let chars = chars.max(1);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .char_indices()
            .nth(chars)
            .map_or(rest.len(), |(at, _)| at);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}
