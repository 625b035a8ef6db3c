//! OAuth for remote MCP servers end to end, against a real authorization server: panva's
//! oidc-provider (dynamic registration, authorization code + PKCE, resource indicators,
//! refresh tokens) in front of an SDK MCP server that verifies every bearer token against it
//! (`tests/peers/oauth/mcp-server.mjs`). The browser is `tests/peers/oauth/browser.py`, set as
//! `BROWSER`: it follows the authorization URL and its redirects with a cookie jar, so the last
//! redirect reaches qcode's loopback callback. Without node or the peers' `node_modules` the
//! tests print a loud SKIP (with `QCODE_REQUIRE_PEERS` or `CI` set they fail instead).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, Reply};
use qcode_test_support::process::{
    ChildGuard, free_port, http_status, in_ci, repo_root, wait_until,
};
use serde_json::{Value, json};

use super::harness::*;
use super::mcp::user_settings;
use super::pty::{Pty, keys};

/// The authorization server and the MCP server it protects.
struct Peer {
    _child: ChildGuard,
    mcp_port: u16,
}

impl Peer {
    /// Starts `mcp-server.mjs`, or `None` (after a loud SKIP) when it cannot run here.
    fn start(test: &str) -> Option<Self> {
        let peers = repo_root().join("tests/peers");
        let missing = qcode_test_support::oauth_server::peer_missing().or_else(|| {
            let sdk = peers.join("mcp/node_modules/@modelcontextprotocol/sdk");
            (!sdk.is_dir()).then(|| {
                format!(
                    "{} is missing (run `npm ci` in tests/peers/mcp)",
                    sdk.display()
                )
            })
        });
        if let Some(why) = missing {
            let required =
                std::env::var_os("QCODE_REQUIRE_PEERS").is_some_and(|v| !v.is_empty()) || in_ci();
            assert!(
                !required,
                "{test}: the OAuth MCP peer is required here: {why}"
            );
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** SKIP {test}: OAuth MCP tests need oidc-provider and the MCP SDK: {why} ***\n"
            );
            return None;
        }
        let as_port = free_port().unwrap();
        let mcp_port = free_port().unwrap();
        let mut child = Command::new("node")
            .arg("mcp-server.mjs")
            .current_dir(peers.join("oauth"))
            .env("AS_PORT", as_port.to_string())
            .env("MCP_PORT", mcp_port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !line.starts_with("oidc-provider WARNING") {
                        eprintln!("[oauth mcp peer] {line}");
                    }
                }
            });
        }
        let guard = ChildGuard::new(child);
        let ready = wait_until(Duration::from_secs(20), || {
            http_status(mcp_port, "GET", "/__health", &[], b"").is_ok_and(|s| s == 200)
                && http_status(
                    as_port,
                    "GET",
                    "/.well-known/openid-configuration",
                    &[],
                    b"",
                )
                .is_ok_and(|s| s == 200)
        });
        assert!(ready, "mcp-server.mjs did not become ready");
        Some(Self {
            _child: guard,
            mcp_port,
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.mcp_port)
    }

    /// What the servers saw: `mcp` (each /mcp request: bearer, valid) and `token` (each token
    /// request: grant_type, resource).
    fn log(&self) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.mcp_port)).unwrap();
        write!(
            s,
            "GET /__log HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("bad log {e}: {text}"))
    }

    /// Makes the MCP server refuse `token` from now on (401 `invalid_token`).
    fn refuse(&self, token: &str) {
        let status =
            http_status(self.mcp_port, "POST", "/__revoke", &[], token.as_bytes()).unwrap();
        assert_eq!(status, 200);
    }

    fn refreshes(&self) -> Vec<Value> {
        self.log()["token"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["grant_type"] == "refresh_token")
            .cloned()
            .collect()
    }

    /// The bearer tokens the MCP server received that verified against the provider.
    fn valid_bearers(&self) -> Vec<String> {
        self.log()["mcp"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["valid"] == true)
            .filter_map(|r| r["bearer"].as_str().map(str::to_string))
            .collect()
    }
}

/// A hostile "MCP server": records every request head and answers 401.
fn capture_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (format!("http://127.0.0.1:{port}/mcp"), seen)
}

fn tokens_file(w: &World) -> PathBuf {
    w.home.join(".qcode/mcp-oauth-tokens.json")
}

fn read_tokens(w: &World) -> Value {
    serde_json::from_str(&std::fs::read_to_string(tokens_file(w)).unwrap()).unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777
}

fn login(w: &World, name: &str) -> Run {
    let browser_log = w.dir.path().join("browser.log");
    run(w
        .cmd()
        .env("BROWSER", repo_root().join("tests/peers/oauth/browser.py"))
        .env("BROWSER_LOG", &browser_log)
        .args(["mcp", "login", name, "--timeout", "60"]))
}

fn whoami_session(w: &World, mock: &MockServer) -> Run {
    mock.enqueue(Reply::tool_calls(
        [("c1", "mcp__docs__whoami", "{}".to_string())],
        9,
    ));
    mock.enqueue(Reply::text("done", 4));
    run(w.cmd_for(mock).args(["-p", "who am I on docs?", "--yolo"]))
}

/// The tool result the model got back in the last chat request.
fn last_tool_result(mock: &MockServer) -> String {
    let bodies: Vec<Value> = mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body_json().unwrap())
        .collect();
    let last = bodies.last().cloned().unwrap_or_default();
    messages(&last)
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// 401 without tokens → "needs sign-in" everywhere; `mcp login` through the BROWSER stand-in
/// (PKCE S256, state, resource) → a 0600 token file of the expected shape, no token printed; a
/// headless session's tool call carries the bearer (verified by the server); an expired token
/// is refreshed (with the resource indicator) and saved, and so is one the server rejects;
/// `mcp logout` removes the sign-in.
#[test]
fn sign_in_call_refresh_and_sign_out() {
    let Some(peer) = Peer::start("sign_in_call_refresh_and_sign_out") else {
        return;
    };
    let w = World::new();
    let url = peer.url();
    user_settings(&w, json!({ "docs": { "httpUrl": url } }), json!({}));
    let needs = "needs sign-in: run `qcode mcp login docs`";

    let list = run(w.cmd().args(["mcp", "list"]));
    list.assert_code(0);
    assert!(
        list.stdout
            .contains(&format!("docs (http, user settings): failed: {needs}")),
        "{}",
        list.stdout
    );
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 4));
    let r = run(w.cmd_for(&mock).args(["-p", "hi"]));
    r.assert_code(0);
    assert!(
        r.stderr
            .contains(&format!("MCP server `docs` is not available: {needs}")),
        "{}",
        r.stderr
    );

    let r = login(&w, "docs");
    r.assert_code(0);
    assert!(r.stdout.contains("Signed in to `docs`"), "{}", r.stdout);
    let visited = std::fs::read_to_string(w.dir.path().join("browser.log")).unwrap();
    let auth_url = visited.lines().next().unwrap();
    assert!(
        r.stdout.contains(auth_url),
        "the URL is printed too: {}",
        r.stdout
    );
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        &format!("resource={}", url.replace(':', "%3A").replace('/', "%2F")),
    ] {
        assert!(auth_url.contains(part), "{part} missing in {auth_url}");
    }
    let callback = visited.lines().rfind(|l| !l.starts_with('#')).unwrap();
    assert!(
        callback.starts_with("http://127.0.0.1:") && callback.contains("/callback?code="),
        "{visited}"
    );
    assert!(
        visited.ends_with("# ok\n"),
        "the callback page answered: {visited}"
    );

    let file = tokens_file(&w);
    assert_eq!(mode(&file), 0o600);
    let stored = read_tokens(&w);
    assert_eq!(stored["version"], 1);
    let entries = stored["servers"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{stored}");
    let e = &entries[0];
    assert_eq!(e["server"], "docs");
    assert_eq!(e["url"], url.as_str());
    assert!(
        e["redirect_uri"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let creds = &e["credentials"];
    assert!(!creds["client_id"].as_str().unwrap().is_empty(), "{creds}");
    assert!(creds["token_received_at"].as_u64().is_some(), "{creds}");
    let access = creds["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = creds["token_response"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!access.is_empty() && !refresh.is_empty());
    let code_requests: Vec<Value> = peer.log()["token"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["grant_type"] == "authorization_code")
        .cloned()
        .collect();
    assert_eq!(code_requests.len(), 1);
    assert_eq!(code_requests[0]["resource"], url.as_str());

    let list = run(w.cmd().args(["mcp", "list"]));
    assert!(
        list.stdout
            .contains("docs (http, user settings): connected, 1 tool"),
        "{}",
        list.stdout
    );
    let get = run(w.cmd().args(["mcp", "get", "docs"]));
    assert!(
        get.stdout.contains("sign-in:       stored"),
        "{}",
        get.stdout
    );
    let session = whoami_session(&w, &mock);
    session.assert_code(0);
    assert!(
        last_tool_result(&mock).contains("signed in as test-user"),
        "{}\n{}",
        last_tool_result(&mock),
        session.stderr
    );
    assert!(
        peer.valid_bearers().contains(&access),
        "the session sent the stored token"
    );
    for out in [&r, &list, &get, &session] {
        for secret in [&access, &refresh] {
            assert!(
                !out.stdout.contains(secret.as_str()) && !out.stderr.contains(secret.as_str()),
                "a token was printed"
            );
        }
    }

    // Expired (as far as qcode knows): refreshed before the call, with the resource indicator.
    let mut stored = read_tokens(&w);
    stored["servers"][0]["credentials"]["token_received_at"] = json!(1);
    std::fs::write(&file, stored.to_string()).unwrap();
    let session = whoami_session(&w, &mock);
    session.assert_code(0);
    assert!(last_tool_result(&mock).contains("signed in as test-user"));
    let refreshes = peer.refreshes();
    assert_eq!(refreshes.len(), 1, "{refreshes:?}");
    assert_eq!(refreshes[0]["resource"], url.as_str());
    assert_eq!(refreshes[0]["status"], 200);
    let renewed = read_tokens(&w)["servers"][0]["credentials"]["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(renewed, access, "the new token was saved");
    assert!(peer.valid_bearers().contains(&renewed), "and used");
    assert_eq!(mode(&file), 0o600);

    // A token the server rejects (401) before it expires: one refresh, the request retried.
    peer.refuse(&renewed);
    let session = whoami_session(&w, &mock);
    session.assert_code(0);
    assert!(
        last_tool_result(&mock).contains("signed in as test-user"),
        "{}",
        session.stderr
    );
    assert_eq!(peer.refreshes().len(), 2);
    let third = read_tokens(&w)["servers"][0]["credentials"]["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(third, renewed);
    assert!(peer.valid_bearers().contains(&third));

    let out = run(w.cmd().args(["mcp", "logout", "docs"]));
    out.assert_code(0);
    assert!(
        out.stdout.contains("Signed out of `docs`"),
        "{}",
        out.stdout
    );
    assert_eq!(read_tokens(&w)["servers"], json!([]));
    let list = run(w.cmd().args(["mcp", "list"]));
    assert!(list.stdout.contains(needs), "{}", list.stdout);
    let again = run(w.cmd().args(["mcp", "logout", "docs"]));
    again.assert_code(0);
    assert!(
        again.stdout.contains("no stored sign-in"),
        "{}",
        again.stdout
    );
}

/// A repository never receives a token stored for one of your servers: its `.mcp.json` naming
/// the same server (dropped: yours wins), or a server of that name once yours is gone, pointed
/// at its own URL — trusted or not — gets requests without any token.
#[test]
fn a_repository_never_receives_a_stored_token() {
    let Some(peer) = Peer::start("a_repository_never_receives_a_stored_token") else {
        return;
    };
    let w = World::new();
    let url = peer.url();
    user_settings(&w, json!({ "docs": { "httpUrl": url } }), json!({}));
    login(&w, "docs").assert_code(0);
    let access = read_tokens(&w)["servers"][0]["credentials"]["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (evil, seen) = capture_server();
    w.write(
        "project/.mcp.json",
        &json!({ "mcpServers": { "docs": { "type": "http", "url": evil } } }).to_string(),
    );
    let mock = MockServer::start();
    mock.set_default_reply(Reply::text("ok", 4));
    for trust in [false, true] {
        let mut cmd = w.cmd_for(&mock);
        cmd.args(["-p", "hi"]);
        if trust {
            cmd.arg("--trust");
        }
        run(&mut cmd).assert_code(0);
    }
    // Yours gone, the repository's `docs` is the only one (trusted): it starts, without a token.
    user_settings(&w, json!({}), json!({}));
    run(w.cmd_for(&mock).args(["-p", "hi", "--trust"])).assert_code(0);
    let heads = seen.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the repository's server was contacted");
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(
            !lower.contains("authorization:") && !head.contains(&access),
            "a token went to the repository's URL: {head}"
        );
    }
    // Your sign-in is still there, untouched.
    assert_eq!(read_tokens(&w)["servers"].as_array().unwrap().len(), 1);
}

/// An authorization server's pre-registered (confidential) client: `--client-id` and the secret
/// from the variable `--client-secret-env` names; the secret is kept (0600) for refreshes,
/// which authenticate with it, and never printed.
#[test]
fn a_pre_registered_client_signs_in_and_refreshes() {
    let Some(peer) = Peer::start("a_pre_registered_client_signs_in_and_refreshes") else {
        return;
    };
    let w = World::new();
    user_settings(&w, json!({ "docs": { "httpUrl": peer.url() } }), json!({}));
    let secret = "preregistered-secret-not-real";
    let unset = run(w.cmd().args([
        "mcp",
        "login",
        "docs",
        "--client-id",
        "qcode-preregistered",
        "--client-secret-env",
        "NOT_SET_ANYWHERE",
    ]));
    assert_ne!(unset.code, 0);
    assert!(
        unset
            .stderr
            .contains("`NOT_SET_ANYWHERE`, which is not set"),
        "{}",
        unset.stderr
    );
    let r = run(w
        .cmd()
        .env("BROWSER", repo_root().join("tests/peers/oauth/browser.py"))
        .env("PRE_SECRET", secret)
        .args([
            "mcp",
            "login",
            "docs",
            "--timeout",
            "60",
            "--client-id",
            "qcode-preregistered",
            "--client-secret-env",
            "PRE_SECRET",
        ]));
    r.assert_code(0);
    assert!(
        r.stdout.contains("client_id=qcode-preregistered"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret));
    let stored = read_tokens(&w);
    let e = &stored["servers"][0];
    assert_eq!(e["credentials"]["client_id"], "qcode-preregistered");
    assert_eq!(e["client_secret"], secret);
    assert_eq!(mode(&tokens_file(&w)), 0o600);
    assert!(peer.refreshes().is_empty());

    let mut stored = stored;
    stored["servers"][0]["credentials"]["token_received_at"] = json!(1);
    std::fs::write(tokens_file(&w), stored.to_string()).unwrap();
    let probe = run(w.cmd().args(["mcp", "probe", "docs", "--call", "whoami"]));
    probe.assert_code(0);
    assert!(
        probe.stdout.contains("signed in as test-user"),
        "{}",
        probe.stdout
    );
    let refreshes = peer.refreshes();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(
        refreshes[0]["status"], 200,
        "the refresh authenticated with the stored secret"
    );
}

/// `text` without its whitespace (the TUI wraps long lines).
fn flat(text: &str) -> String {
    text.split_whitespace().collect()
}

/// Types a slash command into the TUI and runs it.
fn slash(t: &Pty, command: &str) {
    t.send(command);
    t.wait_for_text(&format!("› {command}"));
    t.send(keys::ENTER);
}

/// `/mcp login` in the TUI: the session starts with `docs` needing sign-in (said in `/mcp`,
/// naming `/mcp login`); an untrusted project's server cannot be signed in to (nothing is
/// sent to it); Esc cancels a sign-in whose browser never comes back; then `/mcp login docs`
/// with the BROWSER stand-in shows the URL, stores the tokens (0600), reconnects the server,
/// and the next tool call carries the bearer the server verified.
#[test]
fn slash_mcp_login_signs_in_from_the_tui_and_the_next_call_carries_the_token() {
    let Some(peer) = Peer::start("slash_mcp_login_signs_in_from_the_tui") else {
        return;
    };
    let w = World::new();
    let url = peer.url();
    user_settings(&w, json!({ "docs": { "httpUrl": url } }), json!({}));
    let (evil, seen) = capture_server();
    w.write(
        "project/.mcp.json",
        &json!({ "mcpServers": { "evil": { "type": "http", "url": evil } } }).to_string(),
    );
    // The stand-in, or (while `hold` exists) a browser that never comes back.
    let hold = w.dir.path().join("hold");
    let browser = w.dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\n[ -e '{}' ] && exit 0\nexec '{}' \"$@\"\n",
            hold.display(),
            repo_root().join("tests/peers/oauth/browser.py").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let browser_log = w.dir.path().join("browser.log");
    let mock = MockServer::start();
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), w.home.display().to_string()),
        ("DO_NOT_TRACK".into(), "1".into()),
        ("OPENAI_BASE_URL".into(), mock.url()),
        ("OPENAI_API_KEY".into(), "sk-test-key-123".into()),
        ("OPENAI_MODEL".into(), "test-model".into()),
        ("BROWSER".into(), browser.display().to_string()),
        ("BROWSER_LOG".into(), browser_log.display().to_string()),
    ];
    let mut t = Pty::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env,
        &w.project,
    );
    // The folder is not trusted: the project's `evil` is listed, not started.
    t.wait_until("the prompt", |s| s.contains("Ask anything"));
    let needs = "needs sign-in: run `/mcp login docs` (or `qcode mcp login docs`)";
    for attempt in 1..=40 {
        slash(&t, "/mcp");
        t.wait_until("the /mcp listing", |_| {
            t.full_text().matches("MCP servers").count() >= attempt
        });
        if flat(&t.full_text()).contains(&flat(needs)) {
            break;
        }
        assert!(attempt < 40, "never {needs:?}: {}", t.full_text());
        std::thread::sleep(Duration::from_millis(250));
    }

    // The untrusted project's server: refused, and it never hears from us.
    slash(&t, "/mcp login evil");
    t.wait_for_transcript("`evil` is not started: folder not trusted");
    slash(&t, "/mcp login");
    t.wait_for_transcript("/mcp login needs the name of one server");
    assert!(
        seen.lock().unwrap().is_empty(),
        "the project's server was contacted"
    );

    // A browser that never comes back: Esc cancels the wait.
    std::fs::write(&hold, "").unwrap();
    slash(&t, "/mcp login docs");
    t.wait_for_transcript("Waiting for the sign-in (up to 300 s)");
    t.send(keys::ESC);
    t.wait_for_transcript("signing in to `docs` was cancelled");
    assert!(!tokens_file(&w).exists(), "nothing stored");

    std::fs::remove_file(&hold).unwrap();
    let before = t.full_text().matches("Opening your browser").count();
    slash(&t, "/mcp login docs");
    let text = t.wait_for_transcript("Reconnected MCP server `docs`: connected, 1 tool");
    assert!(text.contains("Signed in to `docs`"), "{text}");
    assert_eq!(text.matches("Opening your browser").count(), before + 1);
    let visited = std::fs::read_to_string(&browser_log).unwrap();
    let auth_url = visited.lines().next().unwrap();
    assert!(
        auth_url.contains("code_challenge_method=S256"),
        "{auth_url}"
    );
    assert!(
        flat(&text).contains(auth_url),
        "the URL is in the transcript: {text}"
    );
    assert_eq!(mode(&tokens_file(&w)), 0o600);
    let access = read_tokens(&w)["servers"][0]["credentials"]["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!text.contains(&access), "the token is never shown");

    mock.enqueue(Reply::tool_calls(
        [("c1", "mcp__docs__whoami", "{}".to_string())],
        9,
    ));
    mock.enqueue(Reply::text("you are known", 4));
    t.send("who am I on docs?");
    t.send(keys::ENTER);
    t.wait_for_transcript("you are known");
    assert!(
        last_tool_result(&mock).contains("signed in as test-user"),
        "{}",
        last_tool_result(&mock)
    );
    assert!(
        peer.valid_bearers().contains(&access),
        "the call carried the stored token, which the server verified"
    );
    assert!(seen.lock().unwrap().is_empty());
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
}
