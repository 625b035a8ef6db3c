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
        // hyper-util wraps the TLS connector's `io::Error` in another one: unwrap them all.
        let mut last = err;
        while let Some(io) = last.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && all.len() <= 64
        {
            let inner: &(dyn Error + 'static) = inner;
            all.push(inner);
            last = inner;
        }
        cur = last.source();
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

/// Why the server's certificate was refused, when that is what failed the handshake: rustls's
/// `InvalidCertificate` (an untrusted issuer, another name, expired, …), or a certificate store
/// with no usable certificate (rustls-platform-verifier's error, kept by `tls::LazyVerifier`).
/// `host` is the name that was checked.
pub(crate) fn certificate_problem(e: &(dyn Error + 'static), host: &str) -> Option<String> {
    chain(e)
        .into_iter()
        .find_map(|err| match err.downcast_ref::<rustls::Error>()? {
            rustls::Error::InvalidCertificate(c) => Some(describe_certificate(c, host)),
            rustls::Error::General(m) if m.starts_with("No CA certificates were loaded") => Some(
                "no CA certificate could be loaded from the certificate store (SSL_CERT_FILE, \
                 SSL_CERT_DIR or the system's)"
                    .into(),
            ),
            _ => None,
        })
}

/// At most this many of the names a certificate presents are shown.
const SHOWN_NAMES: usize = 3;

fn describe_certificate(c: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => "it is not signed by a certificate authority this machine trusts \
                             (a self-signed certificate or a private CA)"
            .into(),
        C::NotValidForName => format!("it is not valid for {host}"),
        C::NotValidForNameContext { presented, .. } => {
            // The names come from the server: printable ASCII only, and not too many.
            let names: Vec<String> = presented
                .iter()
                .take(SHOWN_NAMES)
                .map(|n| {
                    // rustls shows them as `DnsName("name")`.
                    let name = n
                        .split_once("(\"")
                        .and_then(|(_, rest)| rest.strip_suffix("\")"))
                        .unwrap_or(n);
                    name.chars()
                        .filter(char::is_ascii_graphic)
                        .take(100)
                        .collect()
                })
                .collect();
            if names.is_empty() {
                format!("it is not valid for {host}")
            } else {
                let more = if presented.len() > SHOWN_NAMES {
                    ", …"
                } else {
                    ""
                };
                format!(
                    "it is not valid for {host} (only for {}{more})",
                    names.join(", ")
                )
            }
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "it is not valid yet (check this machine's clock)".into()
        }
        C::Revoked => "it has been revoked".into(),
        other => rustls::Error::InvalidCertificate(other.clone()).to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// hyper-util's shape: an `io::Error` whose payload is the TLS connector's `io::Error`
    /// whose payload is the `rustls::Error`.
    fn nested(inner: rustls::Error) -> std::io::Error {
        std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, inner))
    }

    #[test]
    fn a_rustls_error_inside_nested_io_errors_is_found() {
        let e = nested(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        let reason = certificate_problem(&e, "h.example").unwrap();
        assert!(
            reason.contains("not signed by a certificate authority"),
            "{reason}"
        );
        let e = nested(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        ));
        assert!(certificate_problem(&e, "h.example").is_none());
    }

    #[test]
    fn presented_names_are_shown_plainly_and_at_most_three() {
        let e = nested(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForNameContext {
                expected: rustls::pki_types::ServerName::try_from("h.example").unwrap(),
                presented: vec![
                    "DnsName(\"a.example\")".into(),
                    "DnsName(\"b.\u{1b}[31mexample\")".into(),
                    "DnsName(\"c.example\")".into(),
                    "DnsName(\"d.example\")".into(),
                ],
            },
        ));
        assert_eq!(
            certificate_problem(&e, "h.example").unwrap(),
            "it is not valid for h.example (only for a.example, b.[31mexample, c.example, …)"
        );
        let e = nested(rustls::Error::General(
            "No CA certificates were loaded from the system".into(),
        ));
        assert!(
            certificate_problem(&e, "h")
                .unwrap()
                .starts_with("no CA certificate could be loaded")
        );
    }
}
