//! The canary test for secrets: an API key, a Qwen access token and a refresh token never
//! appear in stdout, stderr, or any file under qcode's home other than the credential stores —
//! across logins, status, failed requests, tool runs, the audit log and bad configuration.

use std::path::Path;

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

const KEY: &str = "sk-canary-key-5f3a9";
const ACCESS: &str = "at-canary-6b1e2";
const REFRESH: &str = "rt-canary-7c4d8";

fn assert_clean(what: &str, text: &str) {
    for secret in [KEY, ACCESS, REFRESH] {
        assert!(
            !text.contains(secret),
            "{secret} appeared in {what}: {text}"
        );
    }
}

fn scan_files(dir: &Path, skip: &[&Path]) -> usize {
    let mut n = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries {
        let p = e.unwrap().path();
        if skip.contains(&p.as_path()) {
            continue;
        }
        if p.is_dir() {
            n += scan_files(&p, skip);
        } else {
            n += 1;
            let bytes = std::fs::read(&p).unwrap_or_default();
            assert_clean(&p.display().to_string(), &String::from_utf8_lossy(&bytes));
        }
    }
    n
}

#[test]
fn secrets_never_appear_in_output_or_in_qcodes_files() {
    let w = World::new();
    let mock = MockServer::start();
    let qwen = w.home.join(".qwen/oauth_creds.json");
    std::fs::create_dir_all(qwen.parent().unwrap()).unwrap();
    std::fs::write(
        &qwen,
        format!(
            r#"{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}", "token_type": "Bearer", "resource_url": "{}", "expiry_date": 4102444800000}}"#,
            mock.url()
        ),
    )
    .unwrap();
    let mut runs = Vec::new();
    // Save the key, show the status, use both methods, fail in several ways.
    runs.push(run_with_stdin(
        w.cmd()
            .args(["auth", "api-key", "--base-url", &mock.url(), "--model", "m"]),
        &format!("{KEY}\n"),
    ));
    runs.push(run(w.cmd().args(["auth", "status"])));
    mock.enqueue(Reply::text("hello", 1));
    runs.push(run(w.cmd().args(["-p", "hi", "-o", "stream-json"])));
    mock.enqueue(Reply::error(401, "bad key", "invalid_api_key"));
    runs.push(run(w.cmd().args(["-p", "hi"])));
    mock.enqueue(Reply::text("qwen answer", 1));
    runs.push(run(w.cmd().args([
        "-p",
        "hi",
        "--auth-type",
        "qwen-oauth",
        "-o",
        "json",
    ])));
    // A tool run whose command prints the environment, statistics on (audit log written).
    mock.enqueue(Reply::tool_calls(
        [(
            "s1",
            "run_shell_command",
            serde_json::json!({"command": "env; cat ~/.qcode/settings.json"}).to_string(),
        )],
        10,
    ));
    mock.enqueue(Reply::text("done", 1));
    runs.push(run(w
        .cmd()
        .env_remove("DO_NOT_TRACK")
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", mock.url())
        .env("OPENAI_MODEL", "m")
        .args(["-p", "x", "--yolo"])));
    // Bad configuration that involves the key.
    w.write(
        "project/.env",
        &format!("OPENAI_API_KEY=\"{KEY}\nOPENAI_MODEL=m\n"),
    );
    runs.push(run(w.cmd().args(["-p", "hi"])));
    std::fs::remove_file(w.project.join(".env")).unwrap();
    runs.push(run(w
        .cmd()
        .env(
            "OPENAI_BASE_URL",
            format!("http://user:{KEY}@127.0.0.1:9/v1"),
        )
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_MODEL", "m")
        .args(["-p", "hi"])));
    runs.push(run(w
        .cmd()
        .env(
            "OPENAI_BASE_URL",
            format!("http://user:{KEY}@127.0.0.1:9/v1"),
        )
        .env("OPENAI_API_KEY", KEY)
        .args(["auth", "status"])));
    runs.push(run(w
        .cmd()
        .env(
            "OPENAI_BASE_URL",
            format!("ftp://user:{KEY}@127.0.0.1:9/v1"),
        )
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_MODEL", "m")
        .args(["-p", "hi"])));
    // Continuing a recorded session (the transcript is read and appended to).
    mock.enqueue(Reply::text("continued", 1));
    runs.push(run(w.cmd().args(["-c", "-p", "go on"])));
    for (i, r) in runs.iter().enumerate() {
        assert_clean(&format!("stdout of run {i}"), &r.stdout);
        assert_clean(&format!("stderr of run {i}"), &r.stderr);
    }
    // What the shell command saw went back to the model: no secret in it either.
    for req in mock.requests() {
        let body = req.body_text();
        if body.contains("\"role\":\"tool\"") {
            assert_clean("a tool result", &body);
        }
    }
    let home = w.home.join(".qcode");
    let credentials = home.join("credentials.json");
    assert!(std::fs::read_to_string(&credentials).unwrap().contains(KEY));
    let files = scan_files(&home, &[credentials.as_path()]);
    assert!(files >= 2, "only {files} files were checked");
    assert!(
        home.join("telemetry-audit.jsonl").exists(),
        "the audit log was checked"
    );
    let transcripts = std::fs::read_dir(home.join("projects"))
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read_dir(p.path().join("chats")).ok())
        .flat_map(|d| d.flatten())
        .count();
    assert!(
        transcripts >= 3,
        "session transcripts were checked: {transcripts}"
    );
}
