//! Atomic edits of a settings file (used by `/privacy`, `qcode privacy on|off`, `/auth`).
//! Other keys are kept; comments in the edited file are not preserved.

use std::path::Path;

use serde_json::Value;

use crate::ConfigError;
use crate::settings::read_settings_file;

/// Sets `keys` (a dotted path split into parts) to `value` in the settings file at `path`,
/// creating the file and its directory if needed. Written to a temporary file and renamed, so
/// the settings file is never left half-written.
pub fn update_setting(path: &Path, keys: &[&str], value: Value) -> Result<(), ConfigError> {
    let mut root = read_settings_file(path)?.unwrap_or_else(|| Value::Object(Default::default()));
    let mut node = &mut root;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(map) = node else {
            return Err(ConfigError::SettingsType {
                path: path.to_path_buf(),
                key: keys[..i].join("."),
                message: "expected an object".into(),
            });
        };
        if i + 1 == keys.len() {
            map.insert((*key).to_string(), value);
            break;
        }
        node = map
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    let mut text = serde_json::to_string_pretty(&root).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    qcode_fs::write_atomic(path, text.as_bytes(), qcode_fs::Mode::KeepOr(0o644)).map_err(|e| {
        ConfigError::SettingsWrite {
            path: path.to_path_buf(),
            source: e.into_io_error(),
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keeps_other_keys_and_creates_parents() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("q/settings.json");
        update_setting(&p, &["model", "name"], "m1".into()).unwrap();
        update_setting(&p, &["privacy", "usageStatisticsEnabled"], false.into()).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(v["model"]["name"], "m1");
        assert_eq!(v["privacy"]["usageStatisticsEnabled"], false);
        assert_eq!(
            std::fs::read_dir(t.path().join("q")).unwrap().count(),
            1,
            "no temp left"
        );
    }

    #[test]
    fn refuses_to_clobber_broken_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("settings.json");
        std::fs::write(&p, "{ broken").unwrap();
        assert!(update_setting(&p, &["a"], 1.into()).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{ broken");
    }
}
