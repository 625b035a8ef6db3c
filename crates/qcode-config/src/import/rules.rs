//! Tool names, Claude Code's permission rules and hook groups, in qcode's terms.

use serde_json::{Map, Value};

use super::{Note, Tool};

/// Claude Code's tool names → qcode's (hook matchers, permission rules).
const CLAUDE_TOOLS: &[(&str, &str)] = &[
    ("Bash", "run_shell_command"),
    ("Read", "read_file"),
    ("Write", "write_file"),
    ("Edit", "edit"),
    ("MultiEdit", "edit"),
    ("Glob", "glob"),
    ("Grep", "grep_search"),
    ("LS", "list_directory"),
    ("WebFetch", "web_fetch"),
    ("TodoWrite", "todo_write"),
];

fn claude_tool(name: &str) -> Option<&'static str> {
    CLAUDE_TOOLS
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, q)| *q)
}

/// One Claude Code `permissions.allow` rule as a qcode `tools.allowed` entry, or why not.
/// Only prefix rules map onto qcode's shell entries (`Bash(git diff:*)` →
/// `run_shell_command(git diff)`): qcode's entries are prefixes, so an exact rule
/// (`Bash(npm test)`) would allow more than it did.
pub(super) fn claude_permission(rule: &str) -> Result<String, String> {
    let rule = rule.trim();
    if rule.starts_with("mcp__") && !rule.contains('(') {
        return Ok(rule.to_string());
    }
    let (name, inner) = match rule.split_once('(') {
        Some((name, rest)) => match rest.strip_suffix(')') {
            Some(inner) => (name.trim(), Some(inner.trim())),
            None => return Err("not a rule qcode can read".into()),
        },
        None => (rule, None),
    };
    let Some(tool) = claude_tool(name) else {
        return Err(format!("qcode has no tool like `{name}`"));
    };
    match (tool, inner) {
        (_, None) | (_, Some("")) => Ok(tool.to_string()),
        ("run_shell_command", Some(inner)) => {
            let prefix = inner
                .strip_suffix(":*")
                .or_else(|| inner.strip_suffix(" *"))
                .map(str::trim);
            match prefix {
                Some(p) if !p.is_empty() && !p.contains('*') => {
                    Ok(format!("run_shell_command({p})"))
                }
                Some(_) => Err("qcode's shell entries are plain command prefixes (no wildcards)".into()),
                None => Err(
                    "an exact command: qcode's shell entries are prefixes and would allow more; add `run_shell_command(…)` yourself if that is what you want"
                        .into(),
                ),
            }
        }
        (_, Some(_)) => Err(format!(
            "qcode's allow-list has no path or domain rules (`{tool}` alone would allow every call)"
        )),
    }
}

/// A hook matcher in qcode's tool names: each `|` alternative that is a Claude Code tool name
/// is renamed; alternatives naming tools qcode lacks are dropped. `None` when none is left.
/// A matcher that is a regular expression beyond plain alternatives is kept as written.
fn claude_matcher(matcher: &str, notes: &mut Vec<String>) -> Option<String> {
    let m = matcher.trim();
    if m.is_empty() || m == "*" {
        return Some(m.to_string());
    }
    let plain = m
        .split('|')
        .all(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !plain {
        notes.push(format!(
            "matcher `{m}` is kept as written; check that it names qcode's tools (run_shell_command, write_file, edit, …)"
        ));
        return Some(m.to_string());
    }
    let mut out: Vec<String> = Vec::new();
    for alt in m.split('|') {
        let mapped = if alt.starts_with("mcp__") {
            Some(alt.to_string())
        } else {
            claude_tool(alt).map(String::from)
        };
        match mapped {
            Some(q) if !out.contains(&q) => out.push(q),
            Some(_) => {}
            None => notes.push(format!("matcher `{alt}` dropped: qcode has no such tool")),
        }
    }
    (!out.is_empty()).then(|| out.join("|"))
}

/// One event's hook groups, converted.
pub(super) struct HookGroups {
    pub groups: Value,
    pub commands: usize,
    pub notes: Vec<Note>,
    /// (which, why) for groups or commands left out.
    pub dropped: Vec<(String, String)>,
}

/// An event's list of `{matcher, hooks: [{type, command, timeout}]}` groups, with Claude Code's
/// tool names mapped; a command that seems to hold a secret is left out.
pub(super) fn hook_groups(tool: Tool, groups: &Value) -> Result<HookGroups, String> {
    let Some(list) = groups.as_array() else {
        return Err("expected a list of hook groups".into());
    };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut dropped = Vec::new();
    let mut commands = 0;
    for (i, group) in list.iter().enumerate() {
        let at = format!("[{i}]");
        let matcher = match group.get("matcher") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(m)) => m.clone(),
            Some(_) => {
                dropped.push((at, "`matcher` must be a string".to_string()));
                continue;
            }
        };
        let mut matcher_notes = Vec::new();
        let matcher = match tool {
            Tool::Qwen => Some(matcher),
            Tool::Claude => claude_matcher(&matcher, &mut matcher_notes),
        };
        notes.extend(matcher_notes.into_iter().map(Note));
        let Some(matcher) = matcher else {
            dropped.push((
                at,
                "its matcher names only tools qcode does not have".into(),
            ));
            continue;
        };
        let Some(hooks) = group.get("hooks").and_then(Value::as_array) else {
            dropped.push((at, "`hooks` must be a list".into()));
            continue;
        };
        let mut kept = Vec::new();
        for (j, h) in hooks.iter().enumerate() {
            let at = format!("[{i}].hooks[{j}]");
            match h.get("type").and_then(Value::as_str) {
                Some("command") => {}
                Some(other) => {
                    dropped.push((
                        at,
                        format!("type `{other}`: qcode runs `command` hooks only"),
                    ));
                    continue;
                }
                None => {
                    dropped.push((at, "`type` is missing".into()));
                    continue;
                }
            }
            let Some(command) = h
                .get("command")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|c| !c.is_empty())
            else {
                dropped.push((at, "`command` is missing or empty".into()));
                continue;
            };
            if super::mcp::has_secret(command) {
                dropped.push((
                    at,
                    "its command seems to hold a secret: not copied; add it yourself with the secret in an environment variable".into(),
                ));
                continue;
            }
            if command.contains("CLAUDE_PROJECT_DIR") {
                notes.push(Note(
                    "a hook command uses $CLAUDE_PROJECT_DIR, which qcode does not set (hooks run in the project's directory and get `cwd` on stdin)".into(),
                ));
            }
            let mut entry = Map::new();
            entry.insert("type".into(), "command".into());
            entry.insert("command".into(), command.into());
            match h.get("timeout") {
                None | Some(Value::Null) => {}
                Some(t) if t.as_f64().is_some_and(|s| s.is_finite() && s > 0.0) => {
                    entry.insert("timeout".into(), t.clone());
                }
                Some(_) => notes.push(Note(format!(
                    "{at}: `timeout` is not a positive number of seconds; qcode's default (60 s) applies"
                ))),
            }
            kept.push(Value::Object(entry));
        }
        if kept.is_empty() {
            continue;
        }
        commands += kept.len();
        let mut g = Map::new();
        g.insert("matcher".into(), matcher.into());
        g.insert("hooks".into(), Value::Array(kept));
        out.push(Value::Object(g));
    }
    if out.is_empty() {
        return Err(match dropped.first() {
            Some((at, why)) => format!("no hook qcode can run ({at}: {why})"),
            None => "no hooks".into(),
        });
    }
    Ok(HookGroups {
        groups: Value::Array(out),
        commands,
        notes,
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claude_rules_map_where_qcode_means_the_same() {
        let ok = [
            ("Bash(git diff:*)", "run_shell_command(git diff)"),
            ("Bash(npm run test *)", "run_shell_command(npm run test)"),
            ("Bash", "run_shell_command"),
            ("Read", "read_file"),
            ("Edit", "edit"),
            ("mcp__github__get_issue", "mcp__github__get_issue"),
        ];
        for (rule, want) in ok {
            assert_eq!(claude_permission(rule).as_deref(), Ok(want), "{rule}");
        }
        for rule in [
            "Bash(npm test)",
            "Read(./src/**)",
            "WebFetch(domain:x.com)",
            "Task",
            "Bash(a*b:*)",
        ] {
            assert!(claude_permission(rule).is_err(), "{rule}");
        }
    }

    #[test]
    fn claude_hook_matchers_use_qcode_names() {
        let groups = json!([
            {"matcher": "Bash|Write|Task", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 5}]},
            {"matcher": "Task", "hooks": [{"type": "command", "command": "./x"}]},
            {"hooks": [{"type": "prompt", "prompt": "?"}, {"type": "command", "command": "TOKEN=abc ./y"}]},
            {"matcher": "Edit.*", "hooks": [{"type": "command", "command": "./z"}]}
        ]);
        let h = hook_groups(Tool::Claude, &groups).unwrap();
        assert_eq!(
            h.groups,
            json!([
                {"matcher": "run_shell_command|write_file", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 5}]},
                {"matcher": "Edit.*", "hooks": [{"type": "command", "command": "./z"}]}
            ])
        );
        assert_eq!(h.commands, 2);
        assert_eq!(h.dropped.len(), 3, "{:?}", h.dropped);
        assert!(!format!("{:?}", h.dropped).contains("abc"));
    }
}
