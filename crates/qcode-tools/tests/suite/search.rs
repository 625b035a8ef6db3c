//! `grep_search`, `glob` and `list_directory`: .gitignore, .git, binary files, caps, ordering.

use std::time::{Duration, SystemTime};

use qcode_tools::ToolResultStatus;
use serde_json::json;

use super::support::Ws;

fn tree() -> Ws {
    let ws = Ws::new();
    ws.write(".gitignore", "target/\n*.log\n");
    ws.write("src/main.rs", "fn main() {\n    helper();\n}\n");
    ws.write("src/util.rs", "pub fn helper() {}\n// helper docs\n");
    ws.write("README.md", "call helper() to help\n");
    ws.write("target/debug/out.rs", "fn helper() {}\n");
    ws.write("debug.log", "helper log\n");
    ws.write(".git/config", "helper = git\n");
    ws.write("blob.bin", b"helper\0\x01\x02");
    ws.write(".github/ci.yml", "run: helper\n");
    ws
}

#[tokio::test]
async fn grep_groups_by_file_and_honours_gitignore() {
    let ws = tree();
    let r = ws.run("grep_search", json!({"pattern": "helper"})).await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert_eq!(
        r.output,
        "Found 5 matching line(s) for /helper/ in the workspace root:\n\
         \n.github/ci.yml:1:run: helper\n\
         \nREADME.md:1:call helper() to help\n\
         \nsrc/main.rs:2:    helper();\n\
         \nsrc/util.rs:1:pub fn helper() {}\n\
         src/util.rs:2:// helper docs"
    );
}

#[tokio::test]
async fn grep_glob_path_limit_and_errors() {
    let ws = tree();
    let r = ws
        .run(
            "grep_search",
            json!({"pattern": "fn \\w+\\(", "glob": "*.rs", "path": "src"}),
        )
        .await;
    assert_eq!(
        r.output,
        "Found 2 matching line(s) for /fn \\w+\\(/ in src (files matching `*.rs`):\n\
         \nsrc/main.rs:1:fn main() {\
         \n\nsrc/util.rs:1:pub fn helper() {}"
    );
    let r = ws
        .run(
            "grep_search",
            json!({"pattern": "(?i)HELPER", "path": "src/util.rs"}),
        )
        .await;
    assert_eq!(
        r.output,
        "Found 2 matching line(s) for /(?i)HELPER/ in src/util.rs:\n\
         \nsrc/util.rs:1:pub fn helper() {}\nsrc/util.rs:2:// helper docs"
    );
    let r = ws.run("grep_search", json!({"pattern": "zzz_none"})).await;
    assert_eq!(r.output, "No matches for /zzz_none/ in the workspace root.");

    let msg = ws
        .prepare_err("grep_search", json!({"pattern": "fn main("}))
        .await;
    assert!(
        msg.starts_with("grep_search: invalid regular expression `fn main(`:"),
        "{msg}"
    );
    assert!(
        msg.ends_with(
            "Escape special characters such as `(`, `[`, `{`, `.` with `\\` to match them literally"
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn grep_caps_results_with_a_note() {
    let ws = Ws::new();
    let body: String = (0..50).map(|i| format!("match {i}\n")).collect();
    ws.write("many.txt", &body);
    let r = ws
        .run("grep_search", json!({"pattern": "match", "limit": 3}))
        .await;
    assert_eq!(
        r.output,
        "Found more than 3 matching line(s) for /match/ in the workspace root:\n\
         \nmany.txt:1:match 0\nmany.txt:2:match 1\nmany.txt:3:match 2\n\
         \n[showing the first 3 matching lines found; there are more. Narrow the search with a \
         more specific pattern, `path` or `glob`, or raise `limit`]"
    );
}

#[tokio::test]
async fn glob_honours_gitignore_and_lists_recent_first() {
    let ws = tree();
    let old = SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
    let now = SystemTime::now();
    let set = |rel: &str, t: SystemTime| {
        std::fs::File::options()
            .write(true)
            .open(ws.path(rel))
            .unwrap()
            .set_modified(t)
            .unwrap();
    };
    ws.write("src/a/deep.rs", "");
    set("src/main.rs", old);
    set("src/util.rs", now - Duration::from_secs(60));
    set("src/a/deep.rs", now - Duration::from_secs(10));
    let r = ws.run("glob", json!({"pattern": "**/*.rs"})).await;
    assert_eq!(
        r.output,
        "Found 3 file(s) matching `**/*.rs` in the workspace root (recently modified first):\n\
         src/a/deep.rs\nsrc/util.rs\nsrc/main.rs"
    );
    let r = ws
        .run("glob", json!({"pattern": "*.rs", "path": "src"}))
        .await;
    assert_eq!(
        r.output,
        "Found 2 file(s) matching `*.rs` in src (recently modified first):\nsrc/util.rs\nsrc/main.rs"
    );
    let r = ws.run("glob", json!({"pattern": "*.rs"})).await;
    assert_eq!(
        r.output,
        "No files found matching `*.rs` in the workspace root. The pattern has no `/`, so it only matches files \
         directly in that directory; use `**/*.rs` to search subdirectories too."
    );
    // An absolute pattern is split into directory and glob.
    let abs = format!("{}/src/**/deep.rs", ws.root().display());
    let r = ws.run("glob", json!({"pattern": abs})).await;
    assert_eq!(
        r.output,
        "Found 1 file(s) matching `**/deep.rs` in src (recently modified first):\nsrc/a/deep.rs"
    );
    assert_eq!(
        ws.prepare_err("glob", json!({"pattern": "src/[a"})).await,
        "glob: invalid glob pattern `src/[a`: error parsing glob 'src/[a': unclosed character class; missing ']'"
    );
}

#[tokio::test]
async fn glob_caps_results() {
    let ws = Ws::new();
    for i in 0..1005 {
        ws.write(&format!("f/{i:04}.txt"), "");
    }
    let r = ws.run("glob", json!({"pattern": "f/*.txt"})).await;
    let lines: Vec<&str> = r.output.lines().collect();
    assert_eq!(lines.len(), 1002);
    assert_eq!(
        lines[0],
        "Found 1005 file(s) matching `f/*.txt` in the workspace root (recently modified first):"
    );
    assert_eq!(
        lines[1001],
        "[showing 1000 of 1005 files; use a more specific pattern or path]"
    );
}

#[tokio::test]
async fn list_directory_sorts_and_reports_hidden_entries() {
    let ws = tree();
    let r = ws.run("list_directory", json!({"path": "."})).await;
    assert_eq!(
        r.output,
        "Directory . (5 entries):\n.github/\nsrc/\n.gitignore\nREADME.md\nblob.bin\n\
         [not shown: 3 ignored by .gitignore or .git]"
    );
    let r = ws
        .run(
            "list_directory",
            json!({"path": ".", "ignore": ["*.md", ".git*"]}),
        )
        .await;
    assert_eq!(
        r.output,
        "Directory . (2 entries):\nsrc/\nblob.bin\n[not shown: 3 ignored by .gitignore or .git, 3 matched `ignore`]"
    );
    std::fs::create_dir(ws.path("empty")).unwrap();
    assert_eq!(
        ws.run("list_directory", json!({"path": "empty"}))
            .await
            .output,
        "Directory empty is empty"
    );
    assert_eq!(
        ws.prepare_err("list_directory", json!({"path": "README.md"}))
            .await,
        "list_directory: README.md is a file, not a directory; use read_file to read it"
    );
}

/// The listing applies the rules of the directory and its parents, not those of its
/// subdirectories (which it does not open), and caps a large directory with directories first.
#[tokio::test]
async fn list_directory_of_a_large_subdirectory_uses_the_rules_above_it() {
    let ws = Ws::new();
    ws.write(".gitignore", "*.tmp\n");
    ws.write("big/.gitignore", "skip_*\n");
    for i in 0..1200 {
        ws.write(&format!("big/f{i:04}.txt"), "x");
    }
    for i in 0..5 {
        // A subdirectory's own rules ignore everything in it, but not the subdirectory itself.
        ws.write(&format!("big/d{i}/.gitignore"), "*\n");
    }
    ws.write("big/a.tmp", "x");
    ws.write("big/skip_me", "x");
    std::os::unix::fs::symlink(ws.path("big/d0"), ws.path("big/link")).unwrap();
    let r = ws.run("list_directory", json!({"path": "big"})).await;
    assert_eq!(r.status, ToolResultStatus::Success);
    let lines: Vec<&str> = r.output.lines().collect();
    assert_eq!(lines[0], "Directory big (1207 entries):");
    assert_eq!(lines[1..6], ["d0/", "d1/", "d2/", "d3/", "d4/"]);
    assert_eq!(lines[6], ".gitignore");
    assert_eq!(lines[7], "f0000.txt");
    assert_eq!(lines[1000], "f0993.txt");
    assert_eq!(
        lines[1001..],
        [
            "[showing 1000 of 1207 entries; use glob to narrow down]",
            "[not shown: 2 ignored by .gitignore or .git]"
        ]
    );
    let r = ws
        .run("list_directory", json!({"path": "big", "ignore": ["f*"]}))
        .await;
    assert_eq!(
        r.output,
        "Directory big (7 entries):\nd0/\nd1/\nd2/\nd3/\nd4/\n.gitignore\nlink\n\
         [not shown: 2 ignored by .gitignore or .git, 1200 matched `ignore`]"
    );
}
