//! MCP server configuration: `mcpServers` in the user's `~/.qcode/settings.json` and the
//! project's `.qcode/settings.json` (Qwen Code's shape), plus a project's `.mcp.json` (the
//! cross-tool shape with `type`). See docs/mcp.md.
//!
//! **Shapes.** Settings: `{"name": {"command", "args", "env", "cwd"}}` (stdio),
//! `{"httpUrl", "headers"}` (streamable HTTP), `{"url", "headers"}` (SSE); each may add
//! `timeout` (ms per tool call), `trust`, `includeTools`, `excludeTools`, `description`.
//! `.mcp.json`: `{"mcpServers": {"name": {"type": "stdio"|"http"|"sse", "command", "args",
//! "env", "cwd", "url", "headers"}}}` (without `type`: `command` means stdio, `url` HTTP).
//!
//! **Expansion.** `$VAR` / `${VAR}` in `command`, `args`, `env` values, `cwd`, URLs and header
//! values expand from the environment; an unset variable expands to nothing, with a warning that
//! names the server, the field and the variable (never a value). When the folder is untrusted,
//! a project `.env` is not consulted, so a cloned repository cannot redirect a user server
//! through `$VAR` either.
//!
//! **Precedence and trust.** A name belongs to the first file that defines it, in the order
//! user settings, project settings, `.mcp.json`: a project can add servers but never replace a
//! user server of the same name (its entry is dropped with a warning), trusted or not. Servers
//! from project files are startable only in a trusted folder ([`Startable::NotTrusted`] carries
//! the reason otherwise). An invalid entry is skipped with a warning naming the server and the
//! field; the other servers still load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::{FolderTrust, SettingsWarning};

/// The cross-tool project file, at the project root.
pub const MCP_JSON_FILE: &str = ".mcp.json";

/// Which file a server entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpOrigin {
    /// `~/.qcode/settings.json`.
    UserSettings(PathBuf),
    /// `<project>/.qcode/settings.json`.
    ProjectSettings(PathBuf),
    /// `<project>/.mcp.json`.
    McpJson(PathBuf),
}

impl McpOrigin {
    pub fn path(&self) -> &Path {
        match self {
            Self::UserSettings(p) | Self::ProjectSettings(p) | Self::McpJson(p) => p,
        }
    }

    /// Whether the entry came with the folder (and so obeys folder trust).
    pub fn is_project(&self) -> bool {
        match self {
            Self::UserSettings(_) => false,
            Self::ProjectSettings(_) | Self::McpJson(_) => true,
        }
    }

    /// `user settings`, `project settings` or `.mcp.json`, for listings.
    pub fn label(&self) -> &'static str {
        match self {
            Self::UserSettings(_) => "user settings",
            Self::ProjectSettings(_) => "project settings",
            Self::McpJson(_) => ".mcp.json",
        }
    }
}

/// How qcode talks to a server. `Debug` shows no values that may hold secrets (arguments,
/// `env` and header values, URL user info and query), since expanded `$VAR`s end up here.
#[derive(Clone, PartialEq, Eq)]
pub enum McpTransport {
    /// A child process speaking JSON-RPC on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        /// Exactly the variables the entry names (the client adds only a small safe set).
        env: BTreeMap<String, String>,
        /// Absolute working directory (a relative `cwd` is taken from the project root); `None`:
        /// the project root.
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP (`httpUrl`, or `type: "http"`).
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// The legacy HTTP+SSE transport (`url`, or `type: "sse"`).
    Sse {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for McpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        let url_shown = shown_url;
        match self {
            Self::Stdio {
                command,
                args,
                env,
                cwd,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", &format!("<{} hidden>", args.len()))
                .field("env", &keys(env))
                .field("cwd", cwd)
                .finish(),
            Self::Http { url, headers } => f
                .debug_struct("Http")
                .field("url", &url_shown(url))
                .field("headers", &keys(headers))
                .finish(),
            Self::Sse { url, headers } => f
                .debug_struct("Sse")
                .field("url", &url_shown(url))
                .field("headers", &keys(headers))
                .finish(),
        }
    }
}

/// A server URL as qcode shows it: without user info, query values or fragment (they may
/// carry keys).
pub fn shown_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(u) => format!(
            "{}://{}{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path(),
            if u.query().is_some() { "?…" } else { "" }
        ),
        Err(_) => "(invalid)".into(),
    }
}

impl McpTransport {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Stdio { .. } => "stdio",
            Self::Http { .. } => "http",
            Self::Sse { .. } => "sse",
        }
    }
}

/// Whether a configured server may be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startable {
    Yes,
    /// It comes from the files of a folder that is not trusted: nothing of it runs.
    NotTrusted {
        folder: PathBuf,
    },
}

impl Startable {
    /// Why it is not started, with what to do; `None` when it is startable.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::Yes => None,
            Self::NotTrusted { folder } => Some(format!(
                "not started: folder not trusted (if you trust {}, run `qcode trust` there, or pass --trust for one run)",
                folder.display()
            )),
        }
    }
}

/// One configured MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerConfig {
    pub name: String,
    pub transport: McpTransport,
    /// Per tool call (`timeout`, ms); `None`: the client's default.
    pub timeout: Option<Duration>,
    /// `trust: true`: its tools need no approval (decided by the engine).
    pub trust: bool,
    /// Only these tools (empty: all).
    pub include_tools: Vec<String>,
    /// Never these tools (wins over `include_tools`).
    pub exclude_tools: Vec<String>,
    pub description: Option<String>,
    pub origin: McpOrigin,
    pub startable: Startable,
}

/// The servers of all files, and the problems found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpServers {
    pub servers: Vec<McpServerConfig>,
    pub warnings: Vec<SettingsWarning>,
}

/// What [`load_mcp_servers`] reads.
pub struct McpSources<'a> {
    /// The user's settings file and its parsed content.
    pub user: Option<(&'a Path, &'a Value)>,
    /// The project's settings file and its parsed content.
    pub project: Option<(&'a Path, &'a Value)>,
    /// The project root (where `.mcp.json` is looked for; the default server working directory).
    pub project_root: &'a Path,
    pub trust: &'a FolderTrust,
    /// Looks a variable up for `$VAR` expansion.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Reads every `mcpServers` table (see the module docs for precedence, trust and expansion).
pub fn load_mcp_servers(src: &McpSources<'_>) -> McpServers {
    let mut out = McpServers::default();
    let mut tables: Vec<(McpOrigin, Value)> = Vec::new();
    if let Some((path, value)) = src.user {
        tables.push((McpOrigin::UserSettings(path.to_path_buf()), value.clone()));
    }
    if let Some((path, value)) = src.project {
        tables.push((
            McpOrigin::ProjectSettings(path.to_path_buf()),
            value.clone(),
        ));
    }
    let mcp_json = src.project_root.join(MCP_JSON_FILE);
    match crate::settings::read_settings_file(&mcp_json) {
        Ok(Some(value)) => tables.push((McpOrigin::McpJson(mcp_json), value)),
        Ok(None) => {}
        Err(e) => out.warnings.push(SettingsWarning {
            path: mcp_json,
            message: format!("{e}; its MCP servers are not loaded"),
        }),
    }
    for (origin, value) in tables {
        let Some(table) = value.get("mcpServers") else {
            continue;
        };
        let warn = |out: &mut McpServers, message: String| {
            out.warnings.push(SettingsWarning {
                path: origin.path().to_path_buf(),
                message,
            });
        };
        let Value::Object(table) = table else {
            warn(
                &mut out,
                "`mcpServers` must be an object of named servers; ignored".into(),
            );
            continue;
        };
        for (name, entry) in table {
            if let Some(existing) = out.servers.iter().find(|s| &s.name == name) {
                let message = format!(
                    "MCP server `{name}` is ignored: {} ({}) already defines a server of that name",
                    existing.origin.label(),
                    existing.origin.path().display()
                );
                warn(&mut out, message);
                continue;
            }
            let mut notes = Vec::new();
            match parse_entry(name, entry, &origin, src, &mut notes) {
                Ok(server) => out.servers.push(server),
                Err(message) => notes.push(message),
            }
            for note in notes {
                warn(&mut out, note);
            }
        }
    }
    out
}

/// Keys an entry may have (others are warned about and ignored).
pub(crate) const KNOWN_FIELDS: &[&str] = &[
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "url",
    "httpUrl",
    "headers",
    "timeout",
    "trust",
    "includeTools",
    "excludeTools",
    "description",
];

/// One entry → a server, or the reason it is skipped (naming server and field). Non-fatal
/// notes (unknown fields, unset variables) go to `notes`.
fn parse_entry(
    name: &str,
    entry: &Value,
    origin: &McpOrigin,
    src: &McpSources<'_>,
    notes: &mut Vec<String>,
) -> Result<McpServerConfig, String> {
    let bad = |field: &str, what: &str| format!("MCP server `{name}` is skipped: `{field}` {what}");
    if name.trim().is_empty() {
        return Err("an MCP server with an empty name is skipped".into());
    }
    let Value::Object(map) = entry else {
        return Err(format!(
            "MCP server `{name}` is skipped: expected an object with `command`, `httpUrl` or `url`"
        ));
    };
    for key in map.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            notes.push(format!(
                "MCP server `{name}`: unknown field `{key}` is ignored"
            ));
        }
    }
    let mut expand = |field: &str, text: &str| -> String {
        let (value, missing) = expand_vars(text, src.env);
        for var in missing {
            notes.push(format!(
                "MCP server `{name}`: `{field}` names ${var}, which is not set (expanded to nothing)"
            ));
        }
        value
    };
    let string = |field: &str| -> Result<Option<&str>, String> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(bad(field, "must be a string")),
        }
    };
    let strings = |field: &str| -> Result<Vec<String>, String> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| bad(field, "must be an array of strings"))
                })
                .collect(),
            Some(_) => Err(bad(field, "must be an array of strings")),
        }
    };
    let string_map = |field: &str| -> Result<Vec<(String, String)>, String> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(bad(&format!("{field}.{k}"), "must be a string")),
                })
                .collect(),
            Some(_) => Err(bad(field, "must be an object of strings")),
        }
    };

    let kind = string("type")?;
    let command = string("command")?;
    let http_url = string("httpUrl")?;
    let url = string("url")?;
    let given: Vec<&str> = [("command", command), ("httpUrl", http_url), ("url", url)]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
    if given.len() > 1 {
        return Err(format!(
            "MCP server `{name}` is skipped: it sets {}; set exactly one of `command` (stdio), `httpUrl` (streamable HTTP) or `url`",
            given.join(" and ")
        ));
    }
    #[derive(PartialEq)]
    enum Kind {
        Stdio,
        Http,
        Sse,
    }
    let is_mcp_json = matches!(origin, McpOrigin::McpJson(_));
    let kind = match (kind, command, http_url, url) {
        (Some("stdio") | None, Some(_), None, None) => Kind::Stdio,
        (Some("http" | "streamable-http" | "streamableHttp") | None, None, Some(_), None) => {
            Kind::Http
        }
        (Some("http" | "streamable-http" | "streamableHttp"), None, None, Some(_)) => Kind::Http,
        (Some("sse"), None, None, Some(_)) => Kind::Sse,
        // Without `type`: `.mcp.json`'s `url` is streamable HTTP, the settings' `url` SSE.
        (None, None, None, Some(_)) if is_mcp_json => Kind::Http,
        (None, None, None, Some(_)) => Kind::Sse,
        (Some(t @ ("stdio" | "http" | "streamable-http" | "streamableHttp" | "sse")), ..) => {
            let needs = if t == "stdio" { "`command`" } else { "`url`" };
            return Err(bad("type", &format!("is \"{t}\", which needs {needs}")));
        }
        (Some(other), ..) => {
            return Err(bad(
                "type",
                &format!("is \"{other}\"; expected \"stdio\", \"http\" or \"sse\""),
            ));
        }
        (None, None, None, None) => {
            return Err(format!(
                "MCP server `{name}` is skipped: it needs `command` (stdio), `httpUrl` (streamable HTTP) or `url`"
            ));
        }
        // Only reachable with several of command/httpUrl/url, refused above.
        (None, ..) => {
            return Err(format!(
                "MCP server `{name}` is skipped: set exactly one of `command`, `httpUrl` or `url`"
            ));
        }
    };

    let transport = if kind == Kind::Stdio {
        let command = expand("command", command.unwrap_or_default());
        if command.trim().is_empty() {
            return Err(bad("command", "is empty"));
        }
        let args = strings("args")?.iter().map(|a| expand("args", a)).collect();
        let mut env = BTreeMap::new();
        for (k, v) in string_map("env")? {
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(bad(&format!("env.{k}"), "is not a valid variable name"));
            }
            let v = expand(&format!("env.{k}"), &v);
            env.insert(k, v);
        }
        let cwd = match string("cwd")? {
            Some(dir) => {
                let dir = expand("cwd", dir);
                let p = PathBuf::from(&dir);
                Some(if p.is_absolute() {
                    p
                } else {
                    src.project_root.join(p)
                })
            }
            None => None,
        };
        if map.contains_key("headers") {
            notes.push(format!(
                "MCP server `{name}`: `headers` only applies to HTTP servers and is ignored"
            ));
        }
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        }
    } else {
        let field = if http_url.is_some() { "httpUrl" } else { "url" };
        let raw = http_url.or(url).unwrap_or_default();
        let value = expand(field, raw);
        match url::Url::parse(&value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            Ok(_) => return Err(bad(field, "must be an http:// or https:// URL")),
            Err(e) => return Err(bad(field, &format!("is not a URL ({e})"))),
        }
        let mut headers = BTreeMap::new();
        for (k, v) in string_map("headers")? {
            let v = expand(&format!("headers.{k}"), &v);
            if k.is_empty() || k.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f) {
                return Err(bad(&format!("headers.{k}"), "is not a valid header name"));
            }
            if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(bad(&format!("headers.{k}"), "contains a line break or NUL"));
            }
            headers.insert(k, v);
        }
        for field in ["args", "env", "cwd"] {
            if map.contains_key(field) {
                notes.push(format!(
                    "MCP server `{name}`: `{field}` only applies to stdio servers and is ignored"
                ));
            }
        }
        match kind {
            Kind::Sse => McpTransport::Sse {
                url: value,
                headers,
            },
            Kind::Http | Kind::Stdio => McpTransport::Http {
                url: value,
                headers,
            },
        }
    };

    let timeout = match map.get("timeout") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(ms) if ms > 0 => Some(Duration::from_millis(ms)),
            _ => return Err(bad("timeout", "must be a positive number of milliseconds")),
        },
    };
    let trust = match map.get("trust") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("trust", "must be true or false")),
    };
    let description = string("description")?.map(String::from);
    let startable = if origin.is_project() && !src.trust.is_trusted() {
        Startable::NotTrusted {
            folder: src.project_root.to_path_buf(),
        }
    } else {
        Startable::Yes
    };
    Ok(McpServerConfig {
        name: name.to_string(),
        transport,
        timeout,
        trust,
        include_tools: strings("includeTools")?,
        exclude_tools: strings("excludeTools")?,
        description,
        origin: origin.clone(),
        startable,
    })
}

/// Expands `$VAR` and `${VAR}` (names `[A-Za-z_][A-Za-z0-9_]*`); returns the text and the
/// names that were not set. A `$` not followed by a name stays as it is.
pub fn expand_vars(text: &str, env: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    let is_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end)
                    if end > 0
                        && inner[..end].starts_with(is_start)
                        && inner[..end].chars().all(is_name) =>
                {
                    (Some(&inner[..end]), end + 2)
                }
                _ => (None, 0),
            }
        } else if after.starts_with(is_start) {
            let end = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
            (Some(&after[..end]), end)
        } else {
            (None, 0)
        };
        match name {
            Some(name) => {
                match env(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        if !missing.iter().any(|m| m == name) {
                            missing.push(name.to_string());
                        }
                    }
                }
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_secret_values() {
        let stdio = McpTransport::Stdio {
            command: "srv".into(),
            args: vec!["--token=sk-arg".into()],
            env: BTreeMap::from([("API_KEY".into(), "sk-env".into())]),
            cwd: None,
        };
        let http = McpTransport::Http {
            url: "https://u:pw@h.example/mcp?key=sk-query".into(),
            headers: BTreeMap::from([("Authorization".into(), "Bearer sk-header".into())]),
        };
        let text = format!("{stdio:?} {http:?}");
        assert!(!text.contains("sk-"), "{text}");
        assert!(!text.contains("pw"), "{text}");
        assert!(
            text.contains("API_KEY") && text.contains("Authorization"),
            "{text}"
        );
        assert!(text.contains("https://h.example/mcp?…"), "{text}");
    }
}
