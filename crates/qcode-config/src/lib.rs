//! Configuration for qcode: where files live, settings layers (user and project
//! `settings.json`), `.env` discovery, and the precedence rules that turn command-line flags,
//! environment, `.env` and settings into one immutable [`ConfigSnapshot`].
//!
//! **Where a value comes from.** Every value the snapshot resolves is a [`Sourced`]: the
//! value and its [`Source`] — a flag (`Cli`), the process environment (`Env`), a `.env` file
//! (`DotEnv`, with [`DotEnvPlace::User`] for `~/.qcode/.env` / `~/.env` and
//! [`DotEnvPlace::Project`] for one found from the working directory), the user's or the
//! project's settings file (`UserSettings` / `ProjectSettings`, decided per key), or
//! `Default`. [`Source::scope`] reduces that to whose choice it was ([`Scope`]: `User`,
//! `Project`, `Session` for flags and environment, `Default`), so policies such as folder
//! trust are one function over the origin. Resolution lives in [`resolve`], the origin types
//! in [`origin`].
//!
//! MCP servers (`mcpServers` in both settings files, a project's `.mcp.json`) are read by
//! [`mcp`] into [`ConfigSnapshot::mcp_servers`], each with its [`McpOrigin`] and whether folder
//! trust lets it start.
//!
//! [`Paths`] also names the per-project files (prompt history, background output). A
//! [`ConfigError`] converts into a [`qcode_protocol::Problem`] of kind `Config`.
//!
//! [`import`] maps a Qwen Code or Claude Code user setup onto qcode's (`qcode import`).
//!
//! This crate reads files but writes only through [`SettingsFile`]'s typed setters (locked,
//! atomic, keeping the user's comments, key order, symlink and mode) and, for `qcode import`,
//! the copied commands, skills, agents and context files under `$QCODE_HOME`. It never mutates the
//! process environment: `.env` values live in an [`EnvLayer`] that is consulted after the real
//! environment.

pub mod dotenv;
pub mod edit;
pub mod error;
pub mod import;
pub mod mcp;
pub mod models;
pub mod origin;
pub mod paths;
pub mod resolve;
pub mod settings;
pub mod trust;
pub mod untrusted;

pub use dotenv::{EnvLayer, find_env_file};
pub use edit::{SettingKey, SettingsFile};
pub use error::ConfigError;
pub use mcp::{McpOrigin, McpServerConfig, McpServers, McpTransport, Startable, shown_url};
pub use models::{ModelInfo, context_window};
pub use origin::{DotEnvPlace, Scope, Source, Sourced};
pub use paths::Paths;
pub use resolve::{
    AgentLimits, CliOverrides, ConfigSnapshot, DEFAULT_AGENTS_MAX_CONCURRENT,
    DEFAULT_AGENTS_MAX_DEPTH, DEFAULT_AGENTS_MAX_REQUESTS, HookLayer,
};
pub use settings::{Settings, SettingsWarning, load_settings};
pub use trust::{FolderTrust, TrustOverride, TrustRule, TrustedFolders};
pub use untrusted::Ignored;
