//! The record types: one JSON line each. They carry conversation content, session settings and
//! hook runs — there is no field for an API key, a token or a request header, and a hook
//! record's command and message are redacted before they are written ([`crate::redact`]).

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, ToolCall, Usage};
use serde::{Deserialize, Serialize};

/// The transcript format version written in every header.
pub const FORMAT_VERSION: u32 = 1;

/// One line of a transcript: a sequence number (0 for the header, then +1 per line), the time
/// it was written (RFC 3339 UTC) and what happened (`type` plus its fields).
///
/// Reading goes through a flat private struct with every field optional ([`Wire`]) rather than
/// serde's flattened internally-tagged enum, which buffers each line into an intermediate tree
/// first; this keeps loading a large transcript a single cheap pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Wire")]
pub struct Record {
    pub seq: u64,
    pub ts: String,
    #[serde(flatten)]
    pub body: RecordBody,
}

/// What a line records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecordBody {
    /// The first line: who, where and how the session started.
    Header(Header),
    /// A user message, written before the request that carries it is sent.
    User { content: String },
    /// A complete assistant message (never a partial stream).
    Assistant {
        content: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call.
    ToolResult {
        tool_call_id: String,
        content: String,
    },
    /// Token counts of one model request.
    Usage { usage: Usage },
    /// The history was compressed: the oldest `replaced` conversation messages (the system
    /// prompt not counted) were replaced by `messages` (the summary and its acknowledgement).
    Compression {
        summary: String,
        replaced: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        messages: Vec<ChatMessage>,
    },
    /// The model was switched.
    Model { model: String },
    /// The authentication method was switched (the method only, never a credential).
    Auth { auth: AuthKind },
    /// The approval mode was switched.
    Mode { mode: ApprovalMode },
    /// The session was given a title (`/rename`).
    Title { title: String },
    /// A hook ran (or was not run): its event, its command, where it was configured (`user` /
    /// `project`), how it ended (`success`, `blocked`, `failed`, `timed_out`, `cancelled`,
    /// `not_started`, `skipped_untrusted`) and the short reason shown to the user. Display
    /// only: never part of the history sent to the model. Written redacted and capped
    /// ([`crate::redact`]); a hook's stdout is never recorded.
    Hook {
        event: String,
        command: String,
        scope: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A subagent started for the assistant's `task` call `tool_call_id` (its conversation
    /// follows as [`RecordBody::SubagentMessage`]s; none of it is the parent's history).
    SubagentStart {
        agent_id: String,
        tool_call_id: String,
        subagent_type: String,
        description: String,
    },
    /// One message of a subagent's conversation (its prompt, answers, tool results).
    SubagentMessage {
        agent_id: String,
        message: ChatMessage,
    },
    /// A subagent ended: `completed`, `failed`, `cancelled` or `limit`, with its usage.
    SubagentEnd {
        agent_id: String,
        status: String,
        usage: Usage,
    },
}

impl RecordBody {
    /// The `type` tag as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Header(_) => "header",
            Self::User { .. } => "user",
            Self::Assistant { .. } => "assistant",
            Self::ToolResult { .. } => "tool_result",
            Self::Usage { .. } => "usage",
            Self::Compression { .. } => "compression",
            Self::Model { .. } => "model",
            Self::Auth { .. } => "auth",
            Self::Mode { .. } => "mode",
            Self::Title { .. } => "title",
            Self::Hook { .. } => "hook",
            Self::SubagentStart { .. } => "subagent_start",
            Self::SubagentMessage { .. } => "subagent_message",
            Self::SubagentEnd { .. } => "subagent_end",
        }
    }

    /// The conversation message this record is, if it is one.
    pub fn as_message(&self) -> Option<ChatMessage> {
        match self {
            Self::User { .. } | Self::Assistant { .. } | Self::ToolResult { .. } => {
                self.clone().into_message()
            }
            Self::Header(_)
            | Self::Usage { .. }
            | Self::Compression { .. }
            | Self::Model { .. }
            | Self::Auth { .. }
            | Self::Mode { .. }
            | Self::Title { .. }
            | Self::Hook { .. }
            | Self::SubagentStart { .. }
            | Self::SubagentMessage { .. }
            | Self::SubagentEnd { .. } => None,
        }
    }

    /// [`RecordBody::as_message`], consuming the record.
    pub fn into_message(self) -> Option<ChatMessage> {
        match self {
            Self::User { content } => Some(ChatMessage::user(content)),
            Self::Assistant {
                content,
                reasoning,
                tool_calls,
            } => Some(ChatMessage {
                reasoning,
                tool_calls,
                ..ChatMessage::assistant(content)
            }),
            Self::ToolResult {
                tool_call_id,
                content,
            } => Some(ChatMessage::tool_result(tool_call_id, content)),
            Self::Header(_)
            | Self::Usage { .. }
            | Self::Compression { .. }
            | Self::Model { .. }
            | Self::Auth { .. }
            | Self::Mode { .. }
            | Self::Title { .. }
            | Self::Hook { .. }
            | Self::SubagentStart { .. }
            | Self::SubagentMessage { .. }
            | Self::SubagentEnd { .. } => None,
        }
    }
}

/// The session header: the first line of every transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Transcript format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// The session id (a UUID; also the file name).
    pub id: String,
    /// The qcode version that started the session.
    pub qcode_version: String,
    /// The working directory the session started in.
    pub cwd: String,
    /// The git branch of the working directory, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
    pub model: String,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
    /// When the session started (RFC 3339 UTC).
    pub created_at: String,
    /// For `--fork-session`: the session this one was copied from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
}

/// Every field any record can have, for one-pass deserialisation.
#[derive(Deserialize)]
struct Wire {
    seq: u64,
    ts: String,
    #[serde(rename = "type")]
    kind: String,
    // header
    format: Option<u32>,
    id: Option<String>,
    qcode_version: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    model: Option<String>,
    auth: Option<AuthKind>,
    approval_mode: Option<ApprovalMode>,
    created_at: Option<String>,
    forked_from: Option<String>,
    // messages
    content: Option<String>,
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    tool_call_id: Option<String>,
    // the rest
    usage: Option<Usage>,
    summary: Option<String>,
    replaced: Option<u64>,
    #[serde(default)]
    messages: Vec<ChatMessage>,
    mode: Option<ApprovalMode>,
    title: Option<String>,
    // hook
    event: Option<String>,
    command: Option<String>,
    scope: Option<String>,
    status: Option<String>,
    /// A hook's short reason (a string), or a subagent's message (an object).
    message: Option<serde_json::Value>,
    // subagents
    agent_id: Option<String>,
    subagent_type: Option<String>,
    description: Option<String>,
}

/// Why a line is not a record (no content of the line in it).
#[derive(Debug)]
pub(crate) struct WireError(&'static str);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

fn need<T>(v: Option<T>, what: &'static str) -> Result<T, WireError> {
    v.ok_or(WireError(what))
}

impl TryFrom<Wire> for Record {
    type Error = WireError;

    fn try_from(w: Wire) -> Result<Self, WireError> {
        let missing = "a required field is missing";
        let body = match w.kind.as_str() {
            "header" => RecordBody::Header(Header {
                format: need(w.format, missing)?,
                id: need(w.id, missing)?,
                qcode_version: need(w.qcode_version, missing)?,
                cwd: need(w.cwd, missing)?,
                git_branch: w.git_branch,
                model: need(w.model, missing)?,
                auth: need(w.auth, missing)?,
                approval_mode: need(w.approval_mode, missing)?,
                created_at: need(w.created_at, missing)?,
                forked_from: w.forked_from,
            }),
            "user" => RecordBody::User {
                content: need(w.content, missing)?,
            },
            "assistant" => RecordBody::Assistant {
                content: need(w.content, missing)?,
                reasoning: w.reasoning,
                tool_calls: w.tool_calls,
            },
            "tool_result" => RecordBody::ToolResult {
                tool_call_id: need(w.tool_call_id, missing)?,
                content: need(w.content, missing)?,
            },
            "usage" => RecordBody::Usage {
                usage: need(w.usage, missing)?,
            },
            "compression" => RecordBody::Compression {
                summary: need(w.summary, missing)?,
                replaced: need(w.replaced, missing)?,
                messages: w.messages,
            },
            "model" => RecordBody::Model {
                model: need(w.model, missing)?,
            },
            "auth" => RecordBody::Auth {
                auth: need(w.auth, missing)?,
            },
            "mode" => RecordBody::Mode {
                mode: need(w.mode, missing)?,
            },
            "title" => RecordBody::Title {
                title: need(w.title, missing)?,
            },
            "hook" => RecordBody::Hook {
                event: need(w.event, missing)?,
                command: need(w.command, missing)?,
                scope: need(w.scope, missing)?,
                status: need(w.status, missing)?,
                message: match w.message {
                    Some(serde_json::Value::String(m)) => Some(m),
                    _ => None,
                },
            },
            "subagent_start" => RecordBody::SubagentStart {
                agent_id: need(w.agent_id, missing)?,
                tool_call_id: need(w.tool_call_id, missing)?,
                subagent_type: need(w.subagent_type, missing)?,
                description: need(w.description, missing)?,
            },
            "subagent_message" => RecordBody::SubagentMessage {
                agent_id: need(w.agent_id, missing)?,
                message: serde_json::from_value(need(w.message, missing)?)
                    .map_err(|_| WireError("a subagent message that is not a message"))?,
            },
            "subagent_end" => RecordBody::SubagentEnd {
                agent_id: need(w.agent_id, missing)?,
                status: need(w.status, missing)?,
                usage: need(w.usage, missing)?,
            },
            _ => return Err(WireError("an unknown record type")),
        };
        Ok(Record {
            seq: w.seq,
            ts: w.ts,
            body,
        })
    }
}
