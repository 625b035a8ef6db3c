//! Writing settings (`/privacy`, `qcode privacy on|off`, `/auth`, `qcode auth …`): typed
//! setters over one settings file.
//!
//! A write takes the file's lock (`<file>.lock`, see [`qcode_fs::FileLock`]), re-reads the
//! file, changes one key in place and replaces the file atomically. Everything else the user
//! wrote stays as it was: the other keys and their order, comments, blank lines, trailing
//! commas. A symlinked settings file stays a symlink and keeps its mode. Two processes writing
//! different keys at the same time both keep their change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use qcode_protocol::{ApprovalMode, AuthKind};
use serde_json::Value;

use crate::settings::parse_settings_text;
use crate::{ConfigError, Paths};

/// How long a writer waits for another one to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings qcode writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    /// `security.auth.selectedType`
    SelectedAuth,
    /// `privacy.usageStatisticsEnabled`
    UsageStatistics,
}

impl SettingKey {
    /// The key's path in the settings object.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Self::SelectedAuth => &["security", "auth", "selectedType"],
            Self::UsageStatistics => &["privacy", "usageStatisticsEnabled"],
        }
    }
}

/// One settings file to write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// The user's settings file (`~/.qcode/settings.json`).
    pub fn user(paths: &Paths) -> Self {
        Self::at(paths.user_settings())
    }

    /// The settings file at `path` (a project's `.qcode/settings.json`, tests).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the auth method (`security.auth.selectedType`).
    pub fn set_selected_auth(&self, kind: AuthKind) -> Result<(), ConfigError> {
        self.set_value(SettingKey::SelectedAuth.path(), kind.as_str().into())
    }

    /// Records the usage-statistics choice (`privacy.usageStatisticsEnabled`).
    pub fn set_usage_statistics(&self, enabled: bool) -> Result<(), ConfigError> {
        self.set_value(SettingKey::UsageStatistics.path(), enabled.into())
    }

    /// Adds (or replaces) the MCP server `name` in `mcpServers` with `entry` (an object in
    /// the settings shape, see [`crate::mcp`]). Other servers and keys stay as they were.
    pub fn set_mcp_server(&self, name: &str, entry: Value) -> Result<(), ConfigError> {
        self.set_value(&["mcpServers", name], entry)
    }

    /// Sets the model (`model.name`).
    pub fn set_model_name(&self, model: &str) -> Result<(), ConfigError> {
        self.set_value(&["model", "name"], model.into())
    }

    /// Sets the approval mode (`tools.approvalMode`).
    pub fn set_approval_mode(&self, mode: ApprovalMode) -> Result<(), ConfigError> {
        self.set_value(&["tools", "approvalMode"], mode.as_str().into())
    }

    /// Sets the context file names (`context.fileName`, a list).
    pub fn set_context_file_names(&self, names: &[String]) -> Result<(), ConfigError> {
        self.set_value(&["context", "fileName"], names.into())
    }

    /// Sets the pre-approved tools (`tools.allowed`, the whole list).
    pub fn set_allowed_tools(&self, entries: &[String]) -> Result<(), ConfigError> {
        self.set_value(&["tools", "allowed"], entries.into())
    }

    /// Sets the maximum model requests of a session (`model.maxSessionTurns`).
    pub fn set_max_session_turns(&self, turns: u32) -> Result<(), ConfigError> {
        self.set_value(&["model", "maxSessionTurns"], turns.into())
    }

    /// Turns transcript recording on or off (`general.chatRecording`).
    pub fn set_chat_recording(&self, enabled: bool) -> Result<(), ConfigError> {
        self.set_value(&["general", "chatRecording"], enabled.into())
    }

    /// Sets the transcript retention in days (`general.cleanupPeriodDays`).
    pub fn set_cleanup_period_days(&self, days: u32) -> Result<(), ConfigError> {
        self.set_value(&["general", "cleanupPeriodDays"], days.into())
    }

    /// Sets the OpenAI-compatible base URL (`security.auth.baseUrl`).
    pub fn set_base_url(&self, url: &str) -> Result<(), ConfigError> {
        self.set_value(&["security", "auth", "baseUrl"], url.into())
    }

    /// Sets (or replaces) the hook groups of one event (`hooks.<event>`, a list in the
    /// settings shape, see docs/hooks.md). Other events stay as they were.
    pub fn set_hooks_event(&self, event: &str, groups: Value) -> Result<(), ConfigError> {
        self.set_value(&["hooks", event], groups)
    }

    /// Sets `disableAllHooks`.
    pub fn set_disable_all_hooks(&self, disabled: bool) -> Result<(), ConfigError> {
        self.set_value(&["disableAllHooks"], disabled.into())
    }

    /// Removes the MCP server `name` from `mcpServers`; returns whether it was there.
    pub fn remove_mcp_server(&self, name: &str) -> Result<bool, ConfigError> {
        self.remove_value(&["mcpServers", name])
    }

    /// Removes a setting; returns whether it was there. A missing file or key changes nothing.
    pub fn remove(&self, key: SettingKey) -> Result<bool, ConfigError> {
        self.remove_value(key.path())
    }

    /// Sets the key at `keys` to `value`, creating the file and missing parent objects.
    /// A parent that exists but is not an object is an error and leaves the file unchanged.
    pub(crate) fn set_value(&self, keys: &[&str], value: Value) -> Result<(), ConfigError> {
        self.modify(
            |root| set_in(root, keys, &value, &self.path).map(|()| true),
            |after| lookup(after, keys) == Some(&value),
        )
        .map(|_| ())
    }

    /// Removes the key at `keys`; returns whether it was there.
    pub(crate) fn remove_value(&self, keys: &[&str]) -> Result<bool, ConfigError> {
        if std::fs::symlink_metadata(&self.path)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            return Ok(false);
        }
        self.modify(
            |root| Ok(remove_in(root, keys)),
            |after| lookup(after, keys).is_none(),
        )
    }

    /// Locked read-modify-write. `change` returns whether it changed anything; nothing is
    /// written if not. `took_effect` checks the result as the reader will see it (a key that
    /// appears twice is read from its last occurrence); if it fails, nothing is written.
    fn modify(
        &self,
        change: impl FnOnce(&CstObject) -> Result<bool, ConfigError>,
        took_effect: impl FnOnce(&Value) -> bool,
    ) -> Result<bool, ConfigError> {
        let path = &self.path;
        let _lock = qcode_fs::FileLock::acquire(path, LOCK_TIMEOUT)?;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::SettingsRead {
                    path: path.clone(),
                    source,
                });
            }
        };
        // The reader's own rules decide what is valid; a file it rejects is never rewritten.
        parse_settings_text(path, &text)?;
        let text = if text.trim().is_empty() {
            "{}\n".to_string()
        } else {
            text
        };
        let root = CstRootNode::parse(&text, &ParseOptions::default()).map_err(|e| {
            ConfigError::SettingsType {
                path: path.clone(),
                key: "(top level)".into(),
                message: e.to_string(),
            }
        })?;
        let object = root
            .object_value()
            .ok_or_else(|| ConfigError::SettingsType {
                path: path.clone(),
                key: "(top level)".into(),
                message: "expected a JSON object".into(),
            })?;
        if !change(&object)? {
            return Ok(false);
        }
        let mut updated = root.to_string();
        if !updated.ends_with('\n') {
            updated.push('\n');
        }
        if !took_effect(&parse_settings_text(path, &updated)?) {
            return Err(ConfigError::SettingsType {
                path: path.clone(),
                key: "(duplicate key)".into(),
                message: "the change would not take effect because a key on its path appears \
                          more than once; remove the duplicate"
                    .into(),
            });
        }
        qcode_fs::write_private(path, updated.as_bytes()).map_err(|e| {
            ConfigError::SettingsWrite {
                path: path.clone(),
                source: e.into_io_error(),
            }
        })?;
        Ok(true)
    }
}

fn set_in(root: &CstObject, keys: &[&str], value: &Value, path: &Path) -> Result<(), ConfigError> {
    let Some((last, parents)) = keys.split_last() else {
        return Err(ConfigError::SettingsType {
            path: path.to_path_buf(),
            key: "(top level)".into(),
            message: "no key given".into(),
        });
    };
    let mut node = root.clone();
    for (i, key) in parents.iter().enumerate() {
        let Some(prop) = node.get(key) else {
            // Create the rest of the path as one nested value.
            let nested = keys[i + 1..].iter().rev().fold(to_input(value), |acc, k| {
                CstInputValue::Object(vec![((*k).to_string(), acc)])
            });
            node.append(key, nested);
            return Ok(());
        };
        node =
            prop.value()
                .and_then(|v| v.as_object())
                .ok_or_else(|| ConfigError::SettingsType {
                    path: path.to_path_buf(),
                    key: keys[..=i].join("."),
                    message: format!(
                        "expected an object, so `{}` cannot be set; fix or remove `{}`",
                        keys.join("."),
                        keys[..=i].join(".")
                    ),
                })?;
    }
    match node.get(last) {
        Some(prop) => prop.set_value(to_input(value)),
        None => {
            node.append(last, to_input(value));
        }
    }
    Ok(())
}

fn remove_in(root: &CstObject, keys: &[&str]) -> bool {
    let Some((last, parents)) = keys.split_last() else {
        return false;
    };
    let mut node = root.clone();
    for key in parents {
        match node
            .get(key)
            .and_then(|p| p.value())
            .and_then(|v| v.as_object())
        {
            Some(child) => node = child,
            None => return false,
        }
    }
    match node.get(last) {
        Some(prop) => {
            prop.remove();
            true
        }
        None => false,
    }
}

/// The value at `keys`, if there is one.
fn lookup<'a>(root: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(root, |node, key| node.get(key))
}

fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> Value {
        crate::settings::read_settings_file(p).unwrap().unwrap()
    }

    #[test]
    fn creates_the_file_and_nested_keys() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("q/settings.json");
        let file = SettingsFile::at(&p);
        file.set_value(&["model", "name"], "m1".into()).unwrap();
        file.set_usage_statistics(false).unwrap();
        file.set_selected_auth(AuthKind::Openai).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\n  \"model\": {\n    \"name\": \"m1\"\n  },\n  \"privacy\": {\n    \
             \"usageStatisticsEnabled\": false\n  },\n  \"security\": {\n    \"auth\": {\n      \
             \"selectedType\": \"openai\"\n    }\n  }\n}\n"
        );
        let v = read(&p);
        assert_eq!(v["model"]["name"], "m1");
        assert_eq!(v["privacy"]["usageStatisticsEnabled"], false);
        assert_eq!(v["security"]["auth"]["selectedType"], "openai");
        let names: Vec<_> = std::fs::read_dir(t.path().join("q"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "settings.json" || n == "settings.json.lock"),
            "no temp left: {names:?}"
        );
    }

    #[test]
    fn the_import_writers_set_their_keys_and_keep_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("settings.json");
        std::fs::write(&p, "{\n  // mine\n  \"ui\": { \"theme\": \"dark\" }\n}\n").unwrap();
        let file = SettingsFile::at(&p);
        file.set_model_name("qwen3-coder").unwrap();
        file.set_approval_mode(ApprovalMode::AutoEdit).unwrap();
        file.set_context_file_names(&["QWEN.md".into(), "CLAUDE.md".into()])
            .unwrap();
        file.set_allowed_tools(&["run_shell_command(git status)".into()])
            .unwrap();
        file.set_max_session_turns(40).unwrap();
        file.set_chat_recording(false).unwrap();
        file.set_cleanup_period_days(7).unwrap();
        file.set_base_url("https://example.test/v1").unwrap();
        let groups =
            serde_json::json!([{"matcher": "", "hooks": [{"type": "command", "command": "true"}]}]);
        file.set_hooks_event("Stop", groups.clone()).unwrap();
        file.set_disable_all_hooks(true).unwrap();
        let v = read(&p);
        assert_eq!(v["model"]["name"], "qwen3-coder");
        assert_eq!(v["tools"]["approvalMode"], "auto-edit");
        assert_eq!(
            v["context"]["fileName"],
            serde_json::json!(["QWEN.md", "CLAUDE.md"])
        );
        assert_eq!(v["tools"]["allowed"][0], "run_shell_command(git status)");
        assert_eq!(v["model"]["maxSessionTurns"], 40);
        assert_eq!(v["general"]["chatRecording"], false);
        assert_eq!(v["general"]["cleanupPeriodDays"], 7);
        assert_eq!(v["security"]["auth"]["baseUrl"], "https://example.test/v1");
        assert_eq!(v["hooks"]["Stop"], groups);
        assert_eq!(v["disableAllHooks"], true);
        assert_eq!(v["ui"]["theme"], "dark");
        assert!(std::fs::read_to_string(&p).unwrap().contains("// mine"));
        let loaded = crate::settings::load_settings(&p, t.path()).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn refuses_to_clobber_broken_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("settings.json");
        std::fs::write(&p, "{ broken").unwrap();
        assert!(SettingsFile::at(&p).set_value(&["a"], 1.into()).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{ broken");
    }

    #[test]
    fn a_duplicate_key_is_an_error_not_a_silent_no_op() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("settings.json");
        let text = "{\"privacy\": {}, \"privacy\": {\"usageStatisticsEnabled\": true}}";
        std::fs::write(&p, text).unwrap();
        let err = SettingsFile::at(&p)
            .set_usage_statistics(false)
            .unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    }

    #[test]
    fn removing_from_a_missing_file_creates_nothing() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("q/settings.json");
        assert!(
            !SettingsFile::at(&p)
                .remove(SettingKey::SelectedAuth)
                .unwrap()
        );
        assert!(!t.path().join("q").exists());
    }

    #[test]
    fn remove_keeps_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("settings.json");
        let text = "{\n  // mine\n  \"ui\": { \"theme\": \"dark\" },\n  \"privacy\": {\n    \"usageStatisticsEnabled\": true\n  }\n}\n";
        std::fs::write(&p, text).unwrap();
        let file = SettingsFile::at(&p);
        assert!(file.remove(SettingKey::UsageStatistics).unwrap());
        let after = std::fs::read_to_string(&p).unwrap();
        assert!(after.contains("// mine"), "{after}");
        assert_eq!(read(&p)["ui"]["theme"], "dark");
        assert!(read(&p)["privacy"].get("usageStatisticsEnabled").is_none());
        assert!(!file.remove(SettingKey::UsageStatistics).unwrap());
        assert!(!file.remove(SettingKey::SelectedAuth).unwrap());
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            after,
            "nothing rewritten"
        );
    }
}
