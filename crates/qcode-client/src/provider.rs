//! Turning what a provider said (HTTP status, error body, in-stream error object) into a
//! [`ClientError`]: message and code extraction, quota / context-length detection, truncation
//! and secret scrubbing.

use serde_json::Value;

use crate::{ClientError, Secret};

/// Longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 400;

/// The useful part of a provider's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderError {
    pub message: String,
    pub code: Option<String>,
}

impl ProviderError {
    /// Extracts `error.message` / `message` / `msg` / `detail` and `error.code` / `error.type` /
    /// `code` from a JSON body; other bodies become a truncated text.
    pub(crate) fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Self::from_json(&value),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let message = if text.is_empty() {
                    "no details given".to_string()
                } else if text.starts_with('<') {
                    format!(
                        "an HTML page ({} bytes) instead of an API answer",
                        body.len()
                    )
                } else {
                    text.to_string()
                };
                Self {
                    message,
                    code: None,
                }
            }
        }
    }

    pub(crate) fn from_json(value: &Value) -> Self {
        let error = value.get("error");
        let message = [
            error.and_then(|e| e.get("message")),
            error.and_then(|e| e.get("msg")),
            error.filter(|e| e.is_string()),
            value.get("message"),
            value.get("msg"),
            value.get("detail"),
        ]
        .into_iter()
        .flatten()
        .find_map(text_of)
        .unwrap_or_else(|| value.to_string());
        let code = [
            error.and_then(|e| e.get("code")),
            error.and_then(|e| e.get("type")),
            value.get("code"),
            value.get("type"),
        ]
        .into_iter()
        .flatten()
        .find_map(text_of);
        Self { message, code }
    }

    fn haystack(&self) -> String {
        let mut all = self.message.to_ascii_lowercase();
        if let Some(code) = &self.code {
            all.push(' ');
            all.push_str(&code.to_ascii_lowercase());
        }
        all
    }

    pub(crate) fn is_quota(&self) -> bool {
        let all = self.haystack();
        // Throttling "quotas" (per-minute limits, e.g. DashScope's `Throttling.RateQuota`)
        // are rate limits, not an exhausted account.
        if ["throttl", "rate limit", "ratequota", "per minute"]
            .iter()
            .any(|m| all.contains(m))
        {
            return false;
        }
        [
            "insufficient_quota",
            "quota exceeded",
            "exceeded your current quota",
            "quota has been exhausted",
            "arrearage",
        ]
        .iter()
        .any(|m| all.contains(m))
    }

    pub(crate) fn is_context_too_long(&self) -> bool {
        let all = self.haystack();
        [
            "context_length_exceeded",
            "exceed_context_size",
            "context size",
            "maximum context length",
            "max_model_len",
            "prompt is too long",
            "input is too long",
            "reduce the length",
            "context length",
            "context window",
            "too long",
            "range of input length",
            "too many tokens",
        ]
        .iter()
        .any(|m| all.contains(m))
    }

    /// Throttling or overload reported inside a stream.
    pub(crate) fn is_transient(&self) -> bool {
        let all = self.haystack();
        [
            "rate limit",
            "rate_limit",
            "ratelimit",
            "throttl",
            "too many",
            "overload",
            "unavailable",
            "timeout",
            "timed out",
            "internal",
            "server_error",
            "429",
            "500",
            "502",
            "503",
            "504",
            "529",
            "busy",
        ]
        .iter()
        .any(|m| all.contains(m))
    }

    /// Truncated and with the bearer token scrubbed, ready for an error message.
    pub(crate) fn clean_message(&self, secret: Option<&Secret>) -> String {
        clean(&self.message, secret)
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Truncates to [`MAX_MESSAGE_CHARS`] and removes the secret if a provider echoed it.
pub(crate) fn clean(message: &str, secret: Option<&Secret>) -> String {
    let mut text = match secret.map(Secret::expose) {
        Some(s) if s.len() >= 6 => message.replace(s, "[redacted]"),
        _ => message.to_string(),
    };
    if let Some((at, _)) = text.char_indices().nth(MAX_MESSAGE_CHARS) {
        text.truncate(at);
        text.push('…');
    }
    text
}

/// The error for a non-success HTTP status with this body.
pub(crate) fn from_status(
    status: u16,
    body: &[u8],
    url: &str,
    secret: Option<&Secret>,
) -> ClientError {
    let provider = ProviderError::from_body(body);
    let message = provider.clean_message(secret);
    match status {
        400..=499 if provider.is_quota() => ClientError::Quota { message },
        401 | 403 => ClientError::Unauthorized { status, message },
        404 => ClientError::NotFound {
            url: url.to_string(),
            message,
        },
        400 | 413 | 422 if provider.is_context_too_long() => {
            ClientError::ContextTooLong { message }
        }
        429 => ClientError::RateLimited { message },
        500..=599 => ClientError::Server { status, message },
        _ => ClientError::BadRequest { status, message },
    }
}

/// The error for an `{"error": …}` object inside a stream.
pub(crate) fn from_stream_error(value: &Value, secret: Option<&Secret>) -> ClientError {
    let provider = ProviderError::from_json(value);
    let message = provider.clean_message(secret);
    if provider.is_quota() {
        ClientError::Quota { message }
    } else if provider.is_context_too_long() {
        ClientError::ContextTooLong { message }
    } else {
        ClientError::Provider {
            transient: provider.is_transient(),
            // The code is shown too: a provider may echo the key into it as well.
            code: provider.code.map(|code| clean(&code, secret)),
            message,
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Found by the `sse_decode` fuzz target: a key echoed in an in-stream error's `code`
    /// (not its message) was shown unredacted.
    #[test]
    fn a_key_echoed_in_the_error_code_is_redacted() {
        let secret = Secret::new("sk-canary-0123456789");
        let value: Value = serde_json::from_str(
            r#"{"error":{"message":"bad","code":"x_sk-canary-0123456789_y"}}"#,
        )
        .unwrap();
        let shown = from_stream_error(&value, Some(&secret)).to_string();
        assert!(!shown.contains("sk-canary"), "{shown}");
    }

    #[test]
    fn every_known_overflow_shape_is_context_too_long() {
        let bodies: [&[u8]; 6] = [
            // llama.cpp's llama-server.
            br#"{"error":{"code":400,"message":"request (26731 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":26731,"n_ctx":8192}}"#,
            // OpenAI.
            br#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
            // vLLM.
            br#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","code":400}"#,
            // DashScope.
            br#"{"error":{"message":"Range of input length should be [1, 30720]","type":"invalid_request_error","code":"invalid_parameter_error"}}"#,
            // OpenRouter.
            br#"{"error":{"message":"This endpoint's maximum context length is 32768 tokens. However, you requested about 40000 tokens. Please reduce the length of either one, or use the \"middle-out\" transform","code":400}}"#,
            // Anthropic-style proxies.
            br#"{"error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
        ];
        for body in bodies {
            assert!(
                matches!(
                    from_status(400, body, "u", None),
                    ClientError::ContextTooLong { .. }
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Not every 400 is an overflow.
        assert!(matches!(
            from_status(
                400,
                br#"{"error":{"message":"tools are not supported"}}"#,
                "u",
                None
            ),
            ClientError::BadRequest { .. }
        ));
    }

    #[test]
    fn extracts_openai_shape() {
        let p = ProviderError::from_body(
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert_eq!(p.message, "You exceeded your current quota");
        assert_eq!(p.code.as_deref(), Some("insufficient_quota"));
        assert!(p.is_quota());
    }

    #[test]
    fn extracts_dashscope_shape() {
        let p = ProviderError::from_body(
            br#"{"code":"Arrearage","message":"Access denied, please make sure your account is in good standing.","request_id":"x"}"#,
        );
        assert_eq!(
            p.message,
            "Access denied, please make sure your account is in good standing."
        );
        assert_eq!(p.code.as_deref(), Some("Arrearage"));
        assert!(p.is_quota());
        assert!(matches!(
            from_status(400, br#"{"code":"Arrearage","message":"m"}"#, "u", None),
            ClientError::Quota { .. }
        ));
    }

    #[test]
    fn extracts_msg_and_plain_text_and_html() {
        assert_eq!(ProviderError::from_body(br#"{"msg":"bad"}"#).message, "bad");
        assert_eq!(ProviderError::from_body(b"  oops \n").message, "oops");
        assert_eq!(ProviderError::from_body(b"").message, "no details given");
        assert_eq!(
            ProviderError::from_body(b"<html>x</html>").message,
            "an HTML page (14 bytes) instead of an API answer"
        );
    }

    #[test]
    fn truncates_and_scrubs_secret() {
        let secret = Secret::new("sk-secret-123");
        let long = format!("key sk-secret-123 {}", "x".repeat(1000));
        let cleaned = clean(&long, Some(&secret));
        assert!(cleaned.starts_with("key [redacted] x"));
        assert_eq!(cleaned.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn classifies_statuses() {
        let ctx = br#"{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}"#;
        assert!(matches!(
            from_status(400, ctx, "u", None),
            ClientError::ContextTooLong { .. }
        ));
        assert_eq!(
            from_status(400, br#"{"error":{"message":"bad tools"}}"#, "u", None),
            ClientError::BadRequest {
                status: 400,
                message: "bad tools".into()
            }
        );
        assert!(matches!(
            from_status(429, br#"{"error":{"message":"slow down"}}"#, "u", None),
            ClientError::RateLimited { .. }
        ));
        assert!(matches!(
            from_status(
                429,
                br#"{"error":{"message":"Free allocated quota exceeded."}}"#,
                "u",
                None
            ),
            ClientError::Quota { .. }
        ));
        assert!(matches!(
            from_status(403, b"nope", "u", None),
            ClientError::Unauthorized { status: 403, .. }
        ));
        assert!(matches!(
            from_status(503, b"", "u", None),
            ClientError::Server { status: 503, .. }
        ));
    }

    #[test]
    fn stream_errors_classified() {
        let v: Value = serde_json::from_str(
            r#"{"error":{"message":"Throttling: too many requests","code":"Throttling"}}"#,
        )
        .unwrap();
        assert_eq!(
            from_stream_error(&v, None),
            ClientError::Provider {
                code: Some("Throttling".into()),
                message: "Throttling: too many requests".into(),
                transient: true
            }
        );
        let v: Value =
            serde_json::from_str(r#"{"error":{"message":"invalid parameter tools"}}"#).unwrap();
        assert!(matches!(
            from_stream_error(&v, None),
            ClientError::Provider {
                transient: false,
                ..
            }
        ));
    }
}
