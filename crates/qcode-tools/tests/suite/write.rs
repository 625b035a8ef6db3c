//! `write_file`: atomic writes that keep permissions and line-ending style.

use std::os::unix::fs::PermissionsExt;

use qcode_protocol::ApprovalDetails;
use qcode_tools::ToolResultStatus;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::Ws;

#[tokio::test]
async fn creates_file_and_parents_with_diff() {
    let ws = Ws::new();
    let call = ws
        .prepare(
            "write_file",
            json!({"file_path": "a/b/c.txt", "content": "one\ntwo\n"}),
        )
        .await
        .unwrap();
    assert_eq!(call.summary(), "Write a/b/c.txt");
    let diff = "--- a/a/b/c.txt\n+++ b/a/b/c.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n";
    assert_eq!(
        call.approval_details(),
        ApprovalDetails::Edit {
            path: "a/b/c.txt".into(),
            diff: diff.into()
        }
    );
    assert!(!ws.path("a").exists(), "prepare must not write");
    let (r, _) = ws.execute(call, CancellationToken::new()).await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(r.output, "Created a/b/c.txt (2 lines).");
    assert_eq!(r.diff.as_deref(), Some(diff));
    assert_eq!(ws.read("a/b/c.txt"), b"one\ntwo\n");
}

#[tokio::test]
async fn overwrite_is_atomic_and_keeps_permissions_and_crlf() {
    let ws = Ws::new();
    let p = ws.write("run.sh", "echo a\r\necho b\r\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o750)).unwrap();
    let inode_before = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&p).unwrap());
    let r = ws
        .run(
            "write_file",
            json!({"file_path": p.to_str().unwrap(), "content": "echo a\necho c\n"}),
        )
        .await;
    assert_eq!(r.output, "Wrote run.sh (2 lines; +1 -1).");
    assert_eq!(ws.read("run.sh"), b"echo a\r\necho c\r\n");
    let meta = std::fs::metadata(&p).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o750);
    // Replaced by rename (new inode), and no temporary file is left behind.
    assert_ne!(std::os::unix::fs::MetadataExt::ino(&meta), inode_before);
    let names: Vec<String> = std::fs::read_dir(ws.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["run.sh"]);
}

#[tokio::test]
async fn writing_through_a_symlink_keeps_the_link() {
    let ws = Ws::new();
    ws.write("real.txt", "old\n");
    std::os::unix::fs::symlink(ws.path("real.txt"), ws.path("link.txt")).unwrap();
    ws.run(
        "write_file",
        json!({"file_path": "link.txt", "content": "new\n"}),
    )
    .await;
    assert!(
        std::fs::symlink_metadata(ws.path("link.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(ws.read("real.txt"), b"new\n");
}

#[tokio::test]
async fn directory_target_is_refused() {
    let ws = Ws::new();
    std::fs::create_dir(ws.path("d")).unwrap();
    assert_eq!(
        ws.prepare_err("write_file", json!({"file_path": "d", "content": "x"}))
            .await,
        "write_file: d is a directory, not a file"
    );
}
