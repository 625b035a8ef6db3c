//! The typed settings writers: comments, order, symlinks, modes and concurrent writers.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};

use qcode_config::{ConfigError, SettingsFile};
use qcode_protocol::AuthKind;
use serde_json::Value;

fn read(p: &Path) -> Value {
    qcode_config::settings::read_settings_file(p)
        .unwrap()
        .unwrap()
}

const COMMENTED: &str = r#"{
  // The user's favourite model.
  "model": { "name": "qwen3-coder-plus" },
  /* Telemetry:
     decided later */
  "privacy": {
    "usageStatisticsEnabled": true, // was on
  },
  "ui": { "theme": "dark" },
  "context": { "fileName": ["QWEN.md"] },
}
"#;

#[test]
fn comments_order_and_other_keys_are_kept() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    fs::write(&p, COMMENTED).unwrap();
    SettingsFile::at(&p).set_usage_statistics(false).unwrap();
    let after = fs::read_to_string(&p).unwrap();
    // Exactly one thing changed.
    assert_eq!(
        after,
        COMMENTED.replace(
            "\"usageStatisticsEnabled\": true,",
            "\"usageStatisticsEnabled\": false,"
        )
    );
    let v = read(&p);
    assert_eq!(v["privacy"]["usageStatisticsEnabled"], false);
    assert_eq!(v["model"]["name"], "qwen3-coder-plus");
}

#[test]
fn a_missing_nested_key_is_created_after_the_others() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    fs::write(&p, COMMENTED).unwrap();
    SettingsFile::at(&p)
        .set_selected_auth(AuthKind::QwenOauth)
        .unwrap();
    let after = fs::read_to_string(&p).unwrap();
    assert!(
        after.starts_with("{\n  // The user's favourite model.\n"),
        "{after}"
    );
    assert!(
        after.contains("/* Telemetry:\n     decided later */"),
        "{after}"
    );
    let order: Vec<usize> = [
        "\"model\"",
        "\"privacy\"",
        "\"ui\"",
        "\"context\"",
        "\"security\"",
    ]
    .iter()
    .map(|k| after.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{after}");
    let v = read(&p);
    assert_eq!(v["security"]["auth"]["selectedType"], "qwen-oauth");
    assert_eq!(v["privacy"]["usageStatisticsEnabled"], true);
}

#[test]
fn an_existing_parent_object_gets_the_new_key() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    fs::write(
        &p,
        "{ \"security\": { \"auth\": { \"baseUrl\": \"http://x\" } } }",
    )
    .unwrap();
    SettingsFile::at(&p)
        .set_selected_auth(AuthKind::Openai)
        .unwrap();
    let v = read(&p);
    assert_eq!(v["security"]["auth"]["baseUrl"], "http://x");
    assert_eq!(v["security"]["auth"]["selectedType"], "openai");
}

#[test]
fn a_non_object_on_the_path_is_a_clear_error_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    let text = "{\n  \"privacy\": \"off\" // oops\n}\n";
    fs::write(&p, text).unwrap();
    let err = SettingsFile::at(&p).set_usage_statistics(true).unwrap_err();
    assert!(
        matches!(&err, ConfigError::SettingsType { key, .. } if key == "privacy"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&*p.to_string_lossy()), "{message}");
    assert!(
        message.contains("privacy.usageStatisticsEnabled"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
}

#[cfg(unix)]
#[test]
fn a_symlinked_settings_file_stays_a_symlink_and_keeps_its_mode() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let t = tempfile::tempdir().unwrap();
    let real = t.path().join("dotfiles/qcode-settings.json");
    fs::create_dir_all(real.parent().unwrap()).unwrap();
    fs::write(&real, COMMENTED).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
    let link = t.path().join("home/.qcode/settings.json");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    symlink(&real, &link).unwrap();

    SettingsFile::at(&link).set_usage_statistics(false).unwrap();

    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), real);
    assert_eq!(read(&real)["privacy"]["usageStatisticsEnabled"], false);
    assert!(fs::read_to_string(&real).unwrap().contains("// was on"));
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[cfg(unix)]
#[test]
fn the_mode_of_a_plain_file_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    fs::write(&p, "{}").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    SettingsFile::at(&p).set_usage_statistics(true).unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(read(&p)["privacy"]["usageStatisticsEnabled"], true);
}

/// Two writers started together, each with its own file handles, set different keys: both
/// changes survive, every time.
#[test]
fn concurrent_writers_both_keep_their_change() {
    let t = tempfile::tempdir().unwrap();
    for round in 0..30 {
        let p = t.path().join(format!("r{round}/settings.json"));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, COMMENTED).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let writers: Vec<_> = [0, 1]
            .into_iter()
            .map(|who| {
                let (p, barrier) = (p.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let file = SettingsFile::at(&p);
                    barrier.wait();
                    if who == 0 {
                        file.set_usage_statistics(false)
                    } else {
                        file.set_selected_auth(AuthKind::Openai)
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap().unwrap();
        }
        let v = read(&p);
        assert_eq!(
            v["privacy"]["usageStatisticsEnabled"], false,
            "round {round}"
        );
        assert_eq!(
            v["security"]["auth"]["selectedType"], "openai",
            "round {round}"
        );
        assert_eq!(v["ui"]["theme"], "dark", "round {round}");
    }
}
