//! Credential sources for the client: Qwen OAuth (refreshed before expiry and after a 401,
//! shared with Qwen Code), and the placeholder of a session that started signed out.

use std::sync::Arc;

use futures::future::BoxFuture;
use qcode_client::{ClientError, CredentialSource, Endpoint, Secret};
use qcode_config::ConfigSnapshot;
use qcode_protocol::AuthKind;

use crate::config::QWEN_OAUTH_DEFAULT_MODEL;
use crate::credentials::QwenCredentials;
use crate::error::AuthError;
use crate::headers::dashscope_headers;
use crate::manager::QwenTokenManager;
use crate::resolve::{Active, VERSION};

/// Qwen OAuth credentials: refreshed before expiry and after a 401, shared with Qwen Code.
pub struct QwenSource {
    manager: QwenTokenManager,
}

impl QwenSource {
    pub fn new(manager: QwenTokenManager) -> Self {
        Self { manager }
    }
}

fn qwen_endpoint(creds: &QwenCredentials) -> Endpoint {
    let mut e = Endpoint::new(
        creds.api_base_url(),
        Some(Secret::new(creds.access_token.expose())),
    );
    for (k, v) in dashscope_headers(AuthKind::QwenOauth, VERSION) {
        e = e.with_header(k, v);
    }
    e
}

fn to_client_error(e: AuthError) -> ClientError {
    ClientError::Credentials {
        message: e.to_string(),
    }
}

impl CredentialSource for QwenSource {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        Box::pin(async move {
            let creds = self
                .manager
                .valid_credentials()
                .await
                .map_err(to_client_error)?;
            Ok(qwen_endpoint(&creds))
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async move {
            let token = rejected
                .bearer
                .as_ref()
                .map(|b| b.expose().to_string())
                .unwrap_or_default();
            let creds = self
                .manager
                .refresh_after_unauthorized(&token)
                .await
                .map_err(to_client_error)?;
            Ok(Some(qwen_endpoint(&creds)))
        })
    }
}

/// Credentials of a session that started without any: every request fails with a hint.
pub struct SignedOut;

impl CredentialSource for SignedOut {
    fn endpoint(&self) -> BoxFuture<'_, Result<Endpoint, ClientError>> {
        Box::pin(async {
            Err(ClientError::Credentials {
                message: "not signed in: run /auth".into(),
            })
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _rejected: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Option<Endpoint>, ClientError>> {
        Box::pin(async { Ok(None) })
    }
}

/// The placeholder method an interactive session starts with when nothing is signed in.
pub fn signed_out(snapshot: &ConfigSnapshot) -> Active {
    Active {
        kind: snapshot
            .auth_type
            .as_ref()
            .map_or(AuthKind::QwenOauth, |a| a.value),
        credentials: Arc::new(SignedOut),
        model: snapshot
            .model
            .as_ref()
            .map_or_else(|| QWEN_OAUTH_DEFAULT_MODEL.to_string(), |m| m.value.clone()),
    }
}
