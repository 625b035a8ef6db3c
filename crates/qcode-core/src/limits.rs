//! What a request may cost: the model's context window and output limit as the server reports
//! them, the estimate checked before a request is sent, and the guard against degenerate
//! (looping) generation.
//!
//! - **Discovery.** The server's model listing (`GET {base}/models`) says the context window on
//!   llama.cpp (`meta.n_ctx`), vLLM, LM Studio and OpenRouter (see `qcode_client::ModelInfo`).
//!   It is fetched in the background when the engine starts, once per base URL per process,
//!   only when the settings do not pin the window and the model is not in the catalogue (or the
//!   server is on this machine), never for Qwen OAuth: it never delays the prompt. A listing that does not name the
//!   session's model gives one warning (servers often ignore the name). Precedence for the
//!   window: `model.contextWindow`, then the server, then the catalogue.
//! - **Output limit.** Every request carries `max_tokens`: `model.maxTokens` when set (`0`: send
//!   none), else nothing for catalogue models (their providers enforce their own limit), else
//!   the server's reported output limit or [`DEFAULT_MAX_OUTPUT_TOKENS`], never more than what
//!   the window leaves after the prompt.
//! - **Before sending.** With a known window, a request whose estimate (4 characters a token)
//!   passes 90% of it compresses the history first; one that still does not fit is refused
//!   with the reason instead of being sent to fail.
//! - **Loops.** [`LoopDetector`] (in `loops.rs`) watches the streamed text (outside code
//!   blocks) for the same passage repeating back to back, as Gemini CLI does; the stream is then
//!   stopped and the text kept (`model.loopDetection: false` turns it off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use qcode_client::{ChatClient, CredentialSource, ModelInfo};
use qcode_protocol::{ChatMessage, Event, ToolSpec};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::engine::{EventTx, Session};
pub use crate::loops::{LOOP_REPEATS, LoopDetector};

/// The output limit sent when neither the settings nor the server give one (models outside
/// the catalogue only).
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 16_384;
/// A request estimated above this share of the window is compressed first.
const COMPRESS_BEFORE_SEND: f64 = 0.9;
/// Output tokens always left for the answer when the window is nearly full.
const MIN_OUTPUT_TOKENS: u64 = 256;

/// One base URL's listing: `None` when the server has no usable listing.
type Listing = Option<Arc<Vec<ModelInfo>>>;

/// Listings fetched by this process, by base URL (subagents and `/model` reuse them).
fn listings() -> &'static Mutex<HashMap<String, Arc<OnceCell<Listing>>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<OnceCell<Listing>>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The session's knowledge of the server: pending until the background fetch ends.
#[derive(Default)]
pub(crate) struct ServerModels {
    pending: Option<tokio::task::JoinHandle<Listing>>,
    listing: Listing,
    /// The server's output limit for the session's model.
    pub max_output: Option<u64>,
    /// Models already warned about (one warning per name).
    warned: Vec<String>,
}

/// Whether the listing is worth asking for: the window is not pinned by the settings, and the
/// catalogue does not know the model or the server is local (its window is whatever it was
/// started with).
pub(crate) fn wants_discovery(pinned: bool, model: &str, base_url: &str) -> bool {
    !pinned && (qcode_config::context_window(model).is_none() || is_local(base_url))
}

fn is_local(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url.trim()) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Starts the background fetch of the listing (at most one request per base URL per process).
pub(crate) fn start_discovery(
    client: Arc<ChatClient>,
    credentials: Arc<dyn CredentialSource>,
    pinned: bool,
    model: String,
) -> tokio::task::JoinHandle<Listing> {
    tokio::spawn(async move {
        let base = credentials.endpoint().await.ok()?.base_url;
        if !wants_discovery(pinned, &model, &base) {
            return None;
        }
        let cell = {
            let mut all = listings().lock().ok()?;
            all.entry(base).or_default().clone()
        };
        cell.get_or_init(|| async {
            client
                .model_infos(credentials.as_ref(), CancellationToken::new())
                .await
                .ok()
                .filter(|l| !l.is_empty())
                .map(Arc::new)
        })
        .await
        .clone()
    })
}

impl ServerModels {
    pub(crate) fn pending(handle: tokio::task::JoinHandle<Listing>) -> Self {
        Self {
            pending: Some(handle),
            ..Self::default()
        }
    }

    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// A listing was fetched.
    pub(crate) fn is_known(&self) -> bool {
        self.listing.is_some()
    }

    /// Waits for the fetch (at most `wait`); `None` when it is not done by then.
    pub(crate) async fn settle(&mut self, wait: std::time::Duration) -> bool {
        let Some(handle) = self.pending.as_mut() else {
            return false;
        };
        match tokio::time::timeout(wait, handle).await {
            Ok(result) => {
                self.pending = None;
                self.listing = result.ok().flatten();
                true
            }
            Err(_) => false,
        }
    }

    /// The entry for `model` (exact id, else case-insensitive, else the id after a `vendor/`).
    fn entry(&self, model: &str) -> Option<&ModelInfo> {
        let list = self.listing.as_deref()?;
        let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_ascii_lowercase();
        list.iter()
            .find(|m| m.id == model)
            .or_else(|| list.iter().find(|m| m.id.eq_ignore_ascii_case(model)))
            .or_else(|| list.iter().find(|m| base(&m.id) == base(model)))
    }
}

/// Applies what the server said to the session's model: its window (unless pinned) and output
/// limit; warns once when the listing does not name the model. Reports a changed window with
/// a fresh [`Event::SessionConfigured`].
pub(crate) async fn apply(session: &mut Session, tx: &EventTx) {
    let model = session.model.clone();
    let (window, max_output, names) = {
        let facts = &session.server;
        let Some(list) = facts.listing.as_deref() else {
            return;
        };
        match facts.entry(&model) {
            Some(m) => (m.context_window, m.max_output_tokens, None),
            None => {
                let mut names: Vec<&str> = list.iter().map(|m| m.id.as_str()).take(5).collect();
                if list.len() > 5 {
                    names.push("…");
                }
                (None, None, Some(names.join(", ")))
            }
        }
    };
    session.server.max_output = max_output;
    if let Some(names) = names {
        if !session.server.warned.contains(&model) {
            session.server.warned.push(model.clone());
            tx.send(Event::Warning {
                message: format!(
                    "the server does not list the model `{model}` (it lists: {names}); it may \
                     answer with another model or fail. /model shows the names it accepts."
                ),
            })
            .await;
        }
        return;
    }
    if let Some(window) = window
        && !session.window_pinned
        && session.context_window != Some(window)
    {
        session.context_window = Some(window);
        tx.send(session.configured_event()).await;
    }
}

/// A subagent's knowledge of the server, from its parent's, for `model`: the listing (when the
/// parent has it), the output limit and the window (`window` unless the settings pin the
/// parent's, or the listing names the model's).
pub(crate) fn for_child(
    parent: &Session,
    model: &str,
    window: Option<u64>,
) -> (ServerModels, Option<u64>) {
    let mut facts = ServerModels {
        listing: parent.server.listing.clone(),
        ..ServerModels::default()
    };
    let entry = facts.entry(model).cloned();
    facts.max_output = entry.as_ref().and_then(|m| m.max_output_tokens);
    let window = match entry.and_then(|m| m.context_window) {
        Some(w) if !parent.window_pinned => Some(w),
        _ => window,
    };
    (facts, window)
}

/// A rough token estimate of a whole request: the messages and the tool schemas.
/// The estimate checked before a request is sent: the history and the tool schemas (their JSON
/// length, counted without building the text), 4 characters a token.
pub fn estimate_request(history: &[ChatMessage], tools: &[ToolSpec]) -> u64 {
    crate::compact::estimate_tokens(history) + (json_len(tools) / 4) as u64
}

/// The length of `value`'s JSON (0 if it cannot be serialised).
fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(0, |()| count.0)
}

/// What the request's `max_tokens` should be (see the module doc).
pub(crate) fn output_limit(session: &Session, estimate: u64) -> Option<u32> {
    let limit = match session.sampling.max_tokens {
        Some(0) => return None,
        Some(n) => return Some(n),
        None if session.server.max_output.is_none()
            && qcode_config::context_window(&session.model).is_some() =>
        {
            return None;
        }
        None => session
            .server
            .max_output
            .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS),
    };
    let limit = match session.context_window {
        Some(window) => limit.min(window.saturating_sub(estimate).max(MIN_OUTPUT_TOKENS)),
        None => limit,
    };
    Some(u32::try_from(limit).unwrap_or(u32::MAX))
}

/// What to do before sending a request of `estimate` tokens.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fit {
    Fits,
    /// Compress first (the estimate passes 90% of the window).
    Compress,
    /// It cannot fit: `estimate` against `window`.
    TooLong {
        estimate: u64,
        window: u64,
    },
}

pub(crate) fn fit(estimate: u64, window: Option<u64>) -> Fit {
    match window {
        Some(w) if w > 0 && estimate + MIN_OUTPUT_TOKENS > w => Fit::TooLong {
            estimate,
            window: w,
        },
        Some(w) if w > 0 && estimate as f64 > w as f64 * COMPRESS_BEFORE_SEND => Fit::Compress,
        _ => Fit::Fits,
    }
}

/// Detects the same passage repeating back to back in streamed text.
///
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_fit_and_window() {
        assert_eq!(fit(100, None), Fit::Fits);
        assert_eq!(fit(100, Some(8192)), Fit::Fits);
        assert_eq!(fit(7600, Some(8192)), Fit::Compress);
        assert_eq!(
            fit(8000, Some(8192)),
            Fit::TooLong {
                estimate: 8000,
                window: 8192
            }
        );
    }

    #[test]
    fn discovery_only_where_it_can_help() {
        assert!(wants_discovery(
            false,
            "smollm2",
            "https://api.example.com/v1"
        ));
        assert!(wants_discovery(
            false,
            "qwen3-coder-plus",
            "http://127.0.0.1:8080/v1"
        ));
        assert!(wants_discovery(
            false,
            "qwen3-coder-plus",
            "http://192.168.1.20:8000/v1"
        ));
        assert!(!wants_discovery(
            false,
            "qwen3-coder-plus",
            "https://dashscope.aliyuncs.com/compatible-mode/v1"
        ));
        assert!(!wants_discovery(
            true,
            "smollm2",
            "http://127.0.0.1:8080/v1"
        ));
    }
}
