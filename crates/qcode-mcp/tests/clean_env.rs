//! A stdio server sees only its entry's `env` and the safe set — never qcode's keys. Its own
//! test binary: it sets a variable in the process environment, which must not race with other
//! tests' threads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use qcode_config::{McpOrigin, McpServerConfig, McpTransport, Startable};
use qcode_mcp::{CallControl, McpManager, McpOptions};
use serde_json::json;

#[test]
fn a_stdio_server_gets_a_clean_environment() {
    let root = qcode_test_support::process::repo_root();
    let entry = root
        .join("tests/peers/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !entry.is_file() {
        let required = std::env::var_os("QCODE_REQUIRE_PEERS").is_some_and(|v| !v.is_empty())
            || qcode_test_support::process::in_ci();
        assert!(
            !required,
            "the MCP test peer is required here: {} is missing",
            entry.display()
        );
        eprintln!(
            "\n*** SKIP a_stdio_server_gets_a_clean_environment: {} is missing ***\n",
            entry.display()
        );
        return;
    }
    // Before any other thread exists (the runtime is built below).
    #[allow(unsafe_code)]
    // SAFETY: single-threaded at this point: this is the only test of this binary and no
    // runtime or other thread has been started yet.
    unsafe {
        std::env::set_var("OPENAI_API_KEY", "canary-sk-0123456789");
        std::env::set_var("QCODE_SECRET_TOKEN", "canary-token");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = McpServerConfig {
            name: "env".into(),
            transport: McpTransport::Stdio {
                command: "node".into(),
                args: vec![entry.display().to_string(), "stdio".into()],
                env: BTreeMap::from([("SERVER_LEVEL".into(), "debug".into())]),
                cwd: None,
            },
            timeout: None,
            trust: false,
            include_tools: vec![],
            exclude_tools: vec![],
            description: None,
            origin: McpOrigin::UserSettings(PathBuf::from("/u/settings.json")),
            startable: Startable::Yes,
        };
        let m = McpManager::start(vec![config], McpOptions::new(dir.path().to_path_buf()));
        assert!(m.wait_ready(Duration::from_secs(40)).await.is_empty());
        let out = m
            .call("mcp__env__get-env", json!({}), CallControl::default())
            .await
            .unwrap();
        let env: BTreeMap<String, String> = serde_json::from_str(&out.text).unwrap();
        assert!(
            !out.text.contains("canary"),
            "a secret reached the server: {}",
            out.text
        );
        assert!(!env.contains_key("OPENAI_API_KEY"));
        assert!(!env.keys().any(|k| k.starts_with("CARGO")), "{env:?}");
        assert_eq!(env.get("SERVER_LEVEL").map(String::as_str), Some("debug"));
        assert_eq!(env.get("PATH"), std::env::var("PATH").ok().as_ref());
        for k in env.keys() {
            assert!(
                k == "SERVER_LEVEL" || qcode_mcp::SAFE_VARS.contains(&k.as_str()),
                "unexpected variable {k} in the server's environment"
            );
        }
        m.shutdown().await;
    });
}
