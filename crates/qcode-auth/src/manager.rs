//! `QwenTokenManager`: hands out a valid Qwen OAuth access token, refreshing it 30 s before
//! expiry or after a 401. Refreshes happen under the cross-process lock and are double-checked
//! (after taking the lock the file is re-read: if another process — qcode or Qwen Code —
//! already refreshed, its token is used without a network call). Within one process, callers
//! queue on an async mutex, so concurrent turns cause at most one refresh.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::config::{QwenOAuthConfig, RefusedRefresh};
use crate::credentials::{FileStamp, QwenCredentialStore, QwenCredentials, TokenResponse, now_ms};
use crate::device::server_error;
use crate::error::AuthError;
use crate::http::post_form;
use crate::lock::{CredentialsLock, LockPolicy};

/// A refresh request gets at most this long, well below the lock's stale limit
/// ([`crate::lock::STALE_AFTER`], 35 s), so that nobody breaks the lock of a refresh in flight.
pub const REFRESH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Cheap to clone; clones share the cache and the in-process queue.
#[derive(Clone)]
pub struct QwenTokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cfg: QwenOAuthConfig,
    store: QwenCredentialStore,
    lock_policy: LockPolicy,
    cancel: CancellationToken,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    creds: QwenCredentials,
    stamp: Option<FileStamp>,
}

impl std::fmt::Debug for QwenTokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QwenTokenManager")
            .field("credentials", &self.inner.store.path())
            .field("oauth_base_url", &self.inner.cfg.base_url)
            .finish_non_exhaustive()
    }
}

/// Why a refresh is wanted.
enum Need<'a> {
    /// The cached token is about to expire.
    Expiring,
    /// The server rejected this access token.
    Rejected(&'a str),
}

impl Need<'_> {
    /// Whether `creds` (e.g. freshly written by another process) satisfies the need.
    fn satisfied_by(&self, creds: &QwenCredentials) -> bool {
        match self {
            Need::Expiring => creds.is_valid(),
            Need::Rejected(token) => creds.access_token.expose() != *token && creds.is_valid(),
        }
    }
}

impl QwenTokenManager {
    /// `qwen_dir` is normally `$HOME/.qwen` (shared with Qwen Code).
    pub fn new(http: reqwest::Client, cfg: QwenOAuthConfig, qwen_dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                cfg,
                store: QwenCredentialStore::new(qwen_dir),
                lock_policy: LockPolicy::default(),
                cancel: CancellationToken::new(),
                cache: Mutex::new(None),
            }),
        }
    }

    /// Replaces the lock's retry rules (tests, or a caller wanting a shorter wait).
    pub fn with_lock_policy(self, policy: LockPolicy) -> Self {
        let inner = Inner {
            http: self.inner.http.clone(),
            cfg: self.inner.cfg.clone(),
            store: self.inner.store.clone(),
            lock_policy: policy,
            cancel: self.inner.cancel.clone(),
            cache: Mutex::new(None),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A token that aborts lock waits (e.g. on shutdown); the HTTP request itself is bounded by
    /// the client's timeout.
    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    pub fn store(&self) -> &QwenCredentialStore {
        &self.inner.store
    }

    /// Credentials whose access token is valid for more than 30 s, refreshing if needed.
    pub async fn valid_credentials(&self) -> Result<QwenCredentials, AuthError> {
        let mut cache = self.inner.cache.lock().await;
        let current = self.current(&mut cache)?;
        if current.is_valid() {
            return Ok(current);
        }
        self.refresh_locked(&mut cache, &Need::Expiring).await
    }

    /// After the API answered 401 for `rejected_access_token`: the file's token if another
    /// process already replaced it, else a refresh under the lock.
    pub async fn refresh_after_unauthorized(
        &self,
        rejected_access_token: &str,
    ) -> Result<QwenCredentials, AuthError> {
        let mut cache = self.inner.cache.lock().await;
        let need = Need::Rejected(rejected_access_token);
        let current = self.current(&mut cache)?;
        if need.satisfied_by(&current) {
            return Ok(current);
        }
        self.refresh_locked(&mut cache, &need).await
    }

    /// The cached credentials, re-read when the file changed (another process refreshed or
    /// logged out) or nothing is cached.
    fn current(&self, cache: &mut Option<Cached>) -> Result<QwenCredentials, AuthError> {
        let stamp = self.inner.store.stamp();
        if stamp.is_none() {
            *cache = None;
            return Err(AuthError::NotLoggedIn {
                path: self.inner.store.path(),
            });
        }
        if let Some(c) = cache.as_ref()
            && c.stamp == stamp
        {
            return Ok(c.creds.clone());
        }
        self.reload(cache)
    }

    fn reload(&self, cache: &mut Option<Cached>) -> Result<QwenCredentials, AuthError> {
        let stamp = self.inner.store.stamp();
        match self.inner.store.load() {
            Ok(Some(creds)) => {
                *cache = Some(Cached {
                    creds: creds.clone(),
                    stamp,
                });
                Ok(creds)
            }
            Ok(None) => {
                *cache = None;
                Err(AuthError::NotLoggedIn {
                    path: self.inner.store.path(),
                })
            }
            Err(e) => {
                *cache = None;
                Err(e)
            }
        }
    }

    async fn refresh_locked(
        &self,
        cache: &mut Option<Cached>,
        need: &Need<'_>,
    ) -> Result<QwenCredentials, AuthError> {
        let lock = CredentialsLock::acquire(
            &self.inner.store.lock_path(),
            &self.inner.lock_policy,
            &self.inner.cancel,
        )
        .await?;
        // Double check: another process may have refreshed while we waited for the lock.
        let current = self.reload(cache)?;
        if need.satisfied_by(&current) {
            lock.release();
            return Ok(current);
        }
        let result = self.refresh(&current).await;
        let outcome = match result {
            Ok(fresh) => match self.inner.store.save(&fresh) {
                Ok(()) => {
                    *cache = Some(Cached {
                        creds: fresh.clone(),
                        stamp: self.inner.store.stamp(),
                    });
                    Ok(fresh)
                }
                Err(e) => Err(e),
            },
            Err(e @ AuthError::LoginExpired { .. }) => self.after_refusal(cache, &current, e).await,
            Err(e) => Err(e),
        };
        lock.release();
        outcome
    }

    /// The server refused `dead`'s refresh token. Another process (qcode or Qwen Code) may
    /// have written newer tokens meanwhile: re-read the file and use them — refreshing once
    /// with the new refresh token if its access token is no longer valid. Only a file that still
    /// holds the refused token is removed, and only when Qwen's own server refused it.
    async fn after_refusal(
        &self,
        cache: &mut Option<Cached>,
        dead: &QwenCredentials,
        refusal: AuthError,
    ) -> Result<QwenCredentials, AuthError> {
        *cache = None;
        let on_disk = self.inner.store.load().ok().flatten();
        match on_disk {
            Some(newer) if newer.refresh_token.expose() != dead.refresh_token.expose() => {
                let creds = if newer.is_valid() {
                    newer
                } else {
                    let fresh = self.refresh(&newer).await?;
                    self.inner.store.save(&fresh)?;
                    fresh
                };
                *cache = Some(Cached {
                    creds: creds.clone(),
                    stamp: self.inner.store.stamp(),
                });
                Ok(creds)
            }
            Some(_) => {
                if self.inner.cfg.on_refused_refresh == RefusedRefresh::RemoveLogin {
                    self.inner.store.remove()?;
                }
                Err(refusal)
            }
            None => Err(refusal),
        }
    }

    /// One refresh request, bounded by [`REFRESH_TIMEOUT`]. HTTP 400/401 → `LoginExpired`.
    async fn refresh(&self, old: &QwenCredentials) -> Result<QwenCredentials, AuthError> {
        let url = self.inner.cfg.token_url()?;
        let url = url.as_str();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", old.refresh_token.expose()),
            ("client_id", self.inner.cfg.client_id.as_str()),
        ];
        let request = post_form(&self.inner.http, url, &form);
        let resp = tokio::time::timeout(REFRESH_TIMEOUT, request)
            .await
            .map_err(|_| AuthError::Network {
                url: url.to_string(),
                detail: format!(
                    "the token refresh got no answer within {} s",
                    REFRESH_TIMEOUT.as_secs()
                ),
            })??;
        match resp.status {
            200 => {
                let token: TokenResponse =
                    serde_json::from_slice(&resp.body).map_err(|e| AuthError::InvalidResponse {
                        url: url.to_string(),
                        status: 200,
                        reason: format!("not a token response: {e}"),
                    })?;
                Ok(token.into_refreshed(old, now_ms()))
            }
            400 | 401 => Err(AuthError::LoginExpired {
                status: resp.status,
            }),
            status => Err(server_error(url, status, &resp.body)),
        }
    }
}
