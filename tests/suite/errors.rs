//! Every error a user will hit: one clear line, a hint, the documented exit code, no panic.

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

#[track_caller]
fn assert_clean_error(r: &Run) {
    let first_error = r
        .stderr
        .lines()
        .find(|l| !l.contains("retrying in"))
        .unwrap_or("");
    assert!(first_error.starts_with("error: "), "stderr: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!r.stderr.contains("RUST_BACKTRACE"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("sk-test-key-123"),
        "the key must never be printed: {}",
        r.stderr
    );
}

#[test]
fn missing_key_names_variables_and_env_lookup() {
    let w = World::new();
    let r = run(w.cmd().args(["-p", "hi"]));
    r.assert_code(41);
    assert_clean_error(&r);
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.stderr);
    assert!(r.stderr.contains(".env"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
}

#[test]
fn connection_refused_names_host_and_port() {
    let w = World::new();
    let port = qcode_test_support::process::free_port().unwrap();
    let r = run(w
        .cmd()
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1"))
        .env("OPENAI_API_KEY", "sk-test-key-123")
        .env("OPENAI_MODEL", "m")
        .args(["-p", "hi"]));
    r.assert_code(1);
    assert_clean_error(&r);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
}

#[test]
fn unauthorized_is_auth_exit_code_with_hint() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::error(
        401,
        "Incorrect API key provided",
        "invalid_api_key",
    ));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(41);
    assert_clean_error(&r);
    assert!(
        r.stderr.contains("Incorrect API key provided"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert_eq!(mock.requests().len(), 1, "401 is not retried");
}

#[test]
fn forbidden_is_auth_exit_code() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::error(403, "forbidden", "forbidden"));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(41);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn not_found_suggests_model_or_base_url() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::error(
        404,
        "The model `test-model` does not exist",
        "model_not_found",
    ));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(1);
    assert_clean_error(&r);
    let lower = r.stderr.to_lowercase();
    assert!(
        lower.contains("model") && lower.contains("base url"),
        "{}",
        r.stderr
    );
    assert_eq!(mock.requests().len(), 1, "404 is not retried");
}

#[test]
fn quota_is_explained_not_retried() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::error(
        429,
        "You exceeded your current quota",
        "insufficient_quota",
    ));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(1);
    assert_clean_error(&r);
    assert!(r.stderr.to_lowercase().contains("quota"), "{}", r.stderr);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn context_too_long_is_explained() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::error(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
        "context_length_exceeded",
    ));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(1);
    assert_clean_error(&r);
    assert!(r.stderr.contains("context"), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
}

#[test]
fn server_errors_exhaust_retries_with_a_reason() {
    let w = World::new();
    let mock = MockServer::start();
    for _ in 0..5 {
        mock.enqueue(
            Reply::error(500, "internal failure", "server_error").header("Retry-After", "0"),
        );
    }
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(1);
    assert_eq!(mock.requests().len(), 5);
    assert!(
        r.stderr.contains("internal failure") || r.stderr.contains("500"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("retrying").count(), 4, "{}", r.stderr);
}

#[test]
fn empty_prompt_is_input_error() {
    let w = World::new();
    let mock = MockServer::start();
    let r = run(w.cmd_for(&mock).args(["-p", "   "]));
    r.assert_code(42);
    assert_clean_error(&r);
    assert!(mock.requests().is_empty());
}

#[test]
fn bad_settings_is_config_error_with_position() {
    let w = World::new();
    let mock = MockServer::start();
    w.write(
        "home/.qcode/settings.json",
        "{\n  \"model\": {\n    \"name\" \"x\"\n  }\n}\n",
    );
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(52);
    assert_clean_error(&r);
    assert!(r.stderr.contains("settings.json:3:"), "{}", r.stderr);
}

#[test]
fn bad_base_url_is_config_error() {
    let w = World::new();
    let r = run(w
        .cmd()
        .env("OPENAI_BASE_URL", "not a url")
        .env("OPENAI_API_KEY", "sk-test-key-123")
        .env("OPENAI_MODEL", "m")
        .args(["-p", "hi"]));
    r.assert_code(52);
    assert_clean_error(&r);
    assert!(r.stderr.contains("OPENAI_BASE_URL"), "{}", r.stderr);
}

#[test]
fn missing_model_is_config_error() {
    let w = World::new();
    let r = run(w
        .cmd()
        .env("OPENAI_API_KEY", "sk-test-key-123")
        .args(["-p", "hi"]));
    r.assert_code(52);
    assert_clean_error(&r);
    assert!(r.stderr.contains("OPENAI_MODEL"), "{}", r.stderr);
}

#[test]
fn garbage_stream_is_reported() {
    use qcode_test_support::mock_model::SseItem;
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::sse(vec![
        SseItem::data("{not json"),
        SseItem::done(),
    ]));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(1);
    assert_clean_error(&r);
}

#[test]
fn unknown_settings_key_warns_but_runs() {
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(Reply::text("ok", 5));
    w.write("home/.qcode/settings.json", r#"{"modle": {"name": "x"}}"#);
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(0);
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("`modle`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_fifo_as_settings_file_is_refused_at_once() {
    let w = World::new();
    let mock = MockServer::start();
    let dir = w.home.join(".qcode");
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("settings.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let start = std::time::Instant::now();
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    r.assert_code(52);
    assert_clean_error(&r);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
}

#[test]
fn byte_order_marks_are_named_and_env_values_never_shown() {
    let w = World::new();
    let mock = MockServer::start();
    w.write(
        "home/.qcode/settings.json",
        "\u{feff}{\"model\": {\"name\": \"x\"}}",
    );
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(52);
    assert_clean_error(&r);
    assert!(r.stderr.contains("BOM"), "{}", r.stderr);

    let w = World::new();
    w.write(
        "project/.env",
        "OPENAI_MODEL=m\nOPENAI_API_KEY=\"sk-dotenv-canary\nOPENAI_BASE_URL=http://x\n",
    );
    let r = run(w.cmd().args(["-p", "hi"]));
    r.assert_code(52);
    assert!(!r.stderr.contains("sk-dotenv-canary"), "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
}
