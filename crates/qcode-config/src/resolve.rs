//! Precedence: command-line flag > process environment > `.env` > settings > defaults.
//! The result is an immutable [`ConfigSnapshot`]; changes at run time (model, approval mode,
//! auth) are applied by the engine by building a new snapshot, never by mutating a global.

use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind};

use crate::dotenv::EnvOrigin;
use crate::settings::LoadedSettings;
use crate::{ConfigError, EnvLayer, Paths, SettingsWarning};

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_QWEN_OAUTH_BASE_URL: &str = "https://chat.qwen.ai";
pub const DEFAULT_CONTEXT_FILES: [&str; 2] = ["QWEN.md", "AGENTS.md"];

/// Where a configuration value came from (for messages such as "OPENAI_BASE_URL from ./.env").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Cli(&'static str),
    Env(&'static str),
    DotEnv { var: &'static str, path: PathBuf },
    Settings(PathBuf),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cli(flag) => write!(f, "command-line flag {flag}"),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::DotEnv { var, path } => write!(f, "{var} in {}", path.display()),
            Self::Settings(path) => write!(f, "settings file {}", path.display()),
            Self::Default => write!(f, "default"),
        }
    }
}

/// A value with its origin.
#[derive(Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Sourced<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self.value, self.source)
    }
}

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
    pub qwen_oauth_base_url: String,
    pub approval_mode: ApprovalMode,
    pub allowed_tools: Vec<String>,
    pub max_session_turns: Option<u32>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub context_window: Option<u64>,
    pub context_file_names: Vec<String>,
    pub usage_statistics_setting: Option<bool>,
    pub otlp_endpoint: Option<String>,
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
        let settings_source = || {
            Source::Settings(
                loaded
                    .project_file
                    .clone()
                    .or_else(|| loaded.user_file.clone())
                    .unwrap_or_default(),
            )
        };
        let from_env = |var: &'static str| {
            env.get_with_origin(var).map(|(value, origin)| Sourced {
                value,
                source: match origin {
                    EnvOrigin::Process => Source::Env(var),
                    EnvOrigin::DotEnv(path) => Source::DotEnv { var, path },
                },
            })
        };

        let model = cli
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .map(|value| Sourced {
                value,
                source: Source::Cli("--model"),
            })
            .or_else(|| from_env("OPENAI_MODEL"))
            .or_else(|| from_env("QWEN_MODEL"))
            .or_else(|| {
                s.model.name.clone().map(|value| Sourced {
                    value,
                    source: settings_source(),
                })
            });

        let openai_base_url = cli
            .openai_base_url
            .clone()
            .map(|value| Sourced {
                value,
                source: Source::Cli("--openai-base-url"),
            })
            .or_else(|| from_env("OPENAI_BASE_URL"))
            .or_else(|| {
                s.security.auth.base_url.clone().map(|value| Sourced {
                    value,
                    source: settings_source(),
                })
            })
            .unwrap_or_else(|| Sourced {
                value: DEFAULT_OPENAI_BASE_URL.to_string(),
                source: Source::Default,
            });
        validate_http_url(
            "OpenAI base URL",
            &openai_base_url.value,
            &openai_base_url.source,
        )?;

        let openai_api_key = cli
            .openai_api_key
            .clone()
            .map(|value| Sourced {
                value,
                source: Source::Cli("--openai-api-key"),
            })
            .or_else(|| {
                from_env("OPENAI_API_KEY").map(|s| Sourced {
                    value: ApiKey::new(s.value),
                    source: s.source,
                })
            });

        let auth_type = match (&cli.auth_type, &s.security.auth.selected_type) {
            (Some(kind), _) => Some(Sourced {
                value: *kind,
                source: Source::Cli("--auth-type"),
            }),
            (None, Some(name)) => {
                let kind = AuthKind::parse(name).ok_or_else(|| ConfigError::InvalidValue {
                    what: "security.auth.selectedType",
                    value: name.clone(),
                    source_desc: settings_source().to_string(),
                    message: "expected `qwen-oauth` or `openai`".into(),
                })?;
                Some(Sourced {
                    value: kind,
                    source: settings_source(),
                })
            }
            (None, None) => None,
        };

        let qwen_oauth_base_url = from_env("QCODE_QWEN_OAUTH_BASE_URL")
            .or_else(|| {
                s.security
                    .auth
                    .qwen_o_auth_base_url
                    .clone()
                    .map(|value| Sourced {
                        value,
                        source: settings_source(),
                    })
            })
            .unwrap_or_else(|| Sourced {
                value: DEFAULT_QWEN_OAUTH_BASE_URL.to_string(),
                source: Source::Default,
            });
        validate_http_url(
            "Qwen OAuth base URL",
            &qwen_oauth_base_url.value,
            &qwen_oauth_base_url.source,
        )?;

        let approval_mode = match (cli.approval_mode, &s.tools.approval_mode) {
            (Some(mode), _) => mode,
            (None, Some(name)) => {
                ApprovalMode::parse(name).ok_or_else(|| ConfigError::InvalidValue {
                    what: "tools.approvalMode",
                    value: name.clone(),
                    source_desc: settings_source().to_string(),
                    message: "expected one of plan, default, auto-edit, yolo".into(),
                })?
            }
            (None, None) => ApprovalMode::Default,
        };

        let mut allowed_tools = s.tools.allowed.clone();
        for t in &cli.allowed_tools {
            if !allowed_tools.contains(t) {
                allowed_tools.push(t.clone());
            }
        }

        let context_file_names = s
            .context
            .file_name
            .as_ref()
            .map(|f| f.to_vec())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| {
                DEFAULT_CONTEXT_FILES
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            });

        let otlp_endpoint = s.telemetry.otlp_endpoint.clone();
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
            qwen_oauth_base_url: qwen_oauth_base_url.value,
            approval_mode,
            allowed_tools,
            max_session_turns: cli.max_session_turns.or(s.model.max_session_turns),
            temperature: s.model.temperature,
            max_tokens: s.model.max_tokens,
            context_window: s.model.context_window,
            context_file_names,
            usage_statistics_setting: s.privacy.usage_statistics_enabled,
            otlp_endpoint,
            warnings: loaded.warnings.clone(),
        })
    }
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
