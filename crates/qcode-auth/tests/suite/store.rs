//! The credentials file and lock on disk: Qwen Code's exact format, permissions, stale locks.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use qcode_auth::{
    AuthError, CredentialsLock, LockPolicy, QwenCredentialStore, QwenOAuthConfig, QwenTokenManager,
    now_ms,
};
use tokio_util::sync::CancellationToken;

use super::common::{REFRESH, cfg, fast_opts, http, login, server};

fn mode(p: &std::path::Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A file exactly as Qwen Code writes it is used as is (no request: the OAuth URL is dead).
#[tokio::test]
async fn reads_qwen_code_file() {
    let tmp = tempfile::tempdir().unwrap();
    let expiry = now_ms() + 3_600_000;
    let text = format!(
        "{{\n  \"access_token\": \"qc-access\",\n  \"refresh_token\": \"qc-refresh\",\n  \"token_type\": \"Bearer\",\n  \"resource_url\": \"portal.qwen.ai\",\n  \"expiry_date\": {expiry}\n}}"
    );
    fs::write(tmp.path().join("oauth_creds.json"), &text).unwrap();
    let m = QwenTokenManager::new(
        http(),
        QwenOAuthConfig::with_base_url("http://127.0.0.1:9"),
        tmp.path(),
    );
    let c = m.valid_credentials().await.unwrap();
    assert_eq!(c.access_token.expose(), "qc-access");
    assert_eq!(c.refresh_token.expose(), "qc-refresh");
    assert_eq!(c.expiry_date, expiry);
    assert_eq!(c.api_base_url(), "https://portal.qwen.ai/v1");
    // Writing it back produces the same bytes.
    QwenCredentialStore::new(tmp.path()).save(&c).unwrap();
    assert_eq!(
        fs::read_to_string(tmp.path().join("oauth_creds.json")).unwrap(),
        text
    );
}

#[tokio::test]
async fn broken_file_is_invalid_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("oauth_creds.json"),
        r#"{"access_token":"a","token_type":"Bearer","expiry_date":1}"#,
    )
    .unwrap();
    let m = QwenTokenManager::new(
        http(),
        QwenOAuthConfig::with_base_url("http://127.0.0.1:9"),
        tmp.path(),
    );
    let err = m.valid_credentials().await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials { .. }), "{err}");
    assert!(err.to_string().contains("refresh_token"), "{err}");
}

/// A login into a missing directory: directory 0700, file 0600, refresh keeps 0600.
#[tokio::test]
async fn file_0600_in_dir_0700() {
    let Some(server) = server(qcode_test_support::oauth_server::OAuthServerOptions {
        access_ttl: 2,
        ..fast_opts()
    }) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("home/.qwen");
    let store = QwenCredentialStore::new(&dir);
    store.save(&login(&server).await).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&store.path()), 0o600);
    QwenTokenManager::new(http(), cfg(&server), &dir)
        .valid_credentials()
        .await
        .unwrap();
    assert_eq!(server.count_token_requests(REFRESH), 1);
    assert_eq!(mode(&store.path()), 0o600);
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["oauth_creds.json".to_string()],
        "no temp or lock file left"
    );
}

/// A lock left by a dead process (mtime 60 s ago) is removed and the refresh goes ahead.
#[tokio::test]
async fn stale_lock_is_recovered() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let mut creds = login(&server).await;
    creds.expiry_date = now_ms() - 1;
    store.save(&creds).unwrap();
    let lock = store.lock_path();
    fs::write(&lock, "9b1deb4d-dead-process").unwrap();
    fs::File::options()
        .write(true)
        .open(&lock)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let fresh = QwenTokenManager::new(http(), cfg(&server), tmp.path())
        .valid_credentials()
        .await
        .unwrap();
    assert_ne!(fresh.access_token, creds.access_token);
    assert!(!lock.exists());
}

/// A live lock (fresh mtime) is waited for, then given up with LockTimeout.
#[tokio::test]
async fn live_lock_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("oauth_creds.lock");
    fs::write(&path, "another-live-process").unwrap();
    let policy = LockPolicy {
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        attempts: 3,
        ..LockPolicy::default()
    };
    let err = CredentialsLock::acquire(&path, &policy, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::LockTimeout { .. }), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "another-live-process");
}
