//! Errors of the telemetry crate. Recording events never fails; these come from configuration
//! and from the `privacy` command back ends.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(
        "the OTLP endpoint from {origin} is not a valid http(s) URL ({reason}); fix it or unset it \
         to use the default http://localhost:4318"
    )]
    InvalidEndpoint {
        origin: &'static str,
        reason: String,
    },

    #[error(
        "could not save the usage-statistics setting: {0}; check that the settings file is writable"
    )]
    Persist(String),

    #[error("could not read {path}: {source}; check the file's permissions")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not write {path}: {source}; check that the directory exists and is writable")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not write the command output: {0}")]
    Output(#[source] std::io::Error),

    #[error("unknown privacy command `{0}`; use one of: status, on, off, log [N]")]
    UnknownCommand(String),

    #[error("`{0}` is not a number of events; use e.g. `log 20`")]
    BadCount(String),
}

/// As the privacy commands report it: a configuration problem (the message says what to do).
impl From<TelemetryError> for qcode_protocol::Problem {
    fn from(e: TelemetryError) -> Self {
        qcode_protocol::Problem::new(qcode_protocol::ErrorKind::Config, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn becomes_a_config_problem() {
        let p = qcode_protocol::Problem::from(TelemetryError::Persist("read-only".into()));
        assert_eq!(p.kind, qcode_protocol::ErrorKind::Config);
        assert!(p.message.contains("read-only"), "{}", p.message);
        assert_eq!(p.hint, None);
    }
}
