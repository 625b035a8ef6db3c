//! The record types: one JSON line each. They carry conversation content and session settings
//! only — there is no field for an API key, a token or a request header, so none can be written.

use qcode_protocol::{ApprovalMode, AuthKind, ChatMessage, ToolCall, Usage};
use serde::{Deserialize, Serialize};

/// The transcript format version written in every header.
pub const FORMAT_VERSION: u32 = 1;

/// One line of a transcript: a sequence number (0 for the header, then +1 per line), the time
/// it was written (RFC 3339 UTC) and what happened (`type` plus its fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        }
    }

    /// The conversation message this record is, if it is one.
    pub fn as_message(&self) -> Option<ChatMessage> {
        match self {
            Self::User { content } => Some(ChatMessage::user(content.clone())),
            Self::Assistant {
                content,
                reasoning,
                tool_calls,
            } => Some(ChatMessage {
                reasoning: reasoning.clone(),
                tool_calls: tool_calls.clone(),
                ..ChatMessage::assistant(content.clone())
            }),
            Self::ToolResult {
                tool_call_id,
                content,
            } => Some(ChatMessage::tool_result(
                tool_call_id.clone(),
                content.clone(),
            )),
            Self::Header(_)
            | Self::Usage { .. }
            | Self::Compression { .. }
            | Self::Model { .. }
            | Self::Auth { .. }
            | Self::Mode { .. }
            | Self::Title { .. } => None,
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
