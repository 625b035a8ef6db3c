use std::collections::HashMap;

use qcode_config::resolve::{ApiKey, DEFAULT_OPENAI_BASE_URL};
use qcode_config::{CliOverrides, ConfigError, ConfigSnapshot, EnvLayer, Paths, Source};
use qcode_protocol::{ApprovalMode, AuthKind};

struct Fixture {
    _t: tempfile::TempDir,
    paths: Paths,
    cwd: std::path::PathBuf,
}

fn fixture(settings: &str, dotenv: Option<&str>) -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let paths = Paths::new(t.path().join("home"), None);
    std::fs::create_dir_all(&paths.qcode_home).unwrap();
    std::fs::write(paths.user_settings(), settings).unwrap();
    let cwd = t.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    if let Some(d) = dotenv {
        std::fs::write(cwd.join(".env"), d).unwrap();
    }
    Fixture { _t: t, paths, cwd }
}

fn env(vars: &[(&str, &str)]) -> EnvLayer {
    EnvLayer::from_map(
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    )
}

#[test]
fn cli_beats_env_beats_dotenv_beats_settings() {
    let f = fixture(
        r#"{"model": {"name": "from-settings"}, "security": {"auth": {"baseUrl": "http://settings/v1"}}}"#,
        Some(
            "OPENAI_MODEL=from-dotenv\nOPENAI_BASE_URL=http://dotenv/v1\nOPENAI_API_KEY=dotenv-key\n",
        ),
    );
    let (snap, _) =
        ConfigSnapshot::load(f.paths.clone(), &f.cwd, env(&[]), &CliOverrides::default()).unwrap();
    assert_eq!(snap.model.as_ref().unwrap().value, "from-dotenv");
    assert_eq!(snap.openai_base_url.value, "http://dotenv/v1");
    assert_eq!(
        snap.openai_api_key.as_ref().unwrap().value.expose(),
        "dotenv-key"
    );
    assert!(matches!(
        snap.openai_api_key.as_ref().unwrap().source,
        Source::DotEnv {
            var: "OPENAI_API_KEY",
            ..
        }
    ));

    let (snap, _) = ConfigSnapshot::load(
        f.paths.clone(),
        &f.cwd,
        env(&[
            ("OPENAI_MODEL", "from-env"),
            ("OPENAI_BASE_URL", "http://env/v1"),
        ]),
        &CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(snap.model.as_ref().unwrap().value, "from-env");
    assert_eq!(snap.openai_base_url.source, Source::Env("OPENAI_BASE_URL"));

    let cli = CliOverrides {
        model: Some("from-cli".into()),
        openai_api_key: Some(ApiKey::new("cli-key")),
        ..Default::default()
    };
    let (snap, _) = ConfigSnapshot::load(
        f.paths.clone(),
        &f.cwd,
        env(&[("OPENAI_MODEL", "from-env")]),
        &cli,
    )
    .unwrap();
    assert_eq!(snap.model.as_ref().unwrap().value, "from-cli");
    assert_eq!(
        snap.openai_api_key.as_ref().unwrap().value.expose(),
        "cli-key"
    );
    assert!(
        !format!("{snap:?}").contains("cli-key"),
        "Debug must redact keys"
    );
}

#[test]
fn settings_and_defaults_apply_last() {
    let f = fixture(
        r#"{"model": {"name": "from-settings"}, "tools": {"approvalMode": "auto-edit", "allowed": ["glob"]},
            "security": {"auth": {"selectedType": "qwen-oauth"}}}"#,
        None,
    );
    let cli = CliOverrides {
        allowed_tools: vec!["edit".into()],
        ..Default::default()
    };
    let (snap, _) = ConfigSnapshot::load(f.paths.clone(), &f.cwd, env(&[]), &cli).unwrap();
    assert_eq!(snap.model.unwrap().value, "from-settings");
    assert_eq!(snap.openai_base_url.value, DEFAULT_OPENAI_BASE_URL);
    assert_eq!(snap.openai_base_url.source, Source::Default);
    assert_eq!(snap.approval_mode.value, ApprovalMode::AutoEdit);
    assert_eq!(
        snap.allowed_tools
            .iter()
            .map(|t| t.value.clone())
            .collect::<Vec<_>>(),
        vec!["glob".to_string(), "edit".to_string()]
    );
    assert_eq!(snap.auth_type.unwrap().value, AuthKind::QwenOauth);
    assert_eq!(
        snap.context_file_names.value,
        vec!["QWEN.md".to_string(), "AGENTS.md".to_string()]
    );
}

#[test]
fn qwen_model_is_fallback_for_openai_model() {
    let f = fixture("{}", None);
    let (snap, _) = ConfigSnapshot::load(
        f.paths.clone(),
        &f.cwd,
        env(&[("QWEN_MODEL", "qm")]),
        &CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(snap.model.unwrap().value, "qm");
}

#[test]
fn bad_values_are_config_errors_naming_the_source() {
    let f = fixture("{}", Some("OPENAI_BASE_URL=ftp://nope\n"));
    let err = ConfigSnapshot::load(f.paths.clone(), &f.cwd, env(&[]), &CliOverrides::default())
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidValue { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("ftp://nope") && msg.contains(".env") && msg.contains("scheme"),
        "{msg}"
    );

    let f = fixture(r#"{"tools": {"approvalMode": "sometimes"}}"#, None);
    let msg = ConfigSnapshot::load(f.paths.clone(), &f.cwd, env(&[]), &CliOverrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("tools.approvalMode") && msg.contains("auto-edit"),
        "{msg}"
    );
}
