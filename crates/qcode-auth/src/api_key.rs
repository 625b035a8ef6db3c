//! API keys for OpenAI-compatible providers, kept in qcode's own user-level file
//! `<qcode_home>/credentials.json` (0600, atomic writes, directory 0700) — never in a
//! project-level file. (The OS keyring is not used: headless Linux machines often have no
//! Secret Service, and one store is easier to reason about.)

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::fs_util::{DirMode, remove_if_exists, write_private};
use crate::secret::Secret;

pub const API_KEY_FILE: &str = "credentials.json";

/// One saved provider login.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyCredentials {
    pub base_url: String,
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl std::fmt::Debug for ApiKeyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCredentials")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("model", &self.model)
            .finish()
    }
}

impl ApiKeyCredentials {
    /// Checks the URL (http/https with a host) and the key (no spaces or control characters).
    pub fn validate(&self) -> Result<(), AuthError> {
        validate_base_url(&self.base_url)?;
        let key = self.api_key.expose();
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AuthError::InvalidApiKey {
                reason: "it contains spaces or control characters".to_string(),
            });
        }
        if self.model.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return Err(AuthError::InvalidApiKey {
                reason: "the model name is empty".to_string(),
            });
        }
        Ok(())
    }
}

/// Checks that `url` is an http(s) URL with a host.
pub fn validate_base_url(url: &str) -> Result<(), AuthError> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| AuthError::InvalidUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(AuthError::InvalidUrl {
            url: url.to_string(),
            reason: "expected an http:// or https:// URL with a host".to_string(),
        });
    }
    Ok(())
}

/// `<qcode_home>/credentials.json`.
#[derive(Debug, Clone)]
pub struct ApiKeyStore {
    home: PathBuf,
}

impl ApiKeyStore {
    /// `qcode_home` is `~/.qcode` or `$QCODE_HOME`.
    pub fn new(qcode_home: impl Into<PathBuf>) -> Self {
        Self {
            home: qcode_home.into(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.home.join(API_KEY_FILE)
    }

    /// Validates and saves (replacing any saved key).
    pub fn save(&self, creds: &ApiKeyCredentials) -> Result<(), AuthError> {
        creds.validate()?;
        let normalized = ApiKeyCredentials {
            base_url: creds.base_url.trim().trim_end_matches('/').to_string(),
            api_key: creds.api_key.clone(),
            model: creds.model.as_ref().map(|m| m.trim().to_string()),
        };
        let text = serde_json::to_string_pretty(&normalized).map_err(|e| {
            AuthError::InvalidApiKeyFile {
                path: self.path(),
                reason: e.to_string(),
            }
        })?;
        write_private(&self.path(), text.as_bytes(), DirMode::EnforcePrivate)
    }

    /// The saved key, `None` when there is no file.
    pub fn load(&self) -> Result<Option<ApiKeyCredentials>, AuthError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AuthError::io("read", path, e)),
        };
        parse(&text, &path).map(Some)
    }

    /// Deletes the saved key; returns whether there was one.
    pub fn remove(&self) -> Result<bool, AuthError> {
        remove_if_exists(&self.path())
    }
}

fn parse(text: &str, path: &Path) -> Result<ApiKeyCredentials, AuthError> {
    serde_json::from_str(text).map_err(|e| AuthError::InvalidApiKeyFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_remove_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ApiKeyStore::new(tmp.path().join(".qcode"));
        assert!(store.load().unwrap().is_none());
        let creds = ApiKeyCredentials {
            base_url: "https://openrouter.ai/api/v1/".into(),
            api_key: Secret::new("sk-or-secret"),
            model: Some("qwen/qwen3-coder".into()),
        };
        store.save(&creds).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert_eq!(
            text,
            "{\n  \"base_url\": \"https://openrouter.ai/api/v1\",\n  \"api_key\": \"sk-or-secret\",\n  \"model\": \"qwen/qwen3-coder\"\n}"
        );
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.api_key.expose(), "sk-or-secret");
        assert!(!format!("{loaded:?}").contains("sk-or"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&store.path()), 0o600);
            assert_eq!(mode(&tmp.path().join(".qcode")), 0o700);
        }
        assert!(store.remove().unwrap());
        assert!(!store.remove().unwrap());
    }

    #[test]
    fn rejects_bad_input() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ApiKeyStore::new(tmp.path());
        let bad_url = ApiKeyCredentials {
            base_url: "file:///etc".into(),
            api_key: Secret::new("k"),
            model: None,
        };
        assert_eq!(
            store.save(&bad_url).unwrap_err().kind(),
            qcode_protocol::ErrorKind::Config
        );
        let bad_key = ApiKeyCredentials {
            base_url: "https://api.openai.com/v1".into(),
            api_key: Secret::new("sk-1 2"),
            model: None,
        };
        let err = store.save(&bad_key).unwrap_err();
        assert_eq!(err.kind(), qcode_protocol::ErrorKind::Input);
        assert!(!err.to_string().contains("sk-1"));
        std::fs::write(store.path(), "{").unwrap();
        assert!(matches!(
            store.load().unwrap_err(),
            AuthError::InvalidApiKeyFile { .. }
        ));
    }
}
