//! Precedence: command-line flag > process environment > `.env` > settings > defaults.
//! Every resolved value carries its [`Source`] (see [`crate::origin`]).
//! The result is an immutable [`ConfigSnapshot`]; changes at run time (model, approval mode,
//! auth) are applied by the engine by building a new snapshot, never by mutating a global.

use std::path::{Path, PathBuf};

use qcode_protocol::{ApprovalMode, AuthKind};

use crate::dotenv::EnvOrigin;
use crate::origin::DotEnvPlace;
use crate::settings::LoadedSettings;
use crate::trust::{FolderTrust, TrustOverride, folder_trust};
use crate::untrusted::{Ignored, restrict_dotenv, restrict_settings};
use crate::{ConfigError, EnvLayer, Paths, SettingsWarning, Source, Sourced};

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_QWEN_OAUTH_BASE_URL: &str = "https://chat.qwen.ai";
/// `general.cleanupPeriodDays` when the user's settings do not set it.
pub const DEFAULT_CLEANUP_PERIOD_DAYS: u32 = 30;
/// `mcp.discoveryTimeout` when unset: 10 s.
pub const DEFAULT_MCP_DISCOVERY_TIMEOUT_MS: u64 = 10_000;
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
    /// `--no-chat-recording`: record no transcript of this run.
    pub no_chat_recording: bool,
    /// `--trust`: trust the current project for this run.
    pub trust: TrustOverride,
    /// `--sandbox MODE` (`workspace-write`, `read-only`, `off`).
    pub sandbox_mode: Option<String>,
    /// `--allow-unsandboxed`: the model may run commands outside the sandbox without asking.
    pub allow_unsandboxed: bool,
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
    /// `model.loopDetection` (default on).
    pub loop_detection: Option<Sourced<bool>>,
    pub context_file_names: Sourced<Vec<String>>,
    pub usage_statistics_setting: Option<Sourced<bool>>,
    /// Whether the session is recorded to a transcript (`general.chatRecording`,
    /// `--no-chat-recording`); a project file may turn it off, never on.
    pub chat_recording: Sourced<bool>,
    /// `general.cleanupPeriodDays` (default 30, `0` keeps every transcript): from the user's
    /// file only — a project's file cannot have the transcripts of every project removed.
    pub cleanup_period_days: Sourced<u32>,
    /// `mcp.discoveryTimeout` (ms): how long the first model request waits for MCP servers
    /// still starting.
    pub mcp_discovery_timeout_ms: Sourced<u64>,
    pub otlp_endpoint: Option<Sourced<String>>,
    /// `agents.maxConcurrent`, `agents.maxRequests`, `agents.maxDepth` (validated).
    pub agents: AgentLimits,
    /// `tools.shell.env` (validated: `inherit` is all, core or none).
    pub shell_env: Option<Sourced<crate::settings::ShellEnvSettings>>,
    /// `tools.sandbox.*` and `--sandbox` (validated).
    pub sandbox: SandboxConfig,
    pub warnings: Vec<SettingsWarning>,
    /// Whether the project's own files may take effect ([`crate::trust`]).
    pub trust: FolderTrust,
    /// What the project's files wanted to set and may not ([`crate::untrusted`]).
    pub ignored: Vec<Ignored>,
    /// Problems with `trustedFolders.json` (entries ignored).
    pub trust_notices: Vec<String>,
    /// `mcpServers` of the user and project settings and the project's `.mcp.json`, each with
    /// its origin and whether it may start ([`crate::mcp`]); their problems are in `warnings`.
    pub mcp_servers: Vec<crate::McpServerConfig>,
    /// `hooks` and `disableAllHooks` of the user settings, then of the project settings (an
    /// untrusted project's are not here: they are in `ignored`). Parsed by the hook loader.
    pub hook_layers: Vec<HookLayer>,
}

/// The sandbox settings, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// `workspace-write` (default), `read-only` or `off`; its source says whether the user
    /// asked for it explicitly (anything but [`Source::Default`]).
    pub mode: Sourced<String>,
    /// Whether sandboxed commands may use TCP.
    pub network: Sourced<bool>,
    /// More writable directories, absolute (`~/` expanded).
    pub writable_roots: Vec<Sourced<PathBuf>>,
    /// `--allow-unsandboxed` (command line only).
    pub allow_unsandboxed: bool,
}

/// The sandbox modes `tools.sandbox.mode` and `--sandbox` accept.
pub const SANDBOX_MODES: [&str; 3] = ["workspace-write", "read-only", "off"];

fn sandbox_config(
    loaded: &LoadedSettings,
    s: &crate::settings::SandboxSettings,
    cli: &CliOverrides,
    home: &Path,
) -> Result<SandboxConfig, ConfigError> {
    let mode_keys = ["tools", "sandbox", "mode"];
    let mode = match (&cli.sandbox_mode, &s.mode) {
        (Some(m), _) => from_cli("--sandbox", m.clone()),
        (None, Some(m)) => from_settings(loaded, &mode_keys, m.clone()),
        (None, None) => default("workspace-write".to_string()),
    };
    if !SANDBOX_MODES.contains(&mode.value.as_str()) {
        return Err(ConfigError::InvalidValue {
            what: "tools.sandbox.mode",
            value: mode.value.clone(),
            source_desc: mode.source.to_string(),
            message: "expected workspace-write, read-only or off".into(),
        });
    }
    let network = s.network.map_or_else(
        || default(false),
        |on| from_settings(loaded, &["tools", "sandbox", "network"], on),
    );
    let roots_keys = ["tools", "sandbox", "writableRoots"];
    let mut writable_roots = Vec::new();
    for r in &s.writable_roots {
        let path = match r.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None if r == "~" => home.to_path_buf(),
            None => PathBuf::from(r),
        };
        if !path.is_absolute() {
            return Err(ConfigError::InvalidValue {
                what: "tools.sandbox.writableRoots",
                value: r.clone(),
                source_desc: loaded.source_of(&roots_keys).to_string(),
                message: "expected an absolute path (or ~/…)".into(),
            });
        }
        writable_roots.push(from_settings(loaded, &roots_keys, path));
    }
    Ok(SandboxConfig {
        mode,
        network,
        writable_roots,
        allow_unsandboxed: cli.allow_unsandboxed,
    })
}

/// One settings file's `hooks` (absent: `Value::Null`) and `disableAllHooks`.
#[derive(Debug, Clone, PartialEq)]
pub struct HookLayer {
    /// True for the project's settings file.
    pub project: bool,
    pub path: PathBuf,
    pub hooks: serde_json::Value,
    pub disable_all_hooks: bool,
}

fn hook_layers(loaded: &LoadedSettings) -> Vec<HookLayer> {
    let layer = |project: bool, path: &Option<PathBuf>, value: &Option<serde_json::Value>| {
        let (path, value) = (path.as_ref()?, value.as_ref()?);
        let hooks = value
            .get("hooks")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let disable_all_hooks = value
            .get("disableAllHooks")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        (!hooks.is_null() || disable_all_hooks).then(|| HookLayer {
            project,
            path: path.clone(),
            hooks,
            disable_all_hooks,
        })
    };
    [
        layer(false, &loaded.user_file, &loaded.user_value),
        layer(true, &loaded.project_file, &loaded.project_value),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl ConfigSnapshot {
    /// Loads settings, finds `.env`, and applies the precedence rules.
    pub fn load(
        paths: Paths,
        cwd: &Path,
        env: EnvLayer,
        cli: &CliOverrides,
    ) -> Result<(Self, EnvLayer), ConfigError> {
        let project_root = crate::paths::git_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
        let over = match (
            cli.trust,
            env.process_get("QCODE_TRUST_WORKSPACE").as_deref(),
        ) {
            (TrustOverride::TrustThisRun, _) | (_, Some("1" | "true" | "yes")) => {
                TrustOverride::TrustThisRun
            }
            _ => TrustOverride::Rules,
        };
        let (trust, trust_notices) = folder_trust(&paths.qcode_home, &project_root, over)?;
        let mut ignored = Vec::new();
        let mut env = match crate::find_env_file(cwd, &paths.home, &paths.qcode_home) {
            Some(path) => env.with_dotenv(&path)?,
            None => env,
        };
        let dotenv_trust = match env.dotenv_path().map(Path::to_path_buf) {
            Some(path) => {
                let place = DotEnvPlace::of(&path, &paths.home, &paths.qcode_home);
                // A `.env` above the project (e.g. /tmp/.env on a shared machine) is judged
                // by its own folder, and `--trust` does not extend to it.
                let trusted = match path.parent() {
                    _ if place == DotEnvPlace::User => true,
                    Some(dir)
                        if !crate::trust::normalize(dir)
                            .starts_with(crate::trust::normalize(&project_root)) =>
                    {
                        folder_trust(&paths.qcode_home, dir, TrustOverride::Rules)?
                            .0
                            .is_trusted()
                    }
                    _ => trust.is_trusted(),
                };
                restrict_dotenv(&mut env, place, trusted, &mut ignored);
                trusted
            }
            None => true,
        };
        let settings = crate::load_settings(&paths.user_settings(), cwd)?;
        let mcp = {
            // An untrusted project's `.env` may not feed `$VAR` in server entries (it could
            // redirect a user server); the process environment and the user's `.env` may.
            // (`dotenv_trust` is true for the user's own `.env`.)
            let lookup = |name: &str| {
                if dotenv_trust {
                    env.get(name)
                } else {
                    env.process_get(name)
                }
            };
            crate::mcp::load_mcp_servers(&crate::mcp::McpSources {
                user: settings
                    .user_file
                    .as_deref()
                    .zip(settings.user_value.as_ref()),
                project: settings
                    .project_file
                    .as_deref()
                    .zip(settings.project_value.as_ref()),
                project_root: &project_root,
                trust: &trust,
                env: &lookup,
            })
        };
        let settings = restrict_settings(&settings, trust.is_trusted(), &mut ignored)?;
        let mut snapshot = Self::resolve(paths, cwd, &env, &settings, cli)?;
        snapshot.mcp_servers = mcp.servers;
        snapshot.hook_layers = hook_layers(&settings);
        snapshot.warnings.extend(mcp.warnings);
        snapshot.untrusted_dotenv_base_url(dotenv_trust, &settings);
        snapshot.trust = trust;
        snapshot.ignored.splice(0..0, ignored);
        snapshot.trust_notices = trust_notices;
        Ok((snapshot, env))
    }

    /// The warnings to show at start: settings problems, trust-file problems, and the one
    /// line naming what the folder's files may not set.
    pub fn warning_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.warnings.iter().map(ToString::to_string).collect();
        out.extend(self.trust_notices.iter().cloned());
        out.extend(crate::untrusted::warning_line(
            &self.ignored,
            &self.trust,
            &self.project_root,
        ));
        out
    }

    /// An untrusted project `.env` may name a base URL only for the key it holds itself: a
    /// key from the environment, a flag or elsewhere is never sent to a URL a cloned repository
    /// chose. The base URL then falls back to the user's settings or the default.
    fn untrusted_dotenv_base_url(&mut self, dotenv_trusted: bool, settings: &LoadedSettings) {
        let Source::DotEnv {
            path,
            place: DotEnvPlace::Project,
            ..
        } = &self.openai_base_url.source
        else {
            return;
        };
        if dotenv_trusted {
            return;
        }
        let key_from_same_file = matches!(
            self.openai_api_key.as_ref().map(|k| &k.source),
            Some(Source::DotEnv { path: p, .. }) if p == path
        );
        // Without a key from flag or environment nothing secret goes there: a key saved with
        // `qcode auth api-key` is only ever sent to the URL it was saved with (qcode-auth).
        if key_from_same_file || self.openai_api_key.is_none() {
            return;
        }
        self.ignored.push(Ignored {
            value: Some(redact_userinfo(&self.openai_base_url.value)),
            name: "OPENAI_BASE_URL".into(),
            source: self.openai_base_url.source.clone(),
        });
        self.openai_base_url = settings
            .settings
            .security
            .auth
            .base_url
            .clone()
            .map(|value| from_settings(settings, &["security", "auth", "baseUrl"], value))
            .unwrap_or_else(|| default(DEFAULT_OPENAI_BASE_URL.to_string()));
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

        // `--openai-api-key ""` counts as unset, like an empty variable.
        let openai_api_key = cli
            .openai_api_key
            .clone()
            .filter(|k| !k.expose().trim().is_empty())
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
        let loop_detection = s
            .model
            .loop_detection
            .map(|on| from_settings(loaded, &["model", "loopDetection"], on));
        let usage_statistics_setting = s
            .privacy
            .usage_statistics_enabled
            .map(|on| from_settings(loaded, &["privacy", "usageStatisticsEnabled"], on));
        let chat_recording = chat_recording(loaded, cli);
        let cleanup_period_days = match (
            loaded
                .user_value
                .as_ref()
                .and_then(|v| v.get("general"))
                .and_then(|v| v.get("cleanupPeriodDays"))
                .and_then(serde_json::Value::as_u64),
            &loaded.user_file,
        ) {
            (Some(days), Some(path)) => Sourced::new(
                u32::try_from(days).unwrap_or(u32::MAX),
                Source::UserSettings(path.clone()),
            ),
            _ => default(DEFAULT_CLEANUP_PERIOD_DAYS),
        };
        let mcp_discovery_timeout_ms = s.mcp.discovery_timeout.map_or_else(
            || default(DEFAULT_MCP_DISCOVERY_TIMEOUT_MS),
            |ms| from_settings(loaded, &["mcp", "discoveryTimeout"], ms),
        );
        let otlp_endpoint = s
            .telemetry
            .otlp_endpoint
            .clone()
            .map(|url| from_settings(loaded, &["telemetry", "otlpEndpoint"], url));

        let shell_keys = ["tools", "shell", "env"];
        let shell_env = match s.tools.shell.env.clone() {
            Some(policy) => {
                if let Some(inherit) = &policy.inherit
                    && !matches!(inherit.as_str(), "all" | "core" | "none")
                {
                    return Err(ConfigError::InvalidValue {
                        what: "tools.shell.env.inherit",
                        value: inherit.clone(),
                        source_desc: loaded.source_of(&shell_keys).to_string(),
                        message: "expected all, core or none".into(),
                    });
                }
                Some(from_settings(loaded, &shell_keys, policy))
            }
            None => None,
        };

        let agents = agent_limits(loaded, &s.agents)?;
        let sandbox = sandbox_config(loaded, &s.tools.sandbox, cli, &paths.home)?;

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
            loop_detection,
            context_file_names,
            usage_statistics_setting,
            chat_recording,
            cleanup_period_days,
            mcp_discovery_timeout_ms,
            otlp_endpoint,
            shell_env,
            agents,
            sandbox,
            warnings: loaded.warnings.clone(),
            trust: FolderTrust::Untrusted { refused: false },
            ignored: Vec::new(),
            trust_notices: Vec::new(),
            mcp_servers: Vec::new(),
            hook_layers: Vec::new(),
        })
    }
}

/// The subagents' limits (docs/subagents.md).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLimits {
    /// `task` calls of one reply running at the same time (default 4, 1..=16).
    pub max_concurrent: Sourced<u32>,
    /// Model requests of one subagent (default 50, at least 1).
    pub max_requests: Sourced<u32>,
    /// Nesting depth (default 1: subagents cannot start subagents; 1..=3).
    pub max_depth: Sourced<u32>,
}

/// The defaults of [`AgentLimits`].
pub const DEFAULT_AGENTS_MAX_CONCURRENT: u32 = 4;
pub const DEFAULT_AGENTS_MAX_REQUESTS: u32 = 50;
pub const DEFAULT_AGENTS_MAX_DEPTH: u32 = 1;

fn agent_limits(
    loaded: &LoadedSettings,
    s: &crate::settings::AgentsSettings,
) -> Result<AgentLimits, ConfigError> {
    let one = |key: &'static str,
               what: &'static str,
               value: Option<u32>,
               fallback: u32,
               max: u32|
     -> Result<Sourced<u32>, ConfigError> {
        match value {
            None => Ok(default(fallback)),
            Some(n) if (1..=max).contains(&n) => Ok(from_settings(loaded, &["agents", key], n)),
            Some(n) => Err(ConfigError::InvalidValue {
                what,
                value: n.to_string(),
                source_desc: loaded.source_of(&["agents", key]).to_string(),
                message: format!("expected a number from 1 to {max}"),
            }),
        }
    };
    Ok(AgentLimits {
        max_concurrent: one(
            "maxConcurrent",
            "agents.maxConcurrent",
            s.max_concurrent,
            DEFAULT_AGENTS_MAX_CONCURRENT,
            16,
        )?,
        max_requests: one(
            "maxRequests",
            "agents.maxRequests",
            s.max_requests,
            DEFAULT_AGENTS_MAX_REQUESTS,
            u32::MAX,
        )?,
        max_depth: one(
            "maxDepth",
            "agents.maxDepth",
            s.max_depth,
            DEFAULT_AGENTS_MAX_DEPTH,
            3,
        )?,
    })
}

/// A settings value with the file that set it.
fn from_settings<T>(loaded: &LoadedSettings, keys: &[&str], value: T) -> Sourced<T> {
    Sourced::new(value, loaded.source_of(keys))
}

/// `general.chatRecording`: the flag turns it off; a project file may turn it off but not back
/// on against the user's file.
fn chat_recording(loaded: &LoadedSettings, cli: &CliOverrides) -> Sourced<bool> {
    const KEYS: [&str; 2] = ["general", "chatRecording"];
    if cli.no_chat_recording {
        return from_cli("--no-chat-recording", false);
    }
    let entry = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .and_then(|v| v.get(KEYS[0]))
            .and_then(|v| v.get(KEYS[1]))
            .and_then(serde_json::Value::as_bool)
    };
    match (
        (entry(&loaded.project_value), &loaded.project_file),
        (entry(&loaded.user_value), &loaded.user_file),
    ) {
        ((Some(false), Some(path)), _) => {
            Sourced::new(false, Source::ProjectSettings(path.clone()))
        }
        (_, (Some(on), Some(path))) => Sourced::new(on, Source::UserSettings(path.clone())),
        _ => default(true),
    }
}

fn from_cli<T>(flag: &'static str, value: T) -> Sourced<T> {
    Sourced::new(value, Source::Cli(flag))
}

fn default<T>(value: T) -> Sourced<T> {
    Sourced::new(value, Source::Default)
}

/// `scheme://user:secret@host/…` shown as `scheme://***@host/…`.
pub fn redact_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_password(None);
            let _ = u.set_username("***");
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn validate_http_url(what: &'static str, value: &str, source: &Source) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::InvalidValue {
        what,
        value: redact_userinfo(value),
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
