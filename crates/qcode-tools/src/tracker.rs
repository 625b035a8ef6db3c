//! The seam through which file-changing tools report what they are about to change, so that a
//! caller can keep checkpoints for a rewind. This crate only calls it; what is kept, where and
//! how is the implementation's business (the binary wires one over `qcode-session`).
//!
//! - `edit` and `write_file` call [`ChangeTracker::before_write`] with the absolute path right
//!   before they write it (also when the file does not exist yet: a rewind then deletes it).
//! - `run_shell_command` calls [`ChangeTracker::before_command`] before it starts the command
//!   and [`ChangeTracker::after_command`] once it has ended (foreground), or right after it
//!   started (background: what a background command changes later is not attributed to any
//!   turn and cannot be rewound).
//! - The engine calls [`ChangeTracker::turn_started`] once a user message is in the history,
//!   [`ChangeTracker::turn_ended`] when the turn is over (also when interrupted or failed), and
//!   [`ChangeTracker::conversation_cleared`] on `/clear` (a new session: turns count from 1).
//!
//! Every method blocks (file work): callers run them off the async threads. A tracker's failure
//! never fails a tool: the tool appends one line to its result (see [`notice_lines`]).

use std::path::Path;

/// Receives the changes tools are about to make. `None` in [`crate::ToolContext`] means no
/// tracking (recording is off).
pub trait ChangeTracker: Send + Sync {
    /// A turn began: its user message is the next one of the session.
    fn turn_started(&self);
    /// The current turn ended (final answer, interrupt, failure).
    fn turn_ended(&self);
    /// The conversation was cleared: a new session starts, with its own checkpoints.
    fn conversation_cleared(&self);
    /// `path` (absolute) is about to be written by `edit` or `write_file`.
    fn before_write(&self, path: &Path) -> Result<(), String>;
    /// A shell command is about to start; hand the token back to
    /// [`ChangeTracker::after_command`].
    fn before_command(&self) -> Result<CommandToken, String>;
    /// The shell command of `token` ended (or, in the background, started). Returns notices for
    /// the user: changed files whose earlier content could not be kept.
    fn after_command(&self, token: CommandToken) -> Result<Vec<String>, String>;
}

/// Identifies one [`ChangeTracker::before_command`] call (opaque to tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandToken(pub u64);

/// The lines a tool appends to its result for a tracker's notices and failure.
pub(crate) fn notice_lines(notices: &[String], failure: Option<&str>) -> String {
    let mut out = String::new();
    for n in notices {
        out.push_str("\n[rewind] ");
        out.push_str(n);
    }
    if let Some(e) = failure {
        out.push_str("\n[rewind] warning: this change cannot be rewound: ");
        out.push_str(e);
    }
    out
}

/// Appends the tracker's notices and failure to a tool's output.
pub(crate) fn append_notices(
    mut result: crate::ToolResult,
    notices: &[String],
    failure: Option<&str>,
) -> crate::ToolResult {
    result.output.push_str(&notice_lines(notices, failure));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_and_a_failure_become_one_line_each() {
        let text = notice_lines(&["big.bin: not kept".into()], Some("disk full"));
        assert_eq!(
            text,
            "\n[rewind] big.bin: not kept\n[rewind] warning: this change cannot be rewound: disk full"
        );
        assert_eq!(notice_lines(&[], None), "");
    }
}
