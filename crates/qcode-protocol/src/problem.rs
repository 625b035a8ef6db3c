//! One problem type for everything a user is told went wrong: its kind (which decides the exit
//! code and the statistics bucket), one line saying what happened, and what to do about it.
//! Shared by the binary, both front ends and the `Services` back ends, so a failure keeps its
//! kind and hint on every path instead of being flattened into a string.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ErrorKind;

/// What went wrong, in words for the user, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ErrorKind,
    /// What happened, one line, no secrets.
    pub message: String,
    /// What to do about it, when there is something to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem with a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Message and hint on one line (`message; hint`), for places that show a single line.
    pub fn one_line(&self) -> String {
        match &self.hint {
            Some(h) => format!("{}; {h}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_message_and_hint() {
        let p = Problem::new(ErrorKind::Auth, "no key").with_hint("run qcode auth");
        assert_eq!(p.one_line(), "no key; run qcode auth");
        assert_eq!(p.to_string(), "no key");
        assert_eq!(Problem::internal("x").one_line(), "x");
    }
}
