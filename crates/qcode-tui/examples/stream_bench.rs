//! Measures how much CPU the TUI spends per streamed token: feeds a long markdown answer in
//! small deltas through the app state machine, drawing a frame every 16 ms worth of tokens at
//! 5,000 tokens/s (i.e. every 80 deltas), into an off-screen buffer.
//! `cargo run --release -p qcode-tui --example stream_bench`

use std::time::Instant;

use qcode_protocol::{Event, TurnOutcome};
use qcode_tui::{App, TuiOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::unbounded_channel;

fn main() {
    let block = "## Section\n\nSome text with **bold**, `code` and a [link](https://example.com).\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\n";
    let answer = block.repeat(200);
    let chars: Vec<char> = answer.chars().collect();
    let deltas: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    let (op_tx, _op_rx) = unbounded_channel();
    let (app_tx, _app_rx) = unbounded_channel();
    let mut app = App::new(TuiOptions::new(".".into(), "bench"), op_tx, app_tx);
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap_or_else(|e| panic!("{e}"));
    app.handle_engine_event(Event::TurnStarted { turn_id: 1 });
    let start = Instant::now();
    let mut frames = 0;
    let mut lines = 0;
    for (i, d) in deltas.iter().enumerate() {
        app.handle_engine_event(Event::TextDelta { text: d.clone() });
        if i % 80 == 0 {
            lines += app.take_history().len();
            let plan = app.plan(100, 29);
            term.draw(|f| app.render(&plan, f))
                .unwrap_or_else(|e| panic!("{e}"));
            frames += 1;
        }
    }
    app.handle_engine_event(Event::TurnComplete {
        turn_id: 1,
        outcome: TurnOutcome::Completed,
    });
    lines += app.take_history().len();
    let took = start.elapsed();
    println!(
        "{} deltas (~{} tokens), {frames} frames, {lines} scrollback lines in {:.1} ms: {:.2} µs per delta, {:.0}x real time at 5,000 tokens/s",
        deltas.len(),
        deltas.len(),
        took.as_secs_f64() * 1000.0,
        took.as_secs_f64() * 1e6 / deltas.len() as f64,
        (deltas.len() as f64 / 5000.0) / took.as_secs_f64(),
    );
}
