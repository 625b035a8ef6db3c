//! What can go wrong with a call; every message names the server and says what happened.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("no MCP tool is called `{0}`")]
    UnknownTool(String),
    #[error("the arguments of `{0}` must be a JSON object")]
    BadArguments(String),
    #[error("MCP server `{server}` is not connected")]
    NotReady { server: String },
    #[error("MCP tool `{tool}` of server `{server}` failed: {message}")]
    Call {
        server: String,
        tool: String,
        message: String,
    },
    #[error("MCP tool `{tool}` of server `{server}` did not finish within {} s and was cancelled", after.as_secs_f64())]
    TimedOut {
        server: String,
        tool: String,
        after: Duration,
    },
    #[error("the MCP tool call was cancelled")]
    Cancelled,
    /// The server refused the call's sign-in (HTTP 401, or 403 `insufficient_scope`): the
    /// token was not accepted even after a refresh, or the call needs a wider scope.
    #[error(
        "MCP server `{server}` refused the sign-in for `{tool}`: {}",
        crate::oauth::needs_sign_in_message(server)
    )]
    SignInRefused {
        server: String,
        tool: String,
        /// Its `WWW-Authenticate` challenge (carries the `scope` wanted), for a new sign-in.
        challenge: String,
    },
    #[error("no MCP server is called `{0}`")]
    UnknownServer(String),
    #[error("MCP server `{server}` cannot be reconnected: {reason}")]
    NotStartable { server: String, reason: String },
    #[error("the MCP servers are shutting down")]
    ShuttingDown,
}
