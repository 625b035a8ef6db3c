//! Servers that fail: exit at once, never answer `initialize`, print garbage, get killed in
//! the middle of a call, or are not startable (folder trust). Each gives one clear error with
//! the last lines of its stderr; the others keep working; no process is left behind.

use std::time::Duration;

use qcode_config::Startable;
use qcode_mcp::{CallControl, McpError, McpManager, ServerState};
use serde_json::json;

use super::peer::{
    alive, everything, everything_stdio, group_members, options, started, state, stdio,
};

fn failed(m: &McpManager, name: &str) -> String {
    match state(m, name) {
        ServerState::Failed(message) => message,
        other => panic!("{name}: expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_at_once_fails_with_its_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let m = started(
        vec![
            stdio(
                "quits",
                "sh",
                &["-c", "echo 'fatal: no config file' >&2; exit 3"],
            ),
            stdio("missing", "/nonexistent/mcp-server", &[]),
        ],
        options(dir.path()),
    )
    .await;
    let quits = failed(&m, "quits");
    assert_eq!(
        quits,
        "the server exited before answering `initialize` (its process exited with status 3); its stderr ended with:\n  fatal: no config file"
    );
    let missing = failed(&m, "missing");
    assert!(
        missing.starts_with("could not start `/nonexistent/mcp-server` (in "),
        "{missing}"
    );
    assert!(m.tools().is_empty());
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_initialize_times_out_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let childfile = dir.path().join("child");
    // Ignores stdin being closed (sleep does not read it): only the signals stop it, and its
    // background child only goes because the whole process group is signalled.
    let script = format!(
        "sleep 600 & echo $! > '{}'; echo $$ > '{}'; echo 'listening on nothing' >&2; exec sleep 600",
        childfile.display(),
        pidfile.display()
    );
    let mut o = options(dir.path());
    o.init_timeout = Duration::from_secs(1);
    let m = McpManager::start(vec![stdio("mute", "sh", &["-c", &script])], o);
    assert_eq!(
        state(&m, "mute"),
        ServerState::Starting,
        "start returns at once"
    );
    assert_eq!(
        m.wait_ready(Duration::from_millis(200)).await,
        ["mute"],
        "the discovery wait gives up and names who is missing"
    );
    let still = m.wait_ready(Duration::from_secs(10)).await;
    assert!(still.is_empty());
    assert_eq!(
        failed(&m, "mute"),
        "the server did not answer `initialize` within 1 s; its stderr ended with:\n  listening on nothing"
    );
    m.shutdown().await;
    for file in [&pidfile, &childfile] {
        let pid: u32 = std::fs::read_to_string(file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !alive(pid),
            "process {pid} of the mute server was not stopped"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_prints_garbage_fails_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(dir.path());
    o.init_timeout = Duration::from_secs(2);
    let m = started(
        vec![stdio(
            "garbage",
            "sh",
            &["-c", "echo 'oops, wrong protocol' >&2; echo 'HTTP/1.1 200 OK'; echo '{\"not\": \"rpc\"}'; sleep 5"],
        )],
        o,
    )
    .await;
    let message = failed(&m, "garbage");
    assert!(
        message.ends_with("its stderr ended with:\n  oops, wrong protocol"),
        "{message}"
    );
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_call_fails_the_call_and_the_server() {
    let Some(entry) = everything("killed_mid_call") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = started(
        vec![everything_stdio("victim", &entry, &dir.path().join("wire"))],
        options(dir.path()),
    )
    .await;
    let pid = m.statuses()[0].pid.unwrap();
    let members = group_members(pid);
    assert!(members.len() >= 3, "sh, tee and node: {members:?}");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let call = m.call(
        "mcp__victim__trigger-long-running-operation",
        json!({"duration": 60, "steps": 120}),
        CallControl {
            progress: Some(tx),
            ..Default::default()
        },
    );
    let killer = async {
        rx.recv().await.expect("the call is running");
        // The group leader (sh) dies by SIGKILL; its pipeline goes with the group.
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
    };
    let (result, ()) = tokio::join!(call, killer);
    let err = result.unwrap_err();
    let McpError::Call {
        server, message, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(server, "victim");
    assert!(message.contains("was killed by signal 9"), "{message}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline && state(&m, "victim") == ServerState::Ready {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(failed(&m, "victim").contains("killed by signal 9"));
    assert!(m.tools().is_empty(), "a failed server offers no tools");
    m.shutdown().await;
    for p in members {
        assert!(!alive(p), "process {p} outlived its killed group leader");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_an_untrusted_folder_is_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mut c = stdio(
        "repo",
        "sh",
        &["-c", &format!("touch '{}'", marker.display())],
    );
    c.startable = Startable::NotTrusted {
        folder: dir.path().to_path_buf(),
    };
    let m = McpManager::start(vec![c], options(dir.path()));
    assert!(m.wait_ready(Duration::from_secs(1)).await.is_empty());
    match state(&m, "repo") {
        ServerState::NotStarted(reason) => {
            assert!(
                reason.starts_with("not started: folder not trusted"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!marker.exists(), "nothing of an untrusted folder runs");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_and_sse_servers_fail_clearly_without_showing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = qcode_test_support::process::free_port().unwrap();
    let http = |name: &str, url: String, sse: bool| {
        let mut c = stdio(name, "unused", &[]);
        let headers = std::collections::BTreeMap::from([(
            "Authorization".to_string(),
            "Bearer sk-secret-header".to_string(),
        )]);
        c.transport = if sse {
            qcode_config::McpTransport::Sse { url, headers }
        } else {
            qcode_config::McpTransport::Http { url, headers }
        };
        c
    };
    let m = started(
        vec![
            http(
                "down",
                format!("http://user:pw@127.0.0.1:{port}/mcp?token=sk-secret-query"),
                false,
            ),
            http(
                "legacy",
                "https://example.invalid/sse?key=sk-secret-sse".into(),
                true,
            ),
        ],
        options(dir.path()),
    )
    .await;
    let down = failed(&m, "down");
    assert!(
        down.starts_with(&format!(
            "could not connect to http://127.0.0.1:{port}/mcp?…: "
        )),
        "{down}"
    );
    let legacy = failed(&m, "legacy");
    assert_eq!(
        legacy,
        "https://example.invalid/sse?… uses the legacy SSE transport, which the MCP SDK qcode is built on does not support; if the server also speaks streamable HTTP, configure it with `httpUrl`"
    );
    for message in [&down, &legacy] {
        assert!(!message.contains("sk-secret"), "{message}");
        assert!(!message.contains("pw@"), "{message}");
    }
    m.shutdown().await;
}
