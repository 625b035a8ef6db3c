//! Qwen OAuth through the real binary, against the real oidc-provider peer and the mock model:
//! `qcode auth qwen-oauth` → credentials file → `qcode -p` sends the bearer token to the
//! `resource_url` host with DashScope headers; refresh on expiry and after a 401; refresh failure
//! → exit 41; secrets never printed.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, Reply};
use qcode_test_support::oauth_server::{OAuthServer, OAuthServerOptions};

use super::harness::*;

fn server(mock: &MockServer, access_ttl: u64) -> Option<OAuthServer> {
    OAuthServer::start_or_skip(OAuthServerOptions {
        access_ttl,
        resource_url: Some(mock.url()),
        ..OAuthServerOptions::default()
    })
    .unwrap()
}

/// Runs `qcode auth qwen-oauth` and approves the code it prints. Returns its outcome.
fn login(w: &World, oauth: &OAuthServer) -> Run {
    let mut child = w
        .cmd()
        .env("QCODE_QWEN_OAUTH_BASE_URL", oauth.base_url())
        .args(["auth", "qwen-oauth", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let mut seen = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if let Some(code) = line.trim().strip_prefix("Code: ") {
            oauth.approve(code).unwrap();
            break;
        }
        line.clear();
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    seen.push_str(&rest);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: seen,
    }
}

fn creds(w: &World) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(w.home.join(".qwen/oauth_creds.json")).unwrap())
        .unwrap()
}

fn qcode_p(w: &World, oauth: &OAuthServer) -> std::process::Command {
    let mut c = w.cmd();
    c.env("QCODE_QWEN_OAUTH_BASE_URL", oauth.base_url())
        .args(["-p", "hello"]);
    c
}

#[test]
fn login_then_prompt_uses_token_resource_url_and_headers() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = server(&mock, 3600) else {
        return;
    };
    let r = login(&w, &oauth);
    r.assert_code(0);
    let c = creds(&w);
    let token = c["access_token"].as_str().unwrap().to_string();
    let refresh = c["refresh_token"].as_str().unwrap().to_string();
    assert!(
        c["expiry_date"].as_i64().unwrap() > 1_700_000_000_000,
        "epoch milliseconds"
    );
    for secret in [&token, &refresh] {
        assert!(
            !r.stdout.contains(secret.as_str()) && !r.stderr.contains(secret.as_str()),
            "secret printed"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.home.join(".qwen/oauth_creds.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The chosen method is remembered.
    let settings = std::fs::read_to_string(w.home.join(".qcode/settings.json")).unwrap();
    assert!(
        settings.contains("\"selectedType\": \"qwen-oauth\""),
        "{settings}"
    );

    mock.enqueue(Reply::text("hi from qwen", 4));
    let r = run(&mut qcode_p(&w, &oauth));
    r.assert_code(0);
    assert_eq!(r.stdout, "hi from qwen");
    let req = &mock.requests()[0];
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(req.header("x-dashscope-authtype"), Some("qwen-oauth"));
    assert_eq!(req.header("x-dashscope-cachecontrol"), Some("enable"));
    assert!(req.header("user-agent").unwrap().starts_with("qcode/"));
    assert_eq!(req.body_json().unwrap()["model"], "coder-model");

    let status = run(w
        .cmd()
        .env("QCODE_QWEN_OAUTH_BASE_URL", oauth.base_url())
        .args(["auth", "status"]));
    status.assert_code(0);
    assert!(
        status.stdout.contains("qwen-oauth") || status.stdout.to_lowercase().contains("qwen"),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains(&token) && !status.stdout.contains(&refresh));
}

#[test]
fn expired_token_is_refreshed_before_the_request() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = server(&mock, 2) else {
        return;
    };
    login(&w, &oauth).assert_code(0);
    let first = creds(&w)["access_token"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(2500));
    mock.enqueue(Reply::text("fresh", 4));
    run(&mut qcode_p(&w, &oauth)).assert_code(0);
    let second = creds(&w)["access_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "refreshed before the request");
    assert_eq!(oauth.count_token_requests("refresh_token"), 1);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some(format!("Bearer {second}").as_str())
    );
}

#[test]
fn a_401_from_the_model_api_refreshes_once_and_retries() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = server(&mock, 3600) else {
        return;
    };
    login(&w, &oauth).assert_code(0);
    let second = creds(&w)["access_token"].as_str().unwrap().to_string();
    // The provider rejects the (still valid) token: refresh once, retry once.
    mock.enqueue(Reply::error(401, "token revoked", "invalid_token"));
    mock.enqueue(Reply::text("after refresh", 4));
    let r = run(&mut qcode_p(&w, &oauth));
    r.assert_code(0);
    assert_eq!(r.stdout, "after refresh");
    let third = creds(&w)["access_token"].as_str().unwrap().to_string();
    assert_ne!(third, second);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {second}").as_str())
    );
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Bearer {third}").as_str())
    );
    assert_eq!(oauth.count_token_requests("refresh_token"), 1);
}

#[test]
fn refresh_refused_by_a_non_default_oauth_server_keeps_the_shared_login_and_exits_41() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = server(&mock, 3600) else {
        return;
    };
    // A file in Qwen Code's format whose refresh token the server does not know, already expired.
    std::fs::create_dir_all(w.home.join(".qwen")).unwrap();
    std::fs::write(
        w.home.join(".qwen/oauth_creds.json"),
        "{\n  \"access_token\": \"old-access\",\n  \"refresh_token\": \"unknown-refresh\",\n  \"token_type\": \"Bearer\",\n  \"resource_url\": \"portal.qwen.ai\",\n  \"expiry_date\": 1000\n}",
    )
    .unwrap();
    let r = run(&mut qcode_p(&w, &oauth));
    r.assert_code(41);
    assert!(
        r.stderr.contains("qcode auth qwen-oauth") || r.stderr.contains("/auth"),
        "{}",
        r.stderr
    );
    // The peer is not Qwen's own server (a base URL set elsewhere): its refusal must never
    // delete the login Qwen Code shares (Qwen's own refusal does; qcode-auth tests that).
    assert!(
        w.home.join(".qwen/oauth_creds.json").exists(),
        "the shared login is kept"
    );
    assert!(mock.requests().is_empty());
    assert!(!r.stderr.contains("unknown-refresh") && !r.stderr.contains("old-access"));
}

#[test]
fn api_key_login_reads_stdin_and_is_used() {
    let w = World::new();
    let mock = MockServer::start();
    let r = run_with_stdin(
        w.cmd().args([
            "auth",
            "api-key",
            "--base-url",
            &mock.url(),
            "--model",
            "saved-model",
        ]),
        "sk-saved-secret\n",
    );
    r.assert_code(0);
    assert!(!r.stdout.contains("sk-saved-secret") && !r.stderr.contains("sk-saved-secret"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.home.join(".qcode/credentials.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    mock.enqueue(Reply::text("keyed", 4));
    run(w.cmd().args(["-p", "hi"])).assert_code(0);
    let req = &mock.requests()[0];
    assert_eq!(req.header("authorization"), Some("Bearer sk-saved-secret"));
    assert_eq!(req.body_json().unwrap()["model"], "saved-model");

    let status = run(w.cmd().args(["auth", "status"]));
    assert!(!status.stdout.contains("sk-saved-secret"));
    run(w.cmd().args(["auth", "logout"])).assert_code(0);
    assert!(!w.home.join(".qcode/credentials.json").exists());
    run(w.cmd().args(["-p", "hi"])).assert_code(41);
}

#[test]
fn explicit_choice_that_is_incomplete_says_what_is_missing() {
    let w = World::new();
    let r = run(w.cmd().args(["-p", "hi", "--auth-type", "qwen-oauth"]));
    r.assert_code(41);
    assert!(
        r.stderr.contains("not signed in") && r.stderr.contains("qcode auth qwen-oauth"),
        "{}",
        r.stderr
    );
    let r = run(w.cmd().args(["-p", "hi", "--auth-type", "openai"]));
    r.assert_code(41);
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.stderr);
}

#[test]
fn qwen_home_relocates_the_shared_login() {
    let w = World::new();
    let mock = MockServer::start();
    let Some(oauth) = server(&mock, 3600) else {
        return;
    };
    let qwen_home = w.home.join("custom-qwen");
    std::fs::create_dir_all(&qwen_home).unwrap();
    std::fs::write(
        qwen_home.join("oauth_creds.json"),
        format!(
            "{{\"access_token\": \"relocated-access\", \"refresh_token\": \"r\", \"token_type\": \"Bearer\", \"resource_url\": \"{}\", \"expiry_date\": {}}}",
            mock.url(),
            (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 3_600_000)
        ),
    )
    .unwrap();
    mock.enqueue(qcode_test_support::mock_model::Reply::text("hi", 1));
    let r = run(qcode_p(&w, &oauth).env("QWEN_HOME", &qwen_home));
    r.assert_code(0);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer relocated-access")
    );
}

/// A cloned repository names its own OAuth server: the refresh token still goes only to the
/// server the user chose (here in their user settings), never to the repository's.
#[test]
fn a_project_cannot_redirect_the_qwen_refresh_token() {
    let w = World::new();
    let mock = MockServer::start();
    let attacker = MockServer::start();
    let Some(oauth) = server(&mock, 2) else {
        return;
    };
    login(&w, &oauth).assert_code(0);
    std::thread::sleep(Duration::from_millis(2500));
    w.write(
        "home/.qcode/settings.json",
        &format!(
            r#"{{"security": {{"auth": {{"qwenOAuthBaseUrl": "{}"}}}}}}"#,
            oauth.base_url()
        ),
    );
    for trust in [false, true] {
        w.write(
            "project/.qcode/settings.json",
            &format!(
                r#"{{"security": {{"auth": {{"qwenOAuthBaseUrl": "{}"}}}}}}"#,
                attacker.url()
            ),
        );
        mock.enqueue(Reply::text("ok", 1));
        let mut cmd = w.cmd();
        cmd.args(["-p", "hello"]);
        if trust {
            cmd.arg("--trust");
        }
        let r = run(&mut cmd);
        r.assert_code(0);
        assert!(
            r.stderr.contains("security.auth.qwenOAuthBaseUrl"),
            "{}",
            r.stderr
        );
    }
    assert!(
        attacker.requests().is_empty(),
        "the refresh token went to the repository's server"
    );
    assert!(oauth.count_token_requests("refresh_token") >= 1);
}
