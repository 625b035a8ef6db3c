//! MCP server entries of Qwen Code's settings and Claude Code's `~/.claude.json`, in qcode's
//! settings shape, with secret values replaced by `${VAR}` references.

use qcode_protocol::env_names::{is_secret_name, looks_like_key};
use serde_json::{Map, Value};

use super::{Note, Tool};

/// A converted entry: what to write, its transport for the listing, what the user must do.
pub(super) struct Server {
    pub entry: Value,
    pub transport: &'static str,
    pub notes: Vec<Note>,
}

/// Whether `text` looks like it holds a credential: `Bearer …` / `Basic …` with a literal
/// value, `NAME=value` where the name looks like a secret and the value is not a `$VAR`
/// reference, or a word shaped like an API key (`sk-…`, `ghp_…`, long mixed strings).
pub(super) fn has_secret(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let bare =
            word.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ',' | ';' | '(' | ')'));
        if (bare.eq_ignore_ascii_case("bearer") || bare.eq_ignore_ascii_case("basic"))
            && words
                .get(i + 1)
                .is_some_and(|next| !is_reference(next.trim_matches(|c| c == '"' || c == '\'')))
        {
            return true;
        }
        if looks_like_key(bare) {
            return true;
        }
        for (pos, _) in bare.match_indices('=') {
            let before = &bare[..pos];
            let after = &bare[pos + 1..];
            let name_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |i| i + 1);
            let name = before[name_start..].trim_start_matches('-');
            let value = after.split(['&', ';', ',']).next().unwrap_or("");
            if !name.is_empty() && is_secret_name(name) && !value.is_empty() && !is_reference(value)
            {
                return true;
            }
        }
    }
    false
}

/// `$VAR` or `${VAR}` and nothing else.
fn is_reference(s: &str) -> bool {
    let name = s
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| s.strip_prefix('$'));
    name.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// `github-mcp` + `token` → `GITHUB_MCP_TOKEN`.
fn var_name(server: &str, what: &str) -> String {
    let raw = format!("{server}_{what}");
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out.trim_matches('_').to_string()
}

fn valid_var(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn set_note(server: &str, field: &str, var: &str) -> Note {
    Note(format!(
        "MCP server {server}: the value of `{field}` was not copied; set {var} in your environment or ~/.qcode/.env (the entry reads ${{{var}}})"
    ))
}

/// One entry in qcode's settings shape, or why it is skipped.
pub(super) fn convert(tool: Tool, name: &str, entry: &Value) -> Result<Server, String> {
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err("the name must be 1 to 64 letters, digits, `_`, `-` or `.`".into());
    }
    let Value::Object(map) = entry else {
        return Err("expected an object with `command`, `httpUrl` or `url`".into());
    };
    let mut notes = Vec::new();
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "env" | "headers" | "args" => {}
            k if crate::mcp::KNOWN_FIELDS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            other => notes.push(Note(format!(
                "MCP server {name}: field `{other}` is not copied (qcode does not know it)"
            ))),
        }
    }
    let text = |out: &Map<String, Value>, field: &str| {
        out.get(field).and_then(Value::as_str).map(str::to_string)
    };
    let shape = (
        text(&out, "type"),
        text(&out, "command"),
        text(&out, "httpUrl"),
        text(&out, "url"),
    );
    let transport = match (shape.0.as_deref(), shape.1, shape.2, shape.3) {
        (None | Some("stdio"), Some(_), None, None) => "stdio",
        (None | Some("http" | "streamable-http" | "streamableHttp"), None, Some(_), None) => "http",
        (Some("http" | "streamable-http" | "streamableHttp"), None, None, Some(_)) => "http",
        (Some("sse"), None, None, Some(_)) => "sse",
        // Claude Code's entries without `type` and with `url` are streamable HTTP.
        (None, None, None, Some(_)) if tool == Tool::Claude => {
            out.insert("type".into(), "http".into());
            "http"
        }
        (None, None, None, Some(_)) => "sse",
        _ => {
            return Err(
                "it needs exactly one of `command` (stdio), `httpUrl` or `url` (with a matching `type`)"
                    .into(),
            );
        }
    };
    for field in ["httpUrl", "url"] {
        if let Some(u) = text(&out, field) {
            let parsed = url::Url::parse(&u);
            let userinfo = parsed
                .as_ref()
                .is_ok_and(|p| !p.username().is_empty() || p.password().is_some());
            if userinfo || has_secret(&u) {
                return Err(format!(
                    "its `{field}` holds a credential; add it with `qcode mcp add` and a ${{VAR}} reference instead"
                ));
            }
        }
    }
    if let Some(args) = map.get("args") {
        let Some(items) = args.as_array() else {
            return Err("`args` must be a list of strings".into());
        };
        let mut converted = Vec::with_capacity(items.len());
        let mut previous_flag: Option<String> = None;
        for (i, arg) in items.iter().enumerate() {
            let Some(a) = arg.as_str() else {
                return Err("`args` must be a list of strings".into());
            };
            let flag = previous_flag.take();
            let value = match a.split_once('=') {
                Some((k, v)) if k.starts_with('-') && is_secret_name(k) && !is_reference(v) => {
                    let var = var_name(name, k.trim_start_matches('-'));
                    notes.push(set_note(name, &format!("args[{i}]"), &var));
                    format!("{k}=${{{var}}}")
                }
                _ if flag.is_some() && !is_reference(a) && !a.starts_with('-') => {
                    let var = var_name(name, flag.as_deref().unwrap_or("arg"));
                    notes.push(set_note(name, &format!("args[{i}]"), &var));
                    format!("${{{var}}}")
                }
                _ if has_secret(a) => {
                    let var = var_name(name, &format!("arg{i}"));
                    notes.push(set_note(name, &format!("args[{i}]"), &var));
                    format!("${{{var}}}")
                }
                _ => a.to_string(),
            };
            if a.starts_with('-') && !a.contains('=') && is_secret_name(a) {
                previous_flag = Some(a.trim_start_matches('-').to_string());
            }
            converted.push(Value::String(value));
        }
        out.insert("args".into(), Value::Array(converted));
    }
    if let Some(env) = map.get("env") {
        let Some(vars) = env.as_object() else {
            return Err("`env` must be an object of strings".into());
        };
        let mut converted = Map::new();
        for (k, v) in vars {
            let Some(v) = v.as_str() else {
                return Err(format!("`env.{k}` must be a string"));
            };
            let secret = !is_reference(v) && (is_secret_name(k) || has_secret(v));
            let value = if secret {
                let var = if valid_var(k) {
                    k.clone()
                } else {
                    var_name(name, k)
                };
                notes.push(set_note(name, &format!("env.{k}"), &var));
                format!("${{{var}}}")
            } else {
                v.to_string()
            };
            converted.insert(k.clone(), Value::String(value));
        }
        out.insert("env".into(), Value::Object(converted));
    }
    if let Some(headers) = map.get("headers") {
        let Some(hs) = headers.as_object() else {
            return Err("`headers` must be an object of strings".into());
        };
        let mut converted = Map::new();
        for (k, v) in hs {
            let Some(v) = v.as_str() else {
                return Err(format!("`headers.{k}` must be a string"));
            };
            let scheme = v.split_once(' ').filter(|(s, _)| {
                s.eq_ignore_ascii_case("bearer") || s.eq_ignore_ascii_case("basic")
            });
            let value = match scheme {
                Some((scheme, rest)) if !is_reference(rest.trim()) => {
                    let var = var_name(name, "token");
                    notes.push(set_note(name, &format!("headers.{k}"), &var));
                    format!("{scheme} ${{{var}}}")
                }
                Some(_) => v.to_string(),
                None if !is_reference(v.trim()) && (is_secret_name(k) || has_secret(v)) => {
                    let var = var_name(name, k);
                    notes.push(set_note(name, &format!("headers.{k}"), &var));
                    format!("${{{var}}}")
                }
                None => v.to_string(),
            };
            converted.insert(k.clone(), Value::String(value));
        }
        out.insert("headers".into(), Value::Object(converted));
    }
    Ok(Server {
        entry: Value::Object(out),
        transport,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_become_references_with_a_note_naming_the_variable() {
        let entry = json!({
            "command": "npx",
            "args": ["-y", "server", "--api-key", "abc123", "--token=zzz", "--port", "8080"],
            "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuv", "LOG": "debug", "REF": "${REF}"},
            "timeout": 5000,
            "oauth": {"enabled": true}
        });
        let s = convert(Tool::Qwen, "gh", &entry).unwrap();
        assert_eq!(s.transport, "stdio");
        assert_eq!(
            s.entry,
            json!({
                "command": "npx",
                "args": ["-y", "server", "--api-key", "${GH_API_KEY}", "--token=${GH_TOKEN}", "--port", "8080"],
                "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}", "LOG": "debug", "REF": "${REF}"},
                "timeout": 5000
            })
        );
        let notes: Vec<_> = s.notes.iter().map(|n| n.0.clone()).collect();
        assert!(
            notes.iter().any(|n| n.contains("set GITHUB_TOKEN")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.contains("`oauth`")), "{notes:?}");
        assert!(!format!("{notes:?}").contains("ghp_"), "{notes:?}");

        let http = json!({"type": "http", "url": "https://mcp.example/api",
                          "headers": {"Authorization": "Bearer s3cr3t", "X-Api-Key": "k1", "Accept": "json"}});
        let s = convert(Tool::Claude, "my.api", &http).unwrap();
        assert_eq!(s.transport, "http");
        assert_eq!(
            s.entry["headers"],
            json!({"Authorization": "Bearer ${MY_API_TOKEN}", "X-Api-Key": "${MY_API_X_API_KEY}", "Accept": "json"})
        );
    }

    #[test]
    fn credentials_in_urls_and_bad_entries_are_skipped() {
        let bad = [
            json!({"url": "https://u:p@h/x"}),
            json!({"httpUrl": "https://h/x?api_key=abc"}),
            json!({"command": "a", "url": "https://h"}),
            json!("npx server"),
        ];
        for entry in bad {
            assert!(convert(Tool::Qwen, "s", &entry).is_err(), "{entry}");
        }
        assert!(convert(Tool::Qwen, "bad name", &json!({"command": "x"})).is_err());
    }

    #[test]
    fn what_looks_like_a_secret() {
        for s in [
            "Bearer abc",
            "API_KEY=x ./run",
            "sk-abcdefghijklmnopqrstu",
            "curl -H 'Authorization: Basic eHh4'",
        ] {
            assert!(has_secret(s), "{s}");
        }
        for s in [
            "Bearer ${TOKEN}",
            "API_KEY=$API_KEY ./run",
            "python3 ~/.qwen/hooks/check.py",
            "run_shell_command(git status)",
        ] {
            assert!(!has_secret(s), "{s}");
        }
    }
}
