//! Hooks: user commands run at points of a session (Claude Code's and Qwen Code's settings
//! shape). [`HookConfig`] parses the settings values of each scope, [`HookRunner`] runs one
//! event's matching hooks and folds what they said into a [`HookOutcome`].

mod config;
mod env;
mod input;
mod runner;

pub use config::{
    DEFAULT_TIMEOUT, Hook, HookConfig, HookEvent, HookSettings, MAX_TIMEOUT, Matcher,
};
pub use env::{CORE_VARS, HookEnv, SECRET_NAME_PARTS, is_secret_name};
pub use input::{EventPayload, SessionFacts};
pub use runner::{
    HookOutcome, HookRun, HookRunner, HookStatus, MAX_OUTPUT_BYTES, Permission, Verdict, fold,
};
