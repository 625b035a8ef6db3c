//! `.env` discovery order and precedence, observed on the wire.

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

fn env_file(mock: &MockServer, model: &str) -> String {
    format!(
        "OPENAI_BASE_URL={}\nOPENAI_API_KEY=sk-test-key-123\nOPENAI_MODEL={model}\n",
        mock.url()
    )
}

fn model_sent(mock: &MockServer) -> String {
    let reqs = mock.requests();
    reqs.last().unwrap().body_json().unwrap()["model"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn dotenv_lookup_order() {
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 5));
    let sub = w.project.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let go = || {
        let r = run(w.cmd().current_dir(&sub).args(["-p", "hi"]));
        r.assert_code(0);
        model_sent(&mock)
    };
    w.write("home/.env", &env_file(&mock, "home-env"));
    assert_eq!(go(), "home-env");
    w.write("home/.qcode/.env", &env_file(&mock, "home-qcode-env"));
    assert_eq!(go(), "home-qcode-env");
    w.write("project/.env", &env_file(&mock, "project-env"));
    assert_eq!(go(), "project-env");
    w.write("project/.qcode/.env", &env_file(&mock, "project-qcode-env"));
    assert_eq!(go(), "project-qcode-env");
    w.write("project/src/deep/.env", &env_file(&mock, "cwd-env"));
    assert_eq!(go(), "cwd-env");
}

#[test]
fn only_the_first_env_file_is_loaded() {
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 5));
    // The nearer file has no key: the farther one's key must NOT be used.
    w.write("project/.env", "OPENAI_MODEL=near\n");
    w.write("home/.env", &env_file(&mock, "far"));
    let r = run(w.cmd().args(["-p", "hi"]));
    r.assert_code(41);
    assert!(
        r.stderr
            .contains(&w.project.join(".env").display().to_string()),
        "{}",
        r.stderr
    );
}

#[test]
fn precedence_flag_env_dotenv_settings() {
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 5));
    w.write(
        "home/.qcode/settings.json",
        r#"{"model": {"name": "from-settings"}}"#,
    );
    w.write(
        "project/.env",
        &format!(
            "OPENAI_BASE_URL={}\nOPENAI_API_KEY=sk-test-key-123\n",
            mock.url()
        ),
    );
    run(w.cmd().args(["-p", "hi"])).assert_code(0);
    assert_eq!(model_sent(&mock), "from-settings");

    w.write("project/.env", &env_file(&mock, "from-dotenv"));
    run(w.cmd().args(["-p", "hi"])).assert_code(0);
    assert_eq!(model_sent(&mock), "from-dotenv");

    run(w.cmd().env("OPENAI_MODEL", "from-env").args(["-p", "hi"])).assert_code(0);
    assert_eq!(model_sent(&mock), "from-env");

    run(w
        .cmd()
        .env("OPENAI_MODEL", "from-env")
        .args(["-p", "hi", "-m", "from-flag"]))
    .assert_code(0);
    assert_eq!(model_sent(&mock), "from-flag");

    // QWEN_MODEL is the fallback for OPENAI_MODEL.
    w.write(
        "project/.env",
        &format!(
            "OPENAI_BASE_URL={}\nOPENAI_API_KEY=sk-test-key-123\n",
            mock.url()
        ),
    );
    std::fs::remove_file(w.home.join(".qcode/settings.json")).unwrap();
    run(w
        .cmd()
        .env("QWEN_MODEL", "qwen-fallback")
        .args(["-p", "hi"]))
    .assert_code(0);
    assert_eq!(model_sent(&mock), "qwen-fallback");
}

#[test]
fn qcode_home_relocates_user_files() {
    let w = World::new();
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 5));
    let elsewhere = w.dir.path().join("elsewhere");
    w.write(
        "elsewhere/settings.json",
        r#"{"model": {"name": "relocated"}}"#,
    );
    run(w
        .cmd()
        .env("QCODE_HOME", &elsewhere)
        .env("OPENAI_BASE_URL", mock.url())
        .env("OPENAI_API_KEY", "sk-test-key-123")
        .args(["-p", "hi"]))
    .assert_code(0);
    assert_eq!(model_sent(&mock), "relocated");
}
