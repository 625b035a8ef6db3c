//! Launcher for the real OAuth device-flow peer used by qcode-auth's tests: panva's
//! `oidc-provider` with the Qwen layer (`tests/peers/oauth/server.mjs`: Qwen's paths, PKCE on
//! the device flow, `interval` + `slow_down`, test approve/deny hooks).
//!
//! The server is reached through a small recording proxy on its own port, so tests can assert on
//! what was sent over the wire (e.g. that exactly one refresh request reached the server when
//! eight processes refreshed at once). `base_url()` is the proxy's address; the server itself
//! logs nothing per request.
//!
//! If `node` or `tests/peers/oauth/node_modules` is missing, [`OAuthServer::start_or_skip`]
//! prints a loud SKIP message locally and fails in CI (`.ci/run` must run `npm ci` there).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::process::{ChildGuard, free_port, http_status, in_ci, repo_root, wait_until};

/// The token endpoint path (Qwen's), as recorded by the proxy.
pub const TOKEN_PATH: &str = "/api/v1/oauth2/token";
/// The device authorization endpoint path (Qwen's).
pub const DEVICE_CODE_PATH: &str = "/api/v1/oauth2/device/code";

/// Whether the server demands PKCE on the device flow (`PKCE=` env knob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMode {
    Required,
    Optional,
    Off,
}

impl PkceMode {
    fn as_env(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Off => "off",
        }
    }
}

/// Knobs of `server.mjs` (all durations in whole seconds, as the server takes them).
#[derive(Debug, Clone)]
pub struct OAuthServerOptions {
    /// `interval` sent in the device authorization response (`INTERVAL`).
    pub interval: u64,
    /// HTTP status of `slow_down` (`SLOW_DOWN_STATUS`: 400 per RFC 8628, 429 like Qwen).
    pub slow_down_status: u16,
    /// How much the server's own interval grows on each `slow_down` (`SLOW_DOWN_STEP`).
    pub slow_down_step: u64,
    pub access_ttl: u64,
    pub refresh_ttl: u64,
    pub device_code_ttl: u64,
    /// Added to token responses as `resource_url` (`RESOURCE_URL`).
    pub resource_url: Option<String>,
    pub pkce: PkceMode,
}

impl Default for OAuthServerOptions {
    fn default() -> Self {
        Self {
            interval: 1,
            slow_down_status: 400,
            slow_down_step: 5,
            access_ttl: 3600,
            refresh_ttl: 86400,
            device_code_ttl: 600,
            resource_url: None,
            pkce: PkceMode::Required,
        }
    }
}

/// One HTTP request that passed through the recording proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The body as text (form bodies are URL-encoded text).
    pub body: String,
}

impl RecordedRequest {
    /// The decoded value of one form field of the body, if present.
    pub fn form_field(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A running `server.mjs` plus its recording proxy. Dropping it stops both.
pub struct OAuthServer {
    _child: ChildGuard,
    server_port: u16,
    proxy_port: u16,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
}

fn peer_dir() -> PathBuf {
    repo_root().join("tests/peers/oauth")
}

/// Why the peer cannot run here (no `node`, or `npm ci` not run), or `None` when it can.
pub fn peer_missing() -> Option<String> {
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        return Some("`node` is not installed".to_string());
    }
    let module = peer_dir().join("node_modules/oidc-provider");
    if !module.is_dir() {
        return Some(format!(
            "{} is missing: run `npm ci` in {}",
            module.display(),
            peer_dir().display()
        ));
    }
    None
}

impl OAuthServer {
    /// Starts `node server.mjs` on a free port with `TEST_HOOKS=1` and the given knobs, waits
    /// until it answers, and puts the recording proxy in front of it.
    pub fn start(opts: OAuthServerOptions) -> Result<Self, String> {
        if let Some(why) = peer_missing() {
            return Err(format!("OAuth test peer unavailable: {why}"));
        }
        let server_port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(peer_dir())
            .env("PORT", server_port.to_string())
            .env("TEST_HOOKS", "1")
            .env("INTERVAL", opts.interval.to_string())
            .env("SLOW_DOWN_STATUS", opts.slow_down_status.to_string())
            .env("SLOW_DOWN_STEP", opts.slow_down_step.to_string())
            .env("ACCESS_TTL", opts.access_ttl.to_string())
            .env("REFRESH_TTL", opts.refresh_ttl.to_string())
            .env("DEVICE_CODE_TTL", opts.device_code_ttl.to_string())
            .env("PKCE", opts.pkce.as_env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match &opts.resource_url {
            Some(url) => cmd.env("RESOURCE_URL", url),
            None => cmd.env_remove("RESOURCE_URL"),
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not start node: {e}"))?;
        if let Some(stderr) = child.stderr.take() {
            // Pass real errors on; drop oidc-provider's fixed development-mode warnings.
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !line.starts_with("oidc-provider WARNING") {
                        eprintln!("[oauth peer] {line}");
                    }
                }
            });
        }
        let mut guard = ChildGuard::new(child);
        let mut exited = None;
        let ready = wait_until(Duration::from_secs(15), || {
            if let Ok(Some(status)) = guard.child_mut().try_wait() {
                exited = Some(status);
                return true;
            }
            http_status(server_port, "GET", "/__health", &[], b"").is_ok_and(|s| s == 200)
        });
        if let Some(status) = exited {
            return Err(format!("server.mjs exited early with {status}"));
        }
        if !ready {
            return Err("server.mjs did not become ready within 15 s".to_string());
        }

        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy bind failed: {e}"))?;
        let proxy_port = listener
            .local_addr()
            .map_err(|e| format!("proxy address: {e}"))?
            .port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let log = Arc::clone(&log);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || accept_loop(listener, server_port, log, stop));
        }
        Ok(Self {
            _child: guard,
            server_port,
            proxy_port,
            log,
            stop,
        })
    }

    /// Like [`start`](Self::start), but when the peer is missing outside CI prints a loud SKIP
    /// message and returns `Ok(None)`; in CI a missing peer is an error.
    pub fn start_or_skip(opts: OAuthServerOptions) -> Result<Option<Self>, String> {
        if let Some(why) = peer_missing() {
            if in_ci() {
                return Err(format!("OAuth test peer unavailable in CI: {why}"));
            }
            // Written to the real stderr (not `eprintln!`, which the test harness captures).
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** SKIP: OAuth peer tests need the real oidc-provider: {why} ***\n"
            );
            return Ok(None);
        }
        Self::start(opts).map(Some)
    }

    /// The OAuth base URL to configure a client with (the recording proxy).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }

    /// The server's own URL, bypassing the proxy (requests there are not recorded).
    pub fn direct_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server_port)
    }

    /// Approves a pending device authorization as `test-user`.
    pub fn approve(&self, user_code: &str) -> Result<(), String> {
        self.hook("/__test/approve", user_code)
    }

    /// Denies a pending device authorization (the next poll gets `access_denied`).
    pub fn deny(&self, user_code: &str) -> Result<(), String> {
        self.hook("/__test/deny", user_code)
    }

    fn hook(&self, path: &str, user_code: &str) -> Result<(), String> {
        let body = format!("user_code={}", user_code.replace(' ', "+"));
        let status = http_status(
            self.server_port,
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
        .map_err(|e| format!("{path} failed: {e}"))?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("{path} answered HTTP {status}"))
        }
    }

    /// Every request that went through the proxy so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Requests to the token endpoint, in arrival order.
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == TOKEN_PATH)
            .collect()
    }

    /// How many token-endpoint requests had `grant_type=<grant_type>`.
    pub fn count_token_requests(&self, grant_type: &str) -> usize {
        self.token_requests()
            .iter()
            .filter(|r| r.form_field("grant_type").as_deref() == Some(grant_type))
            .count()
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so its thread ends.
        let _ = TcpStream::connect(("127.0.0.1", self.proxy_port));
    }
}

fn accept_loop(
    listener: TcpListener,
    upstream_port: u16,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = conn else { continue };
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            let _ = proxy_connection(client, upstream_port, &log);
        });
    }
}

/// Forwards one client connection: requests are parsed (head + Content-Length body), recorded
/// and passed on; responses are copied back byte for byte.
fn proxy_connection(
    client: TcpStream,
    upstream_port: u16,
    log: &Mutex<Vec<RecordedRequest>>,
) -> std::io::Result<()> {
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    let mut up_read = upstream.try_clone()?;
    let mut client_write = client.try_clone()?;
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Write);
    });
    let mut reader = BufReader::new(client);
    let mut up_write = upstream;
    loop {
        let mut head = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                let _ = up_write.shutdown(Shutdown::Write);
                let _ = back.join();
                return Ok(());
            }
            head.push(line.clone());
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let mut parts = head[0].split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut content_length = 0usize;
        let mut chunked = false;
        for h in &head[1..] {
            if let Some((name, value)) = h.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    content_length = value.trim().parse().unwrap_or(0);
                } else if name == "transfer-encoding"
                    && value.to_ascii_lowercase().contains("chunked")
                {
                    chunked = true;
                }
            }
        }
        up_write.write_all(head.concat().as_bytes())?;
        if chunked {
            // Not used by our clients; record and fall back to a raw copy.
            if let Ok(mut l) = log.lock() {
                l.push(RecordedRequest {
                    method,
                    path,
                    body: "<chunked>".to_string(),
                });
            }
            std::io::copy(&mut reader, &mut up_write)?;
            let _ = back.join();
            return Ok(());
        }
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body)?;
        if let Ok(mut l) = log.lock() {
            l.push(RecordedRequest {
                method,
                path,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        up_write.write_all(&body)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let r = RecordedRequest {
            method: "POST".into(),
            path: TOKEN_PATH.into(),
            body: "grant_type=refresh_token&scope=openid+profile&x=%2Fa%3Db".into(),
        };
        assert_eq!(r.form_field("grant_type").as_deref(), Some("refresh_token"));
        assert_eq!(r.form_field("scope").as_deref(), Some("openid profile"));
        assert_eq!(r.form_field("x").as_deref(), Some("/a=b"));
        assert_eq!(r.form_field("missing"), None);
    }
}
