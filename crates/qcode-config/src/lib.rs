//! Configuration for qcode: where files live, settings layers (user and project
//! `settings.json`), `.env` discovery, and the precedence rules that turn command-line flags,
//! environment, `.env` and settings into one immutable [`ConfigSnapshot`].
//!
//! This crate reads files but writes only through [`SettingsFile`]'s typed setters (locked,
//! atomic, keeping the user's comments, key order, symlink and mode). It never mutates the
//! process environment: `.env` values live in an [`EnvLayer`] that is consulted after the real
//! environment.

pub mod dotenv;
pub mod edit;
pub mod error;
pub mod models;
pub mod paths;
pub mod resolve;
pub mod settings;

pub use dotenv::{EnvLayer, find_env_file};
pub use edit::{SettingKey, SettingsFile};
pub use error::ConfigError;
pub use models::{ModelInfo, context_window};
pub use paths::Paths;
pub use resolve::{CliOverrides, ConfigSnapshot, Source, Sourced};
pub use settings::{Settings, SettingsWarning, load_settings};
