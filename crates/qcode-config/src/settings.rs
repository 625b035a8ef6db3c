//! Settings files: `~/.qcode/settings.json` (user) and `<project>/.qcode/settings.json`
//! (project, found walking up from the working directory to the git root). The project file
//! overrides the user file key by key. Comments (`//`, `/* */`) are allowed. Unknown keys are
//! warnings; a syntax error names the file, line and column.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::{ConfigError, Source};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub model: ModelSettings,
    #[serde(default)]
    pub security: SecuritySettings,
    #[serde(default)]
    pub tools: ToolsSettings,
    #[serde(default)]
    pub context: ContextSettings,
    #[serde(default)]
    pub privacy: PrivacySettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    #[serde(default)]
    pub ui: UiSettings,
    #[serde(default)]
    pub general: GeneralSettings,
    #[serde(default)]
    pub mcp: McpSettings,
    #[serde(default)]
    pub agents: AgentsSettings,
}

/// `agents`: limits of the subagents the `task` tool starts (docs/subagents.md).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentsSettings {
    /// How many `task` calls of one reply run at the same time (default 4).
    pub max_concurrent: Option<u32>,
    /// The most model requests one subagent may make (default 50).
    pub max_requests: Option<u32>,
    /// How deep subagents may nest (default 1: a subagent cannot start another).
    pub max_depth: Option<u32>,
}

/// `mcp`: how a session uses its MCP servers (the servers themselves are `mcpServers`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpSettings {
    /// How long the first model request waits for servers still starting, in ms (default
    /// 10 000; `0`: do not wait).
    pub discovery_timeout: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneralSettings {
    /// Whether sessions are recorded to local transcripts (default on; a project file may only
    /// turn it off).
    pub chat_recording: Option<bool>,
    /// Days after which transcripts not written to are removed (default 30; `0` keeps them).
    /// Read from the user's file only.
    pub cleanup_period_days: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSettings {
    pub name: Option<String>,
    pub max_session_turns: Option<u32>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Overrides the catalogue's context window (tokens) for compression and the status line.
    pub context_window: Option<u64>,
    /// Stop an answer that keeps repeating the same passage (default on).
    pub loop_detection: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySettings {
    #[serde(default)]
    pub auth: AuthSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    /// `qwen-oauth` or `openai`.
    pub selected_type: Option<String>,
    /// OpenAI-compatible base URL.
    pub base_url: Option<String>,
    /// Replaces `https://chat.qwen.ai` for the OAuth endpoints.
    pub qwen_o_auth_base_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsSettings {
    pub approval_mode: Option<String>,
    /// Tools (or `run_shell_command(prefix)`) pre-approved without asking.
    #[serde(default)]
    pub allowed: Vec<String>,
    #[serde(default)]
    pub shell: ShellSettings,
    #[serde(default)]
    pub sandbox: SandboxSettings,
}

/// `tools.sandbox`: the sandbox of the commands the model runs (see docs/sandbox.md). From a
/// project file only `mode: "read-only"` and `network: false` apply ([`crate::untrusted`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxSettings {
    /// `workspace-write` (default), `read-only` or `off`.
    pub mode: Option<String>,
    /// Whether sandboxed commands may use TCP (default false).
    pub network: Option<bool>,
    /// More directories sandboxed commands may write (absolute, or `~/…`).
    #[serde(default)]
    pub writable_roots: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShellSettings {
    /// Which of qcode's environment variables shell commands see (`tools.shell.env`).
    pub env: Option<ShellEnvSettings>,
}

/// `tools.shell.env`: `inherit` (`all` | `core` | `none`), `exclude` / `include` name patterns,
/// `set` fixed values (see docs/tools.md).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShellEnvSettings {
    pub inherit: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub set: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextSettings {
    /// Context file name(s); default `["QWEN.md", "AGENTS.md"]`.
    pub file_name: Option<StringOrList>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacySettings {
    pub usage_statistics_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetrySettings {
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiSettings {
    /// `auto`, `dark` or `light`.
    pub theme: Option<String>,
}

/// Every key the settings schema knows, as dotted paths. Objects listed here may have only the
/// listed children; anything else is reported as unknown.
const KNOWN_KEYS: &[&str] = &[
    "$schema",
    "model",
    "model.name",
    "model.maxSessionTurns",
    "model.temperature",
    "model.maxTokens",
    "model.contextWindow",
    "model.loopDetection",
    "security",
    "security.auth",
    "security.auth.selectedType",
    "security.auth.baseUrl",
    "security.auth.qwenOAuthBaseUrl",
    "tools",
    "tools.approvalMode",
    "tools.allowed",
    "tools.shell",
    "tools.shell.env",
    "tools.shell.env.inherit",
    "tools.shell.env.exclude",
    "tools.shell.env.include",
    "tools.shell.env.set",
    "tools.sandbox",
    "tools.sandbox.mode",
    "tools.sandbox.network",
    "tools.sandbox.writableRoots",
    "context",
    "context.fileName",
    "privacy",
    "privacy.usageStatisticsEnabled",
    "telemetry",
    "telemetry.otlpEndpoint",
    "ui",
    "ui.theme",
    "general",
    "general.chatRecording",
    "general.cleanupPeriodDays",
    // Checked entry by entry in `crate::mcp` (each warning names the server and the field).
    "mcpServers",
    "mcp",
    "mcp.discoveryTimeout",
    "agents",
    "agents.maxConcurrent",
    "agents.maxRequests",
    "agents.maxDepth",
    // Checked by the hook loader (each problem names the scope, the event and the entry).
    "hooks",
    "disableAllHooks",
];

/// A non-fatal problem found in a settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsWarning {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for SettingsWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The merged settings plus where they came from.
#[derive(Debug, Clone, Default)]
pub struct LoadedSettings {
    pub settings: Settings,
    pub warnings: Vec<SettingsWarning>,
    pub user_file: Option<PathBuf>,
    pub project_file: Option<PathBuf>,
    /// Each file's own content, to tell which one set a key.
    pub user_value: Option<Value>,
    pub project_value: Option<Value>,
}

impl LoadedSettings {
    /// Which file set the key at `keys` (the project file wins, as in the merge). `Default`
    /// if neither did.
    pub fn source_of(&self, keys: &[&str]) -> Source {
        let has = |value: &Option<Value>| {
            let mut node = value.as_ref();
            for key in keys {
                node = node.and_then(|n| n.get(key));
            }
            node.is_some_and(|v| !v.is_null())
        };
        match (&self.project_file, &self.user_file) {
            (Some(path), _) if has(&self.project_value) => Source::ProjectSettings(path.clone()),
            (_, Some(path)) if has(&self.user_value) => Source::UserSettings(path.clone()),
            _ => Source::Default,
        }
    }
}

impl LoadedSettings {
    /// The value the project file gives the key at `keys`, if any.
    pub fn project_entry(&self, keys: &[&str]) -> Option<&Value> {
        let mut node = self.project_value.as_ref();
        for key in keys {
            node = node.and_then(|n| n.get(key));
        }
        node.filter(|v| !v.is_null())
    }

    /// The same layers with the project file's value at `keys` replaced by `replacement`
    /// (`None` removes it) and the merge redone, so the user's own value — or the default —
    /// applies instead of the project's.
    pub fn with_project_entry(
        &self,
        keys: &[&str],
        replacement: Option<Value>,
    ) -> Result<LoadedSettings, ConfigError> {
        let mut out = self.clone();
        let Some(project) = out.project_value.as_mut() else {
            return Ok(out);
        };
        let Some((last, parents)) = keys.split_last() else {
            return Ok(out);
        };
        let mut node = project;
        for key in parents {
            match node.get_mut(*key) {
                Some(next) => node = next,
                None => return Ok(out),
            }
        }
        if let Value::Object(map) = node {
            match replacement {
                Some(v) => {
                    map.insert((*last).to_string(), v);
                }
                None => {
                    map.remove(*last);
                }
            }
        }
        let mut merged = Value::Object(Default::default());
        for layer in [&out.user_value, &out.project_value].into_iter().flatten() {
            merge(&mut merged, layer.clone());
        }
        out.settings = serde_json::from_value(merged).map_err(|e| ConfigError::SettingsType {
            path: out.project_file.clone().unwrap_or_default(),
            key: keys.join("."),
            message: e.to_string(),
        })?;
        Ok(out)
    }
}

/// Finds `<dir>/.qcode/settings.json` walking up from `cwd` to the git root (inclusive);
/// without a git root, only `cwd` itself is checked. The user's own `~/.qcode` is skipped.
pub fn find_project_settings(cwd: &Path, user_file: &Path) -> Option<PathBuf> {
    let stop = crate::paths::git_root(cwd);
    for dir in cwd.ancestors() {
        let candidate = dir.join(".qcode").join("settings.json");
        if candidate != user_file && candidate.is_file() {
            return Some(candidate);
        }
        match &stop {
            Some(root) if dir == root => break,
            None => break,
            Some(_) => {}
        }
    }
    None
}

/// Loads and merges the user and project settings files.
pub fn load_settings(user_file: &Path, cwd: &Path) -> Result<LoadedSettings, ConfigError> {
    let mut merged = Value::Object(Default::default());
    let mut warnings = Vec::new();
    let mut loaded = LoadedSettings::default();
    let project_file = find_project_settings(cwd, user_file);
    for (path, is_user) in [(Some(user_file.to_path_buf()), true), (project_file, false)] {
        let Some(path) = path else { continue };
        let Some(value) = read_settings_file(&path)? else {
            continue;
        };
        check_known_keys(&value, "", &path, &mut warnings);
        check_types(&value, &path)?;
        merge(&mut merged, value.clone());
        if is_user {
            loaded.user_file = Some(path);
            loaded.user_value = Some(value);
        } else {
            loaded.project_file = Some(path);
            loaded.project_value = Some(value);
        }
    }
    loaded.settings = serde_json::from_value(merged).map_err(|e| ConfigError::SettingsType {
        path: loaded
            .project_file
            .clone()
            .or_else(|| loaded.user_file.clone())
            .unwrap_or_default(),
        key: String::new(),
        message: e.to_string(),
    })?;
    loaded.warnings = warnings;
    Ok(loaded)
}

/// Reads one settings file; `Ok(None)` when it does not exist.
pub fn read_settings_file(path: &Path) -> Result<Option<Value>, ConfigError> {
    // A FIFO or device here would block start-up forever (or never end): refuse it.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(ConfigError::SettingsRead {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it is not a regular file (a directory, FIFO, socket or device)",
            ),
        });
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) if t.starts_with('\u{feff}') => {
            return Err(ConfigError::SettingsSyntax {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message:
                    "the file starts with a byte-order mark (BOM); save it as UTF-8 without a BOM"
                        .into(),
            });
        }
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::SettingsRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_settings_text(path, &text).map(Some)
}

/// Parses the text of a settings file (comments and trailing commas allowed); the top level
/// must be an object. Whitespace only counts as `{}`.
pub(crate) fn parse_settings_text(path: &Path, text: &str) -> Result<Value, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let stripped = strip_comments(text);
    let value: Value =
        serde_json::from_str(&stripped).map_err(|e| ConfigError::SettingsSyntax {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or("")
                .to_string(),
        })?;
    if !value.is_object() {
        return Err(ConfigError::SettingsType {
            path: path.to_path_buf(),
            key: "(top level)".into(),
            message: "expected a JSON object".into(),
        });
    }
    Ok(value)
}

/// Replaces `//` and `/* */` comments (outside strings) with spaces, keeping line breaks so
/// that error positions stay right. Trailing commas before `}` / `]` are removed too.
pub fn strip_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                out.extend_from_slice(b"  ");
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    out.push(if bytes[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
                if i < bytes.len() {
                    out.extend_from_slice(b"  ");
                    i += 2;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Comments are blanks now, so a comment between a trailing comma and `}` does not hide it.
    blank_trailing_commas(&mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Replaces each comma (outside strings) followed only by whitespace and `}` / `]` with a space.
fn blank_trailing_commas(bytes: &mut [u8]) {
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1,
            (_, b'"') => in_string = !in_string,
            (false, b',') => {
                let next = bytes[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
                if matches!(next, Some(b'}') | Some(b']')) {
                    bytes[i] = b' ';
                }
            }
            _ => {}
        }
        i += 1;
    }
}

fn check_known_keys(value: &Value, prefix: &str, path: &Path, warnings: &mut Vec<SettingsWarning>) {
    let Value::Object(map) = value else { return };
    for (key, child) in map {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if !KNOWN_KEYS.contains(&dotted.as_str()) {
            // Children of an unknown key are not reported separately.
            warnings.push(SettingsWarning {
                path: path.to_path_buf(),
                message: format!("unknown setting `{dotted}` is ignored"),
            });
            continue;
        }
        let has_known_children = KNOWN_KEYS.iter().any(|k| {
            k.len() > dotted.len() && k.starts_with(&dotted) && k.as_bytes()[dotted.len()] == b'.'
        });
        if has_known_children {
            check_known_keys(child, &dotted, path, warnings);
        }
    }
}

/// Deserializes one file alone, so that a type error names the file and the key.
fn check_types(value: &Value, path: &Path) -> Result<(), ConfigError> {
    match first_bad_type(value, &mut Vec::new()) {
        Some((keys, message)) => Err(ConfigError::SettingsType {
            path: path.to_path_buf(),
            key: keys.join("."),
            message,
        }),
        None => Ok(()),
    }
}

/// The deepest key whose value has the wrong type (`tools.approvalMode`, not `tools`), with
/// serde's message, or `None`.
fn first_bad_type(node: &Value, prefix: &mut Vec<String>) -> Option<(Vec<String>, String)> {
    let Value::Object(map) = node else {
        return None;
    };
    for (key, child) in map {
        prefix.push(key.clone());
        // The child alone, at its place in an otherwise empty settings object.
        let probe = prefix.iter().rev().fold(child.clone(), |inner, k| {
            let mut m = serde_json::Map::new();
            m.insert(k.clone(), inner);
            Value::Object(m)
        });
        if let Err(e) = serde_json::from_value::<Settings>(probe) {
            if let Some(deeper) = first_bad_type(child, prefix) {
                return Some(deeper);
            }
            return Some((prefix.clone(), e.to_string()));
        }
        prefix.pop();
    }
    None
}

/// Deep-merges `overlay` into `base`: objects merge key by key, anything else replaces.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (k, v) in overlay {
                match base.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        base.insert(k, v);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}
