//! The HTTP side: a reqwest client suited to OAuth (no redirects, bounded timeouts) and one
//! form POST helper that returns status + body and turns transport failures into `AuthError`.

use std::time::Duration;

use crate::error::AuthError;

/// A reqwest client for the OAuth endpoints: redirects off (a token endpoint that redirects is
/// misconfigured or hostile), 10 s connect / 30 s total timeouts.
///
/// Installs rustls' `ring` crypto provider for the process if none is installed yet (reqwest is
/// built without a default provider in this workspace).
pub fn http_client() -> Result<reqwest::Client, AuthError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| AuthError::Network {
            url: "(client set-up)".to_string(),
            detail: e.without_url().to_string(),
        })
}

/// A response: HTTP status and raw body.
pub(crate) struct FormResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// POSTs `application/x-www-form-urlencoded` with `Accept: application/json`.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<FormResponse, AuthError> {
    let network = |e: reqwest::Error| AuthError::Network {
        url: url.to_string(),
        detail: describe(&e),
    };
    let resp = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(network)?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(network)?.to_vec();
    Ok(FormResponse { status, body })
}

/// A short description of a reqwest failure, without the URL (which the caller adds).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    detail
}
