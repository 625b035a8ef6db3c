//! Finding the real peers (`tests/peers/mcp`, installed by `.ci/run` with `npm ci`) and
//! building server entries. Without them a test prints a loud SKIP — unless
//! `QCODE_REQUIRE_PEERS` (or `CI`) is set, then it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qcode_config::{McpOrigin, McpServerConfig, McpTransport, Startable};
use qcode_mcp::{McpManager, McpOptions, ServerState};

/// `server-everything`'s entry point, or `None` (after printing why) when it may be skipped.
pub fn everything(test: &str) -> Option<PathBuf> {
    qcode_test_support::mcp_peers::everything_or_skip(test).map(|dir| dir.join("dist/index.js"))
}

pub fn stdio(name: &str, command: &str, args: &[&str]) -> McpServerConfig {
    McpServerConfig {
        name: name.into(),
        transport: McpTransport::Stdio {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: BTreeMap::new(),
            cwd: None,
        },
        timeout: None,
        trust: false,
        include_tools: vec![],
        exclude_tools: vec![],
        description: None,
        origin: McpOrigin::UserSettings(PathBuf::from("/home/u/.qcode/settings.json")),
        startable: Startable::Yes,
    }
}

/// server-everything over stdio, its client→server traffic copied to `wire` (a `tee` in front
/// of it), so tests can assert on what was sent.
pub fn everything_stdio(name: &str, entry: &Path, wire: &Path) -> McpServerConfig {
    let mut c = stdio(
        name,
        "sh",
        &["-c", "tee -a \"$WIRE\" | node \"$ENTRY\" stdio"],
    );
    if let McpTransport::Stdio { env, .. } = &mut c.transport {
        env.insert("WIRE".into(), wire.display().to_string());
        env.insert("ENTRY".into(), entry.display().to_string());
    }
    c
}

pub fn options(dir: &Path) -> McpOptions {
    let mut o = McpOptions::new(dir.to_path_buf());
    o.init_timeout = Duration::from_secs(30);
    o
}

/// Starts the servers and waits until none is starting.
pub async fn started(configs: Vec<McpServerConfig>, options: McpOptions) -> McpManager {
    let m = McpManager::start(configs, options);
    let still = m.wait_ready(Duration::from_secs(40)).await;
    assert!(still.is_empty(), "still starting: {still:?}");
    m
}

pub fn state(m: &McpManager, name: &str) -> ServerState {
    m.statuses()
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.state)
        .unwrap_or_else(|| panic!("no server {name}"))
}

/// The members of process group `pgid` that are alive (not zombies), from /proc.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may contain spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(pid);
        }
    }
    out
}

/// Whether `pid` is still alive (exists and is not a zombie) after up to 5 s of waiting for it
/// to go.
pub fn alive(pid: u32) -> bool {
    // A signalled process still has to be scheduled to exit: on a loaded machine that takes a
    // moment after the manager's last wait. Alive means still running 5 s later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if !running(pid) {
            return false;
        }
        if std::time::Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|s| s != "Z"),
        Err(_) => false,
    }
}

/// The client→server messages recorded in `wire`, one JSON value per line.
pub fn sent(wire: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(wire)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The first recorded message matching `pred`, waiting up to 10 s for `tee` to write it.
pub async fn sent_matching(
    wire: &Path,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = sent(wire).into_iter().find(|v| pred(v)) {
            return Some(v);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
