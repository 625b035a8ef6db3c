//! `McpManager::reconnect`: a server killed in a session comes back with its tools, the old
//! process group is gone, and nothing is left at shutdown.

use std::time::Duration;

use qcode_mcp::{CallControl, McpError, ServerState};
use serde_json::json;

use super::peer::{
    alive, everything, everything_stdio, group_members, options, started, state, stdio,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_reconnected_with_its_tools_and_no_process_left() {
    let Some(entry) = everything("reconnect") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = started(
        vec![everything_stdio("srv", &entry, &dir.path().join("wire"))],
        options(dir.path()),
    )
    .await;
    let first = m.statuses()[0].pid.unwrap();
    let old_members = group_members(first);
    std::process::Command::new("kill")
        .args(["-KILL", &first.to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline && state(&m, "srv") == ServerState::Ready {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ServerState::Failed(why) = state(&m, "srv") else {
        panic!("not failed: {:?}", state(&m, "srv"));
    };
    assert!(why.contains("killed by signal 9"), "{why}");
    assert!(m.tools().is_empty());
    let before = m.generation();

    assert_eq!(m.reconnect("srv").await.unwrap(), ServerState::Ready);
    assert!(m.generation() > before);
    let second = m.statuses()[0].pid.unwrap();
    assert_ne!(first, second);
    for p in &old_members {
        assert!(
            !alive(*p),
            "process {p} of the old server outlived the reconnect"
        );
    }
    let out = m
        .call(
            "mcp__srv__echo",
            json!({"message": "back"}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(out.text.contains("back"), "{}", out.text);

    // Reconnecting a ready server replaces its process too.
    let members = group_members(second);
    assert_eq!(m.reconnect("srv").await.unwrap(), ServerState::Ready);
    for p in &members {
        assert!(!alive(*p), "process {p} outlived the second reconnect");
    }
    let third = m.statuses()[0].pid.unwrap();
    let members = group_members(third);
    m.shutdown().await;
    for p in members {
        assert!(!alive(p), "process {p} outlived shutdown");
    }
    assert!(matches!(
        m.reconnect("srv").await,
        Err(McpError::ShuttingDown)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_an_unknown_or_still_failing_server_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let m = started(
        vec![stdio(
            "quits",
            "sh",
            &["-c", "echo 'bad config' >&2; exit 3"],
        )],
        options(dir.path()),
    )
    .await;
    let err = m.reconnect("nope").await.unwrap_err();
    assert_eq!(err.to_string(), "no MCP server is called `nope`");
    let ServerState::Failed(why) = m.reconnect("quits").await.unwrap() else {
        panic!("a server that exits at once fails again");
    };
    assert!(why.contains("exited with status 3"), "{why}");
    assert!(why.contains("bad config"), "{why}");
    m.shutdown().await;
}
