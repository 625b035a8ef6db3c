//! A small catalogue of well-known models: context windows for compression and the status
//! line. Data, not code: add a row to support a model.

/// What qcode knows about a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelInfo {
    /// Name prefix as providers spell it (matched case-insensitively, after any `vendor/`).
    pub prefix: &'static str,
    pub context_window: u64,
}

const CATALOGUE: &[ModelInfo] = &[
    ModelInfo {
        prefix: "coder-model",
        context_window: 1_000_000,
    },
    ModelInfo {
        prefix: "qwen3-coder-plus",
        context_window: 1_000_000,
    },
    ModelInfo {
        prefix: "qwen3-coder-flash",
        context_window: 1_000_000,
    },
    ModelInfo {
        prefix: "qwen3-coder",
        context_window: 262_144,
    },
    ModelInfo {
        prefix: "qwen3-max",
        context_window: 262_144,
    },
    ModelInfo {
        prefix: "qwen3",
        context_window: 131_072,
    },
    ModelInfo {
        prefix: "qwen-max",
        context_window: 32_768,
    },
    ModelInfo {
        prefix: "qwen-plus",
        context_window: 131_072,
    },
    ModelInfo {
        prefix: "qwen-turbo",
        context_window: 1_000_000,
    },
    ModelInfo {
        prefix: "qwen2.5-coder",
        context_window: 131_072,
    },
    ModelInfo {
        prefix: "gpt-5",
        context_window: 400_000,
    },
    ModelInfo {
        prefix: "gpt-4.1",
        context_window: 1_047_576,
    },
    ModelInfo {
        prefix: "gpt-4o",
        context_window: 128_000,
    },
    ModelInfo {
        prefix: "o3",
        context_window: 200_000,
    },
    ModelInfo {
        prefix: "o4-mini",
        context_window: 200_000,
    },
    ModelInfo {
        prefix: "deepseek-chat",
        context_window: 128_000,
    },
    ModelInfo {
        prefix: "deepseek-reasoner",
        context_window: 128_000,
    },
    ModelInfo {
        prefix: "deepseek-v3",
        context_window: 128_000,
    },
    ModelInfo {
        prefix: "claude",
        context_window: 200_000,
    },
    ModelInfo {
        prefix: "gemini-2.5",
        context_window: 1_048_576,
    },
    ModelInfo {
        prefix: "kimi-k2",
        context_window: 131_072,
    },
    ModelInfo {
        prefix: "glm-4",
        context_window: 131_072,
    },
];

/// The context window of `model` when the catalogue knows it (longest matching prefix wins).
pub fn context_window(model: &str) -> Option<u64> {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    CATALOGUE
        .iter()
        .filter(|m| name.starts_with(m.prefix))
        .max_by_key(|m| m.prefix.len())
        .map(|m| m.context_window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_and_vendor_prefix() {
        assert_eq!(context_window("qwen3-coder-plus"), Some(1_000_000));
        assert_eq!(context_window("qwen/qwen3-coder"), Some(262_144));
        assert_eq!(context_window("Qwen3-32B"), Some(131_072));
        assert_eq!(context_window("my-local-model"), None);
    }
}
