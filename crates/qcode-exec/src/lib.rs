//! The headless front end: runs one prompt through the engine's queue pair
//! ([`qcode_protocol::EngineHandle`]) and writes the result as `text` (the answer on stdout as
//! it streams, diagnostics on stderr), `json` (one object at the end) or `stream-json` (one
//! event per line). `json` and the first `stream-json` line carry [`SCHEMA_VERSION`] (rules in
//! `docs/headless.md`). Decides the process exit code. Subagents: `stream-json` carries their
//! wrapped events as they are; `text` prints one stderr line when each starts and ends; their
//! usage counts in the result's (`docs/subagents.md`).
//!
//! It also builds the run's prompt from the command line and piped stdin ([`prepare_prompt`],
//! capped at [`MAX_STDIN_BYTES`]): reading stdin is this front end's job.
//!
//! It only renders [`qcode_protocol::Event`]s and submits [`qcode_protocol::Op`]s; it never
//! touches the engine's internals, and it never exits the process itself.

mod exit;
mod prompt;
mod render;
pub mod sanitize;

pub use exit::{ExitCode, exit_code_for};
pub use prompt::{MAX_STDIN_BYTES, Stdin, prepare_prompt, read_stdin};
pub use render::{Output, OutputFormat, RunSummary, SCHEMA_VERSION, Stop, run};
