//! Types shared by every qcode crate.
//!
//! This crate holds data only: chat messages in the OpenAI-compatible shape, tool calls and
//! tool specifications, token usage, approval modes and decisions, the [`Problem`] a user is
//! shown, sign-in progress and provider presets, and the engine's queue pair — [`Op`] (what a
//! front end submits) and [`Event`] (what the engine reports), held as an [`EngineHandle`] —
//! and the [`env_names`] every crate that starts a program agrees on (secret-looking names,
//! the core set of a clean environment), and the form model of an MCP elicitation
//! ([`elicitation`]: fields, defaults, answer validation — pure functions over JSON values).
//!
//! It must not do I/O: its dependencies are `serde`, `serde_json` and tokio's channels
//! (`tokio` with the `sync` feature only).

pub mod elicitation;
pub mod env_names;
mod handle;
mod login;
mod message;
mod ops;
mod problem;
mod secret;

pub use handle::{EVENT_QUEUE_CAPACITY, EngineEnds, EngineHandle, queue_pair};
pub use login::{LoginEvent, ProviderPreset};
pub use message::*;
pub use ops::*;
pub use problem::Problem;
pub use secret::Secret;
