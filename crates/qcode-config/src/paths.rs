//! Where qcode's files live. Every path is derived from values passed in (or read once from the
//! environment by [`Paths::from_env`]), so tests can relocate everything.

use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Well-known locations. `qcode_home` is `~/.qcode` unless `QCODE_HOME` relocates it;
/// `qwen_dir` is `~/.qwen` unless `QWEN_HOME` relocates it (as Qwen Code 0.24.4 does), shared
/// with Qwen Code for OAuth credentials and their lock. Both are read from the process
/// environment only — never from a `.env` file a repository could ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub home: PathBuf,
    pub qcode_home: PathBuf,
    pub qwen_dir: PathBuf,
}

impl Paths {
    pub fn new(home: PathBuf, qcode_home: Option<PathBuf>) -> Self {
        let qcode_home = qcode_home.unwrap_or_else(|| home.join(".qcode"));
        let qwen_dir = home.join(".qwen");
        Self {
            home,
            qcode_home,
            qwen_dir,
        }
    }

    /// Reads `HOME` (or the platform home), `QCODE_HOME` and `QWEN_HOME`.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let qwen_home = get("QWEN_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let mut paths = Self::from_home_env(get)?;
        if let Some(dir) = qwen_home {
            paths.qwen_dir = dir;
        }
        Ok(paths)
    }

    fn from_home_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let home = get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::home_dir);
        let qcode_home = get("QCODE_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        match (home, qcode_home) {
            (Some(home), qcode_home) => Ok(Self::new(home, qcode_home)),
            (None, Some(qcode_home)) => Ok(Self {
                home: qcode_home.clone(),
                qwen_dir: qcode_home.join(".qwen"),
                qcode_home,
            }),
            (None, None) => Err(ConfigError::NoHome),
        }
    }

    pub fn user_settings(&self) -> PathBuf {
        self.qcode_home.join("settings.json")
    }

    pub fn credentials(&self) -> PathBuf {
        self.qcode_home.join("credentials.json")
    }

    pub fn global_memory(&self) -> PathBuf {
        self.qcode_home.join("QWEN.md")
    }

    /// Per-project data (history, background shell output) under `~/.qcode/projects/<key>`.
    pub fn project_dir(&self, project_root: &Path) -> PathBuf {
        self.qcode_home
            .join("projects")
            .join(project_key(project_root))
    }

    /// The interactive prompt history of a project.
    pub fn history_file(&self, project_root: &Path) -> PathBuf {
        self.project_dir(project_root).join("history.jsonl")
    }

    /// Where background shell commands of a project write their output.
    pub fn background_dir(&self, project_root: &Path) -> PathBuf {
        self.project_dir(project_root).join("background")
    }
}

/// A stable, file-name-safe key for a project directory: its last component plus a short hash.
pub fn project_key(root: &Path) -> String {
    let name: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    // FNV-1a: stable across runs and platforms, no dependency.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in root.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{name}-{:08x}", hash as u32)
}

/// The git root containing `dir` (the nearest ancestor with a `.git` entry), if any.
pub fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_project_files_live_in_the_project_dir() {
        let p = Paths::new(PathBuf::from("/h"), None);
        let dir = p.project_dir(Path::new("/work/app"));
        assert!(dir.starts_with("/h/.qcode/projects"), "{}", dir.display());
        assert_eq!(
            p.history_file(Path::new("/work/app")),
            dir.join("history.jsonl")
        );
        assert_eq!(
            p.background_dir(Path::new("/work/app")),
            dir.join("background")
        );
    }

    #[test]
    fn qcode_home_relocates() {
        let env = |k: &str| match k {
            "HOME" => Some("/h".to_string()),
            "QCODE_HOME" => Some("/q".to_string()),
            _ => None,
        };
        let p = Paths::from_env(&env).unwrap();
        assert_eq!(p.qcode_home, PathBuf::from("/q"));
        assert_eq!(p.qwen_dir, PathBuf::from("/h/.qwen"));
        assert_eq!(p.user_settings(), PathBuf::from("/q/settings.json"));
    }

    #[test]
    fn qwen_home_relocates_the_shared_login_as_in_qwen_code() {
        let env = |k: &str| match k {
            "HOME" => Some("/h".to_string()),
            "QWEN_HOME" => Some("/elsewhere/qwen".to_string()),
            _ => None,
        };
        let p = Paths::from_env(&env).unwrap();
        assert_eq!(p.qwen_dir, PathBuf::from("/elsewhere/qwen"));
        assert_eq!(p.qcode_home, PathBuf::from("/h/.qcode"));
    }

    #[test]
    fn project_key_is_stable_and_safe() {
        let a = project_key(Path::new("/work/my proj"));
        assert_eq!(a, project_key(Path::new("/work/my proj")));
        assert!(a.starts_with("my_proj-"));
        assert_ne!(a, project_key(Path::new("/other/my proj")));
    }
}
