//! The mock server over raw TCP: framing, routes, recording, resets.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use super::reply::Body;
use super::*;

/// Sends raw bytes and reads until the server closes (or resets) the connection.
fn exchange(server: &MockServer, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port()))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(request)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Custom: Yes\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn split_response(raw: &[u8]) -> (String, Vec<u8>) {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8(raw[..at].to_vec()).unwrap(),
        raw[at + 4..].to_vec(),
    )
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            assert_eq!(&body[line_end..], b"\r\n\r\n");
            return out;
        }
        out.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[line_end + 2 + size + 2..];
    }
}

#[test]
fn sse_reply_is_chunked_one_chunk_per_item_and_recorded() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![
        SseItem::raw("data: a"),
        SseItem::delay(5),
        SseItem::raw("\n\n"),
        SseItem::comment("ping"),
        SseItem::done(),
    ]));
    let raw = exchange(&server, &post("/v1/chat/completions", r#"{"model":"m"}"#)).unwrap();
    let (head, body) = split_response(&raw);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/event-stream"), "{head}");
    assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
    assert!(body.starts_with(b"7\r\ndata: a\r\n2\r\n\n\n\r\n"));
    assert_eq!(dechunk(&body), b"data: a\n\n: ping\n\ndata: [DONE]\n\n");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].header("X-CUSTOM"), Some("Yes"));
    assert!(requests[0].headers.iter().any(|(k, _)| k == "x-custom"));
    assert_eq!(requests[0].body_json(), Some(json!({"model": "m"})));
}

#[test]
fn close_delimited_body_has_no_framing() {
    let server = MockServer::start();
    server.enqueue(Reply::sse(vec![SseItem::raw("data: x\n\n")]).close_delimited());
    let raw = exchange(&server, &post("/v1/chat/completions", "{}")).unwrap();
    let (head, body) = split_response(&raw);
    assert!(!head.contains("Transfer-Encoding"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    assert_eq!(body, b"data: x\n\n");
}

#[test]
fn empty_queue_gets_the_default_501_and_unknown_routes_404() {
    let server = MockServer::start();
    let raw = exchange(&server, &post("/v1/chat/completions", "{}")).unwrap();
    let (head, body) = split_response(&raw);
    assert!(head.starts_with("HTTP/1.1 501 "), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["message"], "mock: no scripted reply left");

    let raw = exchange(&server, b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 404 "));

    server.set_default_reply(Reply::status(204));
    let raw = exchange(&server, &post("/v1/chat/completions", "{}")).unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 204 "));
}

#[test]
fn models_list_and_scripted_models_reply() {
    let server = MockServer::start();
    server.set_models(&["a", "b"]);
    let raw = exchange(&server, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (head, body) = split_response(&raw);
    assert!(head.contains("Content-Length: "), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);

    server.enqueue_models(Reply::status(401).body("no"));
    let raw = exchange(&server, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 401 "));
    // Listings are recorded apart from the chat requests.
    assert_eq!(server.listing_requests().len(), 2);
    assert!(server.requests().is_empty());
}

#[test]
fn chunked_request_bodies_are_decoded() {
    let server = MockServer::start();
    server.enqueue(Reply::status(200).body("ok"));
    let request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    exchange(&server, request).unwrap();
    assert_eq!(server.requests()[0].body_json(), Some(json!({"a": 1})));
}

#[test]
fn reset_connection_aborts_with_rst() {
    let server = MockServer::start();
    server.enqueue(Reply::reset_connection());
    let error = exchange(&server, &post("/v1/chat/completions", "{}")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn wait_for_requests_returns_what_arrived_by_the_deadline() {
    let server = MockServer::start();
    assert!(
        server
            .wait_for_requests(1, Duration::from_millis(20))
            .is_empty()
    );
    server.enqueue(Reply::status(200).body("ok"));
    let port = server.port();
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(&post("/v1/chat/completions", "{}"))
            .unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    assert_eq!(server.wait_for_requests(1, Duration::from_secs(5)).len(), 1);
    sender.join().unwrap();
}

#[test]
fn convenience_streams_have_realistic_shapes() {
    let Body::Stream(items) = Reply::tool_calls(vec![("c1", "glob", r#"{"p":1}"#)], 3).body else {
        panic!("not a stream")
    };
    let lines: Vec<String> = items
        .iter()
        .map(|i| match i {
            SseItem::Raw(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let json_of = |line: &str| -> serde_json::Value {
        serde_json::from_str(line.strip_prefix("data: ").unwrap().trim_end()).unwrap()
    };
    assert_eq!(lines.len(), 1 + 1 + 3 + 1 + 1 + 1);
    let first = json_of(&lines[1]);
    assert_eq!(
        first["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "c1", "type": "function", "function": {"name": "glob", "arguments": ""}})
    );
    assert_eq!(
        json_of(&lines[2])["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "function": {"arguments": "{\"p"}})
    );
    assert_eq!(
        json_of(&lines[5])["choices"][0]["finish_reason"],
        "tool_calls"
    );
    let usage = json_of(&lines[6]);
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["total_tokens"], 15);
    assert_eq!(lines[7], "data: [DONE]\n\n");
}

#[test]
fn pieces_never_split_characters() {
    let parts: Vec<&str> = pieces("aé世🎉b", 2).collect();
    assert_eq!(parts, ["aé", "世🎉", "b"]);
    assert_eq!(pieces("", 3).count(), 0);
}

#[test]
fn usage_json_includes_details_only_when_set() {
    assert_eq!(
        MockUsage::new(3, 4).to_json(),
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
    );
    assert_eq!(
        MockUsage::new(3, 4).cached(2).reasoning(1).to_json(),
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
               "prompt_tokens_details": {"cached_tokens": 2},
               "completion_tokens_details": {"reasoning_tokens": 1}})
    );
}

#[test]
fn matching_replies_go_first_and_a_held_reply_waits_for_the_next_request() {
    let server = MockServer::start();
    server.enqueue(Reply::text("fifo", 10));
    server.enqueue_matching("MARK-B", Reply::text("for b", 10));
    server.enqueue_matching("MARK-A", Reply::text("for a", 10).after_requests(2));
    let url = "/v1/chat/completions";
    let held = {
        let port = server.port();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(15)))
                .unwrap();
            stream.write_all(&post(url, r#"{"m":"MARK-A"}"#)).unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).unwrap();
            response
        })
    };
    server.wait_for_requests(1, Duration::from_secs(5));
    assert!(server.completions().is_empty(), "the held reply waits");
    let b = exchange(&server, &post(url, r#"{"m":"MARK-B"}"#)).unwrap();
    assert!(String::from_utf8_lossy(&b).contains("for b"));
    let a = held.join().unwrap();
    assert!(String::from_utf8_lossy(&a).contains("for a"));
    // Completions are noted right after the connection closes: wait for both.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.completions().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let done = server.completions();
    let plain = exchange(&server, &post(url, r#"{"m":"other"}"#)).unwrap();
    assert!(String::from_utf8_lossy(&plain).contains("fifo"));
    assert!(
        done.contains(&(0, 2)),
        "a completed only after b arrived: {done:?}"
    );
    assert!(done.contains(&(1, 2)), "{done:?}");
}
