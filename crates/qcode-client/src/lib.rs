//! OpenAI-compatible streaming chat client: SSE bytes to typed [`ResponseEvent`]s, retries and
//! errors.
//!
//! [`ChatClient::stream`] sends a [`ChatRequest`] to `{base_url}/chat/completions` with
//! `stream: true` and yields text and reasoning deltas, complete tool calls (assembled from
//! fragments), one usage report and one finish reason, hiding provider quirks (keep-alive
//! comments, CR/CRLF line ends, split UTF-8, duplicate finish chunks, usage-only chunks, repeated
//! tool-call ids, missing `[DONE]`, in-stream error objects). Failures before any output are
//! retried with visible [`ResponseEvent::Retry`] events; errors are [`ClientError`]s with an
//! [`qcode_protocol::ErrorKind`] and a hint (and convert into a [`qcode_protocol::Problem`]
//! carrying both).
//!
//! Credentials come per request from a [`CredentialSource`], so OAuth refresh and per-account
//! base URLs plug in without this crate knowing about authentication. This crate must not read
//! configuration, environment variables or credential files itself; the one exception is the
//! standard proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), read when a
//! client is built with [`ProxyConfig::Environment`] (the default), as every HTTP client does.
//! Loopback is never proxied.
//!
//! URLs in messages go through [`redact_url`]: user info and query never appear.
//!
//! Event order of a successful stream: deltas and tool calls as they complete, then at most one
//! `Usage`, then exactly one `Finish` (always last). `Retry` events may come before any output.

mod client;
mod credentials;
mod decode;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod models;
mod provider;
mod proxy;
mod redact;
mod request;
mod retry;
mod sse;
mod stream;
mod tls;
mod transport;

use std::time::Duration;

pub use client::{ChatClient, ClientOptions};
pub use credentials::{CredentialSource, Endpoint, Secret, StaticCredentials};
pub use error::{ClientError, TimeoutPhase};
pub use models::ModelInfo;
pub use proxy::{ProxyConfig, ProxySettings};
pub use redact::redact_url;
pub use request::ChatRequest;
pub use retry::RetryPolicy;
pub use stream::ResponseStream;
pub use tokio_util::sync::CancellationToken;
pub use transport::set_error_details;

use qcode_protocol::{FinishReason, ToolCall, Usage};

/// One typed event of a streamed chat completion.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    /// Answer text.
    TextDelta(String),
    /// Reasoning text (`reasoning_content` or `reasoning`), for display only.
    ReasoningDelta(String),
    /// A complete tool call. `arguments` is the raw text; it may be invalid JSON when the model
    /// was cut off (then `Finish(Length)` follows).
    ToolCall(ToolCall),
    /// Token usage of this request (sent once, before `Finish`).
    Usage(Usage),
    /// Why the model stopped; always the last event of a successful stream.
    Finish(FinishReason),
    /// The request failed before any output and is retried after `delay`; `attempt` is the
    /// number of the attempt about to start.
    Retry {
        attempt: u32,
        max_attempts: u32,
        delay: Duration,
        reason: String,
    },
}
