//! `qcode mcp add | list | get | remove | probe`: arguments → settings entries written through
//! `qcode_config::SettingsFile` (locked, atomic, comments kept), and the listing, which
//! connects to every server in parallel through `qcode-mcp`, and the probe, which connects to
//! one server (a URL or a configured name) through the same code paths as a session, lists its
//! tools and calls one, and `login | logout`, the OAuth sign-in of a remote server
//! (`qcode_mcp::oauth`). Values of `env` and headers, and tokens, are never printed (they
//! may be keys).

use std::time::Duration;

use qcode_config::{ConfigSnapshot, McpTransport, SettingsFile, shown_url};
use qcode_mcp::oauth::{LoginEvent, LoginRequest, PreRegistered, TokenStore};
use qcode_mcp::{McpManager, McpOptions};
use qcode_protocol::{ErrorKind, Problem};
use serde_json::{Map, Value, json};

use crate::cli::{Cli, McpAction, McpArgs, McpScopeArg, McpTransportArg, OAuthClientArgs};
use crate::exit::report;

pub async fn run(cli: &Cli, args: &McpArgs) -> i32 {
    let result = match crate::session::load_config(cli) {
        Ok((snapshot, _)) => match &args.action {
            McpAction::List => list(&snapshot).await,
            McpAction::Get { name } => get(&snapshot, name),
            McpAction::Remove { name, scope } => remove(&snapshot, name, *scope),
            McpAction::Add { .. } => add(&snapshot, &args.action),
            McpAction::Probe { .. } => probe(&snapshot, &args.action).await,
            McpAction::Login {
                name,
                timeout,
                client,
            } => login(&snapshot, name, *timeout, client).await,
            McpAction::Logout { name } => logout(&snapshot, name),
        },
        Err(p) => Err(p),
    };
    match result {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}

/// A session's options: stored sign-ins from `$QCODE_HOME`.
fn options(snapshot: &ConfigSnapshot) -> McpOptions {
    let mut options = McpOptions::new(snapshot.project_root.clone());
    options.oauth = Some(TokenStore::in_home(&snapshot.paths.qcode_home));
    options
}

fn input(message: impl Into<String>) -> Problem {
    Problem::new(ErrorKind::Input, message)
}

fn settings_for(snapshot: &ConfigSnapshot, scope: McpScopeArg) -> SettingsFile {
    match scope {
        McpScopeArg::User => SettingsFile::user(&snapshot.paths),
        McpScopeArg::Project => {
            let user = snapshot.paths.user_settings();
            SettingsFile::at(
                qcode_config::settings::find_project_settings(&snapshot.cwd, &user)
                    .unwrap_or_else(|| snapshot.project_root.join(".qcode").join("settings.json")),
            )
        }
    }
}

/// A server name must be usable as a key and in a tool name.
fn check_name(name: &str) -> Result<(), Problem> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(input(format!(
            "`{name}` is not a valid server name: use 1 to 64 letters, digits, `_`, `-` or `.`"
        )))
    }
}

/// The settings entry `qcode mcp add` writes.
fn entry_for(action: &McpAction) -> Result<Value, Problem> {
    let McpAction::Add {
        target,
        transport,
        env,
        headers,
        timeout,
        trust,
        ..
    } = action
    else {
        return Err(Problem::internal("not an add command"));
    };
    let looks_like_url = target.len() == 1
        && (target[0].starts_with("http://") || target[0].starts_with("https://"));
    let transport = transport.unwrap_or(if looks_like_url {
        McpTransportArg::Http
    } else {
        McpTransportArg::Stdio
    });
    let mut entry = Map::new();
    match transport {
        McpTransportArg::Stdio => {
            if !headers.is_empty() {
                return Err(input(
                    "--header is for HTTP servers; a stdio server gets -e KEY=VALUE",
                ));
            }
            let (command, rest) = target
                .split_first()
                .ok_or_else(|| input("give the command after `--`"))?;
            if command.trim().is_empty() {
                return Err(input("the command is empty"));
            }
            entry.insert("command".into(), command.clone().into());
            if !rest.is_empty() {
                entry.insert("args".into(), json!(rest));
            }
            let mut vars = Map::new();
            for e in env {
                let (k, v) = e
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| {
                        input(format!("-e takes KEY=VALUE; `{}` has no `=`", key_only(e)))
                    })?;
                if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(input(format!("`{k}` is not a valid variable name")));
                }
                vars.insert(k.into(), v.into());
            }
            if !vars.is_empty() {
                entry.insert("env".into(), Value::Object(vars));
            }
        }
        McpTransportArg::Http => {
            if !env.is_empty() {
                return Err(input(
                    "-e is for stdio servers; an HTTP server gets --header 'NAME: VALUE'",
                ));
            }
            let [url] = target.as_slice() else {
                return Err(input("an HTTP server takes exactly one URL"));
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(input(format!(
                    "`{}` is not an http:// or https:// URL",
                    shown_url(url)
                )));
            }
            entry.insert("httpUrl".into(), url.clone().into());
            let mut map = Map::new();
            for (k, v) in parse_headers(headers)? {
                map.insert(k, v.into());
            }
            if !map.is_empty() {
                entry.insert("headers".into(), Value::Object(map));
            }
        }
    }
    if let Some(ms) = timeout {
        if *ms == 0 {
            return Err(input("--timeout must be a positive number of milliseconds"));
        }
        entry.insert("timeout".into(), (*ms).into());
    }
    if *trust {
        entry.insert("trust".into(), true.into());
    }
    Ok(Value::Object(entry))
}

/// `--header 'NAME: VALUE'` arguments as (name, value) pairs.
fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, Problem> {
    let mut out = Vec::new();
    for h in headers {
        let (k, v) = h
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| {
                input(format!(
                    "--header takes 'NAME: VALUE'; `{}` has no `:`",
                    key_only(h)
                ))
            })?;
        if v.contains(['\r', '\n']) || k.contains(char::is_whitespace) {
            return Err(input(format!("the header `{k}` is not valid")));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// The part of a malformed `-e` / `--header` argument that is safe to echo (none of it, if it
/// is long: it may be a pasted key).
fn key_only(arg: &str) -> String {
    if arg.len() <= 24 {
        arg.to_string()
    } else {
        format!("{}…", arg.chars().take(8).collect::<String>())
    }
}

fn add(snapshot: &ConfigSnapshot, action: &McpAction) -> Result<(), Problem> {
    let McpAction::Add { name, scope, .. } = action else {
        return Err(Problem::internal("not an add command"));
    };
    check_name(name)?;
    let entry = entry_for(action)?;
    let file = settings_for(snapshot, *scope);
    file.set_mcp_server(name, entry)?;
    println!("Added MCP server `{name}` to {}.", file.path().display());
    if *scope == McpScopeArg::Project && !snapshot.trust.is_trusted() {
        println!(
            "This folder is not trusted, so project servers do not start here: run `qcode trust` to trust it."
        );
    }
    Ok(())
}

fn remove(
    snapshot: &ConfigSnapshot,
    name: &str,
    scope: Option<McpScopeArg>,
) -> Result<(), Problem> {
    let scopes = match scope {
        Some(s) => vec![s],
        None => vec![McpScopeArg::User, McpScopeArg::Project],
    };
    let mut removed = Vec::new();
    for s in scopes {
        let file = settings_for(snapshot, s);
        if file.remove_mcp_server(name)? {
            removed.push(file.path().display().to_string());
        }
    }
    if removed.is_empty() {
        let in_mcp_json = snapshot
            .mcp_servers
            .iter()
            .find(|s| s.name == name)
            .filter(|s| matches!(s.origin, qcode_config::McpOrigin::McpJson(_)));
        return Err(match in_mcp_json {
            Some(s) => input(format!(
                "`{name}` is configured in {}, which qcode does not edit; remove it there",
                s.origin.path().display()
            )),
            None => input(format!("no MCP server `{name}` in the settings")),
        });
    }
    for path in removed {
        println!("Removed MCP server `{name}` from {path}.");
    }
    Ok(())
}

/// `KEY=…` for each variable: names only.
fn masked(map: &std::collections::BTreeMap<String, String>, sep: &str) -> String {
    map.keys()
        .map(|k| format!("{k}{sep}***"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn get(snapshot: &ConfigSnapshot, name: &str) -> Result<(), Problem> {
    let server = snapshot
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| input(format!("no MCP server `{name}` is configured")))?;
    println!("{name}");
    println!(
        "  configured in: {} ({})",
        server.origin.path().display(),
        server.origin.label()
    );
    println!("  transport:     {}", server.transport.kind());
    match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            println!("  command:       {command}");
            if !args.is_empty() {
                println!("  args:          {}", args.join(" "));
            }
            if !env.is_empty() {
                println!("  env:           {}", masked(env, "="));
            }
            if let Some(cwd) = cwd {
                println!("  cwd:           {}", cwd.display());
            }
        }
        McpTransport::Http { url, headers } | McpTransport::Sse { url, headers } => {
            println!("  url:           {}", shown_url(url));
            if !headers.is_empty() {
                println!("  headers:       {}", masked(headers, ": "));
            }
            // Whether a sign-in is stored, never what it holds.
            match TokenStore::in_home(&snapshot.paths.qcode_home).has(name, url) {
                Ok(true) => println!(
                    "  sign-in:       stored (OAuth; `qcode mcp logout {name}` forgets it)"
                ),
                Ok(false) => {}
                Err(e) => println!("  sign-in:       unreadable: {e}"),
            }
        }
    }
    if let Some(t) = server.timeout {
        println!("  timeout:       {} ms", t.as_millis());
    }
    println!(
        "  approval:      {}",
        if server.trust {
            "trusted (its tools run without asking)"
        } else {
            "asks (outside yolo mode)"
        }
    );
    if !server.include_tools.is_empty() {
        println!("  includeTools:  {}", server.include_tools.join(", "));
    }
    if !server.exclude_tools.is_empty() {
        println!("  excludeTools:  {}", server.exclude_tools.join(", "));
    }
    if let Some(why) = server.startable.reason() {
        println!("  status:        {why}");
    }
    Ok(())
}

async fn list(snapshot: &ConfigSnapshot) -> Result<(), Problem> {
    if snapshot.mcp_servers.is_empty() {
        println!("No MCP servers are configured (add one with `qcode mcp add NAME -- COMMAND`).");
        return Ok(());
    }
    let timeout = Duration::from_millis(snapshot.mcp_discovery_timeout_ms.value);
    let manager = McpManager::start(snapshot.mcp_servers.clone(), options(snapshot));
    manager.wait_ready(timeout).await;
    let lines = status_lines(&manager, timeout);
    manager.shutdown().await;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// One line per server: name, transport, where it is configured, its state and tool count.
fn status_lines(manager: &McpManager, timeout: Duration) -> Vec<String> {
    manager
        .statuses()
        .into_iter()
        .map(|s| {
            let state = match &s.state {
                qcode_mcp::ServerState::Starting => format!(
                    "still starting after {:.1} s (mcp.discoveryTimeout)",
                    timeout.as_secs_f64()
                ),
                other => crate::mcp_glue::describe_state(other, s.tools),
            };
            format!(
                "{} ({}, {}): {state}",
                s.name,
                s.transport,
                s.origin.label()
            )
        })
        .collect()
}

/// The server `qcode mcp probe TARGET` talks to: a configured one by name, or a streamable
/// HTTP URL given on the command line.
fn probe_target(
    snapshot: &ConfigSnapshot,
    target: &str,
    headers: &[String],
) -> Result<qcode_config::McpServerConfig, Problem> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let headers = parse_headers(headers)?.into_iter().collect();
        return Ok(qcode_config::McpServerConfig {
            name: "probe".into(),
            transport: McpTransport::Http {
                url: target.to_string(),
                headers,
            },
            timeout: None,
            trust: false,
            include_tools: Vec::new(),
            exclude_tools: Vec::new(),
            description: None,
            // Only shown in listings, which the probe does not print.
            origin: qcode_config::McpOrigin::UserSettings(snapshot.paths.user_settings()),
            startable: qcode_config::Startable::Yes,
        });
    }
    if !headers.is_empty() {
        return Err(input(
            "--header is for a URL; a configured server uses the headers of its entry",
        ));
    }
    snapshot
        .mcp_servers
        .iter()
        .find(|s| s.name == target)
        .cloned()
        .ok_or_else(|| {
            input(format!(
                "`{target}` is neither an http(s):// URL nor a configured MCP server (see `qcode mcp list`)"
            ))
        })
}

/// `qcode mcp probe`: connect, list, optionally call; print what the server says.
async fn probe(snapshot: &ConfigSnapshot, action: &McpAction) -> Result<(), Problem> {
    let McpAction::Probe {
        target,
        call,
        args,
        headers,
        timeout,
        client,
        elicitation,
    } = action
    else {
        return Err(Problem::internal("not a probe command"));
    };
    let client = pre_registered(client)?;
    if *timeout == 0 {
        return Err(input("--timeout must be a positive number of milliseconds"));
    }
    let arguments = match args {
        Some(text) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| input(format!("--args is not valid JSON: {e}")))?;
            if !value.is_object() {
                return Err(input("--args must be a JSON object, e.g. '{\"a\": 1}'"));
            }
            value
        }
        None => json!({}),
    };
    let config = probe_target(snapshot, target, headers)?;
    let name = config.name.clone();
    let timeout = Duration::from_millis(*timeout);
    // A URL target signs in (if it asks) for this run only; a configured server uses the
    // stored sign-ins, as a session does.
    let by_url = target.starts_with("http://") || target.starts_with("https://");
    let store = if by_url {
        TokenStore::memory()
    } else {
        TokenStore::in_home(&snapshot.paths.qcode_home)
    };
    let mut options = McpOptions::new(snapshot.project_root.clone());
    options.init_timeout = timeout;
    options.call_timeout = timeout;
    options.elicitation = match elicitation {
        crate::cli::ElicitationArg::Decline => qcode_mcp::ElicitationPolicy::Decline,
        crate::cli::ElicitationArg::AcceptDefaults => qcode_mcp::ElicitationPolicy::AcceptDefaults,
    };
    options.oauth = Some(store.clone());
    let manager = McpManager::start(vec![config.clone()], options.clone());
    manager.wait_ready(timeout + Duration::from_secs(1)).await;
    let needs_sign_in = manager.statuses().first().is_some_and(|s| {
        s.state == qcode_mcp::ServerState::Failed(qcode_mcp::oauth::needs_sign_in_message(&name))
    });
    let sign_in = |challenge: Option<String>| {
        let McpTransport::Http { url, headers } = &config.transport else {
            return Err(Problem::internal("a URL target is not an HTTP server"));
        };
        Ok(LoginRequest {
            server: name.clone(),
            url: url.clone(),
            headers: headers.clone(),
            store: store.clone(),
            browser: std::env::var("BROWSER").ok(),
            timeout,
            client: client.clone(),
            challenge,
        })
    };
    let mut manager = if needs_sign_in && by_url {
        manager.shutdown().await;
        probe_sign_in(&name, sign_in(None)?).await?;
        McpManager::start(vec![config.clone()], options.clone())
    } else {
        manager
    };
    // A call refused for its scope (403 `insufficient_scope`) signs in once more, for the
    // wider scope the challenge names, and is tried again — once.
    let mut stepped_up = false;
    loop {
        let end = probe_session(
            &manager,
            &name,
            call.as_deref(),
            arguments.clone(),
            timeout,
            by_url && !stepped_up,
        )
        .await;
        for notice in manager.take_notices() {
            eprintln!("warning: {}", sanitize(&notice));
        }
        manager.shutdown().await;
        match end? {
            ProbeEnd::Done => return Ok(()),
            ProbeEnd::SignInRefused(challenge) => {
                stepped_up = true;
                eprintln!("sign-in: the call needs another sign-in (the server refused it)");
                probe_sign_in(&name, sign_in(Some(challenge))?).await?;
                manager = McpManager::start(vec![config.clone()], options.clone());
            }
        }
    }
}

/// The probe's sign-in (for this run only), with its progress on stderr.
async fn probe_sign_in(name: &str, request: LoginRequest) -> Result<(), Problem> {
    qcode_mcp::oauth::login(request, &|event| match event {
        LoginEvent::OpenUrl(u) => eprintln!("sign-in: opening {u}"),
        LoginEvent::BrowserFailed(why) => eprintln!("sign-in: {why}"),
    })
    .await
    .map_err(|e| Problem::new(ErrorKind::Auth, format!("`{name}`: sign-in failed: {e}")))?;
    eprintln!("sign-in: done");
    Ok(())
}

/// How a probe ended when nothing failed.
enum ProbeEnd {
    Done,
    /// The call was refused for its sign-in; the server's challenge.
    SignInRefused(String),
}

/// The configured HTTP server `name` (a project's only in a trusted folder).
fn oauth_target<'a>(
    snapshot: &'a ConfigSnapshot,
    name: &str,
) -> Result<(&'a qcode_config::McpServerConfig, &'a str), Problem> {
    let server = snapshot
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            input(format!(
                "no MCP server `{name}` is configured (see `qcode mcp list`)"
            ))
        })?;
    if let Some(why) = server.startable.reason() {
        return Err(input(format!("`{name}` is {why}")));
    }
    match &server.transport {
        McpTransport::Http { url, .. } => Ok((server, url.as_str())),
        McpTransport::Stdio { .. } => Err(input(format!(
            "`{name}` is a stdio server; OAuth sign-in is for remote (HTTP) servers"
        ))),
        McpTransport::Sse { .. } => Err(input(format!(
            "`{name}` uses the legacy SSE transport, which qcode cannot connect to"
        ))),
    }
}

/// `--client-id` / `--client-secret-env` as a pre-registered client (the secret read from the
/// named variable of the process environment).
fn pre_registered(args: &OAuthClientArgs) -> Result<Option<PreRegistered>, Problem> {
    let Some(id) = &args.client_id else {
        return Ok(None);
    };
    if id.trim().is_empty() || id.chars().any(char::is_control) {
        return Err(input("--client-id must be a non-empty client id"));
    }
    let client_secret = match &args.client_secret_env {
        None => None,
        Some(var) => Some(
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    input(format!(
                        "--client-secret-env names `{var}`, which is not set in the environment"
                    ))
                })?,
        ),
    };
    Ok(Some(PreRegistered {
        client_id: id.clone(),
        client_secret,
    }))
}

/// How long `/mcp login` waits for the browser (the default of `qcode mcp login --timeout`).
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// `qcode mcp login NAME`.
async fn login(
    snapshot: &ConfigSnapshot,
    name: &str,
    timeout: u64,
    client: &OAuthClientArgs,
) -> Result<(), Problem> {
    if timeout == 0 {
        return Err(input("--timeout must be a positive number of seconds"));
    }
    let client = pre_registered(client)?;
    let done = sign_in(
        snapshot,
        name,
        Duration::from_secs(timeout),
        client,
        &|line| println!("{line}"),
    )
    .await?;
    println!("{done}");
    Ok(())
}

/// The sign-in of the configured server `name`, shared by `qcode mcp login` and the TUI's
/// `/mcp login`: the same checks (a configured HTTP server, a project's only in a trusted
/// folder), the same flow, the URL opened through `BROWSER` or the platform's opener. Each
/// line to show while it runs goes to `show`; returns the closing line (the scopes granted,
/// where the tokens are).
pub(crate) async fn sign_in(
    snapshot: &ConfigSnapshot,
    name: &str,
    timeout: Duration,
    client: Option<PreRegistered>,
    show: &(dyn Fn(String) + Send + Sync),
) -> Result<String, Problem> {
    let (server, url) = oauth_target(snapshot, name)?;
    let McpTransport::Http { headers, .. } = &server.transport else {
        return Err(Problem::internal("not an HTTP server"));
    };
    let store = TokenStore::in_home(&snapshot.paths.qcode_home);
    let request = LoginRequest {
        server: name.to_string(),
        url: url.to_string(),
        headers: headers.clone(),
        store: store.clone(),
        browser: std::env::var("BROWSER").ok(),
        timeout,
        client,
        challenge: None,
    };
    show(format!("Signing in to `{name}` ({}).", shown_url(url)));
    let seconds = timeout.as_secs();
    let done = qcode_mcp::oauth::login(request, &|event| match event {
        LoginEvent::OpenUrl(u) => {
            show(
                "Opening your browser. If it does not open, visit this URL on this machine:".into(),
            );
            show(format!("  {u}"));
            show(format!("Waiting for the sign-in (up to {seconds} s)…"));
        }
        LoginEvent::BrowserFailed(why) => show(format!("(Could not open a browser: {why}.)")),
    })
    .await
    .map_err(|e| {
        Problem::new(
            ErrorKind::Auth,
            format!("signing in to `{name}` failed: {e}"),
        )
    })?;
    let scopes = if done.scopes.is_empty() {
        String::new()
    } else {
        format!(" (scopes: {})", sanitize(&done.scopes.join(" ")))
    };
    let path = store
        .path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Ok(format!(
        "Signed in to `{name}`{scopes}; the tokens are in {path}."
    ))
}

/// `qcode mcp logout NAME`.
fn logout(snapshot: &ConfigSnapshot, name: &str) -> Result<(), Problem> {
    let store = TokenStore::in_home(&snapshot.paths.qcode_home);
    let removed = store
        .remove_server(name)
        .map_err(|e| Problem::new(ErrorKind::Config, e))?;
    if removed == 0 {
        println!("`{name}` has no stored sign-in.");
    } else {
        println!("Signed out of `{name}`: its tokens were removed.");
    }
    Ok(())
}

async fn probe_session(
    manager: &McpManager,
    name: &str,
    call: Option<&str>,
    arguments: Value,
    timeout: Duration,
    may_sign_in: bool,
) -> Result<ProbeEnd, Problem> {
    // The manager's own init timeout bounds the start; the margin only covers scheduling.
    manager.wait_ready(timeout + Duration::from_secs(1)).await;
    let status = manager
        .statuses()
        .into_iter()
        .next()
        .ok_or_else(|| Problem::internal("the probed server is missing"))?;
    match &status.state {
        qcode_mcp::ServerState::Ready => {}
        qcode_mcp::ServerState::Starting => {
            return Err(Problem::new(
                ErrorKind::Network,
                format!(
                    "`{name}` did not finish starting within {:.1} s",
                    timeout.as_secs_f64()
                ),
            ));
        }
        other => {
            return Err(Problem::new(
                ErrorKind::Network,
                format!("`{name}`: {}", crate::mcp_glue::describe_state(other, 0)),
            ));
        }
    }
    match manager.server_info(name) {
        Some(info) => {
            let who = if info.name.is_empty() {
                "(no server name)".to_string()
            } else {
                format!("{} {}", info.name, info.version).trim().to_string()
            };
            println!(
                "connected: {}, protocol {}",
                sanitize(&who),
                sanitize(&info.protocol_version)
            );
            if let Some(text) = info.instructions.filter(|t| !t.trim().is_empty()) {
                // The first line, and how much more there is (instructions can be pages long).
                let mut lines = text.lines().filter(|l| !l.trim().is_empty());
                let first = lines.next().unwrap_or("");
                let more = lines.count();
                let more = match more {
                    0 => String::new(),
                    1 => " (and 1 more line)".to_string(),
                    n => format!(" (and {n} more lines)"),
                };
                println!("instructions: {}{more}", sanitize(first.trim()));
            }
        }
        None => println!("connected"),
    }
    let tools = manager.tools();
    println!("tools: {}", tools.len());
    for t in &tools {
        let description = t.description.lines().next().unwrap_or("");
        if description.is_empty() {
            println!("  {} (offered as {})", sanitize(&t.tool), t.name);
        } else {
            println!(
                "  {} (offered as {}): {}",
                sanitize(&t.tool),
                t.name,
                sanitize(description)
            );
        }
    }
    let Some(tool) = call else {
        return Ok(ProbeEnd::Done);
    };
    let offered = tools
        .iter()
        .find(|t| t.tool == tool)
        .ok_or_else(|| input(format!("`{name}` offers no tool `{}`", sanitize(tool))))?;
    let output = match manager
        .call(&offered.name, arguments, qcode_mcp::CallControl::default())
        .await
    {
        Ok(output) => output,
        Err(qcode_mcp::McpError::SignInRefused { challenge, .. }) if may_sign_in => {
            return Ok(ProbeEnd::SignInRefused(challenge));
        }
        Err(e) => return Err(Problem::new(ErrorKind::Tool, e.to_string())),
    };
    println!("call {}:", sanitize(tool));
    for line in output.text.lines() {
        println!("  {}", sanitize(line));
    }
    if output.is_error {
        return Err(Problem::new(
            ErrorKind::Tool,
            format!(
                "the server reported the call of `{}` as failed",
                sanitize(tool)
            ),
        ));
    }
    Ok(ProbeEnd::Done)
}

/// Server-chosen text without control characters (a hostile server could move the cursor
/// or rewrite the terminal otherwise).
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}
