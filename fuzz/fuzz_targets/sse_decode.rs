//! The SSE parser and the chunk decoder (text, reasoning, tool-call assembly, usage, finish).
//!
//! Input: one byte `n`, then `n % 8` cut bytes, then the response body. The body is decoded
//! whole, cut at the points the cut bytes choose, and one byte at a time; the results must be
//! identical. Also checked: the documented event order (at most one `Usage`, just before
//! `Finish`, which is last and unique), and that the bearer token never shows in an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcode_client::fuzzing::{Decoded, decode_stream};
use qcode_client::{ResponseEvent, Secret};

/// The bearer token of the fuzzed stream (also in the seeds and the dictionary, so that the
/// fuzzer plants it in error messages).
const SECRET: &str = "sk-qcodefuzz-0123456789";

fn decode<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Decoded {
    decode_stream(chunks, Some(Secret::new(SECRET)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let cuts = usize::from(n % 8).min(rest.len());
    let (cut_bytes, body) = rest.split_at(cuts);

    let whole = decode([body]);

    let mut points: Vec<usize> = cut_bytes
        .iter()
        .map(|&b| usize::from(b) * body.len() / 255)
        .collect();
    points.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for p in points {
        pieces.push(&body[start..p]);
        start = p;
    }
    pieces.push(&body[start..]);
    let cut = decode(pieces.iter().copied());
    assert_eq!(whole, cut, "cutting the body changed the result");

    let bytewise = decode(body.chunks(1));
    assert_eq!(whole, bytewise, "feeding byte by byte changed the result");

    if let Some(error) = &whole.error {
        assert!(
            !error.contains(SECRET),
            "the bearer token is in an error: {error}"
        );
    }
    let finishes = whole
        .events
        .iter()
        .filter(|e| matches!(e, ResponseEvent::Finish(_)))
        .count();
    assert!(finishes <= 1, "{finishes} Finish events");
    if finishes == 1 {
        assert!(
            matches!(whole.events.last(), Some(ResponseEvent::Finish(_))),
            "Finish is not last"
        );
    }
    let usages: Vec<usize> = whole
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, ResponseEvent::Usage(_)))
        .map(|(i, _)| i)
        .collect();
    assert!(usages.len() <= 1, "{} Usage events", usages.len());
    if let Some(&at) = usages.first() {
        assert!(
            matches!(whole.events.get(at + 1), Some(ResponseEvent::Finish(_))),
            "Usage is not just before Finish"
        );
    }
    for event in &whole.events {
        if let ResponseEvent::ToolCall(call) = event {
            assert!(!call.id.is_empty(), "a tool call without an id");
        }
    }
});
