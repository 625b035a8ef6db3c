//! Where a configuration value came from: every resolved value in a
//! [`ConfigSnapshot`](crate::ConfigSnapshot) is a [`Sourced`] value whose [`Source`] says which
//! flag, variable or file set it, and [`Source::scope`] says whose choice that was (the user's,
//! the project's, this session's, or nobody's), so rules such as folder trust are one function
//! over the origin.

use std::path::{Path, PathBuf};

/// Where a configuration value came from (for messages such as "OPENAI_BASE_URL in ./.env").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag of this run.
    Cli(&'static str),
    /// The process environment of this run.
    Env(&'static str),
    /// A variable of the one `.env` file found; `place` tells whose file it is.
    DotEnv {
        var: &'static str,
        path: PathBuf,
        place: DotEnvPlace,
    },
    /// The user's `~/.qcode/settings.json`.
    UserSettings(PathBuf),
    /// A project's `.qcode/settings.json` (found from the working directory).
    ProjectSettings(PathBuf),
    /// Nobody set it.
    Default,
}

/// Whose `.env` file a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotEnvPlace {
    /// `~/.qcode/.env` or `~/.env`: the user's own.
    User,
    /// Any other `.env`, found walking up from the working directory (`<dir>/.qcode/.env`,
    /// `<dir>/.env`): it comes with the folder, so it counts as the project's.
    Project,
}

impl DotEnvPlace {
    /// Classifies the `.env` file at `path`, given the home and qcode-home directories.
    pub fn of(path: &Path, home: &Path, qcode_home: &Path) -> Self {
        if path == qcode_home.join(".env") || path == home.join(".env") {
            Self::User
        } else {
            Self::Project
        }
    }
}

/// Whose choice a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's own files (`~/.qcode/settings.json`, `~/.qcode/.env`, `~/.env`).
    User,
    /// Files that come with the working folder (project settings, a project `.env`).
    Project,
    /// This run only: a command-line flag or the process environment.
    Session,
    /// Nobody chose it.
    Default,
}

impl Source {
    /// Whose choice the value is.
    pub fn scope(&self) -> Scope {
        match self {
            Self::Cli(_) | Self::Env(_) => Scope::Session,
            Self::DotEnv {
                place: DotEnvPlace::User,
                ..
            }
            | Self::UserSettings(_) => Scope::User,
            Self::DotEnv {
                place: DotEnvPlace::Project,
                ..
            }
            | Self::ProjectSettings(_) => Scope::Project,
            Self::Default => Scope::Default,
        }
    }

    /// The file the value was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::DotEnv { path, .. } | Self::UserSettings(path) | Self::ProjectSettings(path) => {
                Some(path)
            }
            Self::Cli(_) | Self::Env(_) | Self::Default => None,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cli(flag) => write!(f, "command-line flag {flag}"),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::DotEnv { var, path, .. } => write!(f, "{var} in {}", path.display()),
            Self::UserSettings(path) => write!(f, "user settings file {}", path.display()),
            Self::ProjectSettings(path) => write!(f, "project settings file {}", path.display()),
            Self::Default => write!(f, "default"),
        }
    }
}

/// A value with its origin.
#[derive(Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }

    /// Whose choice the value is (`self.source.scope()`).
    pub fn scope(&self) -> Scope {
        self.source.scope()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Sourced<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self.value, self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let p = PathBuf::from("/x");
        let dotenv = |place| Source::DotEnv {
            var: "A",
            path: p.clone(),
            place,
        };
        assert_eq!(Source::Cli("--model").scope(), Scope::Session);
        assert_eq!(Source::Env("A").scope(), Scope::Session);
        assert_eq!(dotenv(DotEnvPlace::User).scope(), Scope::User);
        assert_eq!(dotenv(DotEnvPlace::Project).scope(), Scope::Project);
        assert_eq!(Source::UserSettings(p.clone()).scope(), Scope::User);
        assert_eq!(Source::ProjectSettings(p.clone()).scope(), Scope::Project);
        assert_eq!(Source::Default.scope(), Scope::Default);
    }

    #[test]
    fn dotenv_place() {
        let (home, qhome) = (Path::new("/h"), Path::new("/h/.qcode"));
        let place = |p: &str| DotEnvPlace::of(Path::new(p), home, qhome);
        assert_eq!(place("/h/.env"), DotEnvPlace::User);
        assert_eq!(place("/h/.qcode/.env"), DotEnvPlace::User);
        assert_eq!(place("/h/proj/.env"), DotEnvPlace::Project);
        assert_eq!(place("/h/proj/.qcode/.env"), DotEnvPlace::Project);
        assert_eq!(place("/work/.env"), DotEnvPlace::Project);
    }
}
