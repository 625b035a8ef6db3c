//! Runs `grep_search` through the public API over a directory tree and prints the matching
//! lines (for `benches/grep_vs_rg.sh`, which compares it with ripgrep).
//!
//! Usage: `grep_bench <dir> <pattern>` — prints the tool's `path:line:text` lines to stdout
//! and "matches=N elapsed_ms=T" to stderr.

use std::time::Instant;

use qcode_protocol::ToolCall;
use qcode_tools::{ToolContext, ToolRegistry, ToolResultStatus};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(pattern)) = (args.next(), args.next()) else {
        eprintln!("usage: grep_bench <dir> <pattern>");
        std::process::exit(2);
    };
    let scratch = std::env::temp_dir();
    let ctx = ToolContext::new(
        vec![dir.into()],
        scratch.join("grep_bench_memory.md"),
        qcode_tools::LazyHttpClient::default_client(),
        scratch.clone(),
    )?;
    let registry = ToolRegistry::builtin();
    let call = ToolCall {
        id: "bench".into(),
        name: "grep_search".into(),
        arguments: serde_json::json!({
            "pattern": pattern,
            "limit": qcode_tools::limits::GREP_MAX_LIMIT,
        })
        .to_string(),
    };
    let started = Instant::now();
    let prepared = registry.prepare(&call, &ctx).await?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let result = prepared.execute(&ctx, CancellationToken::new(), &tx).await;
    let elapsed = started.elapsed();
    if result.status != ToolResultStatus::Success {
        eprintln!("{}", result.output);
        std::process::exit(1);
    }
    let matches = result
        .output
        .lines()
        .filter(|l| l.contains(':') && !l.starts_with("Found "))
        .count();
    println!("{}", result.output);
    eprintln!("matches={matches} elapsed_ms={}", elapsed.as_millis());
    Ok(())
}
