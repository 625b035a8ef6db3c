//! `web_fetch` against a tiny HTTP server on 127.0.0.1, and private-network classification.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use qcode_protocol::ApprovalDetails;
use qcode_tools::{ToolKind, ToolResultStatus, is_non_public_address};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::support::Ws;

/// Serves a few fixed responses; records the request lines it received.
async fn serve() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let req = String::from_utf8_lossy(&req).into_owned();
                let line = req.lines().next().unwrap_or_default().to_string();
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                log.lock().unwrap().push(req);
                let (status, ctype, body, extra): (&str, &str, Vec<u8>, &str) = match path.as_str()
                {
                    "/page" => (
                        "200 OK",
                        "text/html; charset=utf-8",
                        b"<html><head><title>T</title><style>p{}</style></head><body>\
                          <h1>Install</h1><p>Run <code>cargo add foo</code> now.</p>\
                          <ul><li>one</li><li>two</li></ul></body></html>"
                            .to_vec(),
                        "",
                    ),
                    "/data.json" => ("200 OK", "application/json", br#"{"a": 1}"#.to_vec(), ""),
                    "/moved" => (
                        "302 Found",
                        "text/plain",
                        b"".to_vec(),
                        "Location: /page\r\n",
                    ),
                    "/loop" => (
                        "302 Found",
                        "text/plain",
                        b"".to_vec(),
                        "Location: /loop\r\n",
                    ),
                    "/img" => ("200 OK", "image/png", b"\x89PNG\r\n\x1a\n".to_vec(), ""),
                    "/big" => ("200 OK", "text/plain", vec![b'z'; 3 * 1024 * 1024], ""),
                    _ => (
                        "404 Not Found",
                        "text/html",
                        b"<p>no such page</p>".to_vec(),
                        "",
                    ),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (base, seen)
}

#[tokio::test]
async fn html_is_converted_and_prompt_included() {
    let ws = Ws::new();
    let (base, seen) = serve().await;
    let url = format!("{base}/page");
    let call = ws
        .prepare("web_fetch", json!({"url": url, "prompt": "how to install"}))
        .await
        .unwrap();
    assert_eq!(call.kind(), ToolKind::Fetch);
    assert!(call.targets_private_network(), "127.0.0.1 is loopback");
    assert!(!call.outside_workspace());
    assert_eq!(
        call.approval_details(),
        ApprovalDetails::Fetch { url: url.clone() }
    );
    assert_eq!(call.permission_key(), "web_fetch 127.0.0.1");
    let (r, _) = ws
        .execute(call, tokio_util::sync::CancellationToken::new())
        .await;
    assert_eq!(r.status, ToolResultStatus::Success, "{}", r.output);
    assert_eq!(
        r.output,
        format!(
            "Fetched {url} (HTTP 200, text/html; charset=utf-8, converted from HTML).\n\
             Looking for: how to install\n\n# Install\n\nRun `cargo add foo` now.\n* one\n* two"
        )
    );
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.starts_with("GET /page HTTP/1.1\r\n"), "{req}");
    assert!(
        req.to_ascii_lowercase().contains("accept: text/html"),
        "{req}"
    );
}

#[tokio::test]
async fn redirects_json_errors_and_caps() {
    let ws = Ws::new();
    let (base, _) = serve().await;
    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/moved"), "prompt": "p"}),
        )
        .await;
    assert!(
        r.output
            .starts_with(&format!("Fetched {base}/page (HTTP 200")),
        "{}",
        r.output
    );

    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/data.json"), "prompt": "p"}),
        )
        .await;
    assert_eq!(
        r.output,
        format!(
            "Fetched {base}/data.json (HTTP 200, application/json).\nLooking for: p\n\n{{\"a\": 1}}"
        )
    );

    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/missing"), "prompt": "p"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert_eq!(
        r.output,
        format!("web_fetch: {base}/missing answered HTTP 404 Not Found.\nno such page")
    );

    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/loop"), "prompt": "p"}),
        )
        .await;
    assert_eq!(
        r.output,
        format!("web_fetch: {base}/loop redirected more than 5 times")
    );

    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/img"), "prompt": "p"}),
        )
        .await;
    assert_eq!(
        r.output,
        format!(
            "web_fetch: {base}/img returned `image/png` content (8 bytes), which is not text; web_fetch only returns text pages"
        )
    );

    let r = ws
        .run(
            "web_fetch",
            json!({"url": format!("{base}/big"), "prompt": "p"}),
        )
        .await;
    assert_eq!(r.status, ToolResultStatus::Success);
    assert!(r.output.ends_with(
        "\n\n[only the first 2.0 MB of the body were downloaded; showing the first 100000 of 2097152 characters]"
    ), "{}", &r.output[r.output.len() - 200..]);
}

#[tokio::test]
async fn bad_urls_are_rejected_before_anything_is_sent() {
    let ws = Ws::new();
    assert_eq!(
        ws.prepare_err(
            "web_fetch",
            json!({"url": "file:///etc/passwd", "prompt": "p"})
        )
        .await,
        "web_fetch: only http:// and https:// URLs can be fetched, not file://"
    );
    assert_eq!(
        ws.prepare_err("web_fetch", json!({"url": "not a url", "prompt": "p"}))
            .await,
        "web_fetch: `not a url` is not a valid URL (relative URL without a base); pass a full \
         URL such as https://example.com/page"
    );
    let r = ws
        .prepare(
            "web_fetch",
            json!({"url": "http://127.0.0.1:1/x", "prompt": "p"}),
        )
        .await
        .unwrap();
    let (r, _) = ws
        .execute(r, tokio_util::sync::CancellationToken::new())
        .await;
    assert_eq!(r.status, ToolResultStatus::Error);
    assert!(
        r.output
            .starts_with("web_fetch: could not fetch http://127.0.0.1:1/x: error sending request"),
        "{}",
        r.output
    );
}

#[tokio::test]
async fn private_network_targets_are_flagged() {
    let ws = Ws::new();
    for (url, private) in [
        ("http://localhost:8080/", true),
        ("http://app.localhost/", true),
        ("http://10.1.2.3/", true),
        ("http://192.168.0.10/", true),
        ("http://169.254.169.254/latest/meta-data", true),
        ("http://[::1]/", true),
        ("http://[fd00::1]/", true),
        ("http://printer.local/", true),
        ("http://100.64.0.1/", true),
        ("https://93.184.215.14/", false),
        ("https://[2606:4700::1111]/", false),
    ] {
        let call = ws
            .prepare("web_fetch", json!({"url": url, "prompt": "p"}))
            .await
            .unwrap();
        assert_eq!(call.targets_private_network(), private, "{url}");
    }
    assert!(is_non_public_address(
        "::ffff:127.0.0.1".parse::<IpAddr>().unwrap()
    ));
    assert!(!is_non_public_address("8.8.8.8".parse::<IpAddr>().unwrap()));
}

/// Every spelling of this machine or "any address" is flagged, so the engine asks (in every
/// mode, yolo included): the `url` crate normalises numeric IPv4 forms like a browser does
/// (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1` are all 127.0.0.1).
#[tokio::test]
async fn loopback_and_numeric_ip_forms_are_private() {
    let ws = Ws::new();
    for (url, shown) in [
        ("http://127.0.0.1/", "http://127.0.0.1/"),
        ("http://0.0.0.0/", "http://0.0.0.0/"),
        ("http://0/", "http://0.0.0.0/"),
        ("http://[::]/", "http://[::]/"),
        ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
        ("http://[::ffff:7f00:1]/", "http://[::ffff:7f00:1]/"),
        ("http://[::127.0.0.1]/", "http://[::7f00:1]/"),
        ("http://[::ffff:0:127.0.0.1]/", "http://[::ffff:0:7f00:1]/"),
        ("http://[64:ff9b::127.0.0.1]/", "http://[64:ff9b::7f00:1]/"),
        (
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
        ),
        ("http://LOCALHOST./", "http://localhost./"),
        ("http://localhost.:8080/", "http://localhost.:8080/"),
        ("http://[fec0::1]/", "http://[fec0::1]/"),
    ] {
        let call = ws
            .prepare("web_fetch", json!({"url": url, "prompt": "p"}))
            .await
            .unwrap();
        assert!(call.targets_private_network(), "{url} must be private");
        assert_eq!(
            call.approval_details(),
            ApprovalDetails::Fetch { url: shown.into() },
            "{url}: the user is asked about the address that will be fetched"
        );
    }
    for public in ["64:ff9b::808:808", "::ffff:8.8.8.8", "2001:4860:4860::8888"] {
        assert!(
            !is_non_public_address(public.parse::<IpAddr>().unwrap()),
            "{public}"
        );
    }
}

const LOOPBACK_CHILD: &str = "suite::fetch::child_loopback_fetch_is_not_proxied";

/// In the child: every proxy variable points at a closed port; an (approved) loopback fetch
/// still reaches the local server directly.
#[tokio::test]
async fn child_loopback_fetch_is_not_proxied() {
    if std::env::var("QCODE_TEST_CHILD").ok().as_deref() != Some(LOOPBACK_CHILD) {
        return;
    }
    let ws = Ws::new();
    let (base, seen) = serve().await;
    for url in [
        format!("{base}/page"),
        base.replace("127.0.0.1", "localhost") + "/page",
    ] {
        let call = ws
            .prepare("web_fetch", json!({"url": url, "prompt": "p"}))
            .await
            .unwrap();
        let (r, _) = ws
            .execute(call, tokio_util::sync::CancellationToken::new())
            .await;
        assert_eq!(r.status, ToolResultStatus::Success, "{url}: {}", r.output);
    }
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn environment_proxies_are_not_used_for_loopback_fetches() {
    if std::env::var_os("QCODE_TEST_CHILD").is_some() {
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([LOOPBACK_CHILD, "--exact", "--nocapture", "--test-threads=1"]);
    for var in [
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
        "http_proxy",
        "https_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("QCODE_TEST_CHILD", LOOPBACK_CHILD);
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env(var, &proxy);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}
