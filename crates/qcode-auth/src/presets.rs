//! Well-known OpenAI-compatible providers, as data: id, label, base URL, a default model, and
//! where the user gets a key, as [`qcode_protocol::ProviderPreset`]s. Front ends list these in
//! the API-key dialog.

use qcode_protocol::ProviderPreset;

pub const PROVIDER_PRESETS: &[ProviderPreset] = &[
    ProviderPreset {
        id: "dashscope",
        label: "Alibaba Cloud DashScope (China)",
        base_url: "https://dashscope.aliyuncs.com/compatible-mode/v1",
        default_model: "qwen3-coder-plus",
        key_hint: "DASHSCOPE_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "dashscope-intl",
        label: "Alibaba Cloud DashScope (international)",
        base_url: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        default_model: "qwen3-coder-plus",
        key_hint: "DASHSCOPE_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "coding-plan",
        label: "Alibaba Cloud Coding Plan",
        base_url: "https://coding.dashscope.aliyuncs.com/v1",
        default_model: "qwen3-coder-plus",
        key_hint: "BAILIAN_CODING_PLAN_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "modelscope",
        label: "ModelScope",
        base_url: "https://api-inference.modelscope.cn/v1",
        default_model: "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        key_hint: "MODELSCOPE_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "openrouter",
        label: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        default_model: "qwen/qwen3-coder",
        key_hint: "OPENROUTER_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "deepseek",
        label: "DeepSeek",
        base_url: "https://api.deepseek.com/v1",
        default_model: "deepseek-chat",
        key_hint: "DEEPSEEK_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "openai",
        label: "OpenAI",
        base_url: "https://api.openai.com/v1",
        default_model: "gpt-4.1",
        key_hint: "OPENAI_API_KEY",
        needs_key: true,
    },
    ProviderPreset {
        id: "ollama",
        label: "Ollama (local)",
        base_url: "http://localhost:11434/v1",
        default_model: "qwen2.5-coder",
        key_hint: "no key needed",
        needs_key: false,
    },
    ProviderPreset {
        id: "lmstudio",
        label: "LM Studio (local)",
        base_url: "http://localhost:1234/v1",
        default_model: "qwen2.5-coder-7b-instruct",
        key_hint: "no key needed",
        needs_key: false,
    },
    ProviderPreset {
        id: "vllm",
        label: "vLLM (local)",
        base_url: "http://localhost:8000/v1",
        default_model: "Qwen/Qwen2.5-Coder-7B-Instruct",
        key_hint: "no key needed",
        needs_key: false,
    },
];

/// The preset with this id.
pub fn preset(id: &str) -> Option<&'static ProviderPreset> {
    PROVIDER_PRESETS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
}

/// What the user typed for a base URL: a preset id (`openrouter`) becomes its base URL,
/// anything else is taken as a URL (trimmed).
pub fn resolve_base_url(input: &str) -> String {
    let input = input.trim();
    preset(input)
        .map(|p| p.base_url.to_string())
        .unwrap_or_else(|| input.to_string())
}

/// The preset whose base URL is `base_url` (ignoring a trailing slash).
pub fn preset_for_base_url(base_url: &str) -> Option<&'static ProviderPreset> {
    let wanted = base_url.trim().trim_end_matches('/');
    PROVIDER_PRESETS.iter().find(|p| p.base_url == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_id_becomes_its_url() {
        assert_eq!(
            resolve_base_url(" OpenRouter "),
            preset("openrouter").unwrap().base_url
        );
        assert_eq!(
            resolve_base_url(" http://localhost:8000/v1 "),
            "http://localhost:8000/v1"
        );
    }

    #[test]
    fn table_is_consistent() {
        let mut ids: Vec<_> = PROVIDER_PRESETS.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10);
        for p in PROVIDER_PRESETS {
            let url = url::Url::parse(p.base_url).unwrap();
            assert_eq!(url.scheme() == "https", p.needs_key, "{}", p.id);
            assert!(!p.base_url.ends_with('/'));
        }
        assert_eq!(
            preset("OpenRouter").unwrap().base_url,
            "https://openrouter.ai/api/v1"
        );
        assert_eq!(
            preset_for_base_url("https://coding.dashscope.aliyuncs.com/v1/")
                .unwrap()
                .id,
            "coding-plan"
        );
        assert!(preset("nope").is_none());
    }
}
