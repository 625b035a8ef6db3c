//! server-everything in streamable-HTTP mode, with a configured header.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use qcode_config::{McpOrigin, McpServerConfig, McpTransport, Startable};
use qcode_mcp::{CallControl, ServerState};
use qcode_test_support::process::{ChildGuard, free_port, http_status, wait_until};
use serde_json::json;

use super::peer::{everything, options, started, state};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_and_called_over_streamable_http() {
    let Some(entry) = everything("streamable_http") else {
        return;
    };
    let port = free_port().unwrap();
    let child = Command::new("node")
        .arg(&entry)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = ChildGuard::new(child);
    assert!(
        wait_until(Duration::from_secs(20), || http_status(
            port,
            "GET",
            "/",
            &[],
            b""
        )
        .is_ok()),
        "server-everything did not listen on {port}"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = McpServerConfig {
        name: "remote".into(),
        transport: McpTransport::Http {
            url: format!("http://127.0.0.1:{port}/mcp"),
            headers: BTreeMap::from([("X-Test".into(), "1".into())]),
        },
        timeout: None,
        trust: false,
        include_tools: vec![],
        exclude_tools: vec![],
        description: None,
        origin: McpOrigin::McpJson(PathBuf::from("/p/.mcp.json")),
        startable: Startable::Yes,
    };
    let m = started(vec![config], options(dir.path())).await;
    assert_eq!(state(&m, "remote"), ServerState::Ready);
    let status = &m.statuses()[0];
    assert_eq!((status.transport, status.pid), ("http", None));
    let info = m.server_info("remote").unwrap();
    assert!(info.name.contains("everything"), "{info:?}");
    assert!(!info.protocol_version.is_empty(), "{info:?}");
    assert_eq!(m.server_info("nonexistent"), None);
    assert!(m.tools().iter().any(|t| t.name == "mcp__remote__get-sum"));
    let out = m
        .call(
            "mcp__remote__get-sum",
            json!({"a": 1, "b": 2}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(out.text.contains('3'), "{}", out.text);
    m.shutdown().await;
    assert_eq!(state(&m, "remote"), ServerState::Stopped);
}
