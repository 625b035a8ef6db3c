//! Which proxy model requests go through: [`ProxyConfig`] and how it is applied to the reqwest
//! client. Loopback (`localhost`, `127.0.0.0/8`, `::1`) is never proxied, whatever the
//! settings say: a local model server is on this machine, and a proxy would reach its own.

use std::fmt;

use reqwest::{NoProxy, Proxy};

use crate::ClientError;
use crate::redact::redact_url;

/// Destinations always reached directly (added to any `NO_PROXY` list).
const LOOPBACK: &str = "localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104";

/// Where the proxy settings come from.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum ProxyConfig {
    /// The standard variables, read once when the client is built: `HTTPS_PROXY` (for
    /// `https://` URLs), `HTTP_PROXY` (for `http://`), `ALL_PROXY` (for both when the specific
    /// one is unset) and `NO_PROXY`; the lower-case forms are read when the upper-case one is
    /// unset. As curl and reqwest do, nothing is proxied when `REQUEST_METHOD` is set (CGI).
    #[default]
    Environment,
    /// Always connect directly.
    Direct,
    /// These settings, the environment ignored.
    Manual(ProxySettings),
}

/// Proxy URLs (`http://host:port`, `http://user:pw@host:port`; no scheme means `http://`) and a
/// `NO_PROXY` list (comma-separated host names, which also match their subdomains, IP
/// addresses, CIDR ranges, or `*` for everything). Empty strings count as unset.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProxySettings {
    pub http: Option<String>,
    pub https: Option<String>,
    pub all: Option<String>,
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// The settings the standard variables give, looked up with `var` (e.g.
    /// `|name| std::env::var(name).ok()`).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        if var("REQUEST_METHOD").is_some() {
            return Self::default();
        }
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        Self {
            http: first(["HTTP_PROXY", "http_proxy"]),
            https: first(["HTTPS_PROXY", "https_proxy"]),
            all: first(["ALL_PROXY", "all_proxy"]),
            no_proxy: first(["NO_PROXY", "no_proxy"]),
        }
    }
}

fn shown(value: &Option<String>) -> Option<String> {
    value.as_deref().map(redact_url)
}

impl fmt::Debug for ProxySettings {
    /// Proxy URLs may carry credentials: shown redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("all", &shown(&self.all))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("Environment"),
            Self::Direct => f.write_str("Direct"),
            Self::Manual(settings) => f.debug_tuple("Manual").field(settings).finish(),
        }
    }
}

/// Replaces reqwest's own environment handling with `config`, loopback always exempt.
pub(crate) fn apply(
    builder: reqwest::ClientBuilder,
    config: &ProxyConfig,
) -> Result<reqwest::ClientBuilder, ClientError> {
    // Drops reqwest's automatic system proxy: it would proxy loopback too.
    let mut builder = builder.no_proxy();
    let settings = match config {
        ProxyConfig::Direct => return Ok(builder),
        ProxyConfig::Environment => ProxySettings::from_vars(|name| std::env::var(name).ok()),
        ProxyConfig::Manual(settings) => settings.clone(),
    };
    let no_proxy = match settings.no_proxy.as_deref().map(str::trim) {
        Some(list) if !list.is_empty() => format!("{list}, {LOOPBACK}"),
        _ => LOOPBACK.to_string(),
    };
    let no_proxy = NoProxy::from_string(&no_proxy);
    fn set(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let all = set(&settings.all);
    let invalid = |url: &str, e: reqwest::Error| ClientError::InvalidProxy {
        url: redact_url(url),
        reason: crate::transport::error_chain(&e),
    };
    if let Some(url) = set(&settings.http).or(all) {
        let proxy = Proxy::http(url).map_err(|e| invalid(url, e))?;
        builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
    }
    if let Some(url) = set(&settings.https).or(all) {
        let proxy = Proxy::https(url).map_err(|e| invalid(url, e))?;
        builder = builder.proxy(proxy.no_proxy(no_proxy));
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn variables_upper_case_first_empty_ignored_cgi_disables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = ProxySettings::from_vars(vars(&[
            ("HTTP_PROXY", "http://up:1"),
            ("http_proxy", "http://low:1"),
            ("HTTPS_PROXY", ""),
            ("https_proxy", "http://low:2"),
            ("all_proxy", "http://all:3"),
            ("NO_PROXY", "example.com"),
        ]));
        assert_eq!(s.http.as_deref(), Some("http://up:1"));
        assert_eq!(s.https.as_deref(), Some("http://low:2"));
        assert_eq!(s.all.as_deref(), Some("http://all:3"));
        assert_eq!(s.no_proxy.as_deref(), Some("example.com"));
        let cgi = ProxySettings::from_vars(vars(&[
            ("HTTP_PROXY", "http://evil:1"),
            ("REQUEST_METHOD", "GET"),
        ]));
        assert_eq!(cgi, ProxySettings::default());
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let config = ProxyConfig::Manual(ProxySettings {
            https: Some("http://user:sk-proxy-secret@proxy:3128".into()),
            ..ProxySettings::default()
        });
        let text = format!("{config:?}");
        assert!(!text.contains("sk-proxy-secret"), "{text}");
        assert!(text.contains("http://***@proxy:3128"), "{text}");
    }
}
