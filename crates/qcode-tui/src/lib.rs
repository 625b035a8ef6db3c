//! Interactive ratatui front end of qcode: app loop, transcript, composer, slash commands,
//! dialogs.
//!
//! The TUI drives the engine only through its queue pair ([`EngineHandle`]): it sends
//! [`qcode_protocol::Op`]s and renders [`qcode_protocol::Event`]s. It must not reach into the
//! engine, read configuration files, or do network I/O.

pub mod approval;
pub mod composer;
pub mod files;
pub mod markdown;
pub mod popup;
pub mod screen;
pub mod slash;
pub mod status;
pub mod transcript;
pub mod wrap;

#[cfg(test)]
mod testutil;
