//! [`ClientError`]: everything a model request can fail with, its [`ErrorKind`], whether it is
//! worth retrying, and a hint saying what the user can do about it.
//!
//! `Display` says what happened (with the provider's own message when it sent one);
//! [`ClientError::hint`] says what to do. Messages never contain credentials.

use std::fmt;
use std::time::Duration;

use qcode_protocol::ErrorKind;

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the TCP/TLS connection (`connect_timeout`).
    Connect,
    /// Waiting for the response headers (`idle_timeout`).
    Response,
    /// Waiting for the next piece of the stream (`idle_timeout`).
    Idle,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting to the provider",
            Self::Response => "waiting for the provider to start answering",
            Self::Idle => "waiting for the next part of the streamed answer",
        })
    }
}

/// A failed model request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },

    #[error("invalid request header {name:?}: names and values must be visible ASCII")]
    InvalidHeader { name: String },

    #[error("could not connect to {host_port}: {reason}")]
    Connect { host_port: String, reason: String },

    /// An `https://` URL whose server answered the TLS handshake in plain HTTP. Not retried.
    /// `http_url` is the base URL with `http://`, redacted, for the hint.
    #[error("could not connect to {host_port} with TLS: this server speaks http, not https")]
    NotHttps { host_port: String, http_url: String },

    /// The server's TLS certificate was refused (untrusted issuer, another name, expired, or
    /// no certificate store to check it with). Not retried: the same certificate comes back.
    #[error("the TLS certificate of {host_port} was refused: {reason}")]
    Certificate { host_port: String, reason: String },

    /// The host name did not resolve (DNS). Retried once at most. `host` has no user info.
    #[error("cannot resolve {host} ({reason})")]
    UnknownHost { host: String, reason: String },

    /// A proxy URL that cannot be used (`url` is redacted).
    #[error("invalid proxy URL {url:?}: {reason}")]
    InvalidProxy { url: String, reason: String },

    /// A server on this machine refused the connection: nothing listens on that port. Not
    /// retried (a local server that is not running will not appear in seconds).
    #[error("nothing is listening on {host_port} (connection refused)")]
    LocalServerDown { host_port: String },

    #[error("timed out after {} while {phase}", secs(*after))]
    Timeout {
        phase: TimeoutPhase,
        after: Duration,
    },

    #[error("the provider rejected the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },

    /// The credential source could not produce credentials (e.g. an OAuth refresh failed).
    #[error("could not obtain credentials: {message}")]
    Credentials { message: String },

    #[error("not found (HTTP 404) at {url}: {message}")]
    NotFound { url: String, message: String },

    #[error("rate limited by the provider (HTTP 429): {message}")]
    RateLimited { message: String },

    #[error("the account's quota is exhausted: {message}")]
    Quota { message: String },

    #[error("the conversation is too long for the model's context window: {message}")]
    ContextTooLong { message: String },

    /// A 4xx other than the above (408 included: it is retried).
    #[error("the provider rejected the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },

    #[error("the provider failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },

    /// The connection broke or ended early (reset, truncated body, nothing sent).
    #[error("{message}")]
    Stream { message: String },

    /// A success status with an empty body: no event at all. llama-cpp-python answers this way
    /// when the prompt exceeds its context and for `tool_choice: auto` with streaming. Retried
    /// once at most.
    #[error("the server returned an empty response (HTTP {status} with no data)")]
    EmptyResponse { status: u16 },

    /// The provider sent something that is not a valid chat-completions stream.
    #[error("the provider sent data that is not a valid chat-completions stream: {message}")]
    Malformed { message: String },

    /// An error object inside the stream (or DashScope's `error_finish`).
    #[error("the provider reported an error mid-stream{}: {message}", code_suffix(code.as_deref()))]
    Provider {
        code: Option<String>,
        message: String,
        /// Throttling or overload: worth retrying when nothing was output yet.
        transient: bool,
    },

    #[error("the request was cancelled")]
    Cancelled,

    #[error("could not set up the HTTP client: {message}")]
    Setup { message: String },
}

fn secs(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|c| format!(" ({c})")).unwrap_or_default()
}

impl ClientError {
    /// The closed error kind used for exit codes, hints and anonymous statistics.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidBaseUrl { .. }
            | Self::InvalidHeader { .. }
            | Self::NotHttps { .. }
            | Self::Certificate { .. }
            | Self::InvalidProxy { .. } => ErrorKind::Config,
            Self::Connect { .. }
            | Self::UnknownHost { .. }
            | Self::LocalServerDown { .. }
            | Self::Timeout { .. } => ErrorKind::Network,
            Self::Unauthorized { .. } | Self::Credentials { .. } => ErrorKind::Auth,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::RateLimited { .. } => ErrorKind::RateLimit,
            Self::Quota { .. } => ErrorKind::Quota,
            Self::ContextTooLong { .. } => ErrorKind::ContextTooLong,
            Self::BadRequest { .. } => ErrorKind::BadRequest,
            Self::Server { .. } => ErrorKind::Server,
            Self::Stream { .. }
            | Self::EmptyResponse { .. }
            | Self::Malformed { .. }
            | Self::Provider { .. } => ErrorKind::Stream,
            Self::Cancelled => ErrorKind::Interrupted,
            Self::Setup { .. } => ErrorKind::Internal,
        }
    }

    /// Whether trying the same request again may succeed. The client only retries when no
    /// output was produced yet.
    pub fn is_retryable(&self) -> bool {
        match self {
            // An unknown host only once more (see `retry::attempt_limit`): a DNS hiccup heals,
            // a typo does not.
            Self::Connect { .. }
            | Self::UnknownHost { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. }
            | Self::Stream { .. }
            | Self::EmptyResponse { .. } => true,
            Self::BadRequest { status, .. } => *status == 408,
            Self::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504 | 529),
            Self::Provider { transient, .. } => *transient,
            Self::InvalidBaseUrl { .. }
            | Self::InvalidHeader { .. }
            | Self::NotHttps { .. }
            | Self::Certificate { .. }
            | Self::InvalidProxy { .. }
            | Self::Unauthorized { .. }
            | Self::Credentials { .. }
            | Self::NotFound { .. }
            | Self::Quota { .. }
            | Self::ContextTooLong { .. }
            | Self::Malformed { .. }
            | Self::LocalServerDown { .. }
            | Self::Cancelled
            | Self::Setup { .. } => false,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let text = match self {
            Self::InvalidBaseUrl { .. } => {
                "Set the provider's OpenAI-compatible base URL, e.g. https://api.openai.com/v1 \
                 (OPENAI_BASE_URL, or /auth)."
            }
            Self::InvalidHeader { .. } => "Fix the custom headers in your provider settings.",
            Self::NotHttps { http_url, .. } => {
                return Some(format!(
                    "Use http:// instead of https:// in the base URL: {http_url} (plain http is \
                     not encrypted; use it only for a server on this machine or a network you \
                     trust)."
                ));
            }
            Self::Certificate { .. } => {
                "Check that the host in the base URL is the name on the server's certificate. \
                 For a server with a private CA or a self-signed certificate you trust, set \
                 SSL_CERT_FILE to that certificate (PEM). On a network you do not trust, this \
                 can mean someone is intercepting the connection."
            }
            Self::UnknownHost { .. } => {
                "Check the host name in the base URL (OPENAI_BASE_URL, or /auth) and your \
                 network's DNS."
            }
            Self::InvalidProxy { .. } => {
                "Fix or unset the proxy setting (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY), e.g. \
                 http://proxy.example:3128."
            }
            Self::Connect { .. } => {
                "Check the base URL and your network or proxy; for a local server (llama.cpp's \
                 llama-server, Ollama, LM Studio, vLLM) make sure it is running."
            }
            Self::LocalServerDown { .. } => {
                "Start the local model server (llama.cpp: `llama-server -m <model.gguf>`; \
                 Ollama: `ollama serve`; LM Studio: start the server; vLLM: `vllm serve \
                 <model>`), or check the port in the base URL."
            }
            Self::Timeout {
                phase: TimeoutPhase::Connect,
                ..
            } => "Check your network or proxy settings, then try again.",
            Self::Timeout { .. } => {
                "The provider stopped responding; try again, or raise the idle timeout in the \
                 settings for slow local models."
            }
            Self::Unauthorized { .. } => {
                "Check your API key (OPENAI_API_KEY), or run /auth to sign in again."
            }
            Self::Credentials { .. } => "Run /auth to sign in again.",
            Self::NotFound { .. } => {
                "Check the model name and the base URL; /model lists the models this provider \
                 offers."
            }
            Self::RateLimited { .. } => {
                "Wait a minute and try again, or switch to another model with /model."
            }
            Self::Quota { .. } => {
                "Your quota with this provider is used up: top up or change plan with the \
                 provider, or switch provider with /auth."
            }
            Self::ContextTooLong { .. } => {
                "Run /compress to summarise older history, or /clear to start over; for a \
                 local server, a larger context size (llama.cpp: --ctx-size) also helps."
            }
            Self::BadRequest { .. } => {
                "Check that the model supports tool calls and the parameters in your settings."
            }
            Self::Server { .. } | Self::Provider { .. } => {
                "The provider is having problems; try again in a moment."
            }
            Self::Stream { .. } => "Try again; if it keeps happening, check the server's log.",
            Self::EmptyResponse { .. } => {
                "This usually means the server could not handle the request: the conversation \
                 may exceed its context size (try /compress, or start the server with a larger \
                 context), or it cannot stream tool calls (llama-cpp-python: use a chat format \
                 with function calling, or llama.cpp's llama-server with --jinja)."
            }
            Self::Malformed { .. } => {
                "Check that the base URL points at an OpenAI-compatible API (it usually ends \
                 in /v1)."
            }
            Self::Cancelled => return None,
            Self::Setup { .. } => "This is a bug in qcode; please report it.",
        };
        Some(text.to_string())
    }
}

/// Kind, message and hint, as front ends report a client failure.
impl From<&ClientError> for qcode_protocol::Problem {
    fn from(e: &ClientError) -> Self {
        let problem = qcode_protocol::Problem::new(e.kind(), e.to_string());
        match e.hint() {
            Some(h) => problem.with_hint(h),
            None => problem,
        }
    }
}

impl From<ClientError> for qcode_protocol::Problem {
    fn from(e: ClientError) -> Self {
        Self::from(&e)
    }
}

#[cfg(test)]
mod problem_tests {
    use super::*;

    #[test]
    fn a_problem_keeps_kind_message_and_hint() {
        let e = ClientError::Cancelled;
        let p = qcode_protocol::Problem::from(&e);
        assert_eq!(p.kind, ErrorKind::Interrupted);
        assert_eq!(p.message, e.to_string());
        assert_eq!(p.hint, None);
        let e = ClientError::Setup {
            message: "x".into(),
        };
        let p = qcode_protocol::Problem::from(e);
        assert_eq!(p.kind, ErrorKind::Internal);
        assert_eq!(
            p.hint.as_deref(),
            Some("This is a bug in qcode; please report it.")
        );
    }
}
