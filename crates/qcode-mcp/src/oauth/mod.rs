//! OAuth for remote (streamable HTTP) servers, on the SDK's `auth` support (`rmcp`'s
//! `auth` feature: its `oauth2` without reqwest 0.12, over the workspace's reqwest 0.13 — no
//! second TLS stack).
//!
//! - [`login`] runs the sign-in of one server: its 401 challenge, protected-resource and
//!   authorization-server discovery, dynamic client registration (or a pre-registered
//!   client), the authorization code
//!   with PKCE S256, `state` and the `resource` indicator, the browser sent to the URL
//!   ([`browser`], honouring `BROWSER`), the redirect taken on `127.0.0.1:<random port>`.
//! - [`TokenStore`] keeps the tokens (`$QCODE_HOME/mcp-oauth-tokens.json`, 0600), keyed by
//!   server name **and** URL.
//! - A session's connection to a server with a stored sign-in sends `Authorization: Bearer`,
//!   refreshes the token shortly before it expires (or once after a 401), and saves the new
//!   one; a server that answers 401 without one is reported as needing sign-in
//!   ([`needs_sign_in_message`]).

pub mod browser;
mod flow;
mod store;

pub use flow::{LoginDone, LoginEvent, LoginRequest, PreRegistered, login};
pub(crate) use flow::{new_manager as flow_manager, stored_manager};
pub use store::{TOKENS_FILE, TokenStore};

/// The state of a server that wants a sign-in, as `/mcp`, `qcode mcp list` and the session's
/// warning show it.
pub fn needs_sign_in_message(server: &str) -> String {
    format!("needs sign-in: run `qcode mcp login {server}`")
}
