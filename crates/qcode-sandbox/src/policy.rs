//! The policy: what a sandboxed command may read, write and reach.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How much a sandboxed command may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Writes beneath the workspace, the temp directory and the writable roots (the default).
    #[default]
    WorkspaceWrite,
    /// Writes only in the temp directory.
    ReadOnly,
    /// No sandbox.
    Off,
}

impl Mode {
    /// `workspace-write`, `read-only`, `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::WorkspaceWrite => "workspace-write",
            Mode::ReadOnly => "read-only",
            Mode::Off => "off",
        }
    }

    /// The mode named `name`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "workspace-write" => Some(Mode::WorkspaceWrite),
            "read-only" => Some(Mode::ReadOnly),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }

    /// How strict the mode is: a higher rank allows less.
    pub fn strictness(self) -> u8 {
        match self {
            Mode::Off => 0,
            Mode::WorkspaceWrite => 1,
            Mode::ReadOnly => 2,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The directories inside each workspace root that stay read-only in `workspace-write`.
pub const READ_ONLY_SUBPATHS: &[&str] = &[".git/hooks", ".qcode"];

/// The paths the credential stores are found from.
#[derive(Debug, Clone)]
pub struct PolicyPaths {
    /// `$QCODE_HOME` (`~/.qcode`).
    pub qcode_home: PathBuf,
    /// Qwen Code's directory (`~/.qwen`, or `QWEN_HOME`).
    pub qwen_dir: PathBuf,
}

/// The credential stores (and their lock files) no sandboxed command may read.
pub fn protected_files(paths: &PolicyPaths) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut with_locks = |path: PathBuf| {
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        out.push(path);
        out.push(PathBuf::from(lock));
    };
    with_locks(paths.qcode_home.join("credentials.json"));
    with_locks(paths.qcode_home.join("mcp-oauth-tokens.json"));
    with_locks(paths.qwen_dir.join("oauth_creds.json"));
    // Qwen Code's own lock file name for oauth_creds.json.
    out.push(paths.qwen_dir.join("oauth_creds.lock"));
    out
}

/// One session's sandbox policy. Serialized as JSON on the launcher's command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    pub mode: Mode,
    /// The workspace roots (absolute).
    pub workspace_roots: Vec<PathBuf>,
    /// More directories writable in `workspace-write` (`tools.sandbox.writableRoots`).
    pub writable_roots: Vec<PathBuf>,
    /// The system temp directories (writable in every mode but `off`).
    pub temp_dirs: Vec<PathBuf>,
    /// Files no command may read or write (the credential stores).
    pub protected_files: Vec<PathBuf>,
    /// Whether TCP bind / connect (and abstract UNIX sockets) are allowed.
    pub network: bool,
}

impl Policy {
    /// A policy over `workspace_roots` protecting the stores found from `paths`, with the
    /// system temp directory (`TMPDIR` or `/tmp`, and `/var/tmp`) writable.
    pub fn new(mode: Mode, workspace_roots: Vec<PathBuf>, paths: &PolicyPaths) -> Self {
        let mut temp_dirs = vec![std::env::temp_dir(), PathBuf::from("/tmp")];
        temp_dirs.push(PathBuf::from("/var/tmp"));
        temp_dirs.dedup();
        Self {
            mode,
            workspace_roots,
            writable_roots: Vec::new(),
            temp_dirs,
            protected_files: protected_files(paths),
            network: false,
        }
    }

    /// The policy as the launcher's argument.
    pub fn to_json(&self) -> String {
        // A struct of strings, bools and paths always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The policy from the launcher's argument.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let policy: Self =
            serde_json::from_str(text).map_err(|e| format!("invalid sandbox policy: {e}"))?;
        for p in policy
            .workspace_roots
            .iter()
            .chain(&policy.writable_roots)
            .chain(&policy.temp_dirs)
            .chain(&policy.protected_files)
        {
            if !p.is_absolute() {
                return Err(format!(
                    "invalid sandbox policy: {} is not an absolute path",
                    p.display()
                ));
            }
        }
        Ok(policy)
    }

    /// The roots beneath which writes are allowed (empty when `off`: nothing is enforced).
    pub fn write_roots(&self) -> Vec<PathBuf> {
        match self.mode {
            Mode::Off => Vec::new(),
            Mode::ReadOnly => self.temp_dirs.clone(),
            Mode::WorkspaceWrite => self
                .workspace_roots
                .iter()
                .chain(&self.writable_roots)
                .chain(&self.temp_dirs)
                .cloned()
                .collect(),
        }
    }

    /// The read-only directories inside the workspace roots (`workspace-write` only).
    pub fn read_only_subpaths(&self) -> Vec<PathBuf> {
        match self.mode {
            Mode::WorkspaceWrite => self
                .workspace_roots
                .iter()
                .flat_map(|r| READ_ONLY_SUBPATHS.iter().map(move |s| r.join(s)))
                .collect(),
            Mode::ReadOnly | Mode::Off => Vec::new(),
        }
    }

    /// Whether the policy lets a command write `path` (absolute, or relative to `cwd`).
    pub fn allows_write(&self, path: &Path, cwd: &Path) -> bool {
        if self.mode == Mode::Off {
            return true;
        }
        let path = normalize(&cwd.join(path));
        if self.denies_read(&path, cwd) {
            return false;
        }
        if self
            .read_only_subpaths()
            .iter()
            .any(|ro| under(&path, &normalize(ro)))
        {
            return false;
        }
        let devices = [
            "/dev/null",
            "/dev/zero",
            "/dev/full",
            "/dev/tty",
            "/dev/pts",
        ];
        self.write_roots()
            .iter()
            .map(|r| normalize(r))
            .chain(devices.iter().map(PathBuf::from))
            .any(|r| under(&path, &r))
    }

    /// Whether `path` is one of the protected files.
    pub fn denies_read(&self, path: &Path, cwd: &Path) -> bool {
        if self.mode == Mode::Off {
            return false;
        }
        let path = normalize(&cwd.join(path));
        self.protected_files.iter().any(|p| normalize(p) == path)
    }
}

/// `path` without `.` and `..` components (lexically; symbolic links are not resolved).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) | Component::Normal(_) => out.push(c),
        }
    }
    out
}

/// Whether `path` is `root` or beneath it.
pub(crate) fn under(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: Mode) -> Policy {
        let paths = PolicyPaths {
            qcode_home: "/home/u/.qcode".into(),
            qwen_dir: "/home/u/.qwen".into(),
        };
        let mut p = Policy::new(mode, vec!["/home/u/proj".into()], &paths);
        p.temp_dirs = vec!["/tmp".into()];
        p.writable_roots = vec!["/opt/cache".into()];
        p
    }

    #[test]
    fn modes_round_trip_by_name_and_rank_by_strictness() {
        for m in [Mode::WorkspaceWrite, Mode::ReadOnly, Mode::Off] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("none"), None);
        assert!(Mode::ReadOnly.strictness() > Mode::WorkspaceWrite.strictness());
        assert!(Mode::WorkspaceWrite.strictness() > Mode::Off.strictness());
    }

    #[test]
    fn the_credential_stores_and_their_locks_are_protected() {
        let p = policy(Mode::WorkspaceWrite);
        let cwd = Path::new("/home/u/proj");
        for f in [
            "/home/u/.qcode/credentials.json",
            "/home/u/.qcode/credentials.json.lock",
            "/home/u/.qcode/mcp-oauth-tokens.json",
            "/home/u/.qwen/oauth_creds.json",
            "/home/u/.qwen/oauth_creds.lock",
            "../.qwen/oauth_creds.json",
        ] {
            assert!(p.denies_read(Path::new(f), cwd), "{f}");
            assert!(!p.allows_write(Path::new(f), cwd), "{f}");
        }
        assert!(!p.denies_read(Path::new("/home/u/.qcode/settings.json"), cwd));
        assert!(!policy(Mode::Off).denies_read(Path::new("/home/u/.qwen/oauth_creds.json"), cwd));
    }

    #[test]
    fn writes_follow_the_mode() {
        let cwd = Path::new("/home/u/proj");
        let ww = policy(Mode::WorkspaceWrite);
        assert!(ww.allows_write(Path::new("src/main.rs"), cwd));
        assert!(ww.allows_write(Path::new("/tmp/x"), cwd));
        assert!(ww.allows_write(Path::new("/opt/cache/a"), cwd));
        assert!(ww.allows_write(Path::new("/dev/null"), cwd));
        assert!(!ww.allows_write(Path::new("/home/u/other"), cwd));
        assert!(!ww.allows_write(Path::new("../other"), cwd));
        assert!(!ww.allows_write(Path::new(".git/hooks/pre-commit"), cwd));
        assert!(!ww.allows_write(Path::new(".qcode/settings.json"), cwd));
        assert!(ww.allows_write(Path::new(".git/index.lock"), cwd));
        let ro = policy(Mode::ReadOnly);
        assert!(!ro.allows_write(Path::new("src/main.rs"), cwd));
        assert!(!ro.allows_write(Path::new("/opt/cache/a"), cwd));
        assert!(ro.allows_write(Path::new("/tmp/x"), cwd));
        assert!(policy(Mode::Off).allows_write(Path::new("/etc/passwd"), cwd));
    }

    #[test]
    fn the_policy_survives_its_json_and_bad_json_is_an_error() {
        let p = policy(Mode::ReadOnly);
        assert_eq!(Policy::from_json(&p.to_json()), Ok(p));
        let e = Policy::from_json("{\"mode\":\"open\"}").unwrap_err();
        assert!(e.starts_with("invalid sandbox policy"), "{e}");
        let mut rel = policy(Mode::WorkspaceWrite);
        rel.writable_roots = vec!["relative".into()];
        let e = Policy::from_json(&rel.to_json()).unwrap_err();
        assert!(e.contains("relative is not an absolute path"), "{e}");
    }
}
