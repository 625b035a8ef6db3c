//! What the files of an untrusted folder may not do (see [`crate::trust`]): the one place that
//! turns a folder's trust and each value's origin into "applies" or "ignored".
//!
//! From an untrusted project's `.qcode/settings.json` these never take effect:
//! `security.auth.baseUrl`, `telemetry.*`, `tools.approvalMode` other than `default`/`plan`,
//! `tools.allowed`, `tools.shell.env`, `hooks`, `disableAllHooks`, context file names that are absolute or leave the
//! project. From any project file — trusted or not — these never do: `security.auth.qwenOAuthBaseUrl`
//! (the Qwen refresh token goes only to Qwen's server or one the user chose by flag,
//! environment or user settings), `tools.sandbox.*` values that widen the sandbox (a project
//! may set `mode: "read-only"` and `network: false`, nothing else), and `privacy.usageStatisticsEnabled: true` (a project can turn
//! statistics off, never on). From an untrusted project `.env`: `OTEL_*` (where statistics
//! go) and `OPENAI_BASE_URL` unless the key comes from the same file (decided in
//! [`crate::resolve`]); `QCODE_QWEN_OAUTH_BASE_URL` from no project `.env` at all. The model name,
//! harmless context file names and UI settings still apply.

use serde_json::Value;

use crate::settings::LoadedSettings;
use crate::{ConfigError, DotEnvPlace, EnvLayer, Source};

/// A value a folder's file wanted to set and that was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The settings key (`security.auth.baseUrl`) or variable (`OPENAI_BASE_URL`).
    pub name: String,
    pub source: Source,
    /// What it wanted (settings values, shortened); `None` for `.env` variables, whose values
    /// may be secrets and are never shown.
    pub value: Option<String>,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source.file() {
            Some(path) => write!(f, "{} ({})", self.name, path.display()),
            None => f.write_str(&self.name),
        }
    }
}

/// Whether a project's file may set a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Only a trusted project.
    Trusted,
    /// No project, trusted or not.
    Never,
}

/// Settings keys a project may set only when trusted (or never).
const GUARDED_KEYS: &[(&[&str], Rule)] = &[
    (&["security", "auth", "baseUrl"], Rule::Trusted),
    (&["security", "auth", "qwenOAuthBaseUrl"], Rule::Never),
    (&["telemetry"], Rule::Trusted),
    (&["tools", "allowed"], Rule::Trusted),
    (&["tools", "shell", "env"], Rule::Trusted),
    // Hook commands run without asking; `disableAllHooks` would switch off the user's own.
    (&["hooks"], Rule::Trusted),
    (&["disableAllHooks"], Rule::Trusted),
];

/// The settings layers without what the project may not set; ignored keys are appended.
pub(crate) fn restrict_settings(
    loaded: &LoadedSettings,
    trusted: bool,
    ignored: &mut Vec<Ignored>,
) -> Result<LoadedSettings, ConfigError> {
    let Some(project_file) = loaded.project_file.clone() else {
        return Ok(loaded.clone());
    };
    let mut out = loaded.clone();
    let note = |keys: &[&str], value: Option<&Value>, out: &mut Vec<Ignored>| {
        out.push(Ignored {
            name: keys.join("."),
            source: Source::ProjectSettings(project_file.clone()),
            value: value.map(short),
        });
    };
    for (keys, rule) in GUARDED_KEYS {
        let blocked = match rule {
            Rule::Never => true,
            Rule::Trusted => !trusted,
        };
        if blocked && let Some(v) = out.project_entry(keys).cloned() {
            out = out.with_project_entry(keys, None)?;
            note(keys, Some(&v), ignored);
        }
    }
    // Only `default` and `plan` are not more permissive than asking.
    let mode_keys: &[&str] = &["tools", "approvalMode"];
    if !trusted
        && let Some(mode) = out.project_entry(mode_keys)
        && !matches!(mode.as_str(), Some("default" | "plan"))
    {
        let v = mode.clone();
        out = out.with_project_entry(mode_keys, None)?;
        note(mode_keys, Some(&v), ignored);
    }
    let privacy: &[&str] = &["privacy", "usageStatisticsEnabled"];
    if out.project_entry(privacy) == Some(&Value::Bool(true)) {
        out = out.with_project_entry(privacy, None)?;
        note(privacy, Some(&Value::Bool(true)), ignored);
    }
    restrict_sandbox(&mut out, &mut |keys, v| note(keys, Some(v), ignored))?;
    let names: &[&str] = &["context", "fileName"];
    if !trusted && let Some(entry) = out.project_entry(names).cloned() {
        let (kept, dropped) = split_context_names(&entry);
        if dropped {
            out = out.with_project_entry(names, kept)?;
            note(names, Some(&entry), ignored);
        }
    }
    Ok(out)
}

/// `tools.sandbox.*` from any project file, trusted or not: a project may only narrow the
/// sandbox — `mode: "read-only"` and `network: false` apply, every other value (`off`,
/// `workspace-write`, `network: true`, any `writableRoots`) is ignored.
fn restrict_sandbox(
    out: &mut LoadedSettings,
    note: &mut dyn FnMut(&[&str], &Value),
) -> Result<(), ConfigError> {
    let narrowing: [(&[&str], Option<Value>); 3] = [
        (
            &["tools", "sandbox", "mode"],
            Some(Value::from("read-only")),
        ),
        (&["tools", "sandbox", "network"], Some(Value::Bool(false))),
        (&["tools", "sandbox", "writableRoots"], None),
    ];
    for (keys, allowed) in narrowing {
        if let Some(v) = out.project_entry(keys).cloned()
            && allowed.as_ref() != Some(&v)
        {
            *out = out.with_project_entry(keys, None)?;
            note(keys, &v);
        }
    }
    // `tools.sandbox` set to something that is not an object would hide the keys above.
    let whole: &[&str] = &["tools", "sandbox"];
    if let Some(v) = out.project_entry(whole).cloned()
        && !v.is_object()
    {
        *out = out.with_project_entry(whole, None)?;
        note(whole, &v);
    }
    Ok(())
}

/// A settings value as one short line.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// Context file names that stay inside the project (plain relative names), and whether any
/// were dropped.
fn split_context_names(entry: &Value) -> (Option<Value>, bool) {
    let inside = |name: &str| {
        let p = std::path::Path::new(name);
        !name.trim().is_empty()
            && p.is_relative()
            && !p
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
    };
    match entry {
        Value::String(s) if inside(s) => (Some(entry.clone()), false),
        Value::String(_) => (None, true),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter(|v| v.as_str().is_some_and(inside))
                .cloned()
                .collect();
            let dropped = kept.len() != items.len();
            let kept = (!kept.is_empty()).then_some(Value::Array(kept));
            (kept, dropped)
        }
        _ => (None, true),
    }
}

/// Variables a project `.env` may not set when the folder is untrusted (`OTEL_*` by prefix),
/// and those it may never set.
const DOTENV_UNTRUSTED_PREFIXES: &[&str] = &["OTEL_"];
const DOTENV_NEVER: &[&str] = &["QCODE_QWEN_OAUTH_BASE_URL", "QCODE_TRUST_WORKSPACE"];

/// Drops from `env`'s `.env` layer what its folder may not set.
pub(crate) fn restrict_dotenv(
    env: &mut EnvLayer,
    place: DotEnvPlace,
    trusted: bool,
    ignored: &mut Vec<Ignored>,
) {
    if place == DotEnvPlace::User {
        return;
    }
    let Some(path) = env.dotenv_path().map(std::path::Path::to_path_buf) else {
        return;
    };
    for name in env.dotenv_names() {
        let never = DOTENV_NEVER.contains(&name.as_str());
        let untrusted = !trusted
            && DOTENV_UNTRUSTED_PREFIXES
                .iter()
                .any(|p| name.starts_with(p));
        if (never || untrusted) && env.drop_dotenv_var(&name).is_some() {
            ignored.push(Ignored {
                value: None,
                source: Source::DotEnv {
                    var: "",
                    path: path.clone(),
                    place,
                },
                name,
            });
        }
    }
}

/// The one warning line for what was ignored, naming how to trust the folder.
pub fn warning_line(
    ignored: &[Ignored],
    trust: &crate::FolderTrust,
    folder: &std::path::Path,
) -> Option<String> {
    if ignored.is_empty() {
        return None;
    }
    let list: Vec<String> = ignored.iter().map(ToString::to_string).collect();
    Some(if trust.is_trusted() {
        format!(
            "project files may not set (even in a trusted folder): {}; set them in your user settings instead",
            list.join(", ")
        )
    } else {
        format!(
            "this folder is not trusted, so its files may not set: {}; if you trust {}, run `qcode trust` there (or pass --trust for one run)",
            list.join(", "),
            folder.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_inside_the_project_are_kept() {
        let v: Value = serde_json::json!(["QWEN.md", "/etc/passwd", "../secret.md", "docs/A.md"]);
        let (kept, dropped) = split_context_names(&v);
        assert!(dropped);
        assert_eq!(kept, Some(serde_json::json!(["QWEN.md", "docs/A.md"])));
        assert_eq!(
            split_context_names(&serde_json::json!("AGENTS.md")),
            (Some(serde_json::json!("AGENTS.md")), false)
        );
    }
}
