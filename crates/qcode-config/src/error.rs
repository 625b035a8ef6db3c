//! Configuration errors: each says which file or variable is wrong and how to fix it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{path}:{line}:{column}: settings file is not valid JSON: {message}\nhint: fix the syntax, or move the file away to start from defaults"
    )]
    SettingsSyntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: setting `{key}` has the wrong type: {message}")]
    SettingsType {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{path}: cannot read settings file: {source}")]
    SettingsRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: cannot write settings file: {source}\nhint: check free disk space and permissions"
    )]
    SettingsWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: cannot write the imported file: {source}\nhint: check free disk space and permissions"
    )]
    ImportWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process kept the settings file locked, or the lock file cannot be opened.
    #[error(transparent)]
    SettingsLock(#[from] qcode_fs::LockError),
    #[error("{path}: cannot read .env file: {message}")]
    DotEnv { path: PathBuf, message: String },
    #[error("invalid {what} `{value}` (from {source_desc}): {message}")]
    InvalidValue {
        what: &'static str,
        value: String,
        source_desc: String,
        message: String,
    },
    #[error("cannot determine the home directory; set HOME or QCODE_HOME")]
    NoHome,
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
}

impl ConfigError {
    pub fn kind(&self) -> qcode_protocol::ErrorKind {
        match self {
            Self::NotAFolder { .. } => qcode_protocol::ErrorKind::Input,
            _ => qcode_protocol::ErrorKind::Config,
        }
    }
}

/// A configuration error as a front end reports it: kind `Config`, the message as displayed
/// (a hint some variants carry stays part of the message).
impl From<ConfigError> for qcode_protocol::Problem {
    fn from(e: ConfigError) -> Self {
        qcode_protocol::Problem::new(e.kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn becomes_a_config_problem_with_its_message() {
        let p = qcode_protocol::Problem::from(ConfigError::NoHome);
        assert_eq!(p.kind, qcode_protocol::ErrorKind::Config);
        assert_eq!(
            p.message,
            "cannot determine the home directory; set HOME or QCODE_HOME"
        );
        assert_eq!(p.hint, None);
    }
}
