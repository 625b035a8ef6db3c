//! Entry points for the fuzz targets in `fuzz/` (not a stable API: hidden from the docs, may
//! change with the parsers). They drive the crate-private SSE parser and chunk decoder exactly
//! as a streaming response does, without a network.

use crate::decode::{Decoder, Out, Step};
use crate::sse::SseParser;
use crate::{ClientError, ResponseEvent, Secret};

/// What one response body decodes to: every event in order, and the error that ended the
/// stream, if any (as its `Display` text, which is what the user sees).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub events: Vec<ResponseEvent>,
    pub error: Option<String>,
}

/// Feeds `chunks` (the body as the network delivered it) through the SSE parser and the chunk
/// decoder, with `secret` as the bearer token to scrub from provider messages. Mirrors the
/// stream's `decode_buffered`: `[DONE]` or an error ends the stream; at the end of the body a
/// pending event is still dispatched, and the stream completes if a finish reason or output
/// was seen.
pub fn decode_stream<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    secret: Option<Secret>,
) -> Decoded {
    let mut parser = SseParser::new();
    let mut decoder = Decoder::new(secret);
    let mut out = Out::new();
    let mut error = None;
    let mut done = false;
    'body: for chunk in chunks {
        parser.push(chunk);
        loop {
            let step = match parser.next_event() {
                Ok(Some(event)) => decoder.on_event(event, &mut out),
                Ok(None) => break,
                Err(_) => Err(too_large()),
            };
            match step {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => {
                    decoder.finish(&mut out);
                    done = true;
                    break 'body;
                }
                Err(e) => {
                    error = Some(e);
                    break 'body;
                }
            }
        }
    }
    if !done && error.is_none() {
        loop {
            let step = match parser.next_event() {
                Ok(None) => match parser.finish() {
                    Ok(None) => break,
                    Ok(Some(event)) => decoder.on_event(event, &mut out),
                    Err(_) => Err(too_large()),
                },
                Ok(Some(event)) => decoder.on_event(event, &mut out),
                Err(_) => Err(too_large()),
            };
            match step {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if error.is_none() && (done || decoder.finish_seen() || decoder.produced_output()) {
            decoder.finish(&mut out);
        }
    }
    let mut events = Vec::with_capacity(out.len());
    for item in out {
        match item {
            Ok(event) => events.push(event),
            // The decoder reports errors through its return value, not `out`; keep any anyway.
            Err(e) => error = error.or(Some(e)),
        }
    }
    Decoded {
        events,
        error: error.map(|e| e.to_string()),
    }
}

fn too_large() -> ClientError {
    ClientError::Malformed {
        message: "a stream line or event exceeded 32 MiB".into(),
    }
}
