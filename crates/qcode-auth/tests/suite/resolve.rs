//! Which method applies, with which base URL and model, and what is said when nothing fits —
//! over real configuration snapshots in a temp home (environment given as a map).

use std::collections::HashMap;
use std::path::PathBuf;

use qcode_auth::{Active, Resolver, signed_out};
use qcode_config::{CliOverrides, ConfigSnapshot, EnvLayer, Paths};
use qcode_protocol::{AuthKind, ErrorKind, Problem};

struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    Home {
        _dir: dir,
        home,
        project,
    }
}

impl Home {
    fn snapshot(&self, env: &[(&str, &str)], cli: &CliOverrides) -> ConfigSnapshot {
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let paths = Paths::new(self.home.clone(), None);
        ConfigSnapshot::load(paths, &self.project, EnvLayer::from_map(vars), cli)
            .unwrap()
            .0
    }

    fn resolve(&self, env: &[(&str, &str)], cli: &CliOverrides) -> Result<Active, Problem> {
        Resolver::new(self.snapshot(env, cli)).initial()
    }

    fn settings(&self, json: &str) {
        std::fs::create_dir_all(self.home.join(".qcode")).unwrap();
        std::fs::write(self.home.join(".qcode/settings.json"), json).unwrap();
    }

    fn stored_key(&self, base_url: &str, model: Option<&str>) {
        std::fs::create_dir_all(self.home.join(".qcode")).unwrap();
        let mut v = serde_json::json!({ "base_url": base_url, "api_key": "sk-stored" });
        if let Some(m) = model {
            v["model"] = m.into();
        }
        std::fs::write(self.home.join(".qcode/credentials.json"), v.to_string()).unwrap();
    }

    fn qwen_login(&self) {
        std::fs::create_dir_all(self.home.join(".qwen")).unwrap();
        let creds = serde_json::json!({
            "access_token": "at-1",
            "refresh_token": "rt-1",
            "token_type": "Bearer",
            "resource_url": "portal.qwen.example",
            "expiry_date": 4_102_444_800_000_i64,
        });
        std::fs::write(self.home.join(".qwen/oauth_creds.json"), creds.to_string()).unwrap();
    }
}

fn no_flags() -> CliOverrides {
    CliOverrides::default()
}

async fn endpoint(a: &Active) -> (String, String) {
    let e = a.credentials.endpoint().await.unwrap();
    let bearer = e.bearer.as_ref().map(|b| b.expose().to_string());
    (e.base_url, bearer.unwrap_or_default())
}

#[tokio::test]
async fn a_key_from_the_environment_means_openai() {
    let h = home();
    h.qwen_login();
    h.stored_key("https://stored.example/v1", Some("stored-model"));
    let a = h
        .resolve(
            &[
                ("OPENAI_API_KEY", "sk-env"),
                ("OPENAI_BASE_URL", "https://env.example/v1"),
                ("OPENAI_MODEL", "env-model"),
            ],
            &no_flags(),
        )
        .unwrap();
    assert_eq!(a.kind, AuthKind::Openai);
    assert_eq!(a.model, "env-model");
    assert_eq!(
        endpoint(&a).await,
        ("https://env.example/v1".into(), "sk-env".into())
    );
}

#[tokio::test]
async fn the_explicit_choice_wins_over_an_env_key() {
    let h = home();
    h.qwen_login();
    let by_flag = CliOverrides {
        auth_type: Some(AuthKind::QwenOauth),
        ..CliOverrides::default()
    };
    let env = [("OPENAI_API_KEY", "sk-env"), ("OPENAI_MODEL", "m")];
    let a = h.resolve(&env, &by_flag).unwrap();
    assert_eq!(a.kind, AuthKind::QwenOauth);
    assert_eq!(
        endpoint(&a).await,
        ("https://portal.qwen.example/v1".into(), "at-1".into())
    );

    // In settings, and incomplete: the problem names who chose it.
    let h = home();
    h.settings(r#"{"security":{"auth":{"selectedType":"qwen-oauth"}}}"#);
    let p = h.resolve(&env, &no_flags()).err().unwrap();
    assert_eq!(p.kind, ErrorKind::Auth);
    assert_eq!(
        p.message,
        format!(
            "Qwen OAuth is selected (by user settings file {}) but you are not signed in",
            h.home.join(".qcode/settings.json").display()
        )
    );
    assert_eq!(
        p.hint.as_deref(),
        Some("run `qcode auth qwen-oauth` (or /auth in the interactive session)")
    );
}

#[tokio::test]
async fn a_stored_key_means_openai_with_its_base_url_and_model() {
    let h = home();
    h.qwen_login();
    h.stored_key("https://stored.example/v1", Some("stored-model"));
    let a = h.resolve(&[], &no_flags()).unwrap();
    assert_eq!(a.kind, AuthKind::Openai);
    assert_eq!(a.model, "stored-model");
    assert_eq!(
        endpoint(&a).await,
        ("https://stored.example/v1".into(), "sk-stored".into())
    );
}

/// A key saved with `qcode auth api-key` goes only to the base URL it was saved with: another
/// base URL from flag, environment or settings gets no key (a local server needs none; a
/// remote one is an auth problem naming both), never the saved one.
#[tokio::test]
async fn a_saved_key_is_sent_only_to_its_own_base_url() {
    let h = home();
    h.stored_key("https://stored.example/v1", Some("stored-model"));
    let a = h.resolve(&[], &no_flags()).unwrap();
    assert_eq!(
        endpoint(&a).await,
        ("https://stored.example/v1".into(), "sk-stored".into())
    );
    assert_eq!(a.model, "stored-model");
    // The same URL named again (trailing slash, settings) still gets it.
    h.settings(r#"{"security":{"auth":{"baseUrl":"https://stored.example/v1/"}}}"#);
    let a = h.resolve(&[], &no_flags()).unwrap();
    assert_eq!(endpoint(&a).await.1, "sk-stored");
    // Another remote URL, from any source: refused, naming both.
    let by_flag = CliOverrides {
        openai_base_url: Some("https://flag.example/v1".into()),
        ..CliOverrides::default()
    };
    for p in [
        h.resolve(&[], &by_flag).err().unwrap(),
        h.resolve(
            &[("OPENAI_BASE_URL", "https://env.example/v1")],
            &no_flags(),
        )
        .err()
        .unwrap(),
    ] {
        assert_eq!(p.kind, ErrorKind::Auth);
        assert!(
            p.message.contains("https://stored.example/v1"),
            "{}",
            p.message
        );
        assert!(!p.message.contains("sk-stored"));
        assert!(p.hint.as_deref().unwrap().contains("qcode auth api-key"));
    }
    // A local server: no key at all.
    let a = h
        .resolve(
            &[
                ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
                ("OPENAI_MODEL", "llama"),
            ],
            &no_flags(),
        )
        .unwrap();
    assert_eq!(
        endpoint(&a).await,
        ("http://127.0.0.1:11434/v1".into(), String::new())
    );
}

/// `OPENAI_BASE_URL=http://127.0.0.1:…` alone is enough for a local server: no key, no
/// `Authorization`; `--openai-api-key ""` counts as unset.
#[tokio::test]
async fn a_local_server_needs_no_key() {
    let h = home();
    let empty_key = CliOverrides {
        openai_api_key: Some(qcode_protocol::Secret::new("")),
        ..CliOverrides::default()
    };
    let a = h
        .resolve(
            &[
                ("OPENAI_BASE_URL", "http://localhost:8080/v1"),
                ("OPENAI_MODEL", "smollm2"),
            ],
            &empty_key,
        )
        .unwrap();
    assert_eq!(a.kind, AuthKind::Openai);
    let e = a.credentials.endpoint().await.unwrap();
    assert!(e.bearer.is_none());
    // A remote URL still needs one.
    let p = h
        .resolve(
            &[
                ("OPENAI_BASE_URL", "https://api.example/v1"),
                ("OPENAI_MODEL", "m"),
            ],
            &no_flags(),
        )
        .err()
        .unwrap();
    assert_eq!(p.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn a_corrupt_credentials_file_says_it_is_corrupt() {
    let h = home();
    std::fs::create_dir_all(h.home.join(".qcode")).unwrap();
    std::fs::write(h.home.join(".qcode/credentials.json"), "{ not json").unwrap();
    let p = h.resolve(&[], &no_flags()).err().unwrap();
    assert!(
        p.message.contains("credentials.json") && !p.message.contains("no API key is configured"),
        "{}",
        p.message
    );
}

#[tokio::test]
async fn qwen_credentials_mean_qwen_oauth_with_its_default_model() {
    let h = home();
    h.qwen_login();
    let model = |env: &[(&str, &str)], cli: &CliOverrides| {
        let a = h.resolve(env, cli).unwrap();
        assert_eq!(a.kind, AuthKind::QwenOauth);
        a.model
    };
    assert_eq!(model(&[], &no_flags()), "coder-model");
    // OPENAI_MODEL belongs to the key provider.
    assert_eq!(
        model(&[("OPENAI_MODEL", "gpt-x")], &no_flags()),
        "coder-model"
    );
    assert_eq!(model(&[("QWEN_MODEL", "qwen-x")], &no_flags()), "qwen-x");
    let by_flag = CliOverrides {
        model: Some("flag-model".into()),
        ..CliOverrides::default()
    };
    assert_eq!(model(&[("OPENAI_MODEL", "gpt-x")], &by_flag), "flag-model");
    h.settings(r#"{"model":{"name":"settings-model"}}"#);
    assert_eq!(model(&[], &no_flags()), "settings-model");
}

#[tokio::test]
async fn no_credentials_is_an_auth_problem_with_every_way_out() {
    let h = home();
    let p = h.resolve(&[], &no_flags()).err().unwrap();
    assert_eq!(p.kind, ErrorKind::Auth);
    assert_eq!(
        p.message,
        "no credentials: no API key is configured and you are not signed in with Qwen"
    );
    assert_eq!(
        p.hint.as_deref(),
        Some(
            "set OPENAI_API_KEY (and OPENAI_MODEL, optionally OPENAI_BASE_URL) in the environment or a .env file; no .env file was found (looked for .qcode/.env and .env from the working directory up, then ~/.qcode/.env and ~/.env); or run `qcode auth api-key` or `qcode auth qwen-oauth`"
        )
    );

    // openai chosen by flag without a key: the key hint names the .env file in use.
    std::fs::write(h.project.join(".env"), "OPENAI_MODEL=m\n").unwrap();
    let by_flag = CliOverrides {
        auth_type: Some(AuthKind::Openai),
        ..CliOverrides::default()
    };
    let p = h.resolve(&[], &by_flag).err().unwrap();
    assert_eq!(p.kind, ErrorKind::Auth);
    assert_eq!(
        p.message,
        "OpenAI-compatible auth is selected (by command-line flag --auth-type) but no API key is set"
    );
    let hint = p.hint.unwrap();
    assert!(
        hint.ends_with(&format!(
            "the .env file in use is {}",
            h.project.join(".env").display()
        )),
        "{hint}"
    );
}

#[tokio::test]
async fn a_key_without_a_model_is_a_config_problem() {
    let h = home();
    let p = h
        .resolve(&[("OPENAI_API_KEY", "sk-env")], &no_flags())
        .err()
        .unwrap();
    assert_eq!(p.kind, ErrorKind::Config);
    assert_eq!(
        p.one_line(),
        "no model is configured for the OpenAI-compatible provider; set OPENAI_MODEL (environment or .env) or pass --model; the base URL is https://api.openai.com/v1"
    );
}

#[tokio::test]
async fn a_signed_out_session_says_how_to_sign_in() {
    let h = home();
    let a = signed_out(&h.snapshot(&[], &no_flags()));
    assert_eq!(a.kind, AuthKind::QwenOauth);
    assert_eq!(a.model, "coder-model");
    let e = a.credentials.endpoint().await.err().unwrap();
    assert_eq!(
        e.to_string(),
        "could not obtain credentials: not signed in: run /auth"
    );
}

#[test]
fn the_status_report_follows_the_snapshot() {
    let h = home();
    let s = h.snapshot(&[], &no_flags());
    let report = qcode_auth::status_report(&s);
    assert!(
        report.starts_with("Active method: as selected in settings\n"),
        "{report}"
    );
    assert!(!report.contains("An API key is also set"), "{report}");
    assert_eq!(
        qcode_auth::default_logout_scope(&s),
        qcode_auth::LogoutScope::All
    );

    h.qwen_login();
    let s = h.snapshot(&[("OPENAI_API_KEY", "sk-env")], &no_flags());
    let report = qcode_auth::status_report(&s);
    assert!(report.starts_with("Active method: openai\n"), "{report}");
    assert!(
        report.ends_with(
            "An API key is also set by environment variable OPENAI_API_KEY (base URL https://api.openai.com/v1).\n"
        ),
        "{report}"
    );
    assert!(!report.contains("sk-env"), "{report}");
    // Logout follows what is stored, not the environment's key.
    assert_eq!(
        qcode_auth::default_logout_scope(&s),
        qcode_auth::LogoutScope::QwenOauth
    );
    h.settings(r#"{"security":{"auth":{"selectedType":"openai"}}}"#);
    let s = h.snapshot(&[], &no_flags());
    assert!(qcode_auth::status_report(&s).starts_with("Active method: openai\n"));
    assert_eq!(
        qcode_auth::default_logout_scope(&s),
        qcode_auth::LogoutScope::ApiKey
    );
}

#[test]
fn an_interactive_start_without_credentials_is_signed_out() {
    use qcode_auth::{CredentialsState, MissingAuth};
    let h = home();
    let r = Resolver::new(h.snapshot(&[], &no_flags()));
    let p = r.start(MissingAuth::Fail).err().unwrap();
    assert_eq!(p.kind, ErrorKind::Auth);
    let (active, state) = r.start(MissingAuth::SignedOut).ok().unwrap();
    assert_eq!(state, CredentialsState::SignedOut);
    assert_eq!(active.kind, AuthKind::QwenOauth);
    // A problem signing in cannot fix still fails.
    let r = Resolver::new(h.snapshot(&[("OPENAI_API_KEY", "sk-env")], &no_flags()));
    let p = r.start(MissingAuth::SignedOut).err().unwrap();
    assert_eq!(p.kind, ErrorKind::Config);
    h.qwen_login();
    let r = Resolver::new(h.snapshot(&[], &no_flags()));
    let (active, state) = r.start(MissingAuth::Fail).ok().unwrap();
    assert_eq!(
        (active.kind, state),
        (AuthKind::QwenOauth, CredentialsState::Ready)
    );
}
