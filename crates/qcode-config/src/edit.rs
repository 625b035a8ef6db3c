//! Atomic edits of a settings file (used by `/privacy`, `qcode privacy on|off`, `/auth`).
//! Other keys are kept; comments in the edited file are not preserved.

use std::io::Write;
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
    write_atomic(path, text.as_bytes(), 0o644).map_err(|source| ConfigError::SettingsWrite {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (created with
/// `mode` from the start), flushed to disk, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = opts.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
