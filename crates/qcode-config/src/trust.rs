//! Folder trust: whether the files that come with a folder — `<project>/.qcode/settings.json`,
//! a project's `.env`, and later `.mcp.json`, hooks, commands and agents — may change what qcode
//! sends where, what it runs, and what it asks before running.
//!
//! Trusted folders live in `$QCODE_HOME/trustedFolders.json`, in Gemini CLI's / Qwen Code's
//! shape: `{ "/abs/path": "TRUST_FOLDER" | "TRUST_PARENT" | "DO_NOT_TRUST" }`. `TRUST_FOLDER`
//! trusts the folder and everything below it, `TRUST_PARENT` the folder's parent and everything
//! below that, `DO_NOT_TRUST` marks a folder the user answered "no" for (it is not asked about
//! again); the most specific rule wins. The user's own files (`~/.qcode/…`) are always trusted.
//! `--trust` or `QCODE_TRUST_WORKSPACE=1` (process environment only) trusts the current project
//! for one run.
//!
//! What an untrusted folder cannot do is decided in [`crate::resolve`] from each value's origin
//! (its [`crate::Scope`]); this module only answers "is this folder trusted, and why".

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::{ConfigError, SettingsFile};

/// The file holding the trust rules, under `$QCODE_HOME`.
pub const TRUSTED_FOLDERS_FILE: &str = "trustedFolders.json";

/// One rule of `trustedFolders.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRule {
    TrustFolder,
    TrustParent,
    DoNotTrust,
}

impl TrustRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrustFolder => "TRUST_FOLDER",
            Self::TrustParent => "TRUST_PARENT",
            Self::DoNotTrust => "DO_NOT_TRUST",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TRUST_FOLDER" => Some(Self::TrustFolder),
            "TRUST_PARENT" => Some(Self::TrustParent),
            "DO_NOT_TRUST" => Some(Self::DoNotTrust),
            _ => None,
        }
    }
}

/// Whether a folder's own files may take effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderTrust {
    /// Trusted by a rule in `trustedFolders.json` (the folder the rule names).
    Trusted { by_rule: PathBuf },
    /// Trusted for this run by `--trust` or `QCODE_TRUST_WORKSPACE=1`.
    TrustedForThisRun,
    /// No rule trusts it (the user has not been asked, or said no).
    Untrusted { refused: bool },
}

impl FolderTrust {
    pub fn is_trusted(&self) -> bool {
        match self {
            Self::Trusted { .. } | Self::TrustedForThisRun => true,
            Self::Untrusted { .. } => false,
        }
    }
}

/// `--trust` / `QCODE_TRUST_WORKSPACE=1` for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrustOverride {
    /// Use the rules in `trustedFolders.json`.
    #[default]
    Rules,
    /// Trust the current project for this run.
    TrustThisRun,
}

/// The rules of `trustedFolders.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedFolders {
    pub file: PathBuf,
    pub rules: BTreeMap<PathBuf, TrustRule>,
}

impl TrustedFolders {
    /// Reads `$QCODE_HOME/trustedFolders.json`; a missing file has no rules. Entries that are
    /// not absolute paths with a known rule are ignored (and reported by [`Self::load`]'s
    /// warnings), so a hand-edited typo cannot trust more than it names.
    pub fn load(qcode_home: &Path) -> Result<(Self, Vec<String>), ConfigError> {
        let file = qcode_home.join(TRUSTED_FOLDERS_FILE);
        let mut warnings = Vec::new();
        let mut rules = BTreeMap::new();
        if let Some(Value::Object(map)) = crate::settings::read_settings_file(&file)? {
            for (path, rule) in map {
                let parsed = rule.as_str().and_then(TrustRule::parse);
                match parsed {
                    Some(rule) if Path::new(&path).is_absolute() => {
                        rules.insert(normalize(Path::new(&path)), rule);
                    }
                    _ => warnings.push(format!(
                        "{}: ignoring the entry `{path}` (expected an absolute path and TRUST_FOLDER, TRUST_PARENT or DO_NOT_TRUST)",
                        file.display()
                    )),
                }
            }
        }
        Ok((Self { file, rules }, warnings))
    }

    /// The rule deciding `folder`: the most specific rule for it or an ancestor.
    pub fn decide(&self, folder: &Path) -> FolderTrust {
        let folder = normalize(folder);
        let mut best: Option<(usize, &Path, TrustRule)> = None;
        for (path, rule) in &self.rules {
            let scope: &Path = match rule {
                TrustRule::TrustParent => path.parent().unwrap_or(path),
                TrustRule::TrustFolder | TrustRule::DoNotTrust => path,
            };
            if folder.starts_with(scope) {
                let depth = scope.components().count();
                // Equal depth: DO_NOT_TRUST wins (the safer answer).
                let better = match best {
                    None => true,
                    Some((d, _, r)) => {
                        depth > d
                            || (depth == d
                                && *rule == TrustRule::DoNotTrust
                                && r != TrustRule::DoNotTrust)
                    }
                };
                if better {
                    best = Some((depth, path, *rule));
                }
            }
        }
        match best {
            Some((_, path, TrustRule::TrustFolder | TrustRule::TrustParent)) => {
                FolderTrust::Trusted {
                    by_rule: path.to_path_buf(),
                }
            }
            Some((_, _, TrustRule::DoNotTrust)) => FolderTrust::Untrusted { refused: true },
            None => FolderTrust::Untrusted { refused: false },
        }
    }

    /// Records `rule` for `folder` (locked, atomic; other entries and comments kept).
    pub fn set(qcode_home: &Path, folder: &Path, rule: TrustRule) -> Result<(), ConfigError> {
        let file = SettingsFile::at(qcode_home.join(TRUSTED_FOLDERS_FILE));
        let key = normalize(folder).display().to_string();
        file.set_value(&[key.as_str()], Value::String(rule.as_str().into()))
    }

    /// Removes the rule for exactly `folder`; returns whether there was one.
    pub fn remove(qcode_home: &Path, folder: &Path) -> Result<bool, ConfigError> {
        let file = SettingsFile::at(qcode_home.join(TRUSTED_FOLDERS_FILE));
        let key = normalize(folder).display().to_string();
        file.remove_value(&[key.as_str()])
    }
}

/// Decides the trust of `folder` for this run.
pub fn folder_trust(
    qcode_home: &Path,
    folder: &Path,
    over: TrustOverride,
) -> Result<(FolderTrust, Vec<String>), ConfigError> {
    let (rules, warnings) = TrustedFolders::load(qcode_home)?;
    let decided = rules.decide(folder);
    let trust = match (over, &decided) {
        (TrustOverride::TrustThisRun, FolderTrust::Untrusted { .. }) => {
            FolderTrust::TrustedForThisRun
        }
        _ => decided,
    };
    Ok((trust, warnings))
}

/// An absolute path with `.` and `..` resolved lexically and symlinks resolved where the path
/// exists, so `/repo/../elsewhere` can never match a rule for `/repo`.
pub fn normalize(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What `qcode trust` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustAction {
    /// Trust this folder and its subfolders.
    Trust(PathBuf),
    /// Remove the folder's own rule.
    Revoke(PathBuf),
    /// List the rules.
    List,
}

/// Carries out `action`; returns the text to print (and warnings about the rules file).
pub fn run_command(
    qcode_home: &Path,
    action: &TrustAction,
) -> Result<(String, Vec<String>), ConfigError> {
    match action {
        TrustAction::List => {
            let (rules, warnings) = TrustedFolders::load(qcode_home)?;
            if rules.rules.is_empty() {
                return Ok((
                    format!("No trusted folders ({}).", rules.file.display()),
                    warnings,
                ));
            }
            let lines: Vec<String> = rules
                .rules
                .iter()
                .map(|(path, rule)| format!("{}  {}", rule.as_str(), path.display()))
                .collect();
            Ok((lines.join("\n"), warnings))
        }
        TrustAction::Revoke(folder) => {
            let mut text = if TrustedFolders::remove(qcode_home, folder)? {
                format!("{} is no longer trusted.", folder.display())
            } else {
                format!("{} had no trust rule of its own.", folder.display())
            };
            let (rules, warnings) = TrustedFolders::load(qcode_home)?;
            if let FolderTrust::Trusted { by_rule } = rules.decide(folder) {
                text.push_str(&format!(
                    "\nIt is still trusted through {}: run `qcode trust --revoke {}` to change that.",
                    by_rule.display(),
                    by_rule.display()
                ));
            }
            Ok((text, warnings))
        }
        TrustAction::Trust(folder) => {
            if !folder.is_dir() {
                return Err(ConfigError::NotAFolder {
                    path: folder.clone(),
                });
            }
            TrustedFolders::set(qcode_home, folder, TrustRule::TrustFolder)?;
            Ok((
                format!(
                    "Trusted {} and its subfolders: their .qcode/settings.json and .env now take effect.",
                    normalize(folder).display()
                ),
                Vec::new(),
            ))
        }
    }
}

/// The question an interactive session asks once in an untrusted folder whose files want more
/// than an untrusted folder may have: the lines to show, or `None` when there is nothing to
/// ask (trusted, refused before, or nothing was ignored).
pub fn question(snapshot: &crate::ConfigSnapshot) -> Option<Vec<String>> {
    if snapshot.trust != (FolderTrust::Untrusted { refused: false }) {
        return None;
    }
    let wanted: Vec<String> = snapshot
        .ignored
        .iter()
        .filter(|i| i.source.scope() == crate::Scope::Project)
        .map(|i| {
            let file = i
                .source
                .file()
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            match &i.value {
                Some(v) => format!("  {} = {v}   ({file})", i.name),
                None => format!("  {}   ({file})", i.name),
            }
        })
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let mut lines = vec![format!(
        "The folder {} is not trusted. Its files want to set:",
        snapshot.project_root.display()
    )];
    lines.extend(wanted);
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(entries: &[(&str, TrustRule)]) -> TrustedFolders {
        TrustedFolders {
            file: PathBuf::from("/q/trustedFolders.json"),
            rules: entries
                .iter()
                .map(|(p, r)| (PathBuf::from(p), *r))
                .collect(),
        }
    }

    #[test]
    fn most_specific_rule_wins() {
        let r = rules(&[
            ("/work", TrustRule::TrustFolder),
            ("/work/vendor", TrustRule::DoNotTrust),
            ("/other/repo", TrustRule::TrustParent),
        ]);
        assert!(r.decide(Path::new("/work/app/src")).is_trusted());
        assert_eq!(
            r.decide(Path::new("/work/vendor/lib")),
            FolderTrust::Untrusted { refused: true }
        );
        assert!(r.decide(Path::new("/other/sibling")).is_trusted());
        assert_eq!(
            r.decide(Path::new("/workshop")),
            FolderTrust::Untrusted { refused: false },
            "a prefix of the name is not a parent"
        );
        assert!(!r.decide(Path::new("/work/../etc")).is_trusted());
    }

    #[test]
    fn set_remove_and_load_round_trip() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path();
        let repo = t.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        TrustedFolders::set(home, &repo, TrustRule::TrustFolder).unwrap();
        let (loaded, warnings) = TrustedFolders::load(home).unwrap();
        assert!(warnings.is_empty());
        assert!(loaded.decide(&repo.join("sub")).is_trusted());
        assert!(TrustedFolders::remove(home, &repo).unwrap());
        assert!(
            !TrustedFolders::load(home)
                .unwrap()
                .0
                .decide(&repo)
                .is_trusted()
        );
        std::fs::write(
            home.join(TRUSTED_FOLDERS_FILE),
            r#"{"relative/path": "TRUST_FOLDER", "/x": "TRUST_EVERYTHING"}"#,
        )
        .unwrap();
        let (loaded, warnings) = TrustedFolders::load(home).unwrap();
        assert!(loaded.rules.is_empty());
        assert_eq!(warnings.len(), 2);
    }

    #[test]
    fn the_override_trusts_only_for_this_run() {
        let t = tempfile::tempdir().unwrap();
        let (trust, _) = folder_trust(
            t.path(),
            Path::new("/some/repo"),
            TrustOverride::TrustThisRun,
        )
        .unwrap();
        assert_eq!(trust, FolderTrust::TrustedForThisRun);
        assert!(!t.path().join(TRUSTED_FOLDERS_FILE).exists());
    }
}
