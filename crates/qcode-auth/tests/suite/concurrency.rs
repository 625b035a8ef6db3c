//! Eight OS processes refresh one expired login at the same moment: exactly one refresh request
//! reaches the server, everyone ends up with the same new token, the file stays valid JSON.
//! The children are this test binary re-executed on `child_refresher` with an environment
//! variable saying what to do.

use std::process::{Command, Stdio};
use std::time::Duration;

use qcode_auth::{QwenCredentialStore, QwenOAuthConfig, QwenTokenManager, http_client, now_ms};

use super::common::{REFRESH, fast_opts, login, server, sha256_hex};

const CHILD_DIR: &str = "QCODE_AUTH_TEST_CHILD_QWEN_DIR";
const CHILD_URL: &str = "QCODE_AUTH_TEST_CHILD_OAUTH_URL";
const CHILD_START: &str = "QCODE_AUTH_TEST_CHILD_START_MS";

/// Child entry point; does nothing in a normal test run.
#[tokio::test]
async fn child_refresher() {
    let (Some(dir), Some(url), Some(start)) = (
        std::env::var_os(CHILD_DIR),
        std::env::var(CHILD_URL).ok(),
        std::env::var(CHILD_START).ok(),
    ) else {
        return;
    };
    let start: i64 = start.parse().unwrap();
    let wait = (start - now_ms()).max(0);
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
    let mut config = QwenOAuthConfig::with_base_url(url);
    config.pacing.slow_down_step = Duration::from_secs(1);
    let m = QwenTokenManager::new(http_client().unwrap(), config, dir);
    let creds = m.valid_credentials().await.unwrap();
    println!(
        "CHILD_TOKEN_SHA256={}",
        sha256_hex(creds.access_token.expose())
    );
}

#[tokio::test]
async fn eight_processes_refresh_once() {
    let Some(server) = server(fast_opts()) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = QwenCredentialStore::new(tmp.path());
    let mut creds = login(&server).await;
    creds.expiry_date = now_ms() - 1_000;
    store.save(&creds).unwrap();

    let exe = std::env::current_exe().unwrap();
    let start = now_ms() + 700;
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "suite::concurrency::child_refresher",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, tmp.path())
                .env(CHILD_URL, server.base_url())
                .env(CHILD_START, start.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut hashes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hash = stdout
            .lines()
            .find_map(|l| l.split_once("CHILD_TOKEN_SHA256=").map(|(_, h)| h.trim()))
            .unwrap_or_else(|| panic!("no token line in child output: {stdout}"))
            .to_string();
        hashes.push(hash);
    }
    assert_eq!(
        server.count_token_requests(REFRESH),
        1,
        "exactly one refresh reached the server"
    );
    let text = std::fs::read_to_string(store.path()).unwrap();
    let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    let on_disk = store.load().unwrap().unwrap();
    assert!(on_disk.is_valid());
    assert_ne!(on_disk.access_token, creds.access_token);
    let expected = sha256_hex(on_disk.access_token.expose());
    assert_eq!(hashes, vec![expected; 8]);
    assert!(!store.lock_path().exists());
}
