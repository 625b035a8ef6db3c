//! The sign-in: ask the server (its 401 and `WWW-Authenticate` challenge), discover its
//! authorization server (RFC 9728 protected-resource metadata → RFC 8414 / OpenID discovery,
//! done by the SDK), register qcode (RFC 7591), send the browser to the authorization URL
//! (PKCE S256, `state`, `resource` of RFC 8707), take the redirect on a loopback listener,
//! check `state`, exchange the code, store the tokens.

use std::collections::BTreeMap;
use std::time::Duration;

use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationRequest, AuthorizationSession, OAuthClientConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::store::{ServerCredentials, TokenStore};

/// What `login` needs.
pub struct LoginRequest {
    /// The server's name (the key of its sign-in, with `url`).
    pub server: String,
    pub url: String,
    /// The entry's headers (sent on the first request, which asks for the challenge).
    pub headers: BTreeMap<String, String>,
    pub store: TokenStore,
    /// `BROWSER` (or `None` for the platform's opener).
    pub browser: Option<String>,
    /// How long to wait for the browser to come back.
    pub timeout: Duration,
    /// A client registered with the authorization server beforehand (for one without dynamic
    /// registration); `None`: qcode registers itself.
    pub client: Option<PreRegistered>,
    /// The `WWW-Authenticate` challenge of a refused request (e.g. 403 `insufficient_scope`
    /// naming the wider scope a call needs); `None`: ask the server with `initialize`.
    pub challenge: Option<String>,
}

/// A client id (and, for a confidential client, its secret) obtained out of band.
#[derive(Clone)]
pub struct PreRegistered {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for PreRegistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreRegistered")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What the caller shows while waiting.
pub enum LoginEvent<'a> {
    /// The URL to open (printed: on a headless machine the user opens it elsewhere — the
    /// redirect must then reach this machine's loopback address).
    OpenUrl(&'a str),
    /// The browser could not be started; why.
    BrowserFailed(&'a str),
}

/// Signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginDone {
    /// The scopes granted (as the authorization server reported them).
    pub scopes: Vec<String>,
}

/// Runs the whole sign-in; the tokens end up in `request.store`.
pub async fn login(
    request: LoginRequest,
    on_event: &(dyn Fn(LoginEvent<'_>) + Send + Sync),
) -> Result<LoginDone, String> {
    crate::http::ensure_crypto_provider();
    let client = crate::http::client()?;
    let (asked, challenge) = match request.challenge.clone() {
        Some(given) => (true, Some(given)),
        None => challenge(&client, &request.url, &request.headers).await?,
    };

    let mut manager = new_manager(&request.url).await?;
    let credentials = ServerCredentials::new(request.store.clone(), &request.server, &request.url);
    let pending = credentials.client.clone();
    manager.set_credential_store(credentials);
    let resolution = manager
        .resolve_metadata_from_challenge(challenge.as_deref())
        .await
        .map_err(|e| {
            format!(
                "could not discover its authorization server: {}",
                auth_error(&e)
            )
        })?;
    if !asked && !resolution.source.is_discovered() {
        return Err(format!(
            "{} does not ask for sign-in and publishes no OAuth metadata: there is nothing to sign in to",
            crate::http::redact(&request.url)
        ));
    }
    manager.set_metadata(resolution.metadata);

    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("could not listen on 127.0.0.1 for the sign-in redirect: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("could not read the redirect listener's port: {e}"))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");

    let scopes = manager.select_scopes(None, &[]);
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let (client_id, client_secret) = match request.client {
        Some(c) => (c.client_id, c.client_secret),
        None => {
            let registered: OAuthClientConfig = manager
                .register_client("qcode", &redirect_uri, &scope_refs)
                .await
                .map_err(|e| match e {
                    AuthError::RegistrationFailed(m) if m.contains("not supported") => "its authorization server does not offer dynamic client registration (RFC 7591): register a client there and pass its id with --client-id".to_string(),
                    other => format!(
                        "could not register qcode with its authorization server: {}",
                        auth_error(&other)
                    ),
                })?;
            (registered.client_id, registered.client_secret)
        }
    };
    if let Ok(mut p) = pending.lock() {
        *p = (redirect_uri.clone(), client_secret.clone());
    }
    let mut auth_request = AuthorizationRequest::new(redirect_uri.clone())
        .with_scopes(scopes.clone())
        .with_preregistered_client(client_id);
    if let Some(secret) = &client_secret {
        auth_request = auth_request.with_client_secret(secret.clone());
    }
    let session = AuthorizationSession::new(manager, auth_request)
        .await
        .map_err(|(_, e)| format!("could not start the sign-in: {}", auth_error(&e)))?;
    let auth_url = session.get_authorization_url().to_string();
    let state = url::Url::parse(&auth_url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or_else(|| "the authorization URL carries no `state`".to_string())?;

    on_event(LoginEvent::OpenUrl(&auth_url));
    if let Err(why) = super::browser::open(&auth_url, request.browser.as_deref()) {
        on_event(LoginEvent::BrowserFailed(&why));
    }

    let answer = tokio::time::timeout(request.timeout, wait_for_redirect(&listener, &state))
        .await
        .map_err(|_| {
            format!(
                "no sign-in came back within {} s (open the URL above in a browser on this machine, then try again)",
                request.timeout.as_secs()
            )
        })??;
    let token = session
        .handle_callback_with_issuer(&answer.code, &state, answer.issuer.as_deref())
        .await
        .map_err(|e| {
            format!(
                "the authorization server refused the sign-in: {}",
                auth_error(&e)
            )
        })?;
    use oauth2::TokenResponse;
    let scopes = token
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or(scopes);
    Ok(LoginDone { scopes })
}

/// The SDK's authorization manager for the server at `url`, with its address rules: metadata
/// (and the endpoints it names) may be at a loopback or private address only when the server's
/// own URL is one of the same class, so a public server cannot point qcode at the local
/// network; link-local and reserved addresses are always refused. Metadata must carry its
/// `issuer` (RFC 8414), as the SDK requires by default.
pub(crate) async fn new_manager(url: &str) -> Result<AuthorizationManager, String> {
    AuthorizationManager::new(url)
        .await
        .map_err(|e| format!("cannot use OAuth with this URL: {}", auth_error(&e)))
}

/// The authorization manager of a session's connection: with the stored sign-in of `server`
/// at `url` when there is one (`Ok(None)` when there is none).
pub(crate) async fn stored_manager(
    store: &TokenStore,
    server: &str,
    url: &str,
) -> Result<Option<AuthorizationManager>, String> {
    let lookup = {
        let (store, server, url) = (store.clone(), server.to_string(), url.to_string());
        tokio::task::spawn_blocking(move || store.get(&server, &url))
            .await
            .map_err(|e| format!("the sign-in store task failed: {e}"))??
    };
    let Some(entry) = lookup else {
        return Ok(None);
    };
    let mut manager = new_manager(url).await?;
    manager.set_credential_store(ServerCredentials::new(store.clone(), server, url));
    let usable = manager.initialize_from_store().await.map_err(|e| {
        format!(
            "could not use the stored sign-in (its authorization server: {})",
            auth_error(&e)
        )
    })?;
    if !usable {
        return Ok(None);
    }
    let mut config =
        OAuthClientConfig::new(entry.credentials.client_id.clone(), entry.redirect_uri);
    if let Some(secret) = entry.client_secret {
        config = config.with_client_secret(secret);
    }
    manager
        .configure_client(config)
        .map_err(|e| format!("could not use the stored sign-in: {}", auth_error(&e)))?;
    Ok(Some(manager))
}

/// Asks the server with an `initialize` request; its 401 carries the challenge that seeds
/// discovery; `false` when it answered without asking (a challenge may still come later).
async fn challenge(
    client: &reqwest::Client,
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<(bool, Option<String>), String> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "qcode", "version": env!("CARGO_PKG_VERSION")}}
    });
    let mut req = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    for (k, v) in crate::http::header_map(headers)? {
        req = req.header(k, v);
    }
    let response = req.send().await.map_err(|e| {
        format!(
            "could not reach {}: {}",
            crate::http::redact(url),
            crate::server::short_error(&innermost(&e))
        )
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let header = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        return Ok((true, header));
    }
    if status.is_success() {
        // Some servers let anyone `initialize` and ask for sign-in on their tools: discover
        // from the well-known locations (without metadata there is nothing to sign in to).
        return Ok((false, None));
    }
    Err(format!(
        "{} answered HTTP {} instead of asking for sign-in (HTTP 401)",
        crate::http::redact(url),
        status.as_u16()
    ))
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// An SDK auth error as one line, URLs redacted (never a token: the SDK's messages carry
/// none, and server bodies are cut).
pub(crate) fn auth_error(e: &AuthError) -> String {
    crate::server::short_error(&e.to_string())
}

struct Redirect {
    code: String,
    issuer: Option<String>,
}

/// Serves the loopback listener until a request to `/callback` carries `state`; answers every
/// other request with an error page. An answer with an `error` ends the wait with it.
async fn wait_for_redirect(listener: &TcpListener, state: &str) -> Result<Redirect, String> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        // The request line is all that matters; read until the end of the headers.
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            while len < buf.len() {
                match stream.read(&mut buf[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        })
        .await;
        if read.is_err() {
            continue;
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or("");
        let parsed = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
        let Some(u) = parsed.filter(|u| u.path() == "/callback") else {
            respond(&mut stream, 404, "Not found.").await;
            continue;
        };
        let param = |name: &str| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("state").as_deref() != Some(state) {
            // Not the answer to this sign-in (a stale tab, or another page poking the port).
            respond(
                &mut stream,
                400,
                "This sign-in answer does not match the one qcode is waiting for.",
            )
            .await;
            continue;
        }
        if let Some(error) = param("error") {
            respond(
                &mut stream,
                400,
                "The sign-in was refused. You can close this tab.",
            )
            .await;
            let why = param("error_description")
                .map(|d| format!("{error}: {d}"))
                .unwrap_or(error);
            return Err(format!(
                "the authorization server refused the sign-in: {}",
                sanitize(&why)
            ));
        }
        let Some(code) = param("code") else {
            respond(&mut stream, 400, "The sign-in answer carries no code.").await;
            return Err("the sign-in answer carried no authorization code".into());
        };
        respond(
            &mut stream,
            200,
            "Signed in. You can close this tab and go back to qcode.",
        )
        .await;
        return Ok(Redirect {
            code,
            issuer: param("iss"),
        });
    }
}

async fn respond(stream: &mut tokio::net::TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!("<!doctype html><title>qcode</title><p>{text}</p>\n");
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn sanitize(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    match clean.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &clean[..i]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn the_redirect_must_carry_the_state_that_was_sent() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let wait =
            tokio::spawn(
                async move { wait_for_redirect(&listener, "s-123").await.map(|r| r.code) },
            );
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let forged = get(port, "/callback?code=evil&state=other").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        assert!(!wait.is_finished(), "a forged answer does not end the wait");
        let ok = get(port, "/callback?code=c-1&state=s-123&iss=http%3A%2F%2Fas").await;
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.contains("Signed in"),
            "{ok}"
        );
        assert_eq!(wait.await.unwrap().unwrap(), "c-1");
    }

    #[tokio::test]
    async fn a_refusal_ends_the_wait_with_its_reason() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let wait =
            tokio::spawn(async move { wait_for_redirect(&listener, "s").await.map(|r| r.code) });
        get(
            port,
            "/callback?state=s&error=access_denied&error_description=no%1b%5b2J",
        )
        .await;
        let err = wait.await.unwrap().unwrap_err();
        assert!(err.contains("access_denied: no?[2J"), "{err}");
    }
}
