//! The closed schema of usage events.
//!
//! Every field is an enum, a number, a boolean or a duration; names come only from the fixed
//! tables in [`crate::catalogue`]. There is no field that can hold free text, a path, a URL or
//! anything a user typed. [`UsageEvent::attributes`] is the single place that turns an event
//! into the attributes that are exported and written to the audit log.

use std::fmt;
use std::time::Duration;

use qcode_protocol::{ApprovalMode, AuthKind, DecisionSource, ErrorKind, ReviewDecision, Usage};

use crate::catalogue::{Arch, ModelId, OsFamily, SlashCommand, TerminalKind, ToolName};

/// qcode's version (all workspace crates share it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether a person is at the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunMode {
    Interactive,
    Headless,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interactive => "interactive",
            Self::Headless => "headless",
        }
    }
}

/// What the session started with. Version, OS family and architecture are added from
/// compile-time constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    pub terminal: TerminalKind,
    pub run_mode: RunMode,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
    /// From process start to the first prompt being ready.
    pub startup: Duration,
}

/// The end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    pub duration: Duration,
    pub turns: u32,
}

/// How a tool call was let through (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolDecision {
    /// The user was asked and allowed it.
    Allow,
    /// The user, or a headless run that cannot ask, refused it.
    Deny,
    /// Allowed without asking (approval mode or an allow-list).
    Auto,
}

impl ToolDecision {
    /// From the engine's approval outcome.
    pub fn from_review(decision: &ReviewDecision, source: DecisionSource) -> Self {
        match decision {
            ReviewDecision::Deny { .. } => Self::Deny,
            ReviewDecision::AllowOnce | ReviewDecision::AllowForSession => match source {
                DecisionSource::User => Self::Allow,
                DecisionSource::Policy | DecisionSource::Headless => Self::Auto,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Auto => "auto",
        }
    }
}

/// One tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolCall {
    pub tool: ToolName,
    pub decision: ToolDecision,
    pub success: bool,
    pub duration: Duration,
}

/// The class of an HTTP status, or no response at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Informational,
    Success,
    Redirect,
    ClientError,
    ServerError,
    /// Connection failed, timed out or was reset before a status arrived.
    NoResponse,
}

impl StatusClass {
    pub fn from_status(status: u16) -> Self {
        match status {
            100..=199 => Self::Informational,
            200..=299 => Self::Success,
            300..=399 => Self::Redirect,
            400..=499 => Self::ClientError,
            500..=599 => Self::ServerError,
            _ => Self::NoResponse,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "1xx",
            Self::Success => "2xx",
            Self::Redirect => "3xx",
            Self::ClientError => "4xx",
            Self::ServerError => "5xx",
            Self::NoResponse => "none",
        }
    }
}

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub prompt: u64,
    pub completion: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl From<&Usage> for TokenCounts {
    fn from(usage: &Usage) -> Self {
        Self {
            prompt: usage.prompt_tokens,
            completion: usage.completion_tokens,
            cached: usage.cached_tokens,
            reasoning: usage.reasoning_tokens,
        }
    }
}

/// One model request (after its retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRequest {
    pub model: ModelId,
    pub status: StatusClass,
    pub latency: Duration,
    pub time_to_first_token: Option<Duration>,
    pub tokens: TokenCounts,
    pub retries: u32,
}

/// Where a panic happened: a file:line inside qcode's own sources, or "external".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLocation(Option<(OwnSourcePath, u32)>);

/// A relative source path under `crates/` or `src/`, checked character by character. It comes
/// from the compiler's panic location, never from user input; anything that does not look like
/// one of qcode's own files is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnSourcePath(Box<str>);

impl OwnSourcePath {
    const MAX_LEN: usize = 160;

    fn parse(file: &str) -> Option<Self> {
        let file = file.replace('\\', "/");
        let file = file.strip_prefix("./").unwrap_or(&file);
        let own_root = file.starts_with("crates/") || file.starts_with("src/");
        let plain_components = file.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
        (own_root && plain_components && file.ends_with(".rs") && file.len() <= Self::MAX_LEN)
            .then(|| Self(file.into()))
    }
}

impl CodeLocation {
    pub const EXTERNAL: CodeLocation = CodeLocation(None);

    /// A compiler source location; anything outside qcode's own code becomes "external".
    pub fn from_parts(file: &str, line: u32) -> Self {
        Self(OwnSourcePath::parse(file).map(|path| (path, line)))
    }

    pub fn from_panic(location: Option<&std::panic::Location<'_>>) -> Self {
        location.map_or(Self::EXTERNAL, |loc| {
            Self::from_parts(loc.file(), loc.line())
        })
    }

    pub fn is_external(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Display for CodeLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some((path, line)) => write!(f, "{}:{line}", path.0),
            None => f.write_str("external"),
        }
    }
}

/// One usage event. The set is closed: adding one means adding it here, to
/// [`UsageEvent::attributes`] and to `docs/telemetry.md`.
#[derive(Debug, Clone, PartialEq)]
pub enum UsageEvent {
    SessionStart(SessionInfo),
    SessionEnd(SessionEnd),
    SlashCommand(SlashCommand),
    ToolCall(ToolCall),
    ModelRequest(ModelRequest),
    Error(ErrorKind),
    Crash(CodeLocation),
}

/// An attribute value: only static names, numbers, booleans and checked code locations.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
    Location(CodeLocation),
}

impl AttrValue {
    fn count(n: u64) -> Self {
        Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    fn millis(d: Duration) -> Self {
        Self::Int(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Str(s) => serde_json::Value::from(*s),
            Self::Int(n) => serde_json::Value::from(*n),
            Self::Bool(b) => serde_json::Value::from(*b),
            Self::Location(loc) => serde_json::Value::from(loc.to_string()),
        }
    }
}

/// Attribute name and value.
pub type Attribute = (&'static str, AttrValue);

impl UsageEvent {
    /// The log record's event name and body.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SessionStart(_) => "qcode.session.start",
            Self::SessionEnd(_) => "qcode.session.end",
            Self::SlashCommand(_) => "qcode.slash_command",
            Self::ToolCall(_) => "qcode.tool_call",
            Self::ModelRequest(_) => "qcode.model_request",
            Self::Error(_) => "qcode.error",
            Self::Crash(_) => "qcode.crash",
        }
    }

    /// Exactly the attributes exported with this event (and written to the audit log).
    pub fn attributes(&self) -> Vec<Attribute> {
        use AttrValue::{Bool, Location, Str};
        match self {
            Self::SessionStart(info) => vec![
                ("app.version", Str(VERSION)),
                ("os", Str(OsFamily::current().as_str())),
                ("arch", Str(Arch::current().as_str())),
                ("terminal", Str(info.terminal.as_str())),
                ("mode", Str(info.run_mode.as_str())),
                ("auth", Str(info.auth.as_str())),
                ("approval_mode", Str(info.approval_mode.as_str())),
                ("startup_ms", AttrValue::millis(info.startup)),
            ],
            Self::SessionEnd(end) => vec![
                ("duration_ms", AttrValue::millis(end.duration)),
                ("turns", AttrValue::count(u64::from(end.turns))),
            ],
            Self::SlashCommand(command) => vec![("command", Str(command.as_str()))],
            Self::ToolCall(call) => vec![
                ("tool", Str(call.tool.as_str())),
                ("decision", Str(call.decision.as_str())),
                ("success", Bool(call.success)),
                ("duration_ms", AttrValue::millis(call.duration)),
            ],
            Self::ModelRequest(req) => {
                let mut attrs = vec![
                    ("model", Str(req.model.as_str())),
                    ("status_class", Str(req.status.as_str())),
                    ("latency_ms", AttrValue::millis(req.latency)),
                ];
                if let Some(ttft) = req.time_to_first_token {
                    attrs.push(("ttft_ms", AttrValue::millis(ttft)));
                }
                attrs.extend([
                    ("prompt_tokens", AttrValue::count(req.tokens.prompt)),
                    ("completion_tokens", AttrValue::count(req.tokens.completion)),
                    ("cached_tokens", AttrValue::count(req.tokens.cached)),
                    ("reasoning_tokens", AttrValue::count(req.tokens.reasoning)),
                    ("retries", AttrValue::count(u64::from(req.retries))),
                ]);
                attrs
            }
            Self::Error(kind) => vec![("kind", Str(kind.as_str()))],
            Self::Crash(location) => vec![("location", Location(location.clone()))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_locations_are_kept_and_others_are_external() {
        assert_eq!(
            CodeLocation::from_parts("crates/qcode-core/src/turn.rs", 42).to_string(),
            "crates/qcode-core/src/turn.rs:42"
        );
        assert_eq!(
            CodeLocation::from_parts("src/main.rs", 7).to_string(),
            "src/main.rs:7"
        );
        for outside in [
            "/home/alice/.cargo/registry/src/index/serde-1.0.0/src/de.rs",
            "/rustc/abc/library/core/src/option.rs",
            "../elsewhere/src/lib.rs",
            "crates/../../etc/passwd.rs",
            "crates/qcode core/src/a b.rs",
            "src/main.txt",
        ] {
            assert!(
                CodeLocation::from_parts(outside, 1).is_external(),
                "{outside}"
            );
        }
        assert_eq!(CodeLocation::EXTERNAL.to_string(), "external");
    }

    #[test]
    fn decisions_follow_source() {
        let deny = ReviewDecision::Deny {
            message: Some("no".into()),
        };
        assert_eq!(
            ToolDecision::from_review(&deny, DecisionSource::User),
            ToolDecision::Deny
        );
        assert_eq!(
            ToolDecision::from_review(&ReviewDecision::AllowOnce, DecisionSource::User),
            ToolDecision::Allow
        );
        assert_eq!(
            ToolDecision::from_review(&ReviewDecision::AllowForSession, DecisionSource::Policy),
            ToolDecision::Auto
        );
    }

    #[test]
    fn status_classes() {
        assert_eq!(StatusClass::from_status(200).as_str(), "2xx");
        assert_eq!(StatusClass::from_status(429).as_str(), "4xx");
        assert_eq!(StatusClass::from_status(503).as_str(), "5xx");
        assert_eq!(StatusClass::from_status(0).as_str(), "none");
    }

    #[test]
    fn model_request_attributes_are_exact() {
        let event = UsageEvent::ModelRequest(ModelRequest {
            model: ModelId::from_user("qwen3-coder-plus"),
            status: StatusClass::Success,
            latency: Duration::from_millis(1234),
            time_to_first_token: None,
            tokens: TokenCounts {
                prompt: 10,
                completion: 20,
                cached: 3,
                reasoning: 4,
            },
            retries: 1,
        });
        let attrs = event.attributes();
        let keys: Vec<&str> = attrs.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "model",
                "status_class",
                "latency_ms",
                "prompt_tokens",
                "completion_tokens",
                "cached_tokens",
                "reasoning_tokens",
                "retries"
            ]
        );
        assert_eq!(attrs[2].1, AttrValue::Int(1234));
    }
}
