//! Errors returned by [`crate::ToolRegistry::prepare`]: every message is addressed to the model
//! (it is sent back as the tool result) and says what was wrong and what to do instead.

/// Why a tool call could not be prepared. `Display` is the exact text the model should receive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The model asked for a tool that does not exist.
    #[error("unknown tool `{name}`; available tools: {available}")]
    UnknownTool { name: String, available: String },

    /// The arguments were not valid JSON (typically a call cut off by the output token limit).
    #[error(
        "{tool}: the arguments are not valid JSON ({detail}); the call was probably cut off. \
         Send the complete call again, and split large content into smaller edits if needed"
    )]
    MalformedJson { tool: String, detail: String },

    /// A parameter was missing, unknown, or of the wrong type or value.
    #[error("{tool}: {message}")]
    InvalidArgument { tool: String, message: String },

    /// The arguments were well formed, but the call cannot be carried out as asked
    /// (e.g. `old_string` not found, file is binary, directory missing).
    #[error("{tool}: {message}")]
    Rejected { tool: String, message: String },
}

impl ToolError {
    pub(crate) fn invalid(tool: &str, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            tool: tool.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn rejected(tool: &str, message: impl Into<String>) -> Self {
        Self::Rejected {
            tool: tool.to_string(),
            message: message.into(),
        }
    }

    /// The text to send to the model as the tool result.
    pub fn message_for_model(&self) -> String {
        self.to_string()
    }
}
