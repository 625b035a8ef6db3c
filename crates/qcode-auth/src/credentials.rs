//! The Qwen OAuth credentials file shared with Qwen Code: `<qwen_dir>/oauth_creds.json`,
//! 2-space-indented JSON with `access_token`, `refresh_token`, `token_type`, `resource_url`,
//! `expiry_date` (epoch milliseconds) and optional `id_token`. Unknown fields are kept.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::AuthError;
use crate::fs_util::{DirMode, remove_if_exists, write_private};
use crate::secret::Secret;

pub const CREDENTIALS_FILE: &str = "oauth_creds.json";
pub const LOCK_FILE: &str = "oauth_creds.lock";
/// A token is used only while it has more than this left (Qwen Code uses the same margin).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// Lifetime assumed when a token response has no `expires_in`.
const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A Qwen OAuth login. Field order matches the file Qwen Code writes.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct QwenCredentials {
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_url: Option<String>,
    /// Epoch milliseconds.
    #[serde(deserialize_with = "epoch_ms")]
    pub expiry_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// Fields this version does not know, kept so that a rewrite loses nothing.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for QwenCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QwenCredentials")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .field("resource_url", &self.resource_url)
            .field("expiry_date", &self.expiry_date)
            .field("id_token", &self.id_token)
            .field("extra_fields", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Accepts any JSON number (JavaScript writes integers, but a float must not invalidate a login).
fn epoch_ms<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => Ok(f as i64),
        _ => Err(serde::de::Error::custom(
            "expiry_date is not a usable number",
        )),
    }
}

impl QwenCredentials {
    /// Whether the access token has more than `margin` left at `now_ms`.
    pub fn is_valid_at(&self, now_ms: i64, margin: Duration) -> bool {
        let margin_ms = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
        self.expiry_date.saturating_sub(margin_ms) > now_ms
    }

    /// Valid now, with the standard 30 s margin.
    pub fn is_valid(&self) -> bool {
        self.is_valid_at(now_ms(), REFRESH_MARGIN)
    }

    /// The OpenAI-compatible API base URL this login is for.
    pub fn api_base_url(&self) -> String {
        crate::config::api_base_url(self.resource_url.as_deref())
    }

    /// Parses the file's text; `path` is only used in the error.
    pub fn parse(text: &str, path: &Path) -> Result<Self, AuthError> {
        let creds: Self =
            serde_json::from_str(text).map_err(|e| AuthError::InvalidCredentials {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if creds.access_token.is_empty() || creds.refresh_token.is_empty() {
            return Err(AuthError::InvalidCredentials {
                path: path.to_path_buf(),
                reason: "access_token or refresh_token is empty".to_string(),
            });
        }
        Ok(creds)
    }

    /// The file's text: 2-space-indented JSON without a trailing newline (as Qwen Code writes).
    pub fn to_file_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A successful token-endpoint response (device grant or refresh).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: Secret,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Number>,
    #[serde(default)]
    id_token: Option<Secret>,
    #[serde(default)]
    resource_url: Option<String>,
}

impl TokenResponse {
    fn expiry_date(&self, now_ms: i64) -> i64 {
        let secs = self
            .expires_in
            .as_ref()
            .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(DEFAULT_EXPIRES_IN_SECS);
        now_ms.saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX))
    }

    /// Credentials from a first login. `None` when the server sent no refresh token.
    pub(crate) fn into_new_credentials(self, now_ms: i64) -> Option<QwenCredentials> {
        let expiry_date = self.expiry_date(now_ms);
        Some(QwenCredentials {
            access_token: self.access_token,
            refresh_token: self.refresh_token.filter(|t| !t.is_empty())?,
            token_type: self.token_type.unwrap_or_else(|| "Bearer".to_string()),
            resource_url: self.resource_url,
            expiry_date,
            id_token: self.id_token,
            extra: serde_json::Map::new(),
        })
    }

    /// Credentials after a refresh: the old refresh token, `resource_url`, `id_token` and
    /// unknown fields are kept when the response omits them.
    pub(crate) fn into_refreshed(self, old: &QwenCredentials, now_ms: i64) -> QwenCredentials {
        let expiry_date = self.expiry_date(now_ms);
        QwenCredentials {
            access_token: self.access_token,
            refresh_token: self
                .refresh_token
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| old.refresh_token.clone()),
            token_type: self.token_type.unwrap_or_else(|| old.token_type.clone()),
            resource_url: self.resource_url.or_else(|| old.resource_url.clone()),
            expiry_date,
            id_token: self.id_token.or_else(|| old.id_token.clone()),
            extra: old.extra.clone(),
        }
    }
}

/// When and how big the credentials file was, to notice another process's rewrite cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

/// `<qwen_dir>/oauth_creds.json` and its lock file.
#[derive(Debug, Clone)]
pub struct QwenCredentialStore {
    dir: PathBuf,
}

impl QwenCredentialStore {
    /// `qwen_dir` is normally `$HOME/.qwen`.
    pub fn new(qwen_dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: qwen_dir.into(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(CREDENTIALS_FILE)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    /// The stored login, `None` when there is no file.
    pub fn load(&self) -> Result<Option<QwenCredentials>, AuthError> {
        let path = self.path();
        match std::fs::read_to_string(&path) {
            Ok(text) => QwenCredentials::parse(&text, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AuthError::io("read", path, e)),
        }
    }

    /// The stored login, or `NotLoggedIn`.
    pub fn load_required(&self) -> Result<QwenCredentials, AuthError> {
        self.load()?
            .ok_or_else(|| AuthError::NotLoggedIn { path: self.path() })
    }

    /// Writes the login (0600, atomic; the directory is created 0700 if missing).
    pub fn save(&self, creds: &QwenCredentials) -> Result<(), AuthError> {
        write_private(
            &self.path(),
            creds.to_file_text().as_bytes(),
            DirMode::CreatePrivate,
        )
    }

    /// Deletes the login; returns whether there was one.
    pub fn remove(&self) -> Result<bool, AuthError> {
        remove_if_exists(&self.path())
    }

    pub(crate) fn stamp(&self) -> Option<FileStamp> {
        let meta = std::fs::metadata(self.path()).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QWEN_CODE_FILE: &str = r#"{
  "access_token": "at-1",
  "refresh_token": "rt-1",
  "token_type": "Bearer",
  "resource_url": "portal.qwen.ai",
  "expiry_date": 1760000000000
}"#;

    /// Found by the `credentials` fuzz target: an unknown field holding a number that needs
    /// all of f64's precision changed on a rewrite (serde_json's default float parsing is not
    /// exact; the workspace enables `float_roundtrip`).
    #[test]
    fn unknown_numeric_fields_survive_a_rewrite_exactly() {
        let text = r#"{"access_token":"secret-at","refresh_token":"sgcret-rt","token_type":"er","expiry_date":9.0,"id_toke":8.0,"id_token":"secre4-id","fusecuritRy":12222222222222000000000000000000000000000000000000000014870244832130425744}"#;
        let c = QwenCredentials::parse(text, Path::new("f")).unwrap();
        let again = QwenCredentials::parse(&c.to_file_text(), Path::new("f")).unwrap();
        assert!(again == c, "{:?} became {:?}", c.extra, again.extra);
        assert_eq!(again.to_file_text(), c.to_file_text());
    }

    #[test]
    fn parses_and_rewrites_qwen_code_format_byte_for_byte() {
        let c = QwenCredentials::parse(QWEN_CODE_FILE, Path::new("x")).unwrap();
        assert_eq!(c.access_token.expose(), "at-1");
        assert_eq!(c.expiry_date, 1_760_000_000_000);
        assert_eq!(c.api_base_url(), "https://portal.qwen.ai/v1");
        assert_eq!(c.to_file_text(), QWEN_CODE_FILE);
    }

    #[test]
    fn invalid_files_are_rejected() {
        for text in [
            r#"{"refresh_token":"r","token_type":"Bearer","expiry_date":1}"#,
            r#"{"access_token":"a","token_type":"Bearer","expiry_date":1}"#,
            r#"{"access_token":"a","refresh_token":"r","expiry_date":1}"#,
            r#"{"access_token":"a","refresh_token":"r","token_type":"Bearer"}"#,
            r#"{"access_token":"a","refresh_token":"r","token_type":"Bearer","expiry_date":"1"}"#,
            r#"{"access_token":5,"refresh_token":"r","token_type":"Bearer","expiry_date":1}"#,
            "not json",
        ] {
            let err = QwenCredentials::parse(text, Path::new("/q/oauth_creds.json")).unwrap_err();
            assert!(
                matches!(err, AuthError::InvalidCredentials { .. }),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_id_token_survive_and_debug_redacts() {
        let text = r#"{"access_token":"secret-at","refresh_token":"secret-rt","token_type":"Bearer","expiry_date":5.0,"id_token":"secret-id","future_field":{"a":1}}"#;
        let c = QwenCredentials::parse(text, Path::new("x")).unwrap();
        assert_eq!(c.expiry_date, 5);
        let out: serde_json::Value = serde_json::from_str(&c.to_file_text()).unwrap();
        assert_eq!(out["future_field"], serde_json::json!({"a":1}));
        assert_eq!(out["id_token"], "secret-id");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("secret-"), "{dbg}");
        assert!(dbg.contains("future_field"));
    }

    #[test]
    fn validity_margin() {
        let c = QwenCredentials::parse(QWEN_CODE_FILE, Path::new("x")).unwrap();
        assert!(c.is_valid_at(1_760_000_000_000 - 31_000, REFRESH_MARGIN));
        assert!(!c.is_valid_at(1_760_000_000_000 - 30_000, REFRESH_MARGIN));
    }

    #[test]
    fn refresh_keeps_old_fields_when_omitted() {
        let old = QwenCredentials::parse(QWEN_CODE_FILE, Path::new("x")).unwrap();
        let resp: TokenResponse =
            serde_json::from_str(r#"{"access_token":"at-2","expires_in":60}"#).unwrap();
        let new = resp.into_refreshed(&old, 1000);
        assert_eq!(new.access_token.expose(), "at-2");
        assert_eq!(new.refresh_token.expose(), "rt-1");
        assert_eq!(new.resource_url.as_deref(), Some("portal.qwen.ai"));
        assert_eq!(new.token_type, "Bearer");
        assert_eq!(new.expiry_date, 61_000);
        let resp: TokenResponse = serde_json::from_str(
            r#"{"access_token":"at-3","refresh_token":"rt-3","resource_url":"h2","token_type":"bearer"}"#,
        )
        .unwrap();
        let new = resp.into_refreshed(&old, 0);
        assert_eq!(new.refresh_token.expose(), "rt-3");
        assert_eq!(new.resource_url.as_deref(), Some("h2"));
        assert_eq!(new.expiry_date, 3_600_000);
    }
}
