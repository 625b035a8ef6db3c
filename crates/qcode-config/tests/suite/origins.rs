//! Every resolved value knows where it came from, and whose choice that was.

use std::collections::HashMap;
use std::path::PathBuf;

use qcode_config::{
    CliOverrides, ConfigSnapshot, DotEnvPlace, EnvLayer, Paths, Scope, Source, Sourced,
    TrustOverride,
};
use qcode_protocol::ApprovalMode;

struct Fixture {
    _t: tempfile::TempDir,
    paths: Paths,
    cwd: PathBuf,
}

impl Fixture {
    fn new(user: &str, project: Option<&str>) -> Self {
        let t = tempfile::tempdir().unwrap();
        let paths = Paths::new(t.path().join("home"), None);
        std::fs::create_dir_all(&paths.qcode_home).unwrap();
        std::fs::write(paths.user_settings(), user).unwrap();
        let cwd = t.path().join("work");
        std::fs::create_dir_all(cwd.join(".qcode")).unwrap();
        if let Some(p) = project {
            std::fs::write(cwd.join(".qcode/settings.json"), p).unwrap();
        }
        Self { _t: t, paths, cwd }
    }

    fn project_file(&self) -> PathBuf {
        self.cwd.join(".qcode/settings.json")
    }

    fn load(&self, vars: &[(&str, &str)], cli: &CliOverrides) -> ConfigSnapshot {
        let env = EnvLayer::from_map(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        );
        ConfigSnapshot::load(self.paths.clone(), &self.cwd, env, cli)
            .unwrap()
            .0
    }
}

fn source<T>(v: &Option<Sourced<T>>) -> &Source {
    &v.as_ref().unwrap().source
}

#[test]
fn each_key_names_the_settings_file_that_set_it() {
    let f = Fixture::new(
        r#"{"model": {"name": "user-model", "temperature": 0.5, "maxTokens": 100,
                      "contextWindow": 1000, "maxSessionTurns": 7},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"otlpEndpoint": "http://collector:4318"},
            "security": {"auth": {"qwenOAuthBaseUrl": "http://oauth.example"}}}"#,
        Some(
            r#"{"tools": {"approvalMode": "yolo", "allowed": ["run_shell_command"]},
                "context": {"fileName": "PROJECT.md"}, "model": {"temperature": 0.9}}"#,
        ),
    );
    let user = Source::UserSettings(f.paths.user_settings());
    let project = Source::ProjectSettings(f.project_file());
    // A trusted folder, so that every project key applies.
    let trusted = CliOverrides {
        trust: TrustOverride::TrustThisRun,
        ..CliOverrides::default()
    };
    let s = f.load(&[], &trusted);

    assert_eq!(s.model.as_ref().unwrap().value, "user-model");
    assert_eq!(*source(&s.model), user);
    assert_eq!(s.temperature.as_ref().unwrap().value, 0.9);
    assert_eq!(
        *source(&s.temperature),
        project,
        "the project file wins per key"
    );
    assert_eq!(*source(&s.max_tokens), user);
    assert_eq!(*source(&s.context_window), user);
    assert_eq!(*source(&s.max_session_turns), user);
    assert_eq!(*source(&s.usage_statistics_setting), user);
    assert_eq!(*source(&s.otlp_endpoint), user);
    assert_eq!(s.qwen_oauth_base_url.source, user);
    assert_eq!(s.approval_mode.value, ApprovalMode::Yolo);
    assert_eq!(s.approval_mode.source, project);
    assert_eq!(s.approval_mode.scope(), Scope::Project);
    assert_eq!(s.allowed_tools.len(), 1);
    assert_eq!(s.allowed_tools[0].source, project);
    assert_eq!(s.context_file_names.value, vec!["PROJECT.md".to_string()]);
    assert_eq!(s.context_file_names.source, project);
    assert_eq!(s.openai_base_url.source, Source::Default);
    assert_eq!(s.openai_base_url.scope(), Scope::Default);
    assert_eq!(s.model.as_ref().unwrap().scope(), Scope::User);
}

#[test]
fn flags_and_defaults() {
    let f = Fixture::new(r#"{"tools": {"allowed": ["glob"]}}"#, None);
    let cli = CliOverrides {
        approval_mode: Some(ApprovalMode::Plan),
        allowed_tools: vec!["edit".into(), "glob".into()],
        max_session_turns: Some(3),
        ..Default::default()
    };
    let s = f.load(&[], &cli);
    assert_eq!(s.approval_mode.source, Source::Cli("--approval-mode"));
    assert_eq!(s.approval_mode.scope(), Scope::Session);
    let tools: Vec<_> = s
        .allowed_tools
        .iter()
        .map(|t| (t.value.as_str(), t.scope()))
        .collect();
    assert_eq!(tools, vec![("glob", Scope::User), ("edit", Scope::Session)]);
    assert_eq!(
        *source(&s.max_session_turns),
        Source::Cli("--max-session-turns")
    );
    assert_eq!(s.context_file_names.source, Source::Default);
    assert_eq!(s.qwen_oauth_base_url.source, Source::Default);
    assert!(s.temperature.is_none() && s.usage_statistics_setting.is_none());

    let s = f.load(
        &[("QCODE_QWEN_OAUTH_BASE_URL", "http://o.example")],
        &CliOverrides::default(),
    );
    assert_eq!(
        s.qwen_oauth_base_url.source,
        Source::Env("QCODE_QWEN_OAUTH_BASE_URL")
    );
    assert_eq!(s.approval_mode.source, Source::Default);
}

#[test]
fn a_dotenv_value_says_whose_file_it_is() {
    let f = Fixture::new("{}", None);
    std::fs::write(f.paths.qcode_home.join(".env"), "OPENAI_MODEL=user-level\n").unwrap();
    let s = f.load(&[], &CliOverrides::default());
    assert_eq!(
        *source(&s.model),
        Source::DotEnv {
            var: "OPENAI_MODEL",
            path: f.paths.qcode_home.join(".env"),
            place: DotEnvPlace::User,
        }
    );
    assert_eq!(s.model.as_ref().unwrap().scope(), Scope::User);

    std::fs::write(f.cwd.join(".env"), "OPENAI_MODEL=from-project\n").unwrap();
    let s = f.load(&[], &CliOverrides::default());
    assert_eq!(
        *source(&s.model),
        Source::DotEnv {
            var: "OPENAI_MODEL",
            path: f.cwd.join(".env"),
            place: DotEnvPlace::Project,
        }
    );
    assert_eq!(s.model.as_ref().unwrap().scope(), Scope::Project);
}

#[test]
fn an_invalid_value_names_the_file_that_set_it() {
    let f = Fixture::new(
        r#"{"tools": {"approvalMode": "auto-edit"}}"#,
        Some(r#"{"tools": {"approvalMode": "sometimes"}}"#),
    );
    let err = ConfigSnapshot::load(
        f.paths.clone(),
        &f.cwd,
        EnvLayer::default(),
        &CliOverrides {
            trust: TrustOverride::TrustThisRun,
            ..CliOverrides::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("project settings file"), "{err}");
    assert!(err.contains(&*f.project_file().to_string_lossy()), "{err}");
}

#[test]
fn mcp_discovery_timeout_defaults_to_ten_seconds_and_names_its_file() {
    let f = Fixture::new("{}", None);
    let s = f.load(&[], &CliOverrides::default());
    assert_eq!(s.mcp_discovery_timeout_ms.value, 10_000);
    assert_eq!(s.mcp_discovery_timeout_ms.source, Source::Default);
    let f = Fixture::new(r#"{"mcp": {"discoveryTimeout": 2500}}"#, None);
    let s = f.load(&[], &CliOverrides::default());
    assert_eq!(s.mcp_discovery_timeout_ms.value, 2500);
    assert_eq!(
        s.mcp_discovery_timeout_ms.source,
        Source::UserSettings(f.paths.user_settings())
    );
    assert!(
        s.warnings.iter().all(|w| !w.message.contains("mcp.")),
        "a known key: {:?}",
        s.warnings
    );
}
