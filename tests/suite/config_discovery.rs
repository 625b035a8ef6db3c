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

/// Everything qcode writes under its home is private from the first write: files 0600, the
/// directories it creates 0700 (history, memory, trust rules, settings, credentials, background
/// shell output, the audit log).
#[test]
fn everything_qcode_writes_in_its_home_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let mock = MockServer::start();
    run(w.cmd().args(["privacy", "off"])).assert_code(0);
    run(w.cmd().arg("trust")).assert_code(0);
    run_with_stdin(
        w.cmd()
            .args(["auth", "api-key", "--base-url", &mock.url(), "--model", "m"]),
        "sk-private\n",
    )
    .assert_code(0);
    mock.enqueue(qcode_test_support::mock_model::Reply::tool_calls(
        [
            (
                "m1",
                "save_memory",
                serde_json::json!({"fact": "likes tabs"}).to_string(),
            ),
            (
                "s1",
                "run_shell_command",
                serde_json::json!({"command": "echo hi", "is_background": true}).to_string(),
            ),
        ],
        20,
    ));
    mock.enqueue(qcode_test_support::mock_model::Reply::text("ok", 1));
    run(w.cmd().args(["-p", "x", "--yolo"])).assert_code(0);
    let home = w.home.join(".qcode");
    let mut seen = 0;
    let mut stack = vec![home.clone()];
    while let Some(dir) = stack.pop() {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                seen += 1;
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
        }
    }
    assert!(home.join("QWEN.md").exists() && home.join("trustedFolders.json").exists());
    assert!(seen >= 5, "{seen} files");
}
