//! `qcode mcp add | list | get | remove`: arguments → settings entries written through
//! `qcode_config::SettingsFile` (locked, atomic, comments kept), and the listing, which
//! connects to every server in parallel through `qcode-mcp`. Values of `env` and headers are
//! never printed (they may be keys).

use std::time::Duration;

use qcode_config::{ConfigSnapshot, McpTransport, SettingsFile, shown_url};
use qcode_mcp::{McpManager, McpOptions};
use qcode_protocol::{ErrorKind, Problem};
use serde_json::{Map, Value, json};

use crate::cli::{Cli, McpAction, McpArgs, McpScopeArg, McpTransportArg};
use crate::exit::report;

pub async fn run(cli: &Cli, args: &McpArgs) -> i32 {
    let result = match crate::session::load_config(cli) {
        Ok((snapshot, _)) => match &args.action {
            McpAction::List => list(&snapshot).await,
            McpAction::Get { name } => get(&snapshot, name),
            McpAction::Remove { name, scope } => remove(&snapshot, name, *scope),
            McpAction::Add { .. } => add(&snapshot, &args.action),
        },
        Err(p) => Err(p),
    };
    match result {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
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
                map.insert(k.into(), v.into());
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
    let manager = McpManager::start(
        snapshot.mcp_servers.clone(),
        McpOptions::new(snapshot.project_root.clone()),
    );
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
