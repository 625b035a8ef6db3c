//! Reporting a startup failure: one clear line, a hint, and the documented exit code.

use qcode_protocol::{ErrorKind, Problem};

/// A failure before the engine runs (a [`Problem`] with its reporting).
#[derive(Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint,
        }
    }

    pub fn config(e: qcode_config::ConfigError) -> Self {
        Self::new(ErrorKind::Config, e.to_string(), None)
    }

    /// Prints the failure on stderr and returns its exit code.
    pub fn report(&self) -> i32 {
        eprintln!("error: {}", self.message);
        if let Some(h) = &self.hint {
            eprintln!("hint: {h}");
        }
        qcode_exec::exit_code_for(self.kind).code()
    }
}

impl From<Problem> for Failure {
    fn from(p: Problem) -> Self {
        Self::new(p.kind, p.message, p.hint)
    }
}
