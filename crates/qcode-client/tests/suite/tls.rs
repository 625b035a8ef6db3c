//! Real TLS handshakes against a local HTTPS server with a freshly generated self-signed
//! certificate: trusted through `SSL_CERT_FILE`, untrusted by the system store alone, valid for
//! another name only, and two requests of one client (its verifier, built at the first
//! handshake, is reused).
//!
//! The certificate store is read from the environment, so each client runs in a child process
//! ([`run_child`]) with `SSL_CERT_FILE` set or unset; the server runs in the parent and records
//! what it saw.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_client::{ClientError, ResponseEvent, Secret, StaticCredentials};
use qcode_protocol::{ErrorKind, FinishReason};
use qcode_test_support::mock_model::chunk;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;

use super::support::{Collected, KEY, client, collect_with, in_child, request, run_child};

/// The streamed answer, in three pieces.
const PIECES: [&str; 3] = ["Hello", " over", " TLS"];

/// A certificate and its key, PEM files in a temporary directory.
struct Cert {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Cert {
    /// A self-signed RSA certificate for `cn` with the given subjectAltName, made by openssl.
    /// It is marked as no CA: WebPKI refuses a CA certificate as the server's own. Its subject
    /// (and so its issuer) is unique: a system store may hold another self-signed
    /// `CN=localhost` (Debian's snakeoil certificate), which would make the refusal a bad
    /// signature instead of an unknown issuer.
    fn generate(cn: &str, san: &str) -> Self {
        static SERIAL: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "qcode test {} {}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let out = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .arg("-subj")
            .arg(format!("/O={unique}/CN={cn}"))
            .arg("-addext")
            .arg(format!("subjectAltName={san}"))
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir, cert, key }
    }

    fn cert_file(&self) -> &str {
        self.cert.to_str().unwrap()
    }
}

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    /// TCP connections accepted.
    connections: usize,
    /// Connections whose handling ended.
    finished: usize,
    /// Handshakes that completed.
    handshakes: usize,
    /// Why the other handshakes failed (the client's alert, as the server read it).
    failures: Vec<String>,
    /// Each request received: head and body as text.
    requests: Vec<String>,
}

/// An HTTPS server on 127.0.0.1 (HTTP/1.1, one request per connection, no session
/// resumption, so that every request is a full handshake with certificate verification)
/// answering every request with a short chat-completions SSE stream.
struct TlsServer {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl TlsServer {
    fn start(cert: &Cert) -> Self {
        let certs = vec![CertificateDer::from_pem_file(&cert.cert).unwrap()];
        let key = PrivateKeyDer::from_pem_file(&cert.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(sock) = sock else { return };
                record.lock().unwrap().connections += 1;
                let (config, record) = (config.clone(), record.clone());
                std::thread::spawn(move || {
                    serve(sock, config, &record);
                    record.lock().unwrap().finished += 1;
                });
            }
        });
        Self { port, seen }
    }

    /// What the server saw, once every accepted connection has been handled (the client may
    /// be done before the server has read its alert).
    fn seen(&self) -> Seen {
        for _ in 0..2000 {
            {
                let mut seen = self.seen.lock().unwrap();
                if seen.finished == seen.connections {
                    return std::mem::take(&mut *seen);
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the server still handles a connection: {:?}", self.seen);
    }
}

fn serve(sock: TcpStream, config: Arc<rustls::ServerConfig>, seen: &Mutex<Seen>) {
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let conn = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            seen.lock().unwrap().failures.push(e.to_string());
            return;
        }
    }
    seen.lock().unwrap().handshakes += 1;
    let Some(request) = read_request(&mut tls) else {
        return;
    };
    seen.lock().unwrap().requests.push(request);
    let mut body = String::new();
    for piece in PIECES {
        body.push_str(&String::from_utf8_lossy(&chunk::text_line(piece)));
    }
    body.push_str(&format!("data: {}\n\n", chunk::finish("stop")));
    body.push_str("data: [DONE]\n\n");
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = tls.write_all(head.as_bytes());
    let _ = tls.write_all(body.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// One HTTP/1.1 request (head and `Content-Length` body) as text.
fn read_request(tls: &mut impl Read) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// Streams one request to `QCODE_TLS_BASE` (set by the parent).
async fn stream_to_base(client: &qcode_client::ChatClient) -> Collected {
    let base = std::env::var("QCODE_TLS_BASE").unwrap();
    let creds = Arc::new(StaticCredentials::new(base, Some(Secret::new(KEY))));
    collect_with(client, creds, &request(), CancellationToken::new()).await
}

/// The whole answer arrived, ending with `Finish(Stop)`.
fn assert_whole_answer(got: &Collected) {
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text(), PIECES.concat());
    assert_eq!(
        got.events.last(),
        Some(&ResponseEvent::Finish(FinishReason::Stop)),
        "{:?}",
        got.events
    );
    assert!(got.retries().is_empty(), "{:?}", got.events);
}

/// The request failed at once with a certificate error naming the host and `cause`.
fn assert_certificate_refused(got: &Collected, cause: &str) {
    let error = got.error.as_ref().expect("the request must fail");
    assert!(got.retries().is_empty(), "retried: {:?}", got.events);
    assert!(got.events.is_empty(), "{:?}", got.events);
    assert!(
        matches!(error, ClientError::Certificate { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(error.kind(), ErrorKind::Config);
    let message = error.to_string();
    assert!(message.contains("certificate"), "{message}");
    assert!(message.contains(cause), "{message}");
    let base = std::env::var("QCODE_TLS_BASE").unwrap();
    let host_port = base.trim_start_matches("https://").trim_end_matches("/v1");
    assert!(message.contains(host_port), "{message}");
    assert!(!message.contains(KEY), "{message}");
    let hint = error.hint().unwrap();
    assert!(hint.contains("SSL_CERT_FILE"), "{hint}");
}

/// Runs `child` with `env` plus `QCODE_TLS_BASE`; asserts it passed.
fn run(child: &str, base: &str, env: &[(&str, &str)]) {
    let mut all = env.to_vec();
    all.push(("QCODE_TLS_BASE", base));
    let (passed, output) = run_child(child, &all);
    assert!(passed, "{output}");
}

fn is_parent() -> bool {
    std::env::var_os("QCODE_TEST_CHILD").is_none()
}

const TRUSTED_CHILD: &str = "suite::tls::child_trusted_certificate_streams";

#[tokio::test]
async fn child_trusted_certificate_streams() {
    if !in_child(TRUSTED_CHILD) {
        return;
    }
    assert_whole_answer(&stream_to_base(&client()).await);
}

#[test]
fn a_certificate_trusted_through_ssl_cert_file_streams_the_whole_answer() {
    if !is_parent() {
        return;
    }
    let cert = Cert::generate("localhost", "DNS:localhost,IP:127.0.0.1");
    let server = TlsServer::start(&cert);
    let base = format!("https://localhost:{}/v1", server.port);
    run(TRUSTED_CHILD, &base, &[("SSL_CERT_FILE", cert.cert_file())]);
    let seen = server.seen();
    assert_eq!(seen.handshakes, 1, "{seen:?}");
    assert_eq!(seen.requests.len(), 1, "{seen:?}");
    let sent = &seen.requests[0];
    assert!(
        sent.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"),
        "{sent}"
    );
    let lower = sent.to_ascii_lowercase();
    assert!(
        lower.contains(&format!("\r\nhost: localhost:{}\r\n", server.port)),
        "{sent}"
    );
    assert!(
        lower.contains(&format!(
            "\r\nauthorization: bearer {}\r\n",
            KEY.to_ascii_lowercase()
        )),
        "{sent}"
    );
    assert!(sent.contains("\"stream\":true"), "{sent}");
}

const UNTRUSTED_CHILD: &str = "suite::tls::child_untrusted_certificate_is_refused";

#[tokio::test]
async fn child_untrusted_certificate_is_refused() {
    if !in_child(UNTRUSTED_CHILD) {
        return;
    }
    let got = stream_to_base(&client()).await;
    assert_certificate_refused(
        &got,
        "not signed by a certificate authority this machine trusts",
    );
}

#[test]
fn a_self_signed_certificate_is_refused_by_the_system_store_without_retries() {
    if !is_parent() {
        return;
    }
    let cert = Cert::generate("localhost", "DNS:localhost,IP:127.0.0.1");
    let server = TlsServer::start(&cert);
    run(
        UNTRUSTED_CHILD,
        &format!("https://localhost:{}/v1", server.port),
        &[],
    );
    let seen = server.seen();
    assert_eq!(seen.connections, 1, "one attempt only: {seen:?}");
    assert_eq!(seen.handshakes, 0, "{seen:?}");
    assert!(seen.requests.is_empty(), "nothing was sent: {seen:?}");
}

const WRONG_NAME_CHILD: &str = "suite::tls::child_certificate_for_another_name_is_refused";

#[tokio::test]
async fn child_certificate_for_another_name_is_refused() {
    if !in_child(WRONG_NAME_CHILD) {
        return;
    }
    let got = stream_to_base(&client()).await;
    assert_certificate_refused(&got, "not valid for 127.0.0.1 (only for other.example)");
}

#[test]
fn a_trusted_certificate_for_another_name_is_refused() {
    if !is_parent() {
        return;
    }
    let cert = Cert::generate("other.example", "DNS:other.example");
    let server = TlsServer::start(&cert);
    run(
        WRONG_NAME_CHILD,
        &format!("https://127.0.0.1:{}/v1", server.port),
        &[("SSL_CERT_FILE", cert.cert_file())],
    );
    let seen = server.seen();
    assert_eq!(seen.connections, 1, "one attempt only: {seen:?}");
    assert_eq!(seen.handshakes, 0, "{seen:?}");
    assert!(seen.requests.is_empty(), "nothing was sent: {seen:?}");
}

const REUSE_CHILD: &str = "suite::tls::child_one_client_verifies_twice_with_one_store";

/// Two requests of one client, with the certificate file replaced by another certificate in
/// between: the second handshake (a new connection, no resumption) still verifies, with the
/// store read at the first; a new client reads the store again and now refuses the server.
#[tokio::test]
async fn child_one_client_verifies_twice_with_one_store() {
    if !in_child(REUSE_CHILD) {
        return;
    }
    let client = client();
    assert_whole_answer(&stream_to_base(&client).await);
    let other = std::fs::read(std::env::var("QCODE_TLS_OTHER_CERT").unwrap()).unwrap();
    std::fs::write(std::env::var("SSL_CERT_FILE").unwrap(), other).unwrap();
    assert_whole_answer(&stream_to_base(&client).await);
    let fresh = super::support::client();
    let got = stream_to_base(&fresh).await;
    assert_certificate_refused(
        &got,
        "not signed by a certificate authority this machine trusts",
    );
}

#[test]
fn one_client_reuses_its_verifier_for_a_second_request() {
    if !is_parent() {
        return;
    }
    let cert = Cert::generate("localhost", "DNS:localhost,IP:127.0.0.1");
    let other = Cert::generate("localhost", "DNS:localhost,IP:127.0.0.1");
    let server = TlsServer::start(&cert);
    run(
        REUSE_CHILD,
        &format!("https://localhost:{}/v1", server.port),
        &[
            ("SSL_CERT_FILE", cert.cert_file()),
            ("QCODE_TLS_OTHER_CERT", other.cert_file()),
        ],
    );
    let seen = server.seen();
    assert_eq!(seen.connections, 3, "{seen:?}");
    assert_eq!(seen.handshakes, 2, "two full handshakes: {seen:?}");
    assert_eq!(seen.requests.len(), 2, "{seen:?}");
    assert_eq!(seen.failures.len(), 1, "{seen:?}");
}

const NO_STORE_CHILD: &str = "suite::tls::child_an_unreadable_store_is_a_certificate_error";

#[tokio::test]
async fn child_an_unreadable_store_is_a_certificate_error() {
    if !in_child(NO_STORE_CHILD) {
        return;
    }
    let got = stream_to_base(&client()).await;
    assert_certificate_refused(&got, "no CA certificate could be loaded");
}

#[test]
fn a_missing_ssl_cert_file_fails_the_handshake_clearly() {
    if !is_parent() {
        return;
    }
    let cert = Cert::generate("localhost", "DNS:localhost,IP:127.0.0.1");
    let server = TlsServer::start(&cert);
    let missing = cert.dir.path().join("missing.pem");
    run(
        NO_STORE_CHILD,
        &format!("https://localhost:{}/v1", server.port),
        &[("SSL_CERT_FILE", missing.to_str().unwrap())],
    );
    let seen = server.seen();
    assert_eq!(seen.connections, 1, "one attempt only: {seen:?}");
    assert_eq!(seen.handshakes, 0, "{seen:?}");
}
