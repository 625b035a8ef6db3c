//! `run_shell_command`: exit codes, streaming, environment, caps, timeout / cancel killing the
//! whole process group, background mode, permission keys.

use std::time::{Duration, Instant};

use qcode_protocol::ApprovalDetails;
use qcode_tools::{ToolKind, ToolResultStatus, shell_permission_key};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::Ws;

/// Pids of live (non-zombie) processes in process group `pgid`, from /proc.
fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state ppid pgrp ...
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

/// Waits (bounded) until the group has no live member; returns what is left.
async fn wait_group_gone(pgid: u32) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = group_members(pgid);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn read_pid(ws: &Ws, rel: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(s) = std::fs::read_to_string(ws.path(rel))
            && let Ok(pid) = s.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the command never wrote its pid");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn reports_exit_code_and_combined_output() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "echo out; echo err >&2; exit 3", "description": "demo"}),
        )
        .await
        .unwrap();
    assert_eq!(call.kind(), ToolKind::Execute);
    assert_eq!(call.summary(), "Shell: echo out; echo err >&2; exit 3");
    assert_eq!(
        call.approval_details(),
        ApprovalDetails::Shell {
            command: "echo out; echo err >&2; exit 3".into(),
            directory: ".".into()
        }
    );
    let (r, chunks) = ws.execute(call, CancellationToken::new()).await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(r.output, "Exit code 3\nOutput:\nout\nerr");
    assert_eq!(chunks.concat(), "out\nerr\n");

    let r = ws
        .run("run_shell_command", json!({"command": "true"}))
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(r.output, "Exit code 0\nOutput: (empty)");

    let r = ws
        .run("run_shell_command", json!({"command": "kill -SEGV $$"}))
        .await;
    assert_eq!(r.output, "Killed by signal 11 (SIGSEGV)\nOutput: (empty)");
}

#[tokio::test]
async fn output_is_streamed_as_it_arrives() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "echo first; while [ ! -f go ]; do sleep 0.01; done; echo second"}),
        )
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = ws.ctx.clone();
    let task = tokio::spawn(async move { call.execute(&ctx, CancellationToken::new(), &tx).await });
    // The first line arrives while the command is still blocked.
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, qcode_tools::ToolProgress::Output("first\n".into()));
    std::fs::write(ws.path("go"), "").unwrap();
    let r = task.await.unwrap();
    assert_eq!(r.output, "Exit code 0\nOutput:\nfirst\nsecond");
}

#[tokio::test]
async fn the_command_sees_only_what_the_environment_policy_passes() {
    let mut ws = Ws::new();
    ws.ctx.shell_env_policy = qcode_tools::ShellEnvPolicy {
        inherit: qcode_tools::EnvInherit::None,
        include: vec!["PATH".into()],
        set: vec![("FIXED".into(), "v".into())],
        ..Default::default()
    };
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": "env | cut -d= -f1 | grep -v -e '^PWD$' -e '^SHLVL$' -e '^_$' | sort"}),
        )
        .await;
    assert_eq!(r.output, "Exit code 0\nOutput:\nFIXED\nPATH\nQCODE");
}

#[tokio::test]
async fn environment_directory_and_stdin() {
    let mut ws = Ws::new();
    ws.ctx.shell_env = vec![("EXTRA_VAR".into(), "extra".into())];
    std::fs::create_dir(ws.path("sub")).unwrap();
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": "echo $QCODE $EXTRA_VAR; pwd; cat; echo done", "directory": "sub"}),
        )
        .await;
    let pwd = ws.path("sub");
    assert_eq!(
        r.output,
        format!("Exit code 0\nOutput:\n1 extra\n{}\ndone", pwd.display())
    );
    assert_eq!(
        ws.prepare_err(
            "run_shell_command",
            json!({"command": "ls", "directory": "nope"})
        )
        .await,
        "run_shell_command: directory not found: nope; `directory` must be an existing \
         directory, relative to the workspace root"
    );
}

#[tokio::test]
async fn long_output_keeps_head_and_tail() {
    let ws = Ws::new();
    let r = ws
        .run("run_shell_command", json!({"command": "seq 1 100000"}))
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    let out = &r.output;
    assert!(out.len() < 31_000, "{}", out.len());
    assert!(out.starts_with("Exit code 0\nOutput:\n1\n2\n3\n"));
    assert!(out.ends_with("\n99999\n100000"));
    let marker = regex_lite_find(out);
    // Every line is either shown or counted as omitted.
    let shown = out.lines().filter(|l| l.parse::<u32>().is_ok()).count();
    assert_eq!(shown + marker, 100_000);
}

/// Extracts N from "[... N lines omitted ...]".
fn regex_lite_find(s: &str) -> usize {
    let start = s.find("[... ").unwrap() + 5;
    let end = s[start..].find(" lines omitted ...]").unwrap() + start;
    s[start..end].parse().unwrap()
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let ws = Ws::new();
    let started = Instant::now();
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": "sleep 1000 & sleep 1000 & echo $$ > pid; echo started; wait", "timeout": 500}),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "Timed out after 500 ms; the command and every process it started were killed. Use a \
         larger `timeout` (at most 600000) or is_background=true for long-running commands.\n\
         Output:\nstarted"
    );
    let pgid = read_pid(&ws, "pid").await;
    assert_eq!(wait_group_gone(pgid).await, Vec::<u32>::new());
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "trap '' TERM; sleep 1000 & sleep 1000 & echo $$ > pid; wait"}),
        )
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = ws.ctx.clone();
    let task = tokio::spawn(async move { call.execute(&ctx, c2, &tx).await });
    let pgid = read_pid(&ws, "pid").await;
    assert!(
        group_members(pgid).len() >= 3,
        "bash and two sleeps should be running"
    );
    cancel.cancel();
    let r = task.await.unwrap();
    assert_eq!(r.status, ToolResultStatus::Cancelled);
    assert!(r.output.starts_with(
        "Cancelled by the user; the command and every process it started were killed."
    ));
    // The shell ignored SIGTERM, so this also proves the SIGKILL follow-up.
    assert_eq!(wait_group_gone(pgid).await, Vec::<u32>::new());
}

#[tokio::test]
async fn leftover_background_children_are_stopped_after_exit() {
    let ws = Ws::new();
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": "sleep 1000 & echo $$ > pid; echo bye"}),
        )
        .await;
    let pgid = read_pid(&ws, "pid").await;
    assert_eq!(
        r.output,
        format!(
            "Exit code 0\nOutput:\nbye\n[processes the command left running in process group \
             {pgid} were stopped; use is_background=true for servers and watchers]"
        )
    );
    assert_eq!(wait_group_gone(pgid).await, Vec::<u32>::new());
}

#[tokio::test]
async fn background_mode_returns_at_once_with_pid_and_log() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "echo ready; echo $QCODE; sleep 1000", "is_background": true}),
        )
        .await
        .unwrap();
    assert_eq!(
        call.summary(),
        "Shell: echo ready; echo $QCODE; sleep 1000 (background)"
    );
    let started = Instant::now();
    let (r, _) = ws.execute(call, CancellationToken::new()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r.status, ToolResultStatus::Success);
    let pid: u32 = r.output["Started in the background: pid ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let log = std::fs::read_dir(&ws.ctx.background_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        r.output,
        format!(
            "Started in the background: pid {pid} (process group {pid}).\nOutput is written to \
             {log}; read it with read_file, or run `tail -n 50 {log}`.\nTo stop it, run `kill -- -{pid}`; \
             it is stopped when this qcode session ends.",
            log = log.display()
        )
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&log).unwrap() != "ready\n1\n" {
        assert!(Instant::now() < deadline, "log never filled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !group_members(pid).is_empty(),
        "the background command keeps running"
    );
    // Stop it the way the model is told to.
    ws.run(
        "run_shell_command",
        json!({"command": format!("kill -- -{pid}")}),
    )
    .await;
    assert_eq!(wait_group_gone(pid).await, Vec::<u32>::new());
}

#[test]
fn permission_keys() {
    assert_eq!(shell_permission_key("cargo test -p foo"), "cargo test");
    assert_eq!(shell_permission_key("git status"), "git status");
    assert_eq!(shell_permission_key("git --no-pager log"), "git");
    assert_eq!(shell_permission_key("ls -la src"), "ls");
    assert_eq!(shell_permission_key("  npm run build "), "npm run");
    assert_eq!(
        shell_permission_key("cargo test && rm -rf ~"),
        "cargo test && rm -rf ~"
    );
    assert_eq!(shell_permission_key("cat x | sh"), "cat x | sh");
    assert_eq!(shell_permission_key("echo $(whoami)"), "echo $(whoami)");
    assert_eq!(shell_permission_key("FOO=1 make"), "FOO=1 make");
}

#[tokio::test]
async fn permission_key_of_a_prepared_call() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "cargo build --release"}),
        )
        .await
        .unwrap();
    assert_eq!(call.permission_key(), "cargo build");
    assert!(!call.outside_workspace());
}

#[tokio::test]
async fn dropping_the_running_call_kills_the_group() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "sleep 1000 & echo $$ > pid; wait"}),
        )
        .await
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = ws.ctx.clone();
    let task = tokio::spawn(async move { call.execute(&ctx, CancellationToken::new(), &tx).await });
    let pgid = read_pid(&ws, "pid").await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(wait_group_gone(pgid).await, Vec::<u32>::new());
}

#[tokio::test]
async fn utf8_split_across_chunks_is_reassembled() {
    let ws = Ws::new();
    let (r, chunks) = ws
        .execute(
            ws.prepare(
                "run_shell_command",
                json!({"command": r"printf '\xc3'; sleep 0.1; printf '\xa9\n'"}),
            )
            .await
            .unwrap(),
            CancellationToken::new(),
        )
        .await;
    assert_eq!(r.output, "Exit code 0\nOutput:\né");
    assert_eq!(chunks.concat(), "é\n");
}

#[tokio::test]
async fn already_cancelled_calls_do_not_run() {
    let ws = Ws::new();
    let call = ws
        .prepare("run_shell_command", json!({"command": "touch ran"}))
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (r, _) = ws.execute(call, cancel).await;
    assert_eq!(r.status, ToolResultStatus::Cancelled);
    assert_eq!(r.output, "run_shell_command: cancelled before it started");
    assert!(!ws.path("ran").exists());
}

#[tokio::test]
async fn background_logs_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": "echo hi", "is_background": true}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    let log = std::fs::read_dir(&ws.ctx.background_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn background_commands_are_tracked_and_stopped_with_the_session() {
    let ws = Ws::new();
    let marker = format!("qcode-bg-{}", std::process::id());
    let r = ws
        .run(
            "run_shell_command",
            json!({"command": format!("sleep 300; echo {marker}"), "is_background": true}),
        )
        .await;
    assert!(
        r.output.contains("stopped when this qcode session ends"),
        "{}",
        r.output
    );
    assert_eq!(ws.ctx.background_jobs.groups().len(), 1);
    let alive = || {
        !std::process::Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .unwrap()
            .stdout
            .is_empty()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(alive());
    assert_eq!(
        ws.ctx
            .background_jobs
            .stop_all(std::time::Duration::from_millis(100)),
        1
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!alive(), "the background command outlived the session");
}
