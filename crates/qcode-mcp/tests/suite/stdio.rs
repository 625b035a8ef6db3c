//! server-everything over stdio: listing, calling, structured content, images, progress,
//! cancellation and timeouts (asserted on the wire), tool filters, shutdown without orphans.

use std::time::Duration;

use qcode_mcp::{CallControl, McpError, ServerState};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::peer::{
    alive, everything, everything_stdio, group_members, options, sent, sent_matching, started,
    state, stdio,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_and_called_with_their_results_as_text() {
    let Some(entry) = everything("tools_are_listed_and_called") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut filtered = everything_stdio("only echo", &entry, &dir.path().join("wire2"));
    filtered.include_tools = vec!["echo".into(), "get-env".into()];
    filtered.exclude_tools = vec!["get-env".into()];
    let m = started(
        vec![
            everything_stdio("everything", &entry, &dir.path().join("wire")),
            filtered,
        ],
        options(dir.path()),
    )
    .await;
    assert_eq!(state(&m, "everything"), ServerState::Ready);
    let tools = m.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "mcp__everything__echo",
        "mcp__everything__get-sum",
        "mcp__everything__get-tiny-image",
        "mcp__everything__get-structured-content",
        "mcp__everything__trigger-long-running-operation",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let filtered: Vec<&str> = tools
        .iter()
        .filter(|t| t.server == "only echo")
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        filtered,
        ["mcp__only_echo__echo"],
        "includeTools / excludeTools"
    );
    let sum = tools.iter().find(|t| t.tool == "get-sum").unwrap();
    assert_eq!(sum.input_schema["properties"]["a"]["type"], "number");
    assert_eq!(sum.read_only_hint, Some(true));

    let echo = m
        .call(
            "mcp__everything__echo",
            json!({"message": "hi there"}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert_eq!(echo.text, "Echo: hi there");
    assert!(!echo.is_error);
    let sum = m
        .call(
            "mcp__everything__get-sum",
            json!({"a": 2, "b": 40}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(sum.text.contains("42"), "{}", sum.text);
    let image = m
        .call(
            "mcp__everything__get-tiny-image",
            json!({}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(image.text.contains("[image: image/png, "), "{}", image.text);
    let structured = m
        .call(
            "mcp__everything__get-structured-content",
            json!({"location": "New York"}),
            CallControl::default(),
        )
        .await
        .unwrap();
    let last = structured.text.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|_| {
        serde_json::from_str(&structured.text)
            .unwrap_or_else(|e| panic!("{e}: {}", structured.text))
    });
    assert!(v.get("temperature").is_some(), "{v}");

    // Bad arguments: the server's validation comes back as an error for the model.
    let bad = m
        .call(
            "mcp__everything__get-sum",
            json!({"a": "x"}),
            CallControl::default(),
        )
        .await;
    match bad {
        Ok(out) => assert!(out.is_error, "{out:?}"),
        Err(e) => assert!(matches!(e, McpError::Call { .. }), "{e}"),
    }
    assert!(matches!(
        m.call("mcp__everything__nope", json!({}), CallControl::default())
            .await,
        Err(McpError::UnknownTool(_))
    ));

    let wire = sent(&dir.path().join("wire"));
    let call = wire
        .iter()
        .find(|v| v["method"] == "tools/call" && v["params"]["name"] == "echo")
        .expect("the echo call on the wire");
    assert_eq!(call["params"]["arguments"], json!({"message": "hi there"}));
    assert_eq!(wire[0]["method"], "initialize");
    assert_eq!(wire[0]["params"]["clientInfo"]["name"], "qcode");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_and_cancelling_sends_notifications_cancelled() {
    let Some(entry) = everything("progress_and_cancel") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wire = dir.path().join("wire");
    let m = started(
        vec![everything_stdio("ev", &entry, &wire)],
        options(dir.path()),
    )
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let control = CallControl {
        cancel: cancel.clone(),
        progress: Some(tx),
    };
    let call = m.call(
        "mcp__ev__trigger-long-running-operation",
        json!({"duration": 60, "steps": 120}),
        control,
    );
    let watcher = async {
        let first = rx.recv().await.expect("a progress notification");
        cancel.cancel();
        first
    };
    let (result, first) = tokio::join!(call, watcher);
    assert!(matches!(result, Err(McpError::Cancelled)), "{result:?}");
    assert_eq!(first.progress, 1.0);
    assert_eq!(first.total, Some(120.0));

    // The server is still usable, and the cancellation went over the wire for that request.
    let echo = m
        .call(
            "mcp__ev__echo",
            json!({"message": "after"}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert_eq!(echo.text, "Echo: after");
    let sent = sent(&wire);
    let request = sent
        .iter()
        .find(|v| v["params"]["name"] == "trigger-long-running-operation")
        .unwrap();
    assert!(
        request["params"]["_meta"]["progressToken"].is_number()
            || request["params"]["_meta"]["progressToken"].is_string()
    );
    let cancelled = sent_matching(&wire, |v| v["method"] == "notifications/cancelled")
        .await
        .expect("notifications/cancelled on the wire");
    assert_eq!(cancelled["params"]["requestId"], request["id"]);
    assert_eq!(cancelled["params"]["reason"], "cancelled by the user");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_its_timeout_is_cancelled_and_reported() {
    let Some(entry) = everything("call_timeout") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wire = dir.path().join("wire");
    let mut c = everything_stdio("slow", &entry, &wire);
    c.timeout = Some(Duration::from_millis(300));
    let m = started(vec![c], options(dir.path())).await;
    let r = m
        .call(
            "mcp__slow__trigger-long-running-operation",
            json!({"duration": 30, "steps": 3}),
            CallControl::default(),
        )
        .await;
    match r {
        Err(e @ McpError::TimedOut { .. }) => assert_eq!(
            e.to_string(),
            "MCP tool `trigger-long-running-operation` of server `slow` did not finish within 0.3 s and was cancelled"
        ),
        other => panic!("{other:?}"),
    }
    let cancelled = sent_matching(&wire, |v| v["method"] == "notifications/cancelled")
        .await
        .expect("cancelled on the wire");
    assert_eq!(cancelled["params"]["reason"], "timed out");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_no_process_of_the_group_behind() {
    let Some(entry) = everything("no_orphans") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // sh → tee + node: three processes in the server's group.
    let m = started(
        vec![everything_stdio("ev", &entry, &dir.path().join("wire"))],
        options(dir.path()),
    )
    .await;
    let pid = m.statuses()[0].pid.expect("a running pid");
    let members = group_members(pid);
    assert!(members.len() >= 3, "sh, tee and node: {members:?}");
    m.shutdown().await;
    assert_eq!(state(&m, "ev"), ServerState::Stopped);
    for p in members {
        assert!(
            !alive(p),
            "process {p} of the server's group is still alive"
        );
    }
    assert_eq!(m.statuses()[0].pid, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_list_change_refreshes_the_tools() {
    let Some(entry) = everything("list_changed") else {
        return;
    };
    // tests/peers/mcp/list-changed.mjs: `add-tool` registers `added` and the server announces
    // it with notifications/tools/list_changed.
    let script = entry.ancestors().nth(5).unwrap().join("list-changed.mjs");
    let dir = tempfile::tempdir().unwrap();
    let m = started(
        vec![stdio("lc", "node", &[&script.display().to_string()])],
        options(dir.path()),
    )
    .await;
    let names = |m: &qcode_mcp::McpManager| -> Vec<String> {
        m.tools().into_iter().map(|t| t.name).collect()
    };
    assert_eq!(names(&m), ["mcp__lc__add-tool"]);
    let before = m.generation();
    let out = m
        .call("mcp__lc__add-tool", json!({}), CallControl::default())
        .await
        .unwrap();
    assert_eq!(out.text, "added");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while names(&m).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh: {:?}",
            names(&m)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(names(&m), ["mcp__lc__add-tool", "mcp__lc__added"]);
    assert!(m.generation() > before, "callers can tell the list changed");
    let added = m
        .call("mcp__lc__added", json!({}), CallControl::default())
        .await
        .unwrap();
    assert_eq!(added.text, "I was added");
    m.shutdown().await;
}
