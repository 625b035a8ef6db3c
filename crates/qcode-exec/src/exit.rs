//! Exit codes, in one place (documented in docs/headless.md).

use qcode_protocol::ErrorKind;

/// Process exit codes of a headless run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitCode {
    Ok = 0,
    /// Usage errors and anything unexpected, including model and network failures.
    General = 1,
    Auth = 41,
    Input = 42,
    Config = 52,
    TurnLimit = 53,
    Tool = 54,
    Interrupted = 130,
    /// Ended by SIGHUP (128 + 1), as a process killed by it would.
    HangUp = 129,
    /// Ended by SIGTERM (128 + 15): CI `timeout`, `docker stop`, `kill`.
    Terminated = 143,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The exit code for an error kind. Exhaustive: a new kind must choose its code.
pub fn exit_code_for(kind: ErrorKind) -> ExitCode {
    match kind {
        ErrorKind::Auth => ExitCode::Auth,
        ErrorKind::Input => ExitCode::Input,
        ErrorKind::Config => ExitCode::Config,
        ErrorKind::TurnLimit => ExitCode::TurnLimit,
        ErrorKind::Tool => ExitCode::Tool,
        ErrorKind::Interrupted => ExitCode::Interrupted,
        ErrorKind::Network
        | ErrorKind::RateLimit
        | ErrorKind::Quota
        | ErrorKind::Server
        | ErrorKind::NotFound
        | ErrorKind::ContextTooLong
        | ErrorKind::BadRequest
        | ErrorKind::Stream
        | ErrorKind::Internal => ExitCode::General,
    }
}
