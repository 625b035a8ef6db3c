//! Hand-written HTTP/1.1 over a blocking `TcpStream`: read one request, write one scripted
//! reply with exact byte pieces, delays, resets and stalls, then close.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::RecordedRequest;
use super::reply::{Body, Framing, Reply, SseItem};

const MAX_HEAD: usize = 1 << 20;

/// Reads one request (head and body). `Ok(None)` when the client closed before sending one.
pub(crate) fn read_request(stream: &mut TcpStream) -> io::Result<Option<RecordedRequest>> {
    let mut buf = Vec::with_capacity(8192);
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::other("request head too large"));
        }
        let n = stream.read(&mut tmp)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let path = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut rest = buf.split_off(head_end + 4);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(stream, rest)?
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while rest.len() < len {
            let n = stream.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::other("client closed mid-body"));
            }
            rest.extend_from_slice(&tmp[..n]);
        }
        rest.truncate(len);
        rest
    };
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body,
    }))
}

fn read_chunked(stream: &mut TcpStream, mut raw: Vec<u8>) -> io::Result<Vec<u8>> {
    let mut tmp = [0u8; 8192];
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        // Need a size line.
        let line_end = loop {
            if let Some(at) = find(&raw[pos..], b"\r\n") {
                break pos + at;
            }
            let n = stream.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::other("client closed mid-body"));
            }
            raw.extend_from_slice(&tmp[..n]);
        };
        let size_text = String::from_utf8_lossy(&raw[pos..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| io::Error::other("bad chunk size in request"))?;
        let data_start = line_end + 2;
        while raw.len() < data_start + size + 2 {
            let n = stream.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::other("client closed mid-body"));
            }
            raw.extend_from_slice(&tmp[..n]);
        }
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&raw[data_start..data_start + size]);
        pos = data_start + size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `reply` and closes the connection as the script says.
pub(crate) fn write_reply(
    mut stream: TcpStream,
    reply: &Reply,
    shutdown: &AtomicBool,
) -> io::Result<()> {
    let items = match &reply.body {
        Body::ResetConnection => return reset(stream),
        Body::Hang => return stall(stream, shutdown),
        Body::Full(bytes) => {
            let mut out = head(reply, Some(bytes.len()));
            out.extend_from_slice(bytes);
            stream.write_all(&out)?;
            return close_gracefully(stream);
        }
        Body::Stream(items) => items,
    };
    let chunked = reply.framing == Framing::Chunked;
    stream.write_all(&head(reply, None))?;
    for item in items {
        match item {
            SseItem::Raw(bytes) if chunked => {
                if bytes.is_empty() {
                    continue; // an empty chunk would end the body
                }
                let mut out = Vec::with_capacity(bytes.len() + 12);
                out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
                stream.write_all(&out)?;
            }
            SseItem::Raw(bytes) => stream.write_all(bytes)?,
            SseItem::Delay(duration) => sleep_unless_shutdown(*duration, shutdown),
            SseItem::Reset => return reset(stream),
            SseItem::Stall => return stall(stream, shutdown),
        }
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n")?;
    }
    close_gracefully(stream)
}

fn head(reply: &Reply, content_length: Option<usize>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    match (content_length, reply.framing) {
        (Some(len), _) => out.push_str(&format!("Content-Length: {len}\r\n")),
        (None, Framing::Chunked) => out.push_str("Transfer-Encoding: chunked\r\n"),
        (None, Framing::CloseDelimited) => {}
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Abort with RST: SO_LINGER 0, then close.
fn reset(stream: TcpStream) -> io::Result<()> {
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

/// Keep the connection open, sending nothing, until the client closes it or the server stops.
fn stall(mut stream: TcpStream, shutdown: &AtomicBool) -> io::Result<()> {
    stream.flush()?;
    stream.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buf = [0u8; 1024];
    while !shutdown.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Half-close, then wait briefly for the client to close so no unread data turns into a RST.
fn close_gracefully(mut stream: TcpStream) -> io::Result<()> {
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

fn sleep_unless_shutdown(duration: Duration, shutdown: &AtomicBool) {
    let deadline = Instant::now() + duration;
    loop {
        let now = Instant::now();
        if now >= deadline || shutdown.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}
