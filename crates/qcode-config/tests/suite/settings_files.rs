use qcode_config::ConfigError;
use qcode_config::settings::{load_settings, strip_comments};

#[test]
fn syntax_error_names_file_line_and_column() {
    let t = tempfile::tempdir().unwrap();
    let user = t.path().join("settings.json");
    std::fs::write(&user, "{\n  \"model\": {\n    \"name\": \"x\"\n  \n}\n").unwrap();
    let err = load_settings(&user, t.path()).unwrap_err();
    match &err {
        ConfigError::SettingsSyntax { path, line, .. } => {
            assert_eq!(path, &user);
            assert_eq!(*line, 6);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("settings.json:6:"), "{err}");
}

#[test]
fn unknown_keys_warn_and_comments_allowed() {
    let t = tempfile::tempdir().unwrap();
    let user = t.path().join("settings.json");
    std::fs::write(
        &user,
        "// my settings\n{\n  \"model\": { \"name\": \"m\", \"bogus\": 1 }, /* c */\n  \"nope\": {\"a\": 1},\n}\n",
    )
    .unwrap();
    let loaded = load_settings(&user, t.path()).unwrap();
    assert_eq!(loaded.settings.model.name.as_deref(), Some("m"));
    let msgs: Vec<_> = loaded.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        msgs,
        vec![
            "unknown setting `model.bogus` is ignored",
            "unknown setting `nope` is ignored"
        ]
    );
}

#[test]
fn type_error_names_the_key() {
    let t = tempfile::tempdir().unwrap();
    let user = t.path().join("settings.json");
    std::fs::write(&user, r#"{"model": {"maxSessionTurns": "ten"}}"#).unwrap();
    let err = load_settings(&user, t.path()).unwrap_err().to_string();
    assert!(err.contains("`model.maxSessionTurns`"), "{err}");
    assert!(err.contains("settings.json"), "{err}");
    std::fs::write(&user, r#"{"tools": {"approvalMode": 5}}"#).unwrap();
    let err = load_settings(&user, t.path()).unwrap_err().to_string();
    assert!(err.contains("`tools.approvalMode`"), "{err}");
}

#[test]
fn project_settings_override_user_up_to_git_root() {
    let t = tempfile::tempdir().unwrap();
    let user = t.path().join("home/.qcode/settings.json");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(
        &user,
        r#"{"model": {"name": "user-model", "maxSessionTurns": 7}}"#,
    )
    .unwrap();
    let repo = t.path().join("repo");
    let sub = repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join(".qcode")).unwrap();
    std::fs::write(
        repo.join(".qcode/settings.json"),
        r#"{"model": {"name": "proj-model"}}"#,
    )
    .unwrap();
    let loaded = load_settings(&user, &sub).unwrap();
    assert_eq!(loaded.settings.model.name.as_deref(), Some("proj-model"));
    assert_eq!(loaded.settings.model.max_session_turns, Some(7));
    assert_eq!(
        loaded.project_file.unwrap(),
        repo.join(".qcode/settings.json")
    );

    // Above the git root nothing is picked up.
    std::fs::create_dir_all(t.path().join(".qcode")).unwrap();
    std::fs::remove_file(repo.join(".qcode/settings.json")).unwrap();
    std::fs::write(
        t.path().join(".qcode/settings.json"),
        r#"{"model": {"name": "outside"}}"#,
    )
    .unwrap();
    let loaded = load_settings(&user, &sub).unwrap();
    assert_eq!(loaded.settings.model.name.as_deref(), Some("user-model"));
}

#[test]
fn strip_comments_keeps_strings_and_positions() {
    let s = strip_comments("{\"a\": \"http://x//y\", // c\n \"b\": [1,2,],}");
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["a"], "http://x//y");
    assert_eq!(v["b"], serde_json::json!([1, 2]));
    assert_eq!(s.lines().count(), 2);
}

#[test]
fn a_trailing_comma_before_a_comment_is_allowed() {
    let s = strip_comments("{\"a\": {\"b\": true, // on\n /* x */ }, \"c\": [1, /* two */\n],\n}");
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["a"]["b"], true);
    assert_eq!(v["c"], serde_json::json!([1]));
    assert_eq!(
        strip_comments("{\"s\": \",}\"}"),
        "{\"s\": \",}\"}",
        "commas in strings stay"
    );
}
