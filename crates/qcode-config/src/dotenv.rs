//! `.env` discovery (compatible with Qwen Code's, with `.qcode/.env` in place of `.qwen/.env`)
//! and the environment layer: real environment first, then the one `.env` file found.
//!
//! The process environment is never modified; shell commands run by tools therefore do not
//! inherit secrets that only live in a `.env` file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Walks up from `cwd` to `/`, trying `<dir>/.qcode/.env` then `<dir>/.env` in each directory;
/// if none is found, `<qcode_home>/.env`, then `<home>/.env`. Returns the first that exists.
pub fn find_env_file(cwd: &Path, home: &Path, qcode_home: &Path) -> Option<PathBuf> {
    for dir in cwd.ancestors() {
        for candidate in [dir.join(".qcode").join(".env"), dir.join(".env")] {
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    [qcode_home.join(".env"), home.join(".env")]
        .into_iter()
        .find(|c| c.is_file())
}

/// The process environment (snapshot) layered over the variables of one `.env` file.
#[derive(Clone, Default)]
pub struct EnvLayer {
    process: HashMap<String, String>,
    dotenv: HashMap<String, String>,
    dotenv_path: Option<PathBuf>,
}

impl std::fmt::Debug for EnvLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: show names only.
        let mut names: Vec<_> = self.dotenv.keys().collect();
        names.sort();
        f.debug_struct("EnvLayer")
            .field("dotenv_path", &self.dotenv_path)
            .field("dotenv_names", &names)
            .finish_non_exhaustive()
    }
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOrigin {
    Process,
    DotEnv(PathBuf),
}

impl EnvLayer {
    /// Snapshot of the real process environment, without any `.env`.
    pub fn from_process() -> Self {
        Self {
            process: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            ..Self::default()
        }
    }

    /// For tests and embedding: an explicit environment.
    pub fn from_map(process: HashMap<String, String>) -> Self {
        Self {
            process,
            ..Self::default()
        }
    }

    /// Loads the variables of `path` below the process environment.
    pub fn with_dotenv(mut self, path: &Path) -> Result<Self, ConfigError> {
        let iter = dotenvy::from_path_iter(path).map_err(|e| ConfigError::DotEnv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut vars = HashMap::new();
        for item in iter {
            let (k, v) = item.map_err(|e| ConfigError::DotEnv {
                path: path.to_path_buf(),
                message: describe_dotenv_error(&e, path),
            })?;
            vars.insert(k, v);
        }
        self.dotenv = vars;
        self.dotenv_path = Some(path.to_path_buf());
        Ok(self)
    }

    /// A variable's value: the process environment wins over `.env`. Empty values count as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_with_origin(name).map(|(v, _)| v)
    }

    pub fn get_with_origin(&self, name: &str) -> Option<(String, EnvOrigin)> {
        if let Some(v) = self.process.get(name).filter(|v| !v.is_empty()) {
            return Some((v.clone(), EnvOrigin::Process));
        }
        let path = self.dotenv_path.clone()?;
        self.dotenv
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| (v.clone(), EnvOrigin::DotEnv(path)))
    }

    /// Forgets `name` from the `.env` layer (an untrusted file may not set it); returns the
    /// value it had there.
    pub fn drop_dotenv_var(&mut self, name: &str) -> Option<String> {
        self.dotenv.remove(name)
    }

    /// The names the `.env` layer sets, sorted.
    pub fn dotenv_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.dotenv.keys().cloned().collect();
        names.sort();
        names
    }

    /// Only the real process environment (for variables that `.env` must not control).
    pub fn process_get(&self, name: &str) -> Option<String> {
        self.process.get(name).filter(|v| !v.is_empty()).cloned()
    }

    pub fn dotenv_path(&self) -> Option<&Path> {
        self.dotenv_path.as_deref()
    }
}

/// What is wrong with a `.env` file, without ever repeating its contents: a line that fails to
/// parse may hold a key (and an unterminated quote makes "the line" the rest of the file), so
/// only the line number, the column and the variable's name are shown.
fn describe_dotenv_error(e: &dotenvy::Error, path: &Path) -> String {
    match e {
        dotenvy::Error::LineParse(line, index) => {
            let text = std::fs::read(path).unwrap_or_default();
            if text.starts_with(b"\xEF\xBB\xBF") {
                return "the file starts with a byte-order mark (BOM); save it as UTF-8 without a BOM".into();
            }
            let text = String::from_utf8_lossy(&text);
            let at = text.find(line.as_str());
            let number = at.map(|at| text[..at].matches('\n').count() + 1);
            // The name is read from the start of the file's line, not of dotenvy's excerpt
            // (which may begin inside a value), and only a `NAME=` names a variable: a line
            // without `=` may be a bare secret.
            let own_line = at.map_or(line.as_str(), |at| {
                let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
                text[start..].lines().next().unwrap_or("")
            });
            let name = own_line
                .trim_start()
                .trim_start_matches("export ")
                .split_once('=')
                .map(|(name, _)| name.trim())
                .filter(|n| {
                    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            let at = match number {
                Some(n) => format!("line {n}"),
                None => "a line".to_string(),
            };
            let what = match name {
                Some(n) => format!(" (the value of {n}: check its quotes)"),
                None => String::new(),
            };
            format!("cannot parse {at} at character {index}{what}; the value is not shown")
        }
        dotenvy::Error::Io(io) => format!("cannot read it: {io}"),
        dotenvy::Error::EnvVar(_) => "cannot read it".to_string(),
        _ => "cannot read it".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_order() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let qhome = home.join(".qcode");
        let proj = t.path().join("proj");
        let sub = proj.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(&qhome).unwrap();
        assert_eq!(find_env_file(&sub, &home, &qhome), None);
        std::fs::write(home.join(".env"), "A=1").unwrap();
        assert_eq!(find_env_file(&sub, &home, &qhome), Some(home.join(".env")));
        std::fs::write(qhome.join(".env"), "A=1").unwrap();
        assert_eq!(find_env_file(&sub, &home, &qhome), Some(qhome.join(".env")));
        std::fs::write(proj.join(".env"), "A=1").unwrap();
        assert_eq!(find_env_file(&sub, &home, &qhome), Some(proj.join(".env")));
        std::fs::create_dir_all(proj.join(".qcode")).unwrap();
        std::fs::write(proj.join(".qcode/.env"), "A=1").unwrap();
        assert_eq!(
            find_env_file(&sub, &home, &qhome),
            Some(proj.join(".qcode/.env"))
        );
        std::fs::write(sub.join(".env"), "A=1").unwrap();
        assert_eq!(find_env_file(&sub, &home, &qhome), Some(sub.join(".env")));
    }

    #[test]
    fn process_wins_and_empty_is_unset() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join(".env");
        std::fs::write(
            &f,
            "A=from_file\nB=from_file\nC=\n# comment\nexport D=\"quoted\"\n",
        )
        .unwrap();
        let env = EnvLayer::from_map(HashMap::from([("A".into(), "proc".into())]))
            .with_dotenv(&f)
            .unwrap();
        assert_eq!(env.get("A").unwrap(), "proc");
        assert_eq!(
            env.get_with_origin("B").unwrap(),
            ("from_file".to_string(), EnvOrigin::DotEnv(f.clone()))
        );
        assert_eq!(env.get("C"), None);
        assert_eq!(env.get("D").unwrap(), "quoted");
        assert!(!format!("{env:?}").contains("from_file"));
    }

    /// Found by the `dotenv` fuzz target: a line without `=` was shown as "the value of
    /// <line>", so a bare pasted key appeared in the error.
    #[test]
    fn a_line_without_equals_is_not_shown_as_a_name() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join(".env");
        std::fs::write(&f, "sk_live_canary123\nQCODE=1\n").unwrap();
        let err = EnvLayer::default()
            .with_dotenv(&f)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("canary"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    /// Found by the `dotenv` fuzz target: the name was taken from dotenvy's excerpt, which
    /// may start inside a value, so a piece of a value before an `=` was shown (here dotenvy's
    /// excerpt of the bad line is `canary_123=x y`).
    #[test]
    fn a_piece_of_a_value_is_not_shown_as_a_name() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join(".env");
        std::fs::write(&f, "A=1\nOPENAI_API_KEY=canary_123=x y\nB=2\n").unwrap();
        let err = EnvLayer::default()
            .with_dotenv(&f)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("canary"), "{err}");
    }

    #[test]
    fn parse_errors_never_show_values() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join(".env");
        // An unterminated quote: the "line" dotenvy reports is the rest of the file.
        std::fs::write(
            &f,
            "A=1\nOPENAI_API_KEY=\"sk-canary-123\nOPENAI_MODEL=m\nOTHER=sk-canary-456\n",
        )
        .unwrap();
        let err = EnvLayer::default()
            .with_dotenv(&f)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("canary"), "{err}");
        assert!(
            err.contains("line 2") && err.contains("OPENAI_API_KEY"),
            "{err}"
        );
        std::fs::write(&f, "\u{feff}OPENAI_API_KEY=sk-canary-789 x y\n").unwrap();
        let err = EnvLayer::default()
            .with_dotenv(&f)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("canary"), "{err}");
        assert!(err.contains("BOM") || err.contains("byte-order"), "{err}");
    }
}
