//! A scripted mock OpenAI-compatible model server for fault injection and exact streams.
//!
//! Synchronous on purpose, so both async client tests and plain `#[test]` end-to-end tests of
//! the `qcode` binary can use it: [`MockServer::start`] binds `127.0.0.1:0` and serves from its
//! own threads (one per connection) with hand-written HTTP/1.1, so every byte, HTTP chunk,
//! delay, reset and stall is under the test's control. Each response closes its connection.
//!
//! Routes (matched on the path suffix, so any base path works; [`MockServer::url`] gives
//! `http://127.0.0.1:PORT/v1`):
//! - `POST …/chat/completions`: the next scripted [`Reply`] (FIFO, [`MockServer::enqueue`]); when
//!   none is left, the default reply — `501` with `mock: no scripted reply left` (501 is not a
//!   status clients retry, so a missing script fails fast instead of hanging).
//! - `GET …/models`: the next reply from [`MockServer::enqueue_models`], else the model list
//!   ([`MockServer::set_models`], default: none, so that a session never warns about an unlisted model unless a test asks for it).
//! - anything else: `404`.
//!
//! Every request is recorded ([`MockServer::requests`]) before it is answered. Replies can
//! depend on the request: [`MockServer::enqueue_matching`] answers the next chat request whose
//! body contains a marker (e.g. a subagent's system prompt) before the FIFO is asked, and
//! [`Reply::after_requests`] holds a reply back until that many requests arrived, so a test can
//! show that two requests were in flight at once; [`MockServer::completions`] says, for each
//! reply written to the end, how many requests had arrived by then.
//!
//! ```no_run
//! use qcode_test_support::mock_model::{MockServer, MockUsage, Reply};
//! let server = MockServer::start();
//! server.enqueue(Reply::text("Hello, world", 4).with_usage(MockUsage::new(12, 3).cached(8)));
//! // point the client at server.url() …
//! let requests = server.wait_for_requests(1, std::time::Duration::from_secs(5));
//! assert_eq!(requests[0].body_json().unwrap()["stream"], true);
//! ```

pub mod chunk;
mod http;
mod reply;

pub use reply::{Framing, MockUsage, Reply, SseItem, pieces};

use std::collections::VecDeque;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The request target, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names lowercased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct State {
    chat: VecDeque<Reply>,
    /// (marker, reply): for the next chat request whose body contains the marker.
    matching: Vec<(String, Reply)>,
    /// (request index, requests arrived when its reply was complete).
    completions: Vec<(usize, usize)>,
    models_queue: VecDeque<Reply>,
    models: Vec<String>,
    default_reply: Reply,
    requests: Vec<RecordedRequest>,
    listing_requests: Vec<RecordedRequest>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    shutdown: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the request and picks its reply; also returns the request's index (`None` for
    /// a model listing, which is not one of [`MockServer::requests`]).
    fn route(&self, request: RecordedRequest) -> (Option<usize>, Reply) {
        let path = request
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut state = self.lock();
        // Model listings are kept apart: an engine asks for one in the background (its
        // context window), which must not shift what tests count as the chat requests.
        let index = if request.method == "GET" && path.ends_with("/models") {
            state.listing_requests.push(request.clone());
            None
        } else {
            state.requests.push(request.clone());
            Some(state.requests.len() - 1)
        };
        self.changed.notify_all();
        let reply = match (request.method.as_str(), path.as_str()) {
            ("POST", p) if p.ends_with("/chat/completions") => {
                let body = request.body_text();
                match state.matching.iter().position(|(m, _)| body.contains(m.as_str())) {
                    Some(i) => state.matching.remove(i).1,
                    None => state
                        .chat
                        .pop_front()
                        .unwrap_or_else(|| state.default_reply.clone()),
                }
            }
            ("GET", p) if p.ends_with("/models") => match state.models_queue.pop_front() {
                Some(reply) => reply,
                None => Reply::status(200).json_body(json!({
                    "object": "list",
                    "data": state.models.iter().map(|id| json!({
                        "id": id, "object": "model", "created": 0, "owned_by": "mock"
                    })).collect::<Vec<_>>(),
                })),
            },
            (method, _) => Reply::status(404).json_body(json!({
                "error": { "message": format!("mock: no route for {method} {path}"), "type": "not_found" }
            })),
        };
        (index, reply)
    }

    /// Waits until `n` requests arrived (at most 10 s: a test whose requests never overlap
    /// then fails on what it asserts, instead of hanging).
    fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut state = self.lock();
        while state.requests.len() < n && !self.shutdown.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = match self.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// The running mock server; dropping it stops it.
pub struct MockServer {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Binds `127.0.0.1:0` and starts serving on a background thread.
    ///
    /// # Panics
    /// When no local port can be bound (a broken test environment).
    pub fn start() -> Self {
        #[allow(clippy::expect_used)]
        let listener = TcpListener::bind("127.0.0.1:0").expect("mock: bind 127.0.0.1:0");
        #[allow(clippy::expect_used)]
        let port = listener.local_addr().expect("mock: local addr").port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                chat: VecDeque::new(),
                matching: Vec::new(),
                completions: Vec::new(),
                models_queue: VecDeque::new(),
                models: Vec::new(),
                default_reply: Reply::status(501).json_body(json!({
                    "error": { "message": "mock: no scripted reply left", "type": "mock_error" }
                })),
                requests: Vec::new(),
                listing_requests: Vec::new(),
            }),
            changed: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name(format!("mock-model-{port}"))
            .spawn(move || accept_loop(listener, accept_shared))
            .ok();
        Self {
            port,
            shared,
            acceptor,
        }
    }

    /// The base URL: `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Queues the answer to the next `POST …/chat/completions`.
    pub fn enqueue(&self, reply: Reply) {
        self.shared.lock().chat.push_back(reply);
    }

    /// Queues the answer to the next chat request whose body contains `marker` (checked, in
    /// the order queued, before the FIFO of [`MockServer::enqueue`]).
    pub fn enqueue_matching(&self, marker: &str, reply: Reply) {
        self.shared
            .lock()
            .matching
            .push((marker.to_string(), reply));
    }

    /// For each reply written to its end, in that order: the request's index (as in
    /// [`MockServer::requests`]) and how many requests had arrived by then.
    pub fn completions(&self) -> Vec<(usize, usize)> {
        self.shared.lock().completions.clone()
    }

    /// Queues several answers, in order.
    pub fn enqueue_all(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.lock().chat.extend(replies);
    }

    /// Queues the answer to the next `GET …/models` (instead of the model list).
    pub fn enqueue_models(&self, reply: Reply) {
        self.shared.lock().models_queue.push_back(reply);
    }

    /// The ids `GET …/models` lists.
    pub fn set_models(&self, models: &[&str]) {
        self.shared.lock().models = models.iter().map(|m| m.to_string()).collect();
    }

    /// What chat requests get when the queue is empty.
    pub fn set_default_reply(&self, reply: Reply) {
        self.shared.lock().default_reply = reply;
    }

    /// Scripted chat replies not yet used.
    pub fn pending_replies(&self) -> usize {
        self.shared.lock().chat.len()
    }

    /// Every request received so far, in arrival order, except model listings (see
    /// [`MockServer::listing_requests`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The `GET …/models` requests received so far.
    pub fn listing_requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().listing_requests.clone()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns all received.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = match self.shared.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.requests.clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.acceptor.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let conn_shared = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("mock-model-conn".into())
            .spawn(move || serve_connection(stream, &conn_shared));
    }
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = match http::read_request(&mut stream) {
        Ok(Some(request)) => request,
        Ok(None) | Err(_) => return,
    };
    if shared.shutdown.load(Ordering::SeqCst) {
        return;
    }
    let (index, reply) = shared.route(request);
    if let Some(n) = reply.after_requests {
        shared.wait_for(n);
    }
    if http::write_reply(stream, &reply, &shared.shutdown).is_ok()
        && let Some(index) = index
    {
        let mut state = shared.lock();
        let arrived = state.requests.len();
        state.completions.push((index, arrived));
    }
}

#[cfg(test)]
mod tests;
