//! Where sign-ins live: `$QCODE_HOME/mcp-oauth-tokens.json` (0600, replaced atomically under
//! a lock), or memory (the probe). One entry per server **name and URL**: a repository that
//! names a server like one of yours but points it elsewhere finds no entry, so your token is
//! never sent to its URL.
//!
//! The file holds, per entry, what the SDK stores ([`StoredCredentials`]: client id, token
//! response, granted scopes, when it was received, the issuer) plus what qcode needs to refresh
//! on its own later (the redirect URI and, for a server that registered qcode as a confidential
//! client, the client secret). Nothing of it is ever printed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};
use serde::{Deserialize, Serialize};

/// The file's name under `$QCODE_HOME`.
pub const TOKENS_FILE: &str = "mcp-oauth-tokens.json";
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// One server's sign-in.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub server: String,
    pub url: String,
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub credentials: StoredCredentials,
}

#[derive(Default, Serialize, Deserialize)]
struct FileBody {
    version: u32,
    #[serde(default)]
    servers: Vec<Entry>,
}

/// Where sign-ins are kept: the tokens file, or this process's memory.
#[derive(Clone)]
pub struct TokenStore(Backend);

#[derive(Clone)]
enum Backend {
    /// The tokens file (normally `$QCODE_HOME/mcp-oauth-tokens.json`).
    File(PathBuf),
    /// This process only (`qcode mcp probe`): gone when it exits.
    Memory(Arc<Mutex<Vec<Entry>>>),
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Backend::File(p) => write!(f, "TokenStore::File({})", p.display()),
            Backend::Memory(_) => write!(f, "TokenStore::Memory"),
        }
    }
}

impl TokenStore {
    /// The tokens file under `qcode_home`.
    pub fn in_home(qcode_home: &Path) -> Self {
        Self::file(qcode_home.join(TOKENS_FILE))
    }

    /// The tokens file at `path`.
    pub fn file(path: PathBuf) -> Self {
        Self(Backend::File(path))
    }

    /// A store that lives as long as this value (and its clones).
    pub fn memory() -> Self {
        Self(Backend::Memory(Arc::new(Mutex::new(Vec::new()))))
    }

    /// The file, for messages (`None` for memory).
    pub fn path(&self) -> Option<&Path> {
        match &self.0 {
            Backend::File(p) => Some(p),
            Backend::Memory(_) => None,
        }
    }

    fn read_all(&self) -> Result<Vec<Entry>, String> {
        match &self.0 {
            Backend::Memory(m) => Ok(m.lock().map(|v| v.clone()).unwrap_or_default()),
            Backend::File(path) => read_file(path),
        }
    }

    /// Runs `change` on every entry under the write lock and stores the result; returns what
    /// `change` returned.
    fn update<T>(&self, change: impl FnOnce(&mut Vec<Entry>) -> T) -> Result<T, String> {
        match &self.0 {
            Backend::Memory(m) => {
                let mut v = m
                    .lock()
                    .map_err(|_| "the sign-in store is unusable".to_string())?;
                Ok(change(&mut v))
            }
            Backend::File(path) => {
                let _lock =
                    qcode_fs::FileLock::acquire(path, LOCK_TIMEOUT).map_err(|e| e.to_string())?;
                let mut entries = read_file(path)?;
                let out = change(&mut entries);
                let body = FileBody {
                    version: 1,
                    servers: entries,
                };
                let bytes = serde_json::to_vec_pretty(&body)
                    .map_err(|e| format!("cannot encode the sign-ins: {e}"))?;
                if let Some(dir) = path.parent() {
                    qcode_fs::create_private_dirs(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                qcode_fs::write_atomic(path, &bytes, qcode_fs::Mode::Exactly(0o600))
                    .map_err(|e| e.to_string())?;
                Ok(out)
            }
        }
    }

    /// The sign-in of server `name` at `url`, if any.
    pub(crate) fn get(&self, name: &str, url: &str) -> Result<Option<Entry>, String> {
        Ok(self
            .read_all()?
            .into_iter()
            .find(|e| e.server == name && e.url == url))
    }

    /// Whether server `name` at `url` has a stored sign-in.
    pub fn has(&self, name: &str, url: &str) -> Result<bool, String> {
        Ok(self.get(name, url)?.is_some())
    }

    /// Stores (or replaces) the sign-in of `entry.server` at `entry.url`.
    pub(crate) fn put(&self, entry: Entry) -> Result<(), String> {
        self.update(|all| {
            all.retain(|e| !(e.server == entry.server && e.url == entry.url));
            all.push(entry);
        })
    }

    /// Removes every sign-in of server `name` (whatever its URL); returns how many there were.
    pub fn remove_server(&self, name: &str) -> Result<usize, String> {
        if self.read_all()?.iter().all(|e| e.server != name) {
            return Ok(0);
        }
        self.update(|all| {
            let before = all.len();
            all.retain(|e| e.server != name);
            before - all.len()
        })
    }

    fn remove(&self, name: &str, url: &str) -> Result<(), String> {
        self.update(|all| all.retain(|e| !(e.server == name && e.url == url)))
    }

    /// The guard the SDK holds across a refresh (load, token request, save), so two qcode
    /// processes never refresh one sign-in at once; a sidecar separate from the write lock.
    fn refresh_guard(&self) -> Result<Option<qcode_fs::FileLock>, String> {
        match &self.0 {
            Backend::Memory(_) => Ok(None),
            Backend::File(path) => {
                let mut name = path
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_default();
                name.push(".refresh");
                qcode_fs::FileLock::acquire(&path.with_file_name(name), LOCK_TIMEOUT)
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    // The parser's message may quote the file (tokens): say where, not what.
    let body: FileBody = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a valid sign-in file (line {}, column {}); remove it and sign in again",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if body.version != 1 {
        return Err(format!(
            "{} has version {}, which this qcode does not know",
            path.display(),
            body.version
        ));
    }
    Ok(body.servers)
}

/// The SDK's view of one server's entry.
pub(crate) struct ServerCredentials {
    pub store: TokenStore,
    pub server: String,
    pub url: String,
    /// What a new entry gets besides the credentials (set by the login flow before the code
    /// exchange; an existing entry keeps its own).
    pub client: Arc<Mutex<(String, Option<String>)>>,
}

impl ServerCredentials {
    pub fn new(store: TokenStore, server: &str, url: &str) -> Self {
        Self {
            store,
            server: server.to_string(),
            url: url.to_string(),
            client: Arc::new(Mutex::new((String::new(), None))),
        }
    }
}

fn store_error(e: String) -> AuthError {
    AuthError::CredentialStoreError(e)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| store_error(format!("the sign-in store task failed: {e}")))?
        .map_err(store_error)
}

#[async_trait::async_trait]
impl CredentialStore for ServerCredentials {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let (store, server, url) = (self.store.clone(), self.server.clone(), self.url.clone());
        Ok(blocking(move || store.get(&server, &url))
            .await?
            .map(|e| e.credentials))
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let (redirect_uri, client_secret) =
            self.client.lock().map(|c| c.clone()).unwrap_or_default();
        let (store, server, url) = (self.store.clone(), self.server.clone(), self.url.clone());
        blocking(move || {
            let entry = match store.get(&server, &url)? {
                // A refresh: the client stays what it was.
                Some(old) if redirect_uri.is_empty() => Entry { credentials, ..old },
                _ => Entry {
                    server,
                    url,
                    redirect_uri,
                    client_secret,
                    credentials,
                },
            };
            store.put(entry)
        })
        .await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        let (store, server, url) = (self.store.clone(), self.server.clone(), self.url.clone());
        blocking(move || store.remove(&server, &url)).await
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let store = self.store.clone();
        Ok(blocking(move || store.refresh_guard())
            .await?
            .map(CredentialRefreshGuard::new))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn entry(server: &str, url: &str, token: &str) -> Entry {
        let response: rmcp::transport::auth::OAuthTokenResponse = serde_json::from_value(
            serde_json::json!({"access_token": token, "token_type": "bearer", "expires_in": 60}),
        )
        .unwrap();
        Entry {
            server: server.into(),
            url: url.into(),
            redirect_uri: "http://127.0.0.1:1/callback".into(),
            client_secret: None,
            credentials: StoredCredentials::new("client-1".into(), Some(response), vec![], Some(1)),
        }
    }

    #[test]
    fn entries_are_keyed_by_name_and_url_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::in_home(dir.path());
        store
            .put(entry("docs", "https://a.example/mcp", "tok-a"))
            .unwrap();
        store
            .put(entry("docs", "https://b.example/mcp", "tok-b"))
            .unwrap();
        store
            .put(entry("docs", "https://a.example/mcp", "tok-a2"))
            .unwrap();
        let path = dir.path().join(TOKENS_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let a = store.get("docs", "https://a.example/mcp").unwrap().unwrap();
        let text = serde_json::to_string(&a.credentials.token_response).unwrap();
        assert!(text.contains("tok-a2"), "{text}");
        assert!(
            store
                .get("docs", "https://c.example/mcp")
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .get("other", "https://a.example/mcp")
                .unwrap()
                .is_none()
        );
        assert_eq!(store.remove_server("docs").unwrap(), 2);
        assert_eq!(store.remove_server("docs").unwrap(), 0);
        assert!(!store.has("docs", "https://b.example/mcp").unwrap());
    }

    #[test]
    fn a_broken_file_is_an_error_that_does_not_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKENS_FILE);
        std::fs::write(&path, "{\"version\": 1, \"servers\": [sk-secret-123").unwrap();
        let err = TokenStore::file(path).get("x", "y").err().unwrap();
        assert!(err.contains("not a valid sign-in file"), "{err}");
        assert!(!err.contains("sk-secret"), "{err}");
    }
}
