//! The reference `server-filesystem`: a second real server, with errors reported by the tool.

use qcode_mcp::CallControl;
use serde_json::json;

use super::peer::{everything, options, started, stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_server_reads_inside_and_refuses_outside_its_directory() {
    let Some(everything_entry) = everything("filesystem") else {
        return;
    };
    // Installed next to server-everything by the same `npm ci`.
    let entry = everything_entry
        .ancestors()
        .nth(3)
        .unwrap()
        .join("server-filesystem/dist/index.js");
    assert!(entry.is_file(), "{} is missing", entry.display());
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::write(allowed.join("hello.txt"), "hello from disk\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    let allowed = allowed.canonicalize().unwrap();
    let m = started(
        vec![stdio(
            "fs",
            "node",
            &[&entry.display().to_string(), &allowed.display().to_string()],
        )],
        options(dir.path()),
    )
    .await;
    let read = m
        .call(
            "mcp__fs__read_text_file",
            json!({"path": allowed.join("hello.txt")}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(!read.is_error);
    assert!(read.text.contains("hello from disk"), "{}", read.text);
    let outside = m
        .call(
            "mcp__fs__read_text_file",
            json!({"path": dir.path().canonicalize().unwrap().join("secret.txt")}),
            CallControl::default(),
        )
        .await
        .unwrap();
    assert!(outside.is_error, "{outside:?}");
    assert!(!outside.text.contains("TOP-SECRET"), "{}", outside.text);
    m.shutdown().await;
}
