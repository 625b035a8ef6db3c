//! Measures what the issue promises: loading a 10,000-message (≈ 20 MB) transcript, the cost
//! of a durable (synced) line, and checkpoint overhead on a 10,000-file workspace.
//!
//! `cargo run -p qcode-session --example load_bench [--release]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use qcode_protocol::{ApprovalMode, AuthKind, ToolCall};
use qcode_session::{
    Checkpoints, FORMAT_VERSION, Header, RecordBody, SessionWriter, SyncPolicy, list, load,
    now_rfc3339,
};

/// Peak resident set size so far (VmHWM), in KiB (Linux; 0 elsewhere).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn header(id: &str) -> Header {
    Header {
        format: FORMAT_VERSION,
        id: id.to_string(),
        qcode_version: env!("CARGO_PKG_VERSION").to_string(),
        cwd: "/work/project".to_string(),
        git_branch: Some("main".to_string()),
        model: "qwen3-coder-plus".to_string(),
        auth: AuthKind::QwenOauth,
        approval_mode: ApprovalMode::Default,
        created_at: now_rfc3339(),
        forked_from: None,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn transcript(project: &Path) {
    let text: String = "fn main() { println!(\"hello, \\\"world\\\"\"); } // ünïcödé\n".repeat(50);
    let mut w = SessionWriter::create(project, header("bench"), SyncPolicy::FlushOnly).unwrap();
    let started = Instant::now();
    let mut messages = 0;
    let mut turn = 0;
    while messages < 10_000 {
        turn += 1;
        w.user(&format!(
            "turn {turn}: please change this\n{}",
            &text[..600]
        ))
        .unwrap();
        w.append(RecordBody::Assistant {
            content: String::new(),
            reasoning: Some("Reading the file first.".into()),
            tool_calls: vec![ToolCall {
                id: format!("call_{turn}"),
                name: "read_file".into(),
                arguments: format!("{{\"path\":\"src/file_{turn}.rs\"}}"),
            }],
        })
        .unwrap();
        w.tool_result(&format!("call_{turn}"), &text).unwrap();
        w.append(RecordBody::Assistant {
            content: text.clone(),
            reasoning: None,
            tool_calls: vec![],
        })
        .unwrap();
        w.usage(qcode_protocol::Usage::default()).unwrap();
        messages += 4;
    }
    let write_time = started.elapsed();
    let path = w.path().to_path_buf();
    drop(w);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "transcript: {messages} messages, {turn} turns, {:.1} MB, written in {} (flush only)",
        size as f64 / 1e6,
        ms(write_time)
    );

    let rss0 = peak_rss_kib();
    let started = Instant::now();
    let session = load(&path).unwrap();
    let load_time = started.elapsed();
    let started = Instant::now();
    let history = session.history();
    let history_time = started.elapsed();
    let rss1 = peak_rss_kib();
    println!(
        "load: {} ({} records); history(): {} ({} messages); peak RSS delta {:.1} MB ({:.2}x the file)",
        ms(load_time),
        session.records.len(),
        ms(history_time),
        history.len(),
        (rss1 - rss0) as f64 / 1024.0,
        (rss1 - rss0) as f64 * 1024.0 / size as f64
    );
    drop(history);
    drop(session);
    let started = Instant::now();
    let l = list(project).unwrap();
    println!(
        "list (1 session of this size): {}, turns {}",
        ms(started.elapsed()),
        l[0].turns
    );

    // The cost of a durable line (user messages and headers are synced).
    let mut w = SessionWriter::create(project, header("sync"), SyncPolicy::Durable).unwrap();
    let n = 100;
    let started = Instant::now();
    for i in 0..n {
        w.user(&format!("prompt {i}")).unwrap();
    }
    let durable = started.elapsed() / n;
    let mut w2 = SessionWriter::create(project, header("nosync"), SyncPolicy::FlushOnly).unwrap();
    let started = Instant::now();
    for i in 0..n {
        w2.user(&format!("prompt {i}")).unwrap();
    }
    let flushed = started.elapsed() / n;
    println!(
        "one user line: {} with sync_data, {} flush only",
        ms(durable),
        ms(flushed)
    );
}

fn checkpoints(root: &Path, history: &Path) {
    let body = "let x = 1;\n".repeat(200); // 2.2 KB per file
    for d in 0..100 {
        let dir = root.join(format!("src/m{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            std::fs::write(dir.join(format!("f{f}.rs")), format!("// {d}/{f}\n{body}")).unwrap();
        }
    }
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    let mut cp = Checkpoints::open(history, "bench", root).unwrap();
    let started = Instant::now();
    let first = cp.snapshot_tree(1).unwrap();
    let first_time = started.elapsed();
    let started = Instant::now();
    cp.after_command(1, &first).unwrap();
    let after_unchanged = started.elapsed();
    let started = Instant::now();
    let snap = cp.snapshot_tree(2).unwrap();
    let warm = started.elapsed();
    std::fs::write(root.join("src/m5/f5.rs"), "changed by a command\n").unwrap();
    std::fs::write(root.join("src/m5/new.rs"), "created by a command\n").unwrap();
    let started = Instant::now();
    cp.after_command(2, &snap).unwrap();
    let after_changed = started.elapsed();
    let started = Instant::now();
    cp.before_write(3, &root.join("src/m7/f7.rs")).unwrap();
    let before_write = started.elapsed();
    std::fs::write(root.join("src/m7/f7.rs"), "edited\n").unwrap();
    let started = Instant::now();
    cp.finish_turn(3).unwrap();
    let finish = started.elapsed();
    let started = Instant::now();
    let plan = cp.rewind_plan(2).unwrap();
    let restored = cp.apply(&plan, qcode_session::Force::No).unwrap();
    let rewind = started.elapsed();
    // For comparison: the same walk with std only (no ignore rules), the floor of the stat walk.
    fn raw_walk(dir: &Path, n: &mut usize) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                raw_walk(&e.path(), n);
            } else {
                *n += 1;
            }
        }
    }
    let started = Instant::now();
    let mut n = 0;
    raw_walk(root, &mut n);
    let raw = started.elapsed();
    println!("checkpoints on {} files (2.2 KB each):", first.len());
    println!(
        "  (std-only stat walk of {n} files, the floor:   {})",
        ms(raw)
    );
    println!(
        "  first snapshot_tree (hash + store every file): {}",
        ms(first_time)
    );
    println!(
        "  after_command, nothing changed:                {}",
        ms(after_unchanged)
    );
    println!(
        "  later snapshot_tree (watched dirs only):       {}",
        ms(warm)
    );
    println!(
        "  after_command, 2 files changed:                {}",
        ms(after_changed)
    );
    println!(
        "  => per shell command (snapshot + after):       {}",
        ms(warm + after_changed)
    );
    println!(
        "  before_write (edit):                           {}",
        ms(before_write)
    );
    println!(
        "  finish_turn:                                   {}",
        ms(finish)
    );
    println!(
        "  rewind_plan + apply ({} files):                 {}",
        restored.len(),
        ms(rewind)
    );
}

fn main() {
    let t = tempfile::tempdir().unwrap();
    println!(
        "profile: {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    transcript(&t.path().join("project"));
    let root = t.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    checkpoints(&root, &t.path().join("file-history"));
}
