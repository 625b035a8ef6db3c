//! The qcode engine: owns the session (history, model, credentials, approval mode) and runs
//! the turn loop — stream a reply, run the tool calls it contains (asking for approval when the
//! policy says so), send every result back, repeat until the model answers without tools.
//!
//! Front ends drive it only through the queue pair returned by [`spawn`] (an
//! [`EngineHandle`], defined in `qcode-protocol`): they submit [`qcode_protocol::Op`]s and
//! render [`qcode_protocol::Event`]s. The event queue is bounded: a front end that falls behind
//! makes the engine wait (and stop reading the model's stream) instead of letting events pile
//! up. Auth switches go through an [`AuthResolver`] whose failures are
//! [`qcode_protocol::Problem`]s. [`setup`] turns a configuration snapshot into the system
//! prompt, the tools' context and the [`EngineConfig`] (and the `/memory show` text).
//! External (MCP) tools arrive in the tool registry (`qcode_tools::ExternalTools`): before each
//! model request the engine lets them finish discovery and shows their warnings; their calls
//! ask in `default` / `auto-edit`, are denied in plan mode and run in yolo, unless the server is
//! trusted or an allow-list entry names the tool or its server.
//! [`skills`] loads the session's skills (the system prompt listing, the `skill` tool's
//! source). Hooks: the engine runs the [`HookRunner`] in [`EngineDeps::hooks`] at its hook
//! points (session start and end, prompt submission, before and after each tool call, approval
//! and idle notifications, stop, compression) and reports each run as an `Event::Hook`; the
//! runner owns the processes. This crate must not print, read the terminal, or know which
//! front end is attached.
//!
//! [`subagents`]: the `task` tool's runs, each a child engine (a session of its own on its own
//! queue pair) whose events the parent wraps in `Event::Subagent`, whose approvals it routes
//! and whose usage it adds to the session's.

pub mod approval;
pub mod compact;
pub mod context;
mod engine;
mod external;
#[doc(hidden)]
pub mod fuzzing;
mod hooks;
pub mod limits;
mod loops;
pub mod prompt;
pub mod setup;
pub mod skills;
pub mod subagents;
mod tools_run;
mod turn;

pub use approval::{AllowList, Interaction};
pub use engine::{AuthResolver, EngineConfig, EngineDeps, Limits, ResolvedAuth, Sampling, spawn};
/// The hook runner the engine takes in [`EngineDeps::hooks`].
pub use qcode_extensions::hooks::HookRunner;
/// The front end's ends of the queue pair, as [`spawn`] returns them.
pub use qcode_protocol::EngineHandle;
