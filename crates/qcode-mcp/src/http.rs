//! The streamable-HTTP transport: the workspace's reqwest client (rustls with ring) with the
//! entry's headers on every request.

use std::collections::{BTreeMap, HashMap};

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::AuthClient;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::oauth::TokenStore;

/// The transport of a session's connection to server `name`.
pub(crate) type Transport = StreamableHttpClientTransport<AuthClient<reqwest::Client>>;

/// `headers` checked and converted (a bad name or value is an error naming the header, never
/// showing its value).
pub(crate) fn header_map(
    headers: &BTreeMap<String, String>,
) -> Result<HashMap<HeaderName, HeaderValue>, String> {
    let mut map = HashMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("the header name `{name}` is not valid"))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header `{name}` is not valid"))?;
        value.set_sensitive(true);
        // The SDK owns these (content negotiation, the session, resumption).
        if ["accept", "mcp-session-id", "last-event-id"].contains(&header.as_str()) {
            return Err(format!(
                "the header `{name}` is set by qcode itself and may not be configured"
            ));
        }
        map.insert(header, value);
    }
    Ok(map)
}

/// reqwest without a provider would panic: install ring (the workspace's) if nobody did.
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The HTTP client of MCP requests: no redirects followed.
pub(crate) fn client() -> Result<reqwest::Client, String> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

/// The transport for server `name` at `url` with `headers`. With a sign-in stored in
/// `tokens` for this name **and** this URL, every request carries its bearer token (refreshed
/// by the SDK when it expires); without one, requests go out as configured and a 401 ends
/// the connection as "needs sign-in". An entry that sets its own `Authorization` header
/// never gets a stored token.
pub(crate) async fn transport(
    name: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    tokens: Option<&TokenStore>,
) -> Result<Transport, String> {
    let map = header_map(headers)?;
    let client = client()?;
    let own_authorization = map.contains_key(&reqwest::header::AUTHORIZATION);
    let manager = match tokens {
        Some(store) if !own_authorization => crate::oauth::stored_manager(store, name, url).await?,
        _ => None,
    };
    let manager = match manager {
        Some(m) => m,
        // No stored sign-in: the SDK's manager with an empty in-memory store adds nothing.
        None => crate::oauth::flow_manager(url).await?,
    };
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(map);
    Ok(StreamableHttpClientTransport::with_client(
        AuthClient::new(client, manager),
        config,
    ))
}

/// `url` without user info and query values (they may hold secrets), for messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let query = if u.query().is_some() { "?…" } else { "" };
            format!("{}://{host}{port}{}{query}", u.scheme(), u.path())
        }
        Err(_) => "(an invalid URL)".into(),
    }
}

/// `text` with every http(s) URL in it [`redact`]ed (SDK and HTTP errors quote the URL whole).
pub(crate) fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["http://", "https://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min();
        let Some(start) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
            .unwrap_or(tail.len());
        out.push_str(&redact(&tail[..end]));
        rest = &tail[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_lose_user_info_and_query_values() {
        assert_eq!(
            redact("https://u:pw@mcp.example.com:8443/mcp?token=sk-1#x"),
            "https://mcp.example.com:8443/mcp?…"
        );
        assert_eq!(
            scrub_urls("error sending request for url (http://a:b@h/p?k=sk-2), retry https://x/y"),
            "error sending request for url (http://h/p?…), retry https://x/y"
        );
    }
}
