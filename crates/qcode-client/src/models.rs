//! The model listing (`GET {base}/models`) and what servers say in it about each model.
//!
//! Servers put the context window in different places: llama.cpp's `llama-server` in
//! `meta.n_ctx`, vLLM in `max_model_len`, LM Studio in `max_context_length` (or
//! `loaded_context_length`), OpenRouter in `context_length` (and the output limit in
//! `top_provider.max_completion_tokens`), Groq and others in `context_window`. Unknown shapes
//! give `None`, never an error: the listing's ids are what matters for `/model`.

use serde_json::Value;

use crate::ClientError;

/// One listed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub id: String,
    /// Tokens the server can hold for one request (prompt + answer), when it says.
    pub context_window: Option<u64>,
    /// The most output tokens one request may ask for, when it says.
    pub max_output_tokens: Option<u64>,
}

/// Parses a listing: `{"data": [...]}` (OpenAI), `{"models": [...]}` (Ollama-like) or a bare
/// array; entries are objects with `id` (or `name`) or plain strings.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<ModelInfo>, ClientError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ClientError::Malformed {
        message: format!("the model list is not JSON: {e}"),
    })?;
    let list = value
        .get("data")
        .or_else(|| value.get("models"))
        .or(Some(&value))
        .and_then(Value::as_array)
        .ok_or_else(|| ClientError::Malformed {
            message: "the model list has no `data` array".into(),
        })?;
    Ok(list.iter().filter_map(info).collect())
}

fn info(entry: &Value) -> Option<ModelInfo> {
    let id = match entry {
        Value::String(id) => id.clone(),
        other => other
            .get("id")
            .or_else(|| other.get("name"))
            .and_then(Value::as_str)?
            .to_string(),
    };
    let number = |path: &[&str]| {
        let mut v = entry;
        for key in path {
            v = v.get(key)?;
        }
        v.as_u64().filter(|n| *n > 0)
    };
    let context_window = number(&["meta", "n_ctx"])
        .or_else(|| number(&["max_model_len"]))
        .or_else(|| number(&["loaded_context_length"]))
        .or_else(|| number(&["max_context_length"]))
        .or_else(|| number(&["context_length"]))
        .or_else(|| number(&["context_window"]))
        .or_else(|| number(&["top_provider", "context_length"]));
    let max_output_tokens = number(&["top_provider", "max_completion_tokens"])
        .or_else(|| number(&["max_completion_tokens"]))
        .or_else(|| number(&["max_output_tokens"]));
    Some(ModelInfo {
        id,
        context_window,
        max_output_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> ModelInfo {
        let mut all = parse(body.as_bytes()).unwrap();
        assert_eq!(all.len(), 1, "{body}");
        all.remove(0)
    }

    #[test]
    fn every_known_server_shape() {
        // llama.cpp's llama-server (it also sends an Ollama-style `models` array first).
        let llama = one(
            r#"{"models":[{"name":"smollm2","model":"smollm2"}],"object":"list","data":[{"id":"smollm2","object":"model","owned_by":"llamacpp","meta":{"n_vocab":49152,"n_ctx":2048,"n_ctx_train":8192}}]}"#,
        );
        assert_eq!(
            (llama.id.as_str(), llama.context_window),
            ("smollm2", Some(2048))
        );
        let vllm = one(
            r#"{"object":"list","data":[{"id":"Qwen/Qwen3-8B","object":"model","max_model_len":32768}]}"#,
        );
        assert_eq!(vllm.context_window, Some(32768));
        let lmstudio = one(
            r#"{"data":[{"id":"qwen3-8b","max_context_length":131072,"loaded_context_length":4096}]}"#,
        );
        assert_eq!(
            lmstudio.context_window,
            Some(4096),
            "the loaded context is what counts"
        );
        let openrouter = one(
            r#"{"data":[{"id":"qwen/qwen3-coder","context_length":262144,"top_provider":{"context_length":262144,"max_completion_tokens":65536}}]}"#,
        );
        assert_eq!(openrouter.context_window, Some(262144));
        assert_eq!(openrouter.max_output_tokens, Some(65536));
        let groq = one(r#"{"data":[{"id":"llama-3.3-70b","context_window":131072}]}"#);
        assert_eq!(groq.context_window, Some(131072));
        let openai = one(r#"{"data":[{"id":"gpt-4o","object":"model","owned_by":"system"}]}"#);
        assert_eq!(
            (openai.context_window, openai.max_output_tokens),
            (None, None)
        );
    }

    #[test]
    fn odd_values_are_ignored_not_fatal() {
        let m = one(r#"{"data":[{"id":"m","meta":{"n_ctx":"big"},"max_model_len":0}]}"#);
        assert_eq!(m.context_window, None);
        assert_eq!(parse(br#"["a","b"]"#).unwrap().len(), 2);
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"x":1}"#).is_err());
    }
}
