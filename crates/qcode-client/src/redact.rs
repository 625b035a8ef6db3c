//! [`redact_url`]: a URL made safe for messages and logs (user info and query hidden).

/// A URL safe to show: user info becomes `***` (`http://u:KEY@host/v1` → `http://***@host/v1`)
/// and a query or fragment becomes `?[redacted]` / `#[redacted]` (keys are often passed as
/// `?api-key=…`). Works on text that is not a valid URL too (no scheme, spaces), so it can be
/// used on whatever the user configured. Everything else is kept as written.
pub fn redact_url(raw: &str) -> String {
    let raw = raw.trim();
    let (before, tail) = match raw.find(['?', '#']) {
        Some(at) if raw[at..].starts_with('?') => (&raw[..at], "?[redacted]"),
        Some(at) => (&raw[..at], "#[redacted]"),
        None => (raw, ""),
    };
    // The authority starts after `scheme://` (when the `://` comes before any `/`).
    let start = match before.find("://") {
        Some(at) if !before[..at].contains('/') => at + 3,
        _ => 0,
    };
    let rest = &before[start..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut shown = String::with_capacity(raw.len());
    shown.push_str(&before[..start]);
    match authority.rfind('@') {
        Some(at) => {
            shown.push_str("***");
            shown.push_str(&authority[at..]);
        }
        None => shown.push_str(authority),
    }
    shown.push_str(&rest[authority_end..]);
    shown.push_str(tail);
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn user_info_query_and_fragment_are_hidden() {
        let cases = [
            ("http://u:KEY@host/v1", "http://***@host/v1"),
            ("https://KEY@host:8443", "https://***@host:8443"),
            ("http://a:b@c@host/x@y", "http://***@host/x@y"),
            ("http://host/v1?api-key=KEY", "http://host/v1?[redacted]"),
            ("http://host/cb#token=KEY", "http://host/cb#[redacted]"),
            ("http://u:KEY@host?k=KEY#f", "http://***@host?[redacted]"),
            ("u:KEY@localhost:1234/v1", "***@localhost:1234/v1"),
            (
                "localhost:1234/v1?token=KEY",
                "localhost:1234/v1?[redacted]",
            ),
            (" https://api.example.com/v1 ", "https://api.example.com/v1"),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_url(raw), want, "{raw}");
            assert!(!redact_url(raw).contains("KEY"), "{raw}");
        }
    }
}
