//! What building one model request costs with a long history: the engine's steps before the
//! request goes on the wire (the tool schemas, the size estimate and the compression check, the
//! request over the borrowed history, the body serialised once), on a synthetic history of
//! about `TOKENS` tokens (default 200,000: user prompts, assistant answers with tool calls and
//! tool results, 4 characters a token). Prints the median CPU time per request over `ROUNDS`
//! requests (default 50), and with `--json PATH` writes it as a benchmark row.
//!
//! `cargo run --release -p qcode-core --example request_bench -- [TOKENS] [ROUNDS] [--json PATH]`
//! (scripts/bench-resume.py runs it beside its end-to-end figure). Nothing passes or fails.

use std::borrow::Cow;
use std::time::Instant;

use qcode_client::ChatRequest;

use qcode_protocol::{ChatMessage, ToolCall};

fn main() {
    let mut numbers = Vec::new();
    let mut json = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--json" {
            json = args.next();
            if json.is_none() {
                fail("--json needs a path");
            }
        } else {
            match arg.parse::<usize>() {
                Ok(n) if n > 0 => numbers.push(n),
                _ => fail(&format!("`{arg}` is not a positive number")),
            }
        }
    }
    let tokens = numbers.first().copied().unwrap_or(200_000);
    let rounds = numbers.get(1).copied().unwrap_or(50);
    let history = synthetic_history(tokens);
    let registry = qcode_tools::ToolRegistry::builtin();

    let mut samples = Vec::with_capacity(rounds);
    let mut body_len = 0;
    for _ in 0..rounds {
        let start = cpu_now();
        let wall = Instant::now();
        body_len = build_request(&history, &registry);
        let cpu = cpu_now().saturating_sub(start);
        // A CPU clock of coarse resolution reads 0 for short steps: fall back to the wall time.
        samples.push(if cpu.is_zero() { wall.elapsed() } else { cpu });
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let estimate = qcode_core::compact::estimate_tokens(&history);
    let ms = median.as_secs_f64() * 1000.0;
    println!(
        "request with a history of {} messages (~{estimate} tokens, body {:.2} MB): {ms:.3} ms CPU \
         (median of {rounds}; target ≤ 10 ms)",
        history.len(),
        body_len as f64 / 1_048_576.0
    );
    if let Some(path) = json {
        let doc = serde_json::json!({
            "bench": "request",
            "title": "Request building with a long history",
            "rows": [{
                "measure": "request_build_cpu",
                "case": format!("{} tokens of history", group(tokens)),
                "subject": "qcode engine",
                "value": (ms * 1000.0).round() / 1000.0,
                "unit": "ms",
                "better": "lower",
            }],
        });
        if let Err(e) = std::fs::write(&path, format!("{doc:#}\n")) {
            fail(&format!("cannot write {path}: {e}"));
        }
    }
}

/// The engine's steps before a request is sent (`turn.rs`, `stream_reply`), and the body the
/// client sends: its length.
fn build_request(history: &[ChatMessage], registry: &qcode_tools::ToolRegistry) -> usize {
    let tools = registry.specs();
    let estimate = qcode_core::limits::estimate_request(history, &tools);
    // The compression check walks the history when a window is near; count it every time.
    let split = qcode_core::compact::split_point(history);
    let mut request = ChatRequest::new("bench-model", Cow::Borrowed(history));
    request.tools = tools;
    request.max_tokens = u32::try_from(estimate.min(16_384)).ok();
    let body = request
        .to_body()
        .unwrap_or_else(|e| fail(&format!("could not serialise the request: {e}")));
    std::hint::black_box(split);
    body.len()
}

/// User prompts, assistant answers calling `read_file`, tool results and final answers, until
/// the history holds about `tokens` tokens (4 characters each), with quotes, escapes and
/// non-ASCII text for the serialiser to handle.
fn synthetic_history(tokens: usize) -> Vec<ChatMessage> {
    let line = "fn main() { println!(\"hello, \\\"world\\\"\"); } // ünïcödé\tend\n";
    let text: String = line.repeat(4000 / line.len() + 1);
    let cut = |n: usize| -> String { text.chars().take(n).collect() };
    let mut history = vec![ChatMessage::system(cut(3000))];
    let mut chars = 0;
    let mut turn = 0;
    while chars / 4 < tokens {
        turn += 1;
        let user = ChatMessage::user(format!("turn {turn}: please change this\n{}", cut(600)));
        let mut call = ChatMessage::assistant(cut(400));
        call.tool_calls = vec![ToolCall {
            id: format!("call_{turn}"),
            name: "read_file".into(),
            arguments: format!("{{\"absolute_path\":\"/src/file{turn}.rs\"}}"),
        }];
        let result = ChatMessage::tool_result(format!("call_{turn}"), cut(2400));
        let answer = ChatMessage::assistant(cut(800));
        for m in [user, call, result, answer] {
            chars += m.content.len()
                + m.tool_calls
                    .iter()
                    .map(|c| c.arguments.len())
                    .sum::<usize>();
            history.push(m);
        }
    }
    history
}

fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// This thread's CPU time.
#[allow(unsafe_code)]
fn cpu_now() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

fn fail(message: &str) -> ! {
    eprintln!("request_bench: {message}");
    std::process::exit(2)
}
