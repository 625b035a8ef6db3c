//! [`ChatClient`]: the reqwest client built once, request building, transport error
//! classification, and [`ChatClient::list_models`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::models::ModelInfo;
use crate::proxy::ProxyConfig;
use crate::redact::redact_url;
use crate::stream::{Driver, ResponseStream};
use crate::transport::{
    certificate_problem, error_chain, is_dns, is_plaintext_reply, is_refused, redact, root_cause,
    with_details,
};
use crate::{ChatRequest, ClientError, CredentialSource, Endpoint, RetryPolicy, TimeoutPhase};

/// Longest error body read from a failed response.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest model-list body accepted.
const MAX_MODELS_BODY: usize = 8 << 20;

/// Settings of a [`ChatClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
    /// Limit for waiting for the response to start and between two pieces of the stream (not a
    /// limit on the whole answer).
    pub idle_timeout: Duration,
    pub retry: RetryPolicy,
    /// Default `User-Agent` (an endpoint header may replace it).
    pub user_agent: String,
    /// Which proxy to use; loopback is never proxied.
    pub proxy: ProxyConfig,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            user_agent: format!("qcode/{}", env!("CARGO_PKG_VERSION")),
            proxy: ProxyConfig::Environment,
        }
    }
}

/// An OpenAI-compatible chat client. Cheap to clone; build it once.
#[derive(Clone)]
pub struct ChatClient {
    pub(crate) http: reqwest::Client,
    pub(crate) options: Arc<ClientOptions>,
}

impl std::fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ChatClient {
    /// Builds the HTTP client (rustls with the ring provider; installed as the process default
    /// here when nothing installed one yet). The system's certificate store is read at the
    /// first TLS handshake, not here (see `tls.rs`).
    pub fn new(options: ClientOptions) -> Result<Self, ClientError> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another installer is fine: a provider is installed either way.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let tls = crate::tls::client_config().map_err(|e| ClientError::Setup {
            message: format!("cannot set up TLS: {e}"),
        })?;
        let builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent.clone())
            .tcp_nodelay(true);
        let http = crate::proxy::apply(builder, &options.proxy)?
            .build()
            .map_err(|e| ClientError::Setup {
                message: error_chain(&e),
            })?;
        Ok(Self {
            http,
            options: Arc::new(options),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Streams one chat completion. The stream yields [`crate::ResponseEvent`]s and ends after
    /// `Finish` or after the first error; cancelling `cancel` drops the connection at once and
    /// yields [`ClientError::Cancelled`]. Dropping the stream also drops the connection.
    pub fn stream(
        &self,
        credentials: Arc<dyn CredentialSource>,
        request: &ChatRequest<'_>,
        cancel: CancellationToken,
    ) -> ResponseStream {
        let body = request
            .to_body()
            .map(Bytes::from)
            .map_err(|e| ClientError::Setup {
                message: format!("could not serialise the request: {e}"),
            });
        Driver::new(self.clone(), credentials, body, cancel).into_stream()
    }

    /// Lists the provider's model ids (`GET {base}/models`), for `/model` and key checks.
    pub async fn list_models(
        &self,
        credentials: &dyn CredentialSource,
        cancel: CancellationToken,
    ) -> Result<Vec<String>, ClientError> {
        Ok(self
            .model_infos(credentials, cancel)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect())
    }

    /// The provider's models with what the listing says about each (`GET {base}/models`):
    /// context windows and output limits where the server reports them (see [`ModelInfo`]).
    pub async fn model_infos(
        &self,
        credentials: &dyn CredentialSource,
        cancel: CancellationToken,
    ) -> Result<Vec<ModelInfo>, ClientError> {
        let mut endpoint = cancellable(&cancel, credentials.endpoint()).await??;
        let mut refreshed = false;
        loop {
            let target = Target::new(&endpoint.base_url, "models")?;
            let request = self.request(reqwest::Method::GET, &target, &endpoint)?;
            let idle = self.options.idle_timeout;
            let response =
                match cancellable(&cancel, tokio::time::timeout(idle, request.send())).await? {
                    Ok(Ok(response)) => response,
                    Ok(Err(e)) => return Err(self.send_error(&e, &target)),
                    Err(_) => return Err(timeout(TimeoutPhase::Response, idle)),
                };
            let status = response.status().as_u16();
            if status == 401 && !refreshed {
                refreshed = true;
                if let Some(fresh) =
                    cancellable(&cancel, credentials.on_unauthorized(&endpoint)).await??
                {
                    endpoint = fresh;
                    continue;
                }
            }
            let limit = if response.status().is_success() {
                MAX_MODELS_BODY
            } else {
                MAX_ERROR_BODY
            };
            let body = read_body(response, limit, idle, &cancel).await?;
            if !(200..300).contains(&status) {
                return Err(crate::provider::from_status(
                    status,
                    &body,
                    &target.shown,
                    endpoint.bearer.as_ref(),
                ));
            }
            return crate::models::parse(&body);
        }
    }

    /// A request with the endpoint's auth and headers.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        target: &Target,
        endpoint: &Endpoint,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let mut builder = self.http.request(method, target.url.clone());
        if let Some(bearer) = &endpoint.bearer {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", bearer.expose())).map_err(|_| {
                    ClientError::InvalidHeader {
                        name: "Authorization".into(),
                    }
                })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        for (name, value) in &endpoint.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes());
            let header_value = HeaderValue::from_str(value);
            match (header_name, header_value) {
                (Ok(n), Ok(mut v)) => {
                    v.set_sensitive(true);
                    builder = builder.header(n, v);
                }
                _ => return Err(ClientError::InvalidHeader { name: name.clone() }),
            }
        }
        Ok(builder)
    }

    /// A chat completions POST.
    pub(crate) fn chat_request(
        &self,
        target: &Target,
        endpoint: &Endpoint,
        body: Bytes,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        Ok(self
            .request(reqwest::Method::POST, target, endpoint)?
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body))
    }

    /// Classifies an error from `send()` (before any response).
    pub(crate) fn send_error(&self, e: &reqwest::Error, target: &Target) -> ClientError {
        if e.is_connect() && e.is_timeout() {
            timeout(TimeoutPhase::Connect, self.options.connect_timeout)
        } else if target.url.scheme() == "https" && is_plaintext_reply(e) {
            ClientError::NotHttps {
                host_port: target.host_port.clone(),
                http_url: target.http_base.clone(),
            }
        } else if let Some(reason) = target
            .url
            .host_str()
            .filter(|_| target.url.scheme() == "https")
            .and_then(|host| certificate_problem(e, host))
        {
            ClientError::Certificate {
                host_port: target.host_port.clone(),
                reason,
            }
        } else if is_dns(e) {
            ClientError::UnknownHost {
                host: target.url.host_str().unwrap_or_default().to_string(),
                reason: root_cause(e),
            }
        } else if e.is_connect() && target.is_loopback() && is_refused(e) {
            ClientError::LocalServerDown {
                host_port: target.host_port.clone(),
            }
        } else if e.is_connect() {
            ClientError::Connect {
                host_port: target.host_port.clone(),
                reason: error_chain(e),
            }
        } else if e.is_timeout() {
            timeout(TimeoutPhase::Response, self.options.idle_timeout)
        } else {
            ClientError::Stream {
                message: with_details(
                    &format!(
                        "the connection to {} broke before the server answered",
                        target.host_port
                    ),
                    e,
                ),
            }
        }
    }
}

pub(crate) fn timeout(phase: TimeoutPhase, after: Duration) -> ClientError {
    ClientError::Timeout { phase, after }
}

/// A validated request URL.
pub(crate) struct Target {
    pub url: Url,
    /// The URL for messages: query and user info redacted.
    pub shown: String,
    pub host_port: String,
    /// The base URL with `http://` instead of `https://`, redacted: for the hint when an
    /// `https://` server answers in plain http.
    pub http_base: String,
}

impl Target {
    /// Whether the host is this machine (localhost, 127.0.0.0/8, ::1).
    pub(crate) fn is_loopback(&self) -> bool {
        match self.url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// `{base_url}/{path}` with the base checked: http(s) and a host. A query on the base URL
    /// (e.g. `?api-version=…`) is kept after the path.
    pub(crate) fn new(base_url: &str, path: &str) -> Result<Self, ClientError> {
        let invalid = |reason: &str| ClientError::InvalidBaseUrl {
            url: redact_url(base_url),
            reason: reason.to_string(),
        };
        let mut url = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        let host = url.host_str().ok_or_else(|| invalid("it has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid("it has no port"))?;
        let host_port = format!("{host}:{port}");
        let mut http_base = url.clone();
        let _ = http_base.set_scheme("http");
        let _ = http_base.set_port(Some(port));
        let http_base = redact(&http_base).trim_end_matches('/').to_string();
        let full_path = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&full_path);
        let shown = redact(&url);
        Ok(Self {
            url,
            shown,
            host_port,
            http_base,
        })
    }
}

/// Awaits `fut` unless `cancel` fires first.
pub(crate) async fn cancellable<F: Future>(
    cancel: &CancellationToken,
    fut: F,
) -> Result<F::Output, ClientError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(ClientError::Cancelled),
        out = fut => Ok(out),
    }
}

/// Reads a whole (small) body, up to `limit` bytes.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    idle: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    loop {
        match cancellable(cancel, tokio::time::timeout(idle, response.chunk())).await? {
            Ok(Ok(Some(bytes))) => {
                body.extend_from_slice(&bytes);
                if body.len() >= limit {
                    body.truncate(limit);
                    return Ok(body);
                }
            }
            // A broken error body still has a status worth reporting: keep what arrived.
            Ok(Ok(None)) | Ok(Err(_)) => return Ok(body),
            Err(_) => return Err(timeout(TimeoutPhase::Idle, idle)),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn target_joins_paths_and_keeps_queries() {
        let t = Target::new(
            " https://h.example/compatible-mode/v1/ ",
            "chat/completions",
        )
        .unwrap();
        assert_eq!(
            t.url.as_str(),
            "https://h.example/compatible-mode/v1/chat/completions"
        );
        assert_eq!(t.host_port, "h.example:443");
        let t = Target::new("http://u:pw@127.0.0.1:8080/v1?key=secret", "models").unwrap();
        assert_eq!(
            t.url.as_str(),
            "http://u:pw@127.0.0.1:8080/v1/models?key=secret"
        );
        assert_eq!(t.shown, "http://***@127.0.0.1:8080/v1/models?[redacted]");
        assert_eq!(t.http_base, "http://***@127.0.0.1:8080/v1?[redacted]");
        assert_eq!(t.host_port, "127.0.0.1:8080");
    }

    #[test]
    fn invalid_base_urls_are_redacted() {
        match Target::new("localhost:1234/v1?token=abc", "models") {
            Err(ClientError::InvalidBaseUrl { url, .. }) => {
                assert_eq!(url, "localhost:1234/v1?[redacted]")
            }
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("accepted"),
        }
        assert_eq!(redact_url("http://user:pw@h/v1"), "http://***@h/v1");
    }
}
