//! The MCP client against real servers (the reference `server-everything` over stdio and
//! streamable HTTP, small shell scripts for broken servers). See `suite/peer.rs` for how the
//! peers are found and when a test may skip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
