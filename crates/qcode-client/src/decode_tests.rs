//! Unit tests of the chunk decoder, fed through the SSE parser at every split point.

use super::*;
use crate::sse::SseParser;

/// What a stream decodes to: events, then the error that ended it (if any).
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<ResponseEvent>,
    error: Option<ClientError>,
}

/// Feeds `parts` through parser and decoder the way the client does.
fn decode_parts(parts: &[&[u8]]) -> Outcome {
    let mut parser = SseParser::new();
    let mut decoder = Decoder::new(Some(Secret::new("sk-test-secret")));
    let mut out = Out::new();
    let mut error = None;
    let mut done = false;
    'outer: for part in parts {
        parser.push(part);
        while let Some(event) = parser.next_event().unwrap() {
            match decoder.on_event(event, &mut out) {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => {
                    done = true;
                    break 'outer;
                }
                Err(e) => {
                    error = Some(e);
                    break 'outer;
                }
            }
        }
    }
    if !done
        && error.is_none()
        && let Some(event) = parser.finish().unwrap()
        && let Err(e) = decoder.on_event(event, &mut out)
    {
        error = Some(e);
    }
    if error.is_none() {
        decoder.finish(&mut out);
    }
    Outcome {
        events: out.into_iter().map(Result::unwrap).collect(),
        error,
    }
}

/// Decodes `input` whole and split at every byte offset; all must agree.
fn decode_every_split(input: &str) -> Outcome {
    let bytes = input.as_bytes();
    let whole = decode_parts(&[bytes]);
    for i in 0..=bytes.len() {
        assert_eq!(
            decode_parts(&[&bytes[..i], &bytes[i..]]),
            whole,
            "split at {i}"
        );
    }
    whole
}

fn text(s: &str) -> ResponseEvent {
    ResponseEvent::TextDelta(s.into())
}

fn usage(prompt: u64, completion: u64, cached: u64, reasoning: u64) -> ResponseEvent {
    ResponseEvent::Usage(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        cached_tokens: cached,
        reasoning_tokens: reasoning,
    })
}

fn call(id: &str, name: &str, arguments: &str) -> ResponseEvent {
    ResponseEvent::ToolCall(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    })
}

const ROLE: &str = r#"data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#;

#[test]
fn realistic_text_stream_every_split() {
    let input = format!(
        "{ROLE}\n\n: OPENROUTER PROCESSING\n\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Héllo, \"}},\"finish_reason\":null}}],\"usage\":null}}\r\n\r\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"世界 🎉\\n\"}},\"finish_reason\":null}}]}}\n\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n\
         data: {{\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n\
         data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":12,\"completion_tokens\":4,\"total_tokens\":16,\"prompt_tokens_details\":{{\"cached_tokens\":8}},\"completion_tokens_details\":{{\"reasoning_tokens\":0}}}}}}\n\n\
         data: [DONE]\n\n"
    );
    let outcome = decode_every_split(&input);
    assert_eq!(
        outcome,
        Outcome {
            events: vec![
                text("Héllo, "),
                text("世界 🎉\n"),
                usage(12, 4, 8, 0),
                ResponseEvent::Finish(FinishReason::Stop),
            ],
            error: None,
        }
    );
}

#[test]
fn reasoning_content_and_reasoning_fields() {
    let input = r#"data: {"choices":[{"delta":{"reasoning_content":"think "}}]}

data: {"choices":[{"delta":{"reasoning":"more"}}]}

data: {"choices":[{"delta":{"content":"answer","reasoning_content":null}}]}

data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":5}}}

"#;
    let outcome = decode_every_split(input);
    assert_eq!(
        outcome.events,
        vec![
            ResponseEvent::ReasoningDelta("think ".into()),
            ResponseEvent::ReasoningDelta("more".into()),
            text("answer"),
            usage(3, 9, 0, 5),
            ResponseEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn tool_calls_assembled_from_index_keyed_fragments() {
    let input = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"file_path\":"}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"glob","arguments":"{\"pattern\""}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" \"/a.rs\"}"}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":\"*.md\"}"}}]}}]}

data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: [DONE]

"#;
    let outcome = decode_every_split(input);
    assert_eq!(
        outcome.events,
        vec![
            call("call_a", "read_file", r#"{"file_path": "/a.rs"}"#),
            call("call_b", "glob", r#"{"pattern":"*.md"}"#),
            ResponseEvent::Finish(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn repeated_id_and_name_in_every_fragment_are_not_duplicated() {
    // llama.cpp style.
    let frag = |args: &str| {
        format!(
            "data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{{\"name\":\"edit\",\"arguments\":{}}}}}]}}}}]}}\n\n",
            serde_json::to_string(args).unwrap()
        )
    };
    let input = format!(
        "{}{}{}data: {{\"choices\":[{{\"delta\":{{}},\"finish_reason\":\"tool_calls\"}}]}}\n\n",
        frag("{\"a\""),
        frag(":1"),
        frag("}")
    );
    let outcome = decode_every_split(&input);
    assert_eq!(
        outcome.events,
        vec![
            call("c1", "edit", r#"{"a":1}"#),
            ResponseEvent::Finish(FinishReason::ToolCalls)
        ]
    );
}

#[test]
fn parallel_calls_at_the_same_index_with_different_ids_are_separate() {
    let input = r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x1","function":{"name":"glob","arguments":"{}"}}]}}]}

data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x2","function":{"name":"grep_search","arguments":"{\"pattern\":\"a\"}"}}]}}]}

data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]}

"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            call("x1", "glob", "{}"),
            call("x2", "grep_search", r#"{"pattern":"a"}"#),
            ResponseEvent::Finish(FinishReason::ToolCalls)
        ]
    );
}

#[test]
fn fragments_without_index_or_id_and_object_arguments() {
    let input = r#"data: {"choices":[{"delta":{"tool_calls":[{"function":{"name":"todo_write","arguments":{"todos":[]}}}]}}]}

data: {"choices":[{"delta":{"tool_calls":[{"id":"k2","function":{"name":"glob","arguments":"{\"pattern\":"}}]}}]}

data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\"x\"}"}}]}}]}

data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]}

"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            call("call_0", "todo_write", r#"{"todos":[]}"#),
            call("k2", "glob", r#"{"pattern":"x"}"#),
            ResponseEvent::Finish(FinishReason::ToolCalls)
        ]
    );
}

#[test]
fn truncated_tool_arguments_are_emitted_raw_with_length_finish() {
    let input = r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"write_file","arguments":"{\"file_path\":\"/x\",\"content\":\"abc"}}]}}]}

data: {"choices":[{"delta":{},"finish_reason":"length"}]}

data: [DONE]
"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            call("t", "write_file", r#"{"file_path":"/x","content":"abc"#),
            ResponseEvent::Finish(FinishReason::Length)
        ]
    );
}

#[test]
fn stream_end_without_done_or_finish_completes_with_unknown() {
    let input = r#"data: {"choices":[{"delta":{"content":"partial"}}]}

data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"q","function":{"name":"glob","arguments":"{}"}}]}}]}
"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            text("partial"),
            call("q", "glob", "{}"),
            ResponseEvent::Finish(FinishReason::Unknown)
        ]
    );
}

#[test]
fn usage_last_report_wins_and_deepseek_cache_field() {
    let input = r#"data: {"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}

data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22,"prompt_cache_hit_tokens":16}}

data: [DONE]

"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            text("a"),
            usage(20, 2, 16, 0),
            ResponseEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn nulls_everywhere_are_tolerated() {
    let input = r#"data: {"choices":null,"usage":null}

data: {"choices":[{"index":0,"delta":{"content":null,"tool_calls":null,"reasoning_content":null},"finish_reason":null}]}

data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":""}]}

data: {"choices":[{"index":1,"delta":{"content":"other choice"}}]}

data: {"choices":[{"index":0,"delta":null,"finish_reason":"stop"}]}

"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![text("ok"), ResponseEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn in_stream_error_object_is_an_error_with_message_and_code() {
    let input = format!(
        "{ROLE}\n\ndata: {{\"error\":{{\"message\":\"Requests rate limit exceeded for sk-test-secret\",\"code\":\"Throttling.RateQuota\"}}}}\n\n"
    );
    let outcome = decode_every_split(&input);
    assert_eq!(outcome.events, vec![]);
    assert_eq!(
        outcome.error,
        Some(ClientError::Provider {
            code: Some("Throttling.RateQuota".into()),
            message: "Requests rate limit exceeded for [redacted]".into(),
            transient: true,
        })
    );
}

#[test]
fn in_stream_quota_error_is_quota() {
    let input = "data: {\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\"}}\n\n";
    assert_eq!(
        decode_every_split(input).error,
        Some(ClientError::Quota {
            message: "You exceeded your current quota".into()
        })
    );
}

#[test]
fn error_finish_is_a_transient_provider_error() {
    let input = r#"data: {"choices":[{"delta":{"content":"Hi"}}]}

data: {"choices":[{"delta":{"content":"Throttling: Allocated quota exceeded for now"},"finish_reason":"error_finish"}]}

"#;
    let outcome = decode_every_split(input);
    assert_eq!(outcome.events, vec![text("Hi")]);
    assert_eq!(
        outcome.error,
        Some(ClientError::Provider {
            code: Some("error_finish".into()),
            message: "Throttling: Allocated quota exceeded for now".into(),
            transient: true,
        })
    );
}

#[test]
fn garbage_chunk_is_malformed() {
    let input = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {not json\n\n";
    let outcome = decode_every_split(input);
    assert_eq!(outcome.events, vec![text("a")]);
    match outcome.error {
        Some(ClientError::Malformed { message }) => {
            assert!(message.contains("{not json"), "{message}")
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn event_error_with_plain_text_is_a_provider_error() {
    let input = "event: error\ndata: upstream overloaded\n\n";
    match decode_every_split(input).error {
        Some(ClientError::Provider {
            transient: true,
            message,
            ..
        }) => assert_eq!(message, "upstream overloaded"),
        other => panic!("unexpected {other:?}"),
    }
    let input =
        "event: error\ndata: {\"message\":\"Overloaded\",\"type\":\"overloaded_error\"}\n\n";
    assert_eq!(
        decode_every_split(input).error,
        Some(ClientError::Provider {
            code: Some("overloaded_error".into()),
            message: "Overloaded".into(),
            transient: true
        })
    );
}

#[test]
fn content_with_escapes_is_decoded() {
    let input = r#"data: {"choices":[{"delta":{"content":"line\n\"quoted\" \u00e9 \ud83d\ude00"}}]}

data: [DONE]

"#;
    assert_eq!(
        decode_every_split(input).events,
        vec![
            text("line\n\"quoted\" é 😀"),
            ResponseEvent::Finish(FinishReason::Unknown)
        ]
    );
}
