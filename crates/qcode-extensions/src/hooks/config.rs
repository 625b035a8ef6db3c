//! The `hooks` settings value (Claude Code's and Qwen Code's shape) and `disableAllHooks`.

use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use crate::loader::{Scope, Trust};

/// The default time a hook may run before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest timeout a hook may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookEvent {
    SessionStart,
    UserPromptSubmit,
    PreToolUse,
    PostToolUse,
    Notification,
    Stop,
    PreCompact,
    SessionEnd,
}

impl HookEvent {
    pub const ALL: [HookEvent; 8] = [
        Self::SessionStart,
        Self::UserPromptSubmit,
        Self::PreToolUse,
        Self::PostToolUse,
        Self::Notification,
        Self::Stop,
        Self::PreCompact,
        Self::SessionEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStart => "SessionStart",
            Self::UserPromptSubmit => "UserPromptSubmit",
            Self::PreToolUse => "PreToolUse",
            Self::PostToolUse => "PostToolUse",
            Self::Notification => "Notification",
            Self::Stop => "Stop",
            Self::PreCompact => "PreCompact",
            Self::SessionEnd => "SessionEnd",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Which hooks of an event run: all, or those whose matcher fully matches the subject (the
/// tool name for tool events, the source for SessionStart, the trigger for PreCompact).
#[derive(Debug, Clone)]
pub enum Matcher {
    All,
    Pattern(Regex),
}

impl Matcher {
    /// Empty or `*` matches everything; anything else is a regular expression that must match
    /// the whole subject (`run_shell_command|write_file`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() || t == "*" {
            return Ok(Self::All);
        }
        Regex::new(&format!("^(?:{t})$"))
            .map(Self::Pattern)
            .map_err(|e| format!("matcher `{t}` is not a valid regular expression: {e}"))
    }

    pub fn matches(&self, subject: Option<&str>) -> bool {
        match (self, subject) {
            (Self::All, _) | (Self::Pattern(_), None) => true,
            (Self::Pattern(re), Some(s)) => re.is_match(s),
        }
    }
}

/// One configured hook command.
#[derive(Debug, Clone)]
pub struct Hook {
    pub event: HookEvent,
    pub matcher: Matcher,
    pub matcher_text: String,
    pub command: String,
    pub timeout: Duration,
    pub scope: Scope,
    pub trust: Trust,
}

/// One settings scope's hooks, as the caller found them.
#[derive(Debug, Clone)]
pub struct HookSettings {
    pub scope: Scope,
    pub trust: Trust,
    /// The `hooks` value (absent: `Value::Null`).
    pub hooks: Value,
    /// `disableAllHooks` (absent: `false`).
    pub disable_all_hooks: bool,
}

/// Every hook of every scope, in scope order (user, then project), plus what was wrong.
#[derive(Debug, Clone, Default)]
pub struct HookConfig {
    pub hooks: Vec<Hook>,
    /// `disableAllHooks: true` in a trusted scope.
    pub disabled: bool,
    /// Problems, one line each, naming the scope and the entry.
    pub problems: Vec<String>,
}

impl HookConfig {
    /// Parses each scope's values. `disableAllHooks` counts only from a trusted scope (an
    /// untrusted project cannot switch off the user's guard rails).
    pub fn from_settings(scopes: &[HookSettings]) -> Self {
        let mut cfg = Self::default();
        for s in scopes {
            if s.disable_all_hooks && s.trust == Trust::Trusted {
                cfg.disabled = true;
            }
            parse_scope(s, &mut cfg);
        }
        cfg
    }

    /// The hooks of `event` whose matcher accepts `subject`, in configuration order.
    pub fn matching(&self, event: HookEvent, subject: Option<&str>) -> Vec<&Hook> {
        if self.disabled {
            return Vec::new();
        }
        self.hooks
            .iter()
            .filter(|h| h.event == event && h.matcher.matches(subject))
            .collect()
    }
}

fn parse_scope(s: &HookSettings, cfg: &mut HookConfig) {
    let here = s.scope.as_str();
    let obj = match &s.hooks {
        Value::Null => return,
        Value::Object(o) => o,
        _ => {
            cfg.problems.push(format!(
                "{here} settings: `hooks` must be an object of events"
            ));
            return;
        }
    };
    for (event_name, groups) in obj {
        let Some(event) = HookEvent::parse(event_name) else {
            cfg.problems.push(format!(
                "{here} settings: hooks.{event_name} is not an event (one of {})",
                HookEvent::ALL.map(HookEvent::as_str).join(", ")
            ));
            continue;
        };
        let Some(groups) = groups.as_array() else {
            cfg.problems.push(format!(
                "{here} settings: hooks.{event_name} must be a list"
            ));
            continue;
        };
        for (i, group) in groups.iter().enumerate() {
            let at = format!("{here} settings: hooks.{event_name}[{i}]");
            let matcher_text = match group.get("matcher") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(m)) => m.clone(),
                Some(_) => {
                    cfg.problems.push(format!("{at}.matcher must be a string"));
                    continue;
                }
            };
            let matcher = match Matcher::parse(&matcher_text) {
                Ok(m) => m,
                Err(e) => {
                    cfg.problems.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let Some(list) = group.get("hooks").and_then(Value::as_array) else {
                cfg.problems.push(format!("{at}.hooks must be a list"));
                continue;
            };
            for (j, h) in list.iter().enumerate() {
                let at = format!("{at}.hooks[{j}]");
                match parse_hook(h) {
                    Ok((command, timeout)) => cfg.hooks.push(Hook {
                        event,
                        matcher: matcher.clone(),
                        matcher_text: matcher_text.clone(),
                        command,
                        timeout,
                        scope: s.scope,
                        trust: s.trust,
                    }),
                    Err(e) => cfg.problems.push(format!("{at}: {e}")),
                }
            }
        }
    }
}

fn parse_hook(h: &Value) -> Result<(String, Duration), String> {
    match h.get("type").and_then(Value::as_str) {
        Some("command") => {}
        Some(other) => return Err(format!("type `{other}` is not supported (only `command`)")),
        None => return Err("`type` is missing (`command`)".into()),
    }
    let command = h
        .get("command")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or("`command` is missing or empty")?;
    let timeout = match h.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT,
        Some(v) => {
            let secs = v
                .as_f64()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or("`timeout` must be a positive number of seconds")?;
            Duration::from_secs_f64(secs).min(MAX_TIMEOUT)
        }
    };
    Ok((command.to_string(), timeout))
}
