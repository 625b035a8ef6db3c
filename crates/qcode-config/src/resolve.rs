//! Precedence: command-line flag > process environment > `.env` > settings > defaults.
//! Every resolved value carries its [`Source`] (see [`crate::origin`]).
//! The result is an immutable [`ConfigSnapshot`]; changes at run time (model, approval mode,
//! auth) are applied by the engine by building a new snapshot, never by mutating a global.

use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind};

use crate::dotenv::EnvOrigin;
use crate::origin::DotEnvPlace;
use crate::settings::LoadedSettings;
use crate::{ConfigError, EnvLayer, Paths, SettingsWarning, Source, Sourced};

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_QWEN_OAUTH_BASE_URL: &str = "https://chat.qwen.ai";
pub const DEFAULT_CONTEXT_FILES: [&str; 2] = ["QWEN.md", "AGENTS.md"];

/// An API key; never shown by `Debug` or `Display`.
pub type ApiKey = qcode_protocol::Secret;

/// Values given on the command line (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub model: Option<String>,
    pub openai_base_url: Option<String>,
    pub openai_api_key: Option<ApiKey>,
    pub auth_type: Option<AuthKind>,
    pub approval_mode: Option<ApprovalMode>,
    pub allowed_tools: Vec<String>,
    pub max_session_turns: Option<u32>,
}

/// Everything configuration decides, resolved once.
#[derive(Debug, Clone)]
pub struct ConfigSnapshot {
    pub paths: Paths,
    pub cwd: PathBuf,
    /// The git root containing `cwd`, else `cwd`.
    pub project_root: PathBuf,
    pub dotenv_path: Option<PathBuf>,
    /// The model named by flag / env / settings; `None` means "the auth method's default".
    pub model: Option<Sourced<String>>,
    pub openai_base_url: Sourced<String>,
    pub openai_api_key: Option<Sourced<ApiKey>>,
    /// An explicit auth choice (flag or settings); `None` means "infer".
    pub auth_type: Option<Sourced<AuthKind>>,
    pub qwen_oauth_base_url: Sourced<String>,
    pub approval_mode: Sourced<ApprovalMode>,
    /// Pre-approved tools, each with its origin: the settings' list, then `--allowed-tools`.
    pub allowed_tools: Vec<Sourced<String>>,
    pub max_session_turns: Option<Sourced<u32>>,
    pub temperature: Option<Sourced<f32>>,
    pub max_tokens: Option<Sourced<u32>>,
    pub context_window: Option<Sourced<u64>>,
    pub context_file_names: Sourced<Vec<String>>,
    pub usage_statistics_setting: Option<Sourced<bool>>,
    pub otlp_endpoint: Option<Sourced<String>>,
    pub warnings: Vec<SettingsWarning>,
}

impl ConfigSnapshot {
    /// Loads settings, finds `.env`, and applies the precedence rules.
    pub fn load(
        paths: Paths,
        cwd: &Path,
        env: EnvLayer,
        cli: &CliOverrides,
    ) -> Result<(Self, EnvLayer), ConfigError> {
        let env = match crate::find_env_file(cwd, &paths.home, &paths.qcode_home) {
            Some(path) => env.with_dotenv(&path)?,
            None => env,
        };
        let settings = crate::load_settings(&paths.user_settings(), cwd)?;
        let snapshot = Self::resolve(paths, cwd, &env, &settings, cli)?;
        Ok((snapshot, env))
    }

    pub fn resolve(
        paths: Paths,
        cwd: &Path,
        env: &EnvLayer,
        loaded: &LoadedSettings,
        cli: &CliOverrides,
    ) -> Result<Self, ConfigError> {
        let s = &loaded.settings;
        let from_env = |var: &'static str| {
            env.get_with_origin(var).map(|(value, origin)| Sourced {
                value,
                source: match origin {
                    EnvOrigin::Process => Source::Env(var),
                    EnvOrigin::DotEnv(path) => Source::DotEnv {
                        var,
                        place: DotEnvPlace::of(&path, &paths.home, &paths.qcode_home),
                        path,
                    },
                },
            })
        };

        let model = cli
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .map(|value| from_cli("--model", value))
            .or_else(|| from_env("OPENAI_MODEL"))
            .or_else(|| from_env("QWEN_MODEL"))
            .or_else(|| {
                s.model
                    .name
                    .clone()
                    .map(|value| from_settings(loaded, &["model", "name"], value))
            });

        let openai_base_url = cli
            .openai_base_url
            .clone()
            .map(|value| from_cli("--openai-base-url", value))
            .or_else(|| from_env("OPENAI_BASE_URL"))
            .or_else(|| {
                s.security
                    .auth
                    .base_url
                    .clone()
                    .map(|value| from_settings(loaded, &["security", "auth", "baseUrl"], value))
            })
            .unwrap_or_else(|| default(DEFAULT_OPENAI_BASE_URL.to_string()));
        validate_http_url(
            "OpenAI base URL",
            &openai_base_url.value,
            &openai_base_url.source,
        )?;

        let openai_api_key = cli
            .openai_api_key
            .clone()
            .map(|value| from_cli("--openai-api-key", value))
            .or_else(|| {
                from_env("OPENAI_API_KEY").map(|s| Sourced {
                    value: ApiKey::new(s.value),
                    source: s.source,
                })
            });

        let auth_type = match (&cli.auth_type, &s.security.auth.selected_type) {
            (Some(kind), _) => Some(from_cli("--auth-type", *kind)),
            (None, Some(name)) => {
                let keys = ["security", "auth", "selectedType"];
                let kind = AuthKind::parse(name).ok_or_else(|| ConfigError::InvalidValue {
                    what: "security.auth.selectedType",
                    value: name.clone(),
                    source_desc: loaded.source_of(&keys).to_string(),
                    message: "expected `qwen-oauth` or `openai`".into(),
                })?;
                Some(from_settings(loaded, &keys, kind))
            }
            (None, None) => None,
        };

        let qwen_oauth_base_url = from_env("QCODE_QWEN_OAUTH_BASE_URL")
            .or_else(|| {
                s.security.auth.qwen_o_auth_base_url.clone().map(|value| {
                    from_settings(loaded, &["security", "auth", "qwenOAuthBaseUrl"], value)
                })
            })
            .unwrap_or_else(|| default(DEFAULT_QWEN_OAUTH_BASE_URL.to_string()));
        validate_http_url(
            "Qwen OAuth base URL",
            &qwen_oauth_base_url.value,
            &qwen_oauth_base_url.source,
        )?;

        let approval_mode = match (cli.approval_mode, &s.tools.approval_mode) {
            (Some(mode), _) => from_cli("--approval-mode", mode),
            (None, Some(name)) => {
                let keys = ["tools", "approvalMode"];
                let mode = ApprovalMode::parse(name).ok_or_else(|| ConfigError::InvalidValue {
                    what: "tools.approvalMode",
                    value: name.clone(),
                    source_desc: loaded.source_of(&keys).to_string(),
                    message: "expected one of plan, default, auto-edit, yolo".into(),
                })?;
                from_settings(loaded, &keys, mode)
            }
            (None, None) => default(ApprovalMode::Default),
        };

        let mut allowed_tools: Vec<Sourced<String>> = s
            .tools
            .allowed
            .iter()
            .map(|t| from_settings(loaded, &["tools", "allowed"], t.clone()))
            .collect();
        for t in &cli.allowed_tools {
            if !allowed_tools.iter().any(|a| &a.value == t) {
                allowed_tools.push(from_cli("--allowed-tools", t.clone()));
            }
        }

        let context_file_names = s
            .context
            .file_name
            .as_ref()
            .map(|f| f.to_vec())
            .filter(|v| !v.is_empty())
            .map(|names| from_settings(loaded, &["context", "fileName"], names))
            .unwrap_or_else(|| {
                default(
                    DEFAULT_CONTEXT_FILES
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                )
            });

        let max_session_turns = cli
            .max_session_turns
            .map(|n| from_cli("--max-session-turns", n))
            .or_else(|| {
                s.model
                    .max_session_turns
                    .map(|n| from_settings(loaded, &["model", "maxSessionTurns"], n))
            });
        let temperature = s
            .model
            .temperature
            .map(|t| from_settings(loaded, &["model", "temperature"], t));
        let max_tokens = s
            .model
            .max_tokens
            .map(|n| from_settings(loaded, &["model", "maxTokens"], n));
        let context_window = s
            .model
            .context_window
            .map(|n| from_settings(loaded, &["model", "contextWindow"], n));
        let usage_statistics_setting = s
            .privacy
            .usage_statistics_enabled
            .map(|on| from_settings(loaded, &["privacy", "usageStatisticsEnabled"], on));
        let otlp_endpoint = s
            .telemetry
            .otlp_endpoint
            .clone()
            .map(|url| from_settings(loaded, &["telemetry", "otlpEndpoint"], url));

        let cwd = cwd.to_path_buf();
        let project_root = crate::paths::git_root(&cwd).unwrap_or_else(|| cwd.clone());
        Ok(Self {
            dotenv_path: env.dotenv_path().map(Path::to_path_buf),
            paths,
            project_root,
            cwd,
            model,
            openai_base_url,
            openai_api_key,
            auth_type,
            qwen_oauth_base_url,
            approval_mode,
            allowed_tools,
            max_session_turns,
            temperature,
            max_tokens,
            context_window,
            context_file_names,
            usage_statistics_setting,
            otlp_endpoint,
            warnings: loaded.warnings.clone(),
        })
    }
}

/// A settings value with the file that set it.
fn from_settings<T>(loaded: &LoadedSettings, keys: &[&str], value: T) -> Sourced<T> {
    Sourced::new(value, loaded.source_of(keys))
}

fn from_cli<T>(flag: &'static str, value: T) -> Sourced<T> {
    Sourced::new(value, Source::Cli(flag))
}

fn default<T>(value: T) -> Sourced<T> {
    Sourced::new(value, Source::Default)
}

fn validate_http_url(what: &'static str, value: &str, source: &Source) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::InvalidValue {
        what,
        value: value.to_string(),
        source_desc: source.to_string(),
        message,
    };
    let url = url::Url::parse(value)
        .map_err(|e| invalid(format!("{e}; expected e.g. https://api.openai.com/v1")))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(()),
        "http" | "https" => Err(invalid("the URL has no host".into())),
        other => Err(invalid(format!(
            "unsupported scheme `{other}`; use http or https"
        ))),
    }
}
