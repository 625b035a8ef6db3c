//! Workspace rules: `..`, absolute paths and symlinks that leave the workspace are flagged.

use qcode_tools::ToolContext;
use serde_json::json;

use super::support::Ws;

#[tokio::test]
async fn inside_paths_are_not_flagged_and_shown_relative() {
    let ws = Ws::new();
    ws.write("src/main.rs", "fn main() {}\n");
    let abs = ws.path("src/main.rs");
    for p in ["src/main.rs", "./src/../src/main.rs", abs.to_str().unwrap()] {
        let call = ws
            .prepare("read_file", json!({"file_path": p}))
            .await
            .unwrap();
        assert!(!call.outside_workspace(), "{p}");
        assert_eq!(call.summary(), "Read src/main.rs");
    }
    // A file that does not exist yet, deep inside.
    let call = ws
        .prepare(
            "write_file",
            json!({"file_path": "a/b/../c/new.txt", "content": ""}),
        )
        .await
        .unwrap();
    assert!(!call.outside_workspace());
    assert_eq!(call.summary(), "Write a/c/new.txt");
}

#[tokio::test]
async fn escapes_are_flagged() {
    let ws = Ws::new();
    let outside_file = ws.outside.path().join("secret.txt");
    std::fs::write(&outside_file, "s\n").unwrap();
    let canon_outside = std::fs::canonicalize(&outside_file).unwrap();

    let call = ws
        .prepare(
            "read_file",
            json!({"file_path": outside_file.to_str().unwrap()}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());
    assert_eq!(call.summary(), format!("Read {}", canon_outside.display()));

    // `..` out of the root, for a file that does not exist (deepest ancestor canonicalized).
    let call = ws
        .prepare(
            "write_file",
            json!({"file_path": "../escape.txt", "content": "x"}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());
    let call = ws
        .prepare(
            "write_file",
            json!({"file_path": "nonexistent/../../x.txt", "content": "x"}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());

    // A symlink inside the workspace pointing outside.
    std::os::unix::fs::symlink(ws.outside.path(), ws.path("link")).unwrap();
    let call = ws
        .prepare("read_file", json!({"file_path": "link/secret.txt"}))
        .await
        .unwrap();
    assert!(call.outside_workspace());
    let call = ws
        .prepare(
            "edit",
            json!({"file_path": "link/new.txt", "old_string": "", "new_string": "x"}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());
    let call = ws
        .prepare("list_directory", json!({"path": "link"}))
        .await
        .unwrap();
    assert!(call.outside_workspace());
    let call = ws
        .prepare(
            "run_shell_command",
            json!({"command": "ls", "directory": "link"}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());
    let call = ws
        .prepare("grep_search", json!({"pattern": "x", "path": ".."}))
        .await
        .unwrap();
    assert!(call.outside_workspace());
}

#[tokio::test]
async fn additional_roots_count_as_inside() {
    let mut ws = Ws::new();
    let second = tempfile::tempdir().unwrap();
    std::fs::write(second.path().join("x.txt"), "x").unwrap();
    ws.ctx = ToolContext::new(
        vec![ws.dir.path().to_path_buf(), second.path().to_path_buf()],
        ws.ctx.memory_file.clone(),
        ws.ctx.http.clone(),
        ws.ctx.background_dir.clone(),
    )
    .unwrap();
    let call = ws
        .prepare(
            "read_file",
            json!({"file_path": second.path().join("x.txt").to_str().unwrap()}),
        )
        .await
        .unwrap();
    assert!(!call.outside_workspace());
}
