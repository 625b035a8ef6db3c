//! Serves one scripted streaming answer for every chat request, for benchmarks and manual
//! tries: `cargo run -p qcode-test-support --example mock_serve -- --tokens 20000`.
//! Prints the base URL on the first line of stdout, then serves until killed.
//!
//! `--tool-rounds N`: the first 2·N requests are answered in pairs — a `read_file` call of
//! `notes.txt` (relative to the client's working directory), then the text answer — so one
//! client run makes one tool round trip. Later requests get the plain text answer.

use std::io::Write;

use qcode_test_support::mock_model::{MockServer, MockUsage, Reply, SseItem, chunk};

fn main() {
    let mut tokens: usize = 2000;
    let mut tool_rounds: usize = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tokens" => tokens = args.next().and_then(|v| v.parse().ok()).unwrap_or(tokens),
            "--tool-rounds" => {
                tool_rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            "--help" | "-h" => {
                println!("usage: mock_serve [--tokens N] [--tool-rounds N]");
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
    items.extend((0..tokens).map(|i| SseItem::Raw(chunk::text_line(words[i % words.len()]))));
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
