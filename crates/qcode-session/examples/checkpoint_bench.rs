//! What checkpoints cost per shell command and per edit on a 10,000-file workspace, against a
//! baseline measured in the same run: the same command (`bash -c`) and the same write without
//! tracking. Run by `scripts/bench-checkpoints.sh`; prints numbers, passes or fails nothing.
//!
//! `cargo run --release -p qcode-session --example checkpoint_bench [-- FILES ROUNDS] [--json PATH]`
//! (`--json`: the figures as benchmark rows, the format `scripts/bench all` merges).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use qcode_session::Checkpoints;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `files` files of ~2.2 KB in directories of 100, plus an ignored build directory.
fn generate(root: &Path, files: usize) {
    let body = "let x = 1;\n".repeat(200);
    for i in 0..files {
        let dir = root.join(format!("src/m{}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(
            dir.join(format!("f{}.rs", i % 100)),
            format!("// {i}\n{body}"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("target/debug")).unwrap();
    std::fs::write(root.join("target/debug/out"), "ignored").unwrap();
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
}

fn bash(root: &Path, command: &str) {
    let status = Command::new("bash")
        .args(["-c", command])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let json = match args.iter().position(|a| a == "--json") {
        Some(at) if at + 1 < args.len() => {
            let path = args.remove(at + 1);
            args.remove(at);
            Some(path)
        }
        Some(_) => {
            eprintln!("checkpoint_bench: --json needs a path");
            std::process::exit(2);
        }
        None => None,
    };
    let number = |i: usize, default: usize| match args.get(i) {
        None => default,
        Some(a) => match a.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("checkpoint_bench: `{a}` is not a positive number");
                std::process::exit(2);
            }
        },
    };
    let files = number(1, 10_000);
    let rounds = number(2, 30);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    generate(&root, files);
    let root = root.canonicalize().unwrap();
    let history = tmp.path().join("file-history");
    let mut cp = Checkpoints::open(&history, "bench", &root).unwrap();

    let started = Instant::now();
    cp.snapshot_tree(1).unwrap();
    let first = started.elapsed();

    // A command that changes one file and creates another, as a build step or `sed -i` would.
    let command = |i: usize| format!("echo {i} >> src/m7/f7.rs && echo {i} > src/m3/new{i}.rs");
    let mut baseline = Vec::new();
    let mut tracked = Vec::new();
    let mut overhead = Vec::new();
    for i in 0..rounds {
        let t = Instant::now();
        bash(&root, &command(2 * i));
        baseline.push(t.elapsed());

        let t = Instant::now();
        let snap = cp.snapshot_tree(2).unwrap();
        let before = t.elapsed();
        let t2 = Instant::now();
        bash(&root, &command(2 * i + 1));
        let run = t2.elapsed();
        let t3 = Instant::now();
        cp.after_command(2, &snap).unwrap();
        let after = t3.elapsed();
        tracked.push(before + run + after);
        overhead.push(before + after);
    }
    let mut write_base = Vec::new();
    let mut write_tracked = Vec::new();
    for i in 0..rounds {
        let path = root.join(format!(
            "src/m{}/f{}.rs",
            (i * 7) % (files / 100).max(1),
            i % 100
        ));
        let t = Instant::now();
        qcode_fs::write_atomic(
            &path,
            format!("edit {i}\n").as_bytes(),
            qcode_fs::Mode::KeepOr(0o644),
        )
        .unwrap();
        write_base.push(t.elapsed());
        let path = root.join(format!(
            "src/m{}/f{}.rs",
            (i * 11) % (files / 100).max(1),
            (i + 50) % 100
        ));
        let t = Instant::now();
        cp.before_write(3, &path).unwrap();
        qcode_fs::write_atomic(
            &path,
            format!("edit {i}\n").as_bytes(),
            qcode_fs::Mode::KeepOr(0o644),
        )
        .unwrap();
        write_tracked.push(t.elapsed());
    }
    let t = Instant::now();
    cp.finish_turn(3).unwrap();
    let finish = t.elapsed();
    let changed = cp.changed_files();

    let b = median(baseline);
    let tr = median(tracked);
    let o = median(overhead);
    let wb = median(write_base);
    let wt = median(write_tracked);
    println!("checkpoints on {files} files (~2.2 KB each), {rounds} rounds, medians:");
    println!(
        "  first snapshot (every file read and kept, once per session, in the background): {}",
        ms(first)
    );
    println!("  shell command without tracking (baseline): {}", ms(b));
    println!("  shell command with tracking:               {}", ms(tr));
    println!(
        "  => overhead per shell command (snapshot + after): {}",
        ms(o)
    );
    println!("  write without tracking (baseline):         {}", ms(wb));
    println!("  write with before_write:                   {}", ms(wt));
    println!("  => overhead per edit: {}", ms(wt.saturating_sub(wb)));
    println!(
        "  finish_turn ({} files of turn 3): {}",
        changed.get(&3).map_or(0, Vec::len),
        ms(finish)
    );
    println!(
        "  recorded: turn 2 changed {} files (expected {})",
        changed.get(&2).map_or(0, Vec::len),
        1 + rounds
    );
    if let Some(path) = json {
        let case = format!("{files} files");
        let value = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1000.0;
        let row = |measure: &str, subject: &str, d: Duration, baseline: Option<&str>| {
            let mut r = serde_json::json!({"measure": measure, "case": case, "subject": subject,
                "value": value(d), "unit": "ms", "better": "lower"});
            if let Some(b) = baseline {
                r["baseline"] = b.into();
            }
            r
        };
        let doc = serde_json::json!({"bench": "checkpoints", "title": "File checkpoints per tool call",
        "rows": [
            row("checkpoint_shell_command", "shell command", b, None),
            row("checkpoint_shell_command", "shell command, checkpointed", tr, Some("shell command")),
            row("checkpoint_shell_overhead", "qcode", o, None),
            row("checkpoint_write", "write", wb, None),
            row("checkpoint_write", "write, checkpointed", wt, Some("write")),
            row("checkpoint_write_overhead", "qcode", wt.saturating_sub(wb), None),
            row("checkpoint_first_snapshot", "qcode", first, None),
            row("checkpoint_finish_turn", "qcode", finish, None),
        ]});
        std::fs::write(&path, format!("{doc:#}\n")).unwrap();
    }
}
