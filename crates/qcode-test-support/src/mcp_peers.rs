//! The MCP reference servers `.ci/run` installs (`tests/peers/mcp`, `npm ci`): where they are,
//! or a loud SKIP — unless `QCODE_REQUIRE_PEERS` (or `CI`) is set, then a failure.

use std::io::Write;
use std::path::PathBuf;

use crate::process::{in_ci, repo_root};

/// The package directory of `@modelcontextprotocol/server-everything` (its entry point is
/// `dist/index.js`), or `None` after printing why `test` is skipped.
pub fn everything_or_skip(test: &str) -> Option<PathBuf> {
    let dir =
        repo_root().join("tests/peers/mcp/node_modules/@modelcontextprotocol/server-everything");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let why = match (dir.join("dist/index.js").is_file(), node) {
        (true, true) => return Some(dir),
        (false, _) => format!(
            "{} is missing (run `npm ci` in tests/peers/mcp)",
            dir.display()
        ),
        (true, false) => "`node` is not on PATH".to_string(),
    };
    let required =
        std::env::var_os("QCODE_REQUIRE_PEERS").is_some_and(|v| !v.is_empty()) || in_ci();
    assert!(
        !required,
        "{test}: the MCP test peer is required here: {why}"
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n*** SKIP {test}: MCP tests need the real server-everything: {why} ***\n"
    );
    None
}
