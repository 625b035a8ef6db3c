//! The JSON object a hook reads on stdin.

use serde_json::{Map, Value, json};

use super::config::HookEvent;

/// Facts every hook gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub session_id: String,
    pub transcript_path: String,
    pub cwd: String,
}

/// What happened, with the fields of its event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventPayload {
    /// `source`: `startup`, `resume`, `clear` or `compact`.
    SessionStart {
        source: String,
    },
    UserPromptSubmit {
        prompt: String,
    },
    PreToolUse {
        tool_name: String,
        tool_input: Value,
    },
    PostToolUse {
        tool_name: String,
        tool_input: Value,
        tool_response: Value,
    },
    /// qcode needs the user: `notification_type` is `permission_prompt` or `idle_prompt`.
    Notification {
        message: String,
        notification_type: String,
    },
    /// `stop_hook_active`: this turn already continued because of a Stop hook.
    Stop {
        stop_hook_active: bool,
    },
    /// `trigger`: `manual` or `auto`.
    PreCompact {
        trigger: String,
        custom_instructions: String,
    },
    /// `reason`: `exit`, `clear`, `logout` or `other`.
    SessionEnd {
        reason: String,
    },
}

impl EventPayload {
    pub fn event(&self) -> HookEvent {
        match self {
            Self::SessionStart { .. } => HookEvent::SessionStart,
            Self::UserPromptSubmit { .. } => HookEvent::UserPromptSubmit,
            Self::PreToolUse { .. } => HookEvent::PreToolUse,
            Self::PostToolUse { .. } => HookEvent::PostToolUse,
            Self::Notification { .. } => HookEvent::Notification,
            Self::Stop { .. } => HookEvent::Stop,
            Self::PreCompact { .. } => HookEvent::PreCompact,
            Self::SessionEnd { .. } => HookEvent::SessionEnd,
        }
    }

    /// What the matcher is tested against.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::PreToolUse { tool_name, .. } | Self::PostToolUse { tool_name, .. } => {
                Some(tool_name)
            }
            Self::SessionStart { source } => Some(source),
            Self::PreCompact { trigger, .. } => Some(trigger),
            Self::UserPromptSubmit { .. }
            | Self::Notification { .. }
            | Self::Stop { .. }
            | Self::SessionEnd { .. } => None,
        }
    }

    /// The stdin object: the session facts, `hook_event_name` and the event's fields.
    pub fn to_json(&self, facts: &SessionFacts) -> Value {
        let mut m = Map::new();
        m.insert("session_id".into(), json!(facts.session_id));
        m.insert("transcript_path".into(), json!(facts.transcript_path));
        m.insert("cwd".into(), json!(facts.cwd));
        m.insert("hook_event_name".into(), json!(self.event().as_str()));
        let extra = match self {
            Self::SessionStart { source } => json!({"source": source}),
            Self::UserPromptSubmit { prompt } => json!({"prompt": prompt}),
            Self::PreToolUse {
                tool_name,
                tool_input,
            } => json!({"tool_name": tool_name, "tool_input": tool_input}),
            Self::PostToolUse {
                tool_name,
                tool_input,
                tool_response,
            } => {
                json!({"tool_name": tool_name, "tool_input": tool_input, "tool_response": tool_response})
            }
            Self::Notification {
                message,
                notification_type,
            } => json!({"message": message, "notification_type": notification_type}),
            Self::Stop { stop_hook_active } => json!({"stop_hook_active": stop_hook_active}),
            Self::PreCompact {
                trigger,
                custom_instructions,
            } => json!({"trigger": trigger, "custom_instructions": custom_instructions}),
            Self::SessionEnd { reason } => json!({"reason": reason}),
        };
        if let Value::Object(e) = extra {
            m.extend(e);
        }
        Value::Object(m)
    }
}
