//! What a transport error from reqwest means: walking the `source()` chain (and the errors
//! wrapped inside `std::io::Error`s, which `source()` skips) for refused connections, DNS
//! failures and plain-http answers to a TLS handshake.

use std::error::Error;

use url::Url;

use crate::redact::redact_url;

/// Every error of the chain, `e` first, including the payloads of `io::Error`s (an
/// `io::Error`'s `source()` is its payload's source, so the payload itself, e.g. a
/// `rustls::Error`, would be skipped).
fn chain<'a>(e: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut all = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        all.push(err);
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            let inner: &(dyn Error + 'static) = inner;
            all.push(inner);
        }
        cur = err.source();
        if all.len() > 64 {
            break;
        }
    }
    all
}

/// Whether an error's chain contains an I/O "connection refused".
pub(crate) fn is_refused(e: &(dyn Error + 'static)) -> bool {
    chain(e).into_iter().any(|err| {
        err.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    })
}

/// Whether a TLS handshake got something that is not TLS back: the server answered in plain
/// HTTP (rustls: "received corrupt message of type InvalidContentType").
pub(crate) fn is_plaintext_reply(e: &(dyn Error + 'static)) -> bool {
    chain(e).into_iter().any(|err| {
        matches!(
            err.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            ))
        ) || err
            .to_string()
            .contains("corrupt message of type InvalidContentType")
    })
}

/// Whether the host name could not be resolved. reqwest marks its resolver's errors
/// ([`reqwest::Error::is_dns`]); hyper-util's own "dns error" (a private type) is matched by
/// its text as a fallback.
pub(crate) fn is_dns(e: &reqwest::Error) -> bool {
    e.is_dns()
        || chain(e)
            .into_iter()
            .any(|err| err.to_string().starts_with("dns error"))
}

/// The innermost cause's text ("failed to lookup address information: Name or service not
/// known"), or the whole chain when there is only one level.
pub(crate) fn root_cause(e: &reqwest::Error) -> String {
    let all = chain(e);
    match all.last() {
        Some(last) if all.len() > 1 => last.to_string(),
        _ => error_chain(e),
    }
}

/// Whether error messages carry the HTTP library's own details (`QCODE_DEBUG=1`; set once by
/// the binary with [`set_error_details`]). Off: one plain cause, said once.
static ERROR_DETAILS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the HTTP library's details in error messages on or off (process-wide).
pub fn set_error_details(on: bool) {
    ERROR_DETAILS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// `plain`, followed by the library's error chain only when details are on.
pub(crate) fn with_details(plain: &str, e: &reqwest::Error) -> String {
    if ERROR_DETAILS.load(std::sync::atomic::Ordering::Relaxed) {
        format!("{plain} (details: {})", error_chain(e))
    } else {
        plain.to_string()
    }
}

/// A reqwest error and its causes, without the URL (which reqwest puts in the top level).
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        // The top level names the URL: show it redacted.
        let text = e.to_string();
        match e.url() {
            Some(url) => text.replace(url.as_str(), &redact(url)),
            None => text,
        }
    } else {
        parts.join(": ")
    }
}

/// A parsed URL safe for messages: see [`redact_url`].
pub(crate) fn redact(url: &Url) -> String {
    redact_url(url.as_str())
}
