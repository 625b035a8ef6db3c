//! Dev-only support for qcode's tests: a scripted mock OpenAI-compatible model server
//! (`mock_model`), and launchers for the real peer servers the tests talk to
//! (`oauth_server`: panva oidc-provider with the Qwen PKCE layer; `otel_collector`: Rotel;
//! `mcp_peers`: the MCP reference servers).
//!
//! Never a dependency of a non-test build.

pub mod llama_server;
pub mod mcp_peers;
pub mod mock_model;
pub mod oauth_server;
pub mod otel_collector;
pub mod process;
