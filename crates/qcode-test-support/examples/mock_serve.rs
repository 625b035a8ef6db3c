//! Serves one scripted streaming answer for every chat request, for benchmarks and manual
//! tries: `cargo run -p qcode-test-support --example mock_serve -- --tokens 20000`.
//! Prints the base URL on the first line of stdout, then serves until killed.
//!
//! `--tool-rounds N`: the first 2·N requests are answered in pairs — a `read_file` call of
//! `notes.txt` (relative to the client's working directory), then the text answer — so one
//! client run makes one tool round trip. Later requests get the plain text answer.
//!
//! `--delay-us N` (with `--delay-every K`, default 1): pause N µs after every K tokens, to
//! stream at a chosen rate (e.g. `--delay-us 1000 --delay-every 5` ≈ 5,000 tokens/s, minus
//! the sleep's own overshoot).

use std::io::Write;
use std::time::Duration;

use qcode_test_support::mock_model::{MockServer, MockUsage, Reply, SseItem, chunk};

fn main() {
    let mut tokens: usize = 2000;
    let mut tool_rounds: usize = 0;
    let mut delay_us: u64 = 0;
    let mut delay_every: usize = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tokens" => tokens = args.next().and_then(|v| v.parse().ok()).unwrap_or(tokens),
            "--tool-rounds" => {
                tool_rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            "--delay-us" => delay_us = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--delay-every" => {
                delay_every = args.next().and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
            }
            "--help" | "-h" => {
                println!(
                    "usage: mock_serve [--tokens N] [--tool-rounds N] [--delay-us N [--delay-every K]]"
                );
                return;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    // One token per chunk, as real providers stream: words of ~4 characters.
    let words = [
        "The ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dogs.\n",
    ];
    let mut items = vec![SseItem::data_json(&chunk::role())];
    for i in 0..tokens {
        if delay_us > 0 && i > 0 && i % delay_every == 0 {
            items.push(SseItem::Delay(Duration::from_micros(delay_us)));
        }
        // Each line numbered, so that the text never repeats exactly (qcode stops an answer
        // that loops).
        let word = if i % words.len() == words.len() - 1 {
            format!("dogs {}.\n", i / words.len())
        } else {
            words[i % words.len()].to_string()
        };
        items.push(SseItem::Raw(chunk::text_line(&word)));
    }
    items.push(SseItem::data_json(&chunk::finish("stop")));
    items.push(SseItem::data_json(&chunk::usage(&MockUsage::new(
        20,
        tokens as u64,
    ))));
    items.push(SseItem::done());
    let reply = Reply::sse(items);
    let server = MockServer::start();
    for _ in 0..tool_rounds {
        server.enqueue(Reply::tool_calls(
            [("call_1", "read_file", r#"{"file_path": "notes.txt"}"#)],
            8,
        ));
        server.enqueue(reply.clone());
    }
    server.set_default_reply(reply);
    println!("{}", server.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
