//! `read_file`: paging, caps, binary refusal, encodings.

use std::fmt::Write as _;

use qcode_tools::{ToolKind, ToolResultStatus};
use serde_json::json;

use super::support::Ws;

fn numbered(n: usize) -> String {
    (1..=n).fold(String::new(), |mut s, i| {
        writeln!(s, "line {i}").unwrap();
        s
    })
}

#[tokio::test]
async fn small_file_is_returned_raw() {
    let ws = Ws::new();
    ws.write("a.txt", "alpha\n  beta\n");
    let call = ws
        .prepare("read_file", json!({"file_path": "a.txt"}))
        .await
        .unwrap();
    assert_eq!(call.kind(), ToolKind::ReadOnly);
    assert_eq!(call.summary(), "Read a.txt");
    let r = ws.run("read_file", json!({"file_path": "a.txt"})).await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(r.output, "alpha\n  beta");
    ws.write("empty.txt", "");
    assert_eq!(
        ws.run("read_file", json!({"file_path": "empty.txt"}))
            .await
            .output,
        "[the file is empty]"
    );
}

#[tokio::test]
async fn long_file_is_paged_with_a_continuation_note() {
    let ws = Ws::new();
    ws.write("big.txt", numbered(1500));
    let r = ws.run("read_file", json!({"file_path": "big.txt"})).await;
    let (body, note) = r.output.split_once("\n\n[").unwrap();
    assert_eq!(body.lines().count(), 1000);
    assert!(body.starts_with("line 1\nline 2\n"));
    assert!(body.ends_with("\nline 1000"));
    assert_eq!(
        note,
        "showing lines 1-1000 of 1500; call read_file with offset=1000 to continue]"
    );

    let r = ws
        .run("read_file", json!({"file_path": "big.txt", "offset": 1000}))
        .await;
    let (body, note) = r.output.split_once("\n\n[").unwrap();
    assert!(body.starts_with("line 1001\n") && body.ends_with("\nline 1500"));
    assert_eq!(note, "showing lines 1001-1500 of 1500]");

    let r = ws
        .run(
            "read_file",
            json!({"file_path": "big.txt", "offset": 10, "limit": 2}),
        )
        .await;
    assert_eq!(
        r.output,
        "line 11\nline 12\n\n[showing lines 11-12 of 1500; call read_file with offset=12 to continue]"
    );
    let r = ws
        .run("read_file", json!({"file_path": "big.txt", "offset": 1500}))
        .await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "read_file: offset 1500 is past the end of the file, which has 1500 lines (offsets 0 to 1499)"
    );
}

#[tokio::test]
async fn character_cap_and_long_lines() {
    let ws = Ws::new();
    let line = "x".repeat(999);
    ws.write("wide.txt", format!("{line}\n").repeat(100));
    let r = ws.run("read_file", json!({"file_path": "wide.txt"})).await;
    let (body, note) = r.output.split_once("\n\n[").unwrap();
    // 25 lines of 999 chars + newlines = 24,999 characters fit; the 26th does not.
    assert_eq!(body.lines().count(), 25);
    assert_eq!(
        note,
        "showing lines 1-25 of 100; call read_file with offset=25 to continue]"
    );

    ws.write("minified.js", "a".repeat(5000));
    let r = ws
        .run("read_file", json!({"file_path": "minified.js"}))
        .await;
    assert_eq!(
        r.output,
        format!(
            "{}... [line cut: 5000 characters]\n[1 line(s) longer than 2000 characters were cut]",
            "a".repeat(2000)
        )
    );
}

#[tokio::test]
async fn binary_files_are_refused() {
    let ws = Ws::new();
    ws.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let r = ws.run("read_file", json!({"file_path": "logo.png"})).await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "read_file: logo.png is a binary file (PNG image, 16 bytes); read_file only returns text. \
         If you need to inspect it, use run_shell_command with a tool such as `file` or `xxd | head`"
    );
    ws.write("data.bin", b"abc\0def");
    let r = ws.run("read_file", json!({"file_path": "data.bin"})).await;
    assert!(
        r.output
            .starts_with("read_file: data.bin is a binary file (binary data, 7 bytes)"),
        "{}",
        r.output
    );
}

#[tokio::test]
async fn encodings_are_decoded() {
    let ws = Ws::new();
    let mut le = vec![0xff, 0xfe];
    le.extend("grüß\r\ndich\r\n".encode_utf16().flat_map(u16::to_le_bytes));
    ws.write("le.txt", &le);
    assert_eq!(
        ws.run("read_file", json!({"file_path": "le.txt"}))
            .await
            .output,
        "grüß\ndich"
    );
    let mut be = vec![0xfe, 0xff];
    be.extend("日本語\n".encode_utf16().flat_map(u16::to_be_bytes));
    ws.write("be.txt", &be);
    assert_eq!(
        ws.run("read_file", json!({"file_path": "be.txt"}))
            .await
            .output,
        "日本語"
    );
    ws.write("bom.txt", b"\xef\xbb\xbfhello\n");
    assert_eq!(
        ws.run("read_file", json!({"file_path": "bom.txt"}))
            .await
            .output,
        "hello"
    );
    ws.write("latin1.txt", b"caf\xe9\n");
    assert_eq!(
        ws.run("read_file", json!({"file_path": "latin1.txt"}))
            .await
            .output,
        "caf\u{fffd}\n[note: the file is not valid UTF-8; invalid bytes are shown as U+FFFD, so \
         do not copy those characters into edit]"
    );
}

#[tokio::test]
async fn huge_files_need_paging() {
    let ws = Ws::new();
    let line = format!("{}\n", "y".repeat(99));
    let p = ws.write("huge.log", line.repeat(220_000)); // 22 MB
    let r = ws
        .run("read_file", json!({"file_path": p.to_str().unwrap()}))
        .await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "read_file: huge.log is 21.0 MB, more than the 20.0 MB that can be read at once. Read a \
         part of it with offset and limit (e.g. offset=0, limit=200), or search it with grep_search"
    );
    let r = ws
        .run(
            "read_file",
            json!({"file_path": "huge.log", "offset": 219_998, "limit": 5}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(
        r.output,
        format!(
            "{y}\n{y}\n\n[showing lines 219999-220000 of 220000]",
            y = "y".repeat(99)
        )
    );
}

#[tokio::test]
async fn missing_files_and_directories_are_explained() {
    let ws = Ws::new();
    std::fs::create_dir(ws.path("src")).unwrap();
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": "nope.rs"}))
            .await,
        "read_file: file not found: nope.rs. Check the path with glob or list_directory"
    );
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": "src"}))
            .await,
        "read_file: src is a directory; use list_directory to see its entries"
    );
}

#[tokio::test]
async fn special_files_are_refused_before_they_are_opened() {
    let ws = Ws::new();
    let fifo = ws.path("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": "pipe"}))
            .await,
        "read_file: pipe is a FIFO (named pipe), not a regular file; read_file only reads \
         regular files"
    );
    assert_eq!(
        ws.prepare_err("read_file", json!({"file_path": "/dev/zero"}))
            .await,
        "read_file: /dev/zero is a character device, not a regular file; read_file only reads \
         regular files"
    );
    // Through a symlink inside the workspace, too.
    std::os::unix::fs::symlink("/dev/zero", ws.path("zeros")).unwrap();
    assert!(
        ws.prepare_err("read_file", json!({"file_path": "zeros"}))
            .await
            .contains("is a character device, not a regular file"),
    );
    let socket_path = ws.path("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    assert!(
        ws.prepare_err("read_file", json!({"file_path": "sock"}))
            .await
            .contains("sock is a socket, not a regular file"),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn a_special_file_swapped_in_after_prepare_is_refused_too() {
    let ws = Ws::new();
    ws.write("f.txt", "hello\n");
    let call = ws
        .prepare("read_file", json!({"file_path": "f.txt"}))
        .await
        .unwrap();
    std::fs::remove_file(ws.path("f.txt")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(ws.path("f.txt"))
        .status()
        .unwrap();
    assert!(status.success());
    let run = ws.execute(call, tokio_util::sync::CancellationToken::new());
    let (r, _) = tokio::time::timeout(std::time::Duration::from_secs(5), run)
        .await
        .expect("read_file blocked on a FIFO");
    assert_eq!(r.status, ToolResultStatus::Error);
    assert!(
        r.output
            .contains("is a FIFO (named pipe), not a regular file"),
        "{}",
        r.output
    );
}

/// A 50 MB file without newlines, read with `limit: 1`: one cut line, a bounded answer.
#[tokio::test]
async fn a_huge_single_line_gives_a_bounded_answer() {
    let ws = Ws::new();
    let p = ws.path("one-line.min.js");
    write_single_line(&p, 50 * 1024 * 1024);
    let r = ws
        .run(
            "read_file",
            json!({"file_path": "one-line.min.js", "limit": 1}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert!(r.output.len() < 3000, "{} bytes", r.output.len());
    assert!(
        r.output.starts_with(&"a".repeat(2000)),
        "{}",
        &r.output[..100]
    );
    assert!(
        r.output.contains("... [line cut: 52428800 characters]"),
        "{}",
        &r.output[2000..]
    );
}

fn write_single_line(path: &std::path::Path, bytes: usize) {
    use std::io::Write as _;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let chunk = vec![b'a'; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Run in a child process by `reading_a_long_line_does_not_hold_it_in_memory`, so that the
/// peak resident size (VmHWM) belongs to this read alone.
#[tokio::test]
#[ignore = "run by reading_a_long_line_does_not_hold_it_in_memory in its own process"]
async fn peak_memory_child() {
    let Some(path) = std::env::var_os("QCODE_READ_PEAK_FILE") else {
        return;
    };
    let ws = Ws::new();
    let before = peak_rss_kib();
    let r = ws
        .run(
            "read_file",
            json!({"file_path": path.to_str().unwrap(), "limit": 1}),
        )
        .await;
    let after = peak_rss_kib();
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    println!("QCODE_PEAK_DELTA_KIB={}", after.saturating_sub(before));
}

#[test]
fn reading_a_long_line_does_not_hold_it_in_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("line.txt");
    write_single_line(&p, 96 * 1024 * 1024);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "--nocapture",
            "suite::read::peak_memory_child",
        ])
        .env("QCODE_READ_PEAK_FILE", &p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delta: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("QCODE_PEAK_DELTA_KIB="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement in: {stdout}"));
    assert!(
        delta < 16 * 1024,
        "peak grew by {delta} KiB reading a 96 MB line"
    );
}

/// A file too large to load is paged in one pass: CRLF endings, a window in the middle that
/// spans many reads, and a last line without a newline.
#[tokio::test]
async fn huge_files_are_paged_at_any_offset() {
    let ws = Ws::new();
    let mut text = String::with_capacity(23 * 1024 * 1024);
    for i in 0..220_000 {
        text.push_str(&format!("{i:06} {}\r\n", "z".repeat(92)));
    }
    text.push_str("last line");
    ws.write("huge.txt", &text);
    let r = ws
        .run(
            "read_file",
            json!({"file_path": "huge.txt", "offset": 123_456, "limit": 3}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    let z = "z".repeat(92);
    assert_eq!(
        r.output,
        format!(
            "123456 {z}\n123457 {z}\n123458 {z}\n\n[showing lines 123457-123459 of 220001; call \
             read_file with offset=123459 to continue]"
        )
    );
    let r = ws
        .run(
            "read_file",
            json!({"file_path": "huge.txt", "offset": 219_999, "limit": 10}),
        )
        .await;
    assert_eq!(
        r.output,
        format!("219999 {z}\nlast line\n\n[showing lines 220000-220001 of 220001]")
    );
    let r = ws
        .run(
            "read_file",
            json!({"file_path": "huge.txt", "offset": 220_001}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        "read_file: offset 220001 is past the end of the file, which has 220001 lines (offsets 0 \
         to 220000)"
    );
}
