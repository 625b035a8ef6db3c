//! Runs one built-in tool call through the public API (`ToolRegistry::prepare` then
//! `PreparedCall::execute`, as the engine does) a number of times and reports the time of each
//! call, for `scripts/bench-tools.py`.
//!
//! Usage: `tool_bench <workspace> <tool> <json-arguments> [runs]` — prints the last call's
//! output to stdout (so a caller can check it) and one line to stderr:
//! `status=success runs=N median_ms=T min_ms=T max_ms=T cpu_ms=T bytes=B`, where `cpu_ms` is
//! the median CPU time of a call over all the process's threads (from
//! `/proc/self/task/*/schedstat`, so it is exact under load, where wall times are not).

use std::time::Instant;

use qcode_protocol::ToolCall;
use qcode_tools::{ToolContext, ToolRegistry, ToolResultStatus};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(tool), Some(arguments)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: tool_bench <workspace> <tool> <json-arguments> [runs]");
        std::process::exit(2);
    };
    let runs: usize = match args.next() {
        None => 1,
        Some(n) => match n.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("tool_bench: runs must be a positive number, got `{n}`");
                std::process::exit(2);
            }
        },
    };
    serde_json::from_str::<serde_json::Value>(&arguments)
        .map_err(|e| format!("tool_bench: the arguments are not JSON: {e}"))?;
    let scratch = std::env::temp_dir();
    let ctx = ToolContext::new(
        vec![dir.into()],
        scratch.join("tool_bench_memory.md"),
        qcode_tools::LazyHttpClient::default_client(),
        scratch.clone(),
    )?;
    let registry = ToolRegistry::builtin();
    let call = ToolCall {
        id: "bench".into(),
        name: tool,
        arguments,
    };
    let mut times = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let cpu_before = cpu_ns();
        let started = Instant::now();
        let prepared = registry.prepare(&call, &ctx).await?;
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let result = prepared.execute(&ctx, CancellationToken::new(), &tx).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        cpu.push(cpu_ns().saturating_sub(cpu_before) as f64 / 1e6);
        last = Some(result);
    }
    let Some(result) = last else {
        return Err("tool_bench: no run".into());
    };
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let status = match result.status {
        ToolResultStatus::Success => "success",
        ToolResultStatus::Error => "error",
        ToolResultStatus::Cancelled => "cancelled",
    };
    println!("{}", result.output);
    eprintln!(
        "status={status} runs={runs} median_ms={:.3} min_ms={:.3} max_ms={:.3} cpu_ms={:.3} bytes={}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        cpu[cpu.len() / 2],
        result.output.len()
    );
    Ok(())
}

/// CPU time used so far by the process's live threads, in nanoseconds (0 if /proc is missing).
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
