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

/// Paths whose files configure qcode, git or the shell: writing them needs explicit approval
/// (they are flagged like paths outside the workspace), however the path is spelled.
const PROTECTED: &[&str] = &[
    ".git/hooks/pre-commit",
    ".git/config",
    "sub/.git/info/attributes",
    ".qcode/settings.json",
    ".qwen/settings.json",
    ".claude/settings.json",
    ".vscode/tasks.json",
    ".husky/pre-push",
    ".mcp.json",
    ".env",
    ".env.local",
    "app/.env.production",
    ".envrc",
    ".gitmodules",
    ".gitattributes",
    ".gitconfig",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".npmrc",
    ".yarnrc.yml",
    ".cargo/config.toml",
    ".cargo/config",
    ".pre-commit-config.yaml",
    // Spellings that must not hide them.
    "./.env",
    "src/../.git/hooks/post-checkout",
    "./.QCODE/settings.json",
    ".Git/hooks/pre-commit",
    "sub/./../.ENVRC",
];

#[tokio::test]
async fn writing_files_that_configure_qcode_git_or_the_shell_is_flagged() {
    let ws = Ws::new();
    std::fs::create_dir_all(ws.path("src")).unwrap();
    std::fs::create_dir_all(ws.path("sub")).unwrap();
    for p in PROTECTED {
        for (tool, args) in [
            ("write_file", json!({"file_path": p, "content": "x"})),
            (
                "edit",
                json!({"file_path": p, "old_string": "", "new_string": "x"}),
            ),
        ] {
            let call = ws.prepare(tool, args).await.unwrap();
            assert!(call.outside_workspace(), "{tool} {p}");
        }
    }
    // Through a symlink whose name looks ordinary.
    std::fs::create_dir_all(ws.path(".git/hooks")).unwrap();
    std::os::unix::fs::symlink(ws.path(".git/hooks"), ws.path("hooks")).unwrap();
    let call = ws
        .prepare(
            "write_file",
            json!({"file_path": "hooks/pre-commit", "content": "x"}),
        )
        .await
        .unwrap();
    assert!(call.outside_workspace());
    // Ordinary files, and names that only resemble protected ones, are not flagged.
    for p in [
        "src/main.rs",
        ".gitignore",
        "env",
        ".environment",
        "docs/git/config",
        ".github/workflows/ci.yml",
        "cargo/config.toml",
        "my.env",
    ] {
        let call = ws
            .prepare("write_file", json!({"file_path": p, "content": "x"}))
            .await
            .unwrap();
        assert!(!call.outside_workspace(), "{p}");
    }
    // Reading them is not restricted.
    ws.write(".env", "A=1\n");
    let call = ws
        .prepare("read_file", json!({"file_path": ".env"}))
        .await
        .unwrap();
    assert!(!call.outside_workspace());
}
