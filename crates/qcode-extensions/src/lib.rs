//! Extensions a user or a repository brings in files: custom slash commands, skills, subagent
//! definitions and hooks, in the formats Qwen Code and Claude Code use.
//!
//! - [`loader`]: the one loader under commands, skills and agents — ordered [`Root`]s tagged
//!   with a [`Scope`] and a [`Trust`], safe discovery (symlinks leaving a root are not followed,
//!   FIFOs and devices are never opened, files are capped at 256 KiB), YAML frontmatter,
//!   precedence (project over user; built-in names always win, the clash reported once),
//!   namespaces from subdirectories (`git/commit.md` → `git:commit`), and a [`Catalog`] that
//!   re-reads only when a stat shows a change.
//! - [`commands`] and [`expand`]: custom commands and their expansion (`{{args}}`,
//!   `$ARGUMENTS`, `$1`…`$9`, `@{path}` through the caller's [`FileReader`], `!{command}`
//!   through the caller's [`ShellRunner`]).
//! - [`skills`]: `SKILL.md` folders, the system prompt listing and the `skill` tool's answer.
//! - [`agents`]: subagent definitions and the built-in `general-purpose`.
//! - [`hooks`]: the settings shape, the runner (parallel, process groups, timeouts, a clean
//!   environment) and the folded decision.
//!
//! This crate reads files and runs hook processes; it must not depend on the engine, a front
//! end, the tools or the configuration crate. Callers pass in what those know: trust, the
//! built-in names, the read-only tool names, settings values, the environment policy, and the
//! traits that read files and run approved shell commands.

pub mod agents;
pub mod commands;
pub mod expand;
pub mod hooks;
pub mod loader;
pub mod skills;

pub use agents::{AgentDefinition, AgentModel, AgentSet, AgentSource, AgentTools};
pub use commands::{CommandFormat, CustomCommand};
pub use expand::{ExpandError, FileReader, ShellRefusal, ShellRunner};
pub use loader::{Catalog, Diagnostic, Origin, Refresh, Root, Scope, Trust};
pub use skills::Skill;
