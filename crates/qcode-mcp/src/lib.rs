//! qcode's MCP client, on the official Rust SDK (`rmcp`): starts the servers configured in
//! `mcpServers` / `.mcp.json` ([`qcode_config::McpServerConfig`]) in parallel without blocking
//! the caller, lists their tools under model-safe names (`mcp__<server>__<tool>`, see
//! [`names`]), calls them with a timeout, cancellation (`notifications/cancelled`) and progress,
//! refreshes on `notifications/tools/list_changed`, converts results to text ([`content`]),
//! reconnects one server on request ([`McpManager::reconnect`]), answers a server's
//! `elicitation/create` by the session's [`ElicitationPolicy`] ([`elicitation`]), and shuts
//! every server down without leaving processes behind. Its prompts are offered as slash
//! commands ([`prompts`]: `prompts/list`, `prompts/get`, arguments mapped from what was typed).
//! It offers protocol 2025-11-25 (the newest revision with an `initialize` handshake; rmcp's own
//! default is newer).
//!
//! A stdio server runs in its own process group with a clean environment: its entry's `env`
//! plus [`SAFE_VARS`] — never qcode's keys or tokens. Its stderr is kept in a bounded buffer
//! whose last lines go into error messages. Streamable HTTP goes through the workspace's
//! reqwest (rustls + ring); a server that requires OAuth is signed in to by [`oauth`] (the
//! SDK's `auth` support) and its stored tokens go with every request. The legacy SSE transport is reported as unsupported (the SDK has
//! no SSE client).
//!
//! This crate does not decide approvals, register tools with the engine or draw anything (a
//! request for input is handed to the caller's [`Elicitor`]): it depends on the configuration
//! and protocol types (the elicitation form model), the SDK and tokio only. Folder trust is decided by
//! `qcode-config` (a server it marks not startable is listed with the reason, never run).

pub mod content;
pub mod elicitation;
pub mod error;
mod http;
pub mod manager;
pub mod names;
pub mod oauth;
pub mod process;
pub mod prompts;
mod server;

pub use content::ToolOutput;
pub use elicitation::{ElicitationPolicy, ElicitationRequest, Elicitor};
pub use error::McpError;
pub use manager::{
    CallControl, DEFAULT_CALL_TIMEOUT, DEFAULT_DISCOVERY_TIMEOUT, DEFAULT_INIT_TIMEOUT, McpManager,
    McpOptions, McpTool, ServerInfo, ServerStatus,
};
pub use process::SAFE_VARS;
pub use prompts::{McpPrompt, PromptArg, PromptError, PromptMessage, PromptRole};
pub use server::{Progress, ServerState};
