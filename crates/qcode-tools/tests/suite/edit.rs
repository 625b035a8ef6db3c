//! `edit`: exact matching, uniqueness, replace_all, CRLF / BOM / UTF-16 preservation, creation.

use qcode_protocol::ApprovalDetails;
use qcode_tools::{ToolKind, ToolResultStatus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::Ws;

#[tokio::test]
async fn unique_match_is_replaced_and_diff_shown_before_and_after() {
    let ws = Ws::new();
    ws.write("src/lib.rs", "fn a() {}\nfn b() {}\nfn c() {}\n");
    let call = ws
        .prepare(
            "edit",
            json!({"file_path": "src/lib.rs", "old_string": "fn b() {}", "new_string": "fn b() { todo() }"}),
        )
        .await
        .unwrap();
    assert_eq!(call.kind(), ToolKind::Edit);
    assert_eq!(call.summary(), "Edit src/lib.rs");
    assert!(!call.outside_workspace());
    assert_eq!(call.permission_key(), "edit");
    let expected_diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn a() {}\n-fn b() {}\n+fn b() { todo() }\n fn c() {}\n";
    assert_eq!(
        call.approval_details(),
        ApprovalDetails::Edit {
            path: "src/lib.rs".into(),
            diff: expected_diff.into()
        }
    );
    // Nothing is written before execute.
    assert_eq!(ws.read("src/lib.rs"), b"fn a() {}\nfn b() {}\nfn c() {}\n");
    let (r, _) = ws.execute(call, CancellationToken::new()).await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(
        r.output,
        "Edited src/lib.rs: replaced 1 occurrence (+1 -1 lines)."
    );
    assert_eq!(r.diff.as_deref(), Some(expected_diff));
    assert_eq!(
        ws.read("src/lib.rs"),
        b"fn a() {}\nfn b() { todo() }\nfn c() {}\n"
    );
}

#[tokio::test]
async fn zero_matches_ask_to_reread_and_point_at_whitespace_variant() {
    let ws = Ws::new();
    ws.write("a.py", "def f():\n    return  1\n\ndef g():\n    pass\n");
    let msg = ws
        .prepare_err(
            "edit",
            json!({"file_path": "a.py", "old_string": "def f():\n  return 1", "new_string": "x"}),
        )
        .await;
    assert_eq!(
        msg,
        "edit: old_string was not found in a.py. Re-read the file with read_file and copy the \
         text exactly, including whitespace and indentation. A passage that differs only in \
         whitespace was found at lines 1-2:\ndef f():\n    return  1"
    );
    let msg = ws
        .prepare_err(
            "edit",
            json!({"file_path": "a.py", "old_string": "nothing like it", "new_string": "x"}),
        )
        .await;
    assert_eq!(
        msg,
        "edit: old_string was not found in a.py. Re-read the file with read_file and copy the \
         text exactly, including whitespace and indentation"
    );
}

#[tokio::test]
async fn several_matches_need_context_or_replace_all() {
    let ws = Ws::new();
    ws.write("a.txt", "x = 1\nx = 1\nx = 1\n");
    let msg = ws
        .prepare_err(
            "edit",
            json!({"file_path": "a.txt", "old_string": "x = 1", "new_string": "x = 2"}),
        )
        .await;
    assert_eq!(
        msg,
        "edit: old_string occurs 3 times in a.txt. Include more surrounding lines to make it \
         unique, or set replace_all to true to replace every occurrence"
    );
    let r = ws
        .run(
            "edit",
            json!({"file_path": "a.txt", "old_string": "x = 1", "new_string": "x = 2", "replace_all": true}),
        )
        .await;
    assert_eq!(
        r.output,
        "Edited a.txt: replaced 3 occurrences (+3 -3 lines)."
    );
    assert_eq!(ws.read("a.txt"), b"x = 2\nx = 2\nx = 2\n");
}

#[tokio::test]
async fn crlf_line_endings_are_matched_with_lf_and_kept() {
    let ws = Ws::new();
    ws.write("win.txt", "one\r\ntwo\r\nthree\r\n");
    let r = ws
        .run(
            "edit",
            json!({"file_path": "win.txt", "old_string": "one\ntwo", "new_string": "one\nTWO\nextra"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert_eq!(ws.read("win.txt"), b"one\r\nTWO\r\nextra\r\nthree\r\n");
    // The model may also send CRLF itself.
    ws.run(
        "edit",
        json!({"file_path": "win.txt", "old_string": "extra\r\nthree", "new_string": "3"}),
    )
    .await;
    assert_eq!(ws.read("win.txt"), b"one\r\nTWO\r\n3\r\n");
}

#[tokio::test]
async fn utf8_bom_and_utf16_are_preserved() {
    let ws = Ws::new();
    ws.write("bom.cs", b"\xef\xbb\xbfclass A {}\n");
    ws.run(
        "edit",
        json!({"file_path": "bom.cs", "old_string": "A", "new_string": "B"}),
    )
    .await;
    assert_eq!(ws.read("bom.cs"), b"\xef\xbb\xbfclass B {}\n");

    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(
        "héllo\r\nwörld\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    ws.write("u16.txt", &utf16);
    let r = ws
        .run(
            "edit",
            json!({"file_path": "u16.txt", "old_string": "wörld", "new_string": "wörld!"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    let mut expected = vec![0xff, 0xfe];
    expected.extend(
        "héllo\r\nwörld!\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    assert_eq!(ws.read("u16.txt"), expected);
}

#[tokio::test]
async fn empty_old_string_creates_a_missing_file_only() {
    let ws = Ws::new();
    let r = ws
        .run("edit", json!({"file_path": "new/dir/file.rs", "old_string": "", "new_string": "fn main() {}\n"}))
        .await;
    assert_eq!(r.output, "Created new/dir/file.rs (1 lines).");
    assert_eq!(
        r.diff.as_deref(),
        Some("--- a/new/dir/file.rs\n+++ b/new/dir/file.rs\n@@ -0,0 +1 @@\n+fn main() {}\n")
    );
    assert_eq!(ws.read("new/dir/file.rs"), b"fn main() {}\n");

    let msg = ws
        .prepare_err(
            "edit",
            json!({"file_path": "new/dir/file.rs", "old_string": "", "new_string": "x"}),
        )
        .await;
    assert_eq!(
        msg,
        "edit: old_string is empty but new/dir/file.rs already has content. Give the exact text \
         to replace, or use write_file to replace the whole file"
    );
    let msg = ws
        .prepare_err(
            "edit",
            json!({"file_path": "missing.rs", "old_string": "a", "new_string": "b"}),
        )
        .await;
    assert_eq!(
        msg,
        "edit: missing.rs does not exist. To create it, call edit with an empty old_string (or \
         use write_file); otherwise check the path with glob"
    );
    // An existing empty file can be filled.
    ws.write("empty.txt", "");
    ws.run(
        "edit",
        json!({"file_path": "empty.txt", "old_string": "", "new_string": "hi"}),
    )
    .await;
    assert_eq!(ws.read("empty.txt"), b"hi");
}

#[tokio::test]
async fn identical_strings_binary_files_and_concurrent_changes_are_refused() {
    let ws = Ws::new();
    ws.write("a.txt", "abc\n");
    assert_eq!(
        ws.prepare_err(
            "edit",
            json!({"file_path": "a.txt", "old_string": "abc", "new_string": "abc"})
        )
        .await,
        "edit: old_string and new_string are identical; there is nothing to change"
    );
    ws.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0");
    assert_eq!(
        ws.prepare_err(
            "edit",
            json!({"file_path": "img.png", "old_string": "PNG", "new_string": "x"})
        )
        .await,
        "edit: img.png is a binary file (PNG image); edit only changes text files"
    );
    // The file changes between approval and execution: nothing is written.
    let call = ws
        .prepare(
            "edit",
            json!({"file_path": "a.txt", "old_string": "abc", "new_string": "xyz"}),
        )
        .await
        .unwrap();
    ws.write("a.txt", "abc\nmore\n");
    let (r, _) = ws.execute(call, CancellationToken::new()).await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "edit: a.txt changed on disk after this edit was proposed; read it again and repeat the \
         edit if it is still wanted"
    );
    assert_eq!(ws.read("a.txt"), b"abc\nmore\n");
}
