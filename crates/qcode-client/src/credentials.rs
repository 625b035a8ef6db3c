//! Per-request credentials: where to send a request and with which bearer token and headers.
//!
//! The client knows nothing about how credentials are obtained. A [`CredentialSource`] hands out
//! an [`Endpoint`] for every request (so an OAuth source can refresh tokens and switch base URLs
//! from `resource_url`), and gets one chance to renew it after a `401`.

use std::fmt;

use futures::future::BoxFuture;

use crate::ClientError;

pub use qcode_protocol::Secret;

/// Where and how to send one request.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The API base URL, e.g. `https://api.openai.com/v1` (a trailing `/` is ignored).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when present.
    pub bearer: Option<Secret>,
    /// Extra headers for every request (e.g. DashScope's `X-DashScope-*`). A `User-Agent` here
    /// replaces the client's default one.
    pub headers: Vec<(String, String)>,
}

impl Endpoint {
    pub fn new(base_url: impl Into<String>, bearer: Option<Secret>) -> Self {
        Self {
            base_url: base_url.into(),
            bearer,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl fmt::Debug for Endpoint {
    /// Shows header names only (header values may carry secrets too) and the base URL
    /// redacted ([`crate::redact_url`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Endpoint")
            .field("base_url", &crate::redact_url(&self.base_url))
            .field("bearer", &self.bearer)
            .field("header_names", &names)
            .finish()
    }
}

/// Supplies the endpoint for each request.
pub trait CredentialSource: Send + Sync {
    /// The endpoint for the next request (called once per attempt, so tokens can be refreshed).
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>>;

    /// Called at most once per request after a `401`. Return a fresh endpoint to retry once
    /// with, or `None` to fail with [`ClientError::Unauthorized`].
    fn on_unauthorized<'a>(
        &'a self,
        rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>>;
}

/// A fixed endpoint (API keys): nothing to refresh, a `401` is final.
#[derive(Debug, Clone)]
pub struct StaticCredentials(pub Endpoint);

impl StaticCredentials {
    pub fn new(base_url: impl Into<String>, api_key: Option<Secret>) -> Self {
        Self(Endpoint::new(base_url, api_key))
    }
}

impl CredentialSource for StaticCredentials {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        let endpoint = self.0.clone();
        Box::pin(async move { Ok(endpoint) })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async { Ok(None) })
    }
}
