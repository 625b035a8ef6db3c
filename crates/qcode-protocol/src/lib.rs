//! Types shared by every qcode crate.
//!
//! This crate holds data only: chat messages in the OpenAI-compatible shape, tool calls and
//! tool specifications, token usage, approval modes and decisions, and the engine's queue pair —
//! [`Op`] (what a front end submits) and [`Event`] (what the engine reports).
//!
//! It must not do I/O and must not depend on anything but `serde` / `serde_json`.

mod message;
mod ops;
mod secret;

pub use message::*;
pub use ops::*;
pub use secret::Secret;
