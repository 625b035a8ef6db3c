//! The cross-process refresh lock shared with Qwen Code: `<qwen_dir>/oauth_creds.lock`,
//! created exclusively (O_CREAT|O_EXCL) with a random UUID as content. Busy → retry with
//! backoff (100 ms × 1.5, capped at 2 s, 30 tries: about 50 s); a lock older than 35 s is stale
//! and removed — Qwen Code 0.24.4's own limit, which allows a refresh up to 30 s, so neither
//! breaks a lock the other still uses (a second refresh with the same refresh token would make
//! the server revoke the login); release deletes the file only if it still holds our UUID.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::error::AuthError;
use crate::fs_util::{DirMode, ensure_dir};

/// A lock file older than this is abandoned (Qwen Code 0.24.4: `LOCK_TIMEOUT_MS = 35e3`).
pub const STALE_AFTER: Duration = Duration::from_secs(35);

/// Retry and staleness rules of the lock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LockPolicy {
    pub first_delay: Duration,
    pub factor: f64,
    pub max_delay: Duration,
    pub attempts: u32,
    /// A lock file whose mtime is older than this is considered abandoned.
    pub stale_after: Duration,
}

impl Default for LockPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(100),
            factor: 1.5,
            max_delay: Duration::from_secs(2),
            attempts: 30,
            stale_after: STALE_AFTER,
        }
    }
}

/// A held lock; released on drop (or explicitly with [`CredentialsLock::release`]).
#[derive(Debug)]
pub struct CredentialsLock {
    path: PathBuf,
    id: String,
    held: bool,
}

impl CredentialsLock {
    /// Takes the lock, waiting per `policy`. Cancelling returns `AuthError::Cancelled`.
    pub async fn acquire(
        path: &Path,
        policy: &LockPolicy,
        cancel: &CancellationToken,
    ) -> Result<Self, AuthError> {
        if let Some(dir) = path.parent() {
            ensure_dir(dir, DirMode::CreatePrivate)?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut delay = policy.first_delay;
        for attempt in 0..policy.attempts.max(1) {
            if try_create(path, &id)? {
                return Ok(Self {
                    path: path.to_path_buf(),
                    id,
                    held: true,
                });
            }
            if remove_if_stale(path, policy.stale_after) {
                continue;
            }
            if attempt + 1 == policy.attempts {
                break;
            }
            tokio::select! {
                () = cancel.cancelled() => return Err(AuthError::Cancelled),
                () = tokio::time::sleep(delay) => {}
            }
            delay = delay.mul_f64(policy.factor).min(policy.max_delay);
        }
        Err(AuthError::LockTimeout {
            path: path.to_path_buf(),
        })
    }

    /// Deletes the lock file if it still holds our id.
    pub fn release(mut self) {
        self.release_inner();
    }

    fn release_inner(&mut self) {
        if !self.held {
            return;
        }
        self.held = false;
        if fs::read_to_string(&self.path).is_ok_and(|c| c.trim() == self.id) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for CredentialsLock {
    fn drop(&mut self) {
        self.release_inner();
    }
}

/// `Ok(true)` when we created the lock file, `Ok(false)` when it exists.
fn try_create(path: &Path, id: &str) -> Result<bool, AuthError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            if let Err(e) = file.write_all(id.as_bytes()) {
                let _ = fs::remove_file(path);
                return Err(AuthError::io("write", path, e));
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(AuthError::io("create", path, e)),
    }
}

/// Removes the lock when its mtime is older than `stale_after`. To avoid deleting a fresh lock
/// that replaced the stale one in between, the content is read before and after the check.
fn remove_if_stale(path: &Path, stale_after: Duration) -> bool {
    let Ok(before) = fs::read_to_string(path) else {
        // Vanished meanwhile: retry at once.
        return !path.exists();
    };
    let Ok(modified) = fs::metadata(path).and_then(|m| m.modified()) else {
        return false;
    };
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO);
    if age <= stale_after {
        return false;
    }
    if fs::read_to_string(path).is_ok_and(|now| now == before) {
        return fs::remove_file(path).is_ok();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> LockPolicy {
        LockPolicy {
            first_delay: Duration::from_millis(5),
            factor: 1.5,
            max_delay: Duration::from_millis(20),
            attempts: 4,
            stale_after: Duration::from_secs(10),
        }
    }

    #[tokio::test]
    async fn exclusive_then_released_only_if_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauth_creds.lock");
        let cancel = CancellationToken::new();
        let lock = CredentialsLock::acquire(&path, &quick(), &cancel)
            .await
            .unwrap();
        let content = fs::read_to_string(&path).unwrap();
        assert!(uuid::Uuid::parse_str(&content).is_ok(), "{content}");
        let err = CredentialsLock::acquire(&path, &quick(), &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::LockTimeout { .. }), "{err}");
        // Someone else's lock replaced ours: releasing must not delete it.
        fs::write(&path, "someone-else").unwrap();
        lock.release();
        assert_eq!(fs::read_to_string(&path).unwrap(), "someone-else");
        fs::remove_file(&path).unwrap();
        let again = CredentialsLock::acquire(&path, &quick(), &cancel)
            .await
            .unwrap();
        drop(again);
        assert!(!path.exists());
    }

    /// A lock Qwen Code took 20 s ago may still guard a refresh in flight (Qwen Code allows 30 s):
    /// the default policy must not break it; one older than 35 s is abandoned.
    #[tokio::test]
    async fn a_lock_younger_than_qwen_codes_limit_is_not_broken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauth_creds.lock");
        fs::write(&path, "qwen-code-refreshing").unwrap();
        let age = |secs| SystemTime::now() - Duration::from_secs(secs);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(age(20))
            .unwrap();
        assert!(!remove_if_stale(&path, LockPolicy::default().stale_after));
        assert!(path.exists());
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(age(36))
            .unwrap();
        assert!(remove_if_stale(&path, LockPolicy::default().stale_after));
        // Waiting out a live lock takes longer than the stale limit, so a waiter never gives
        // up on a lock that would have become stale.
        let p = LockPolicy::default();
        let mut total = Duration::ZERO;
        let mut d = p.first_delay;
        for _ in 1..p.attempts {
            total += d;
            d = d.mul_f64(p.factor).min(p.max_delay);
        }
        assert!(total > p.stale_after, "{total:?}");
    }

    #[tokio::test]
    async fn cancel_while_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauth_creds.lock");
        fs::write(&path, "held").unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let policy = LockPolicy {
            attempts: 100,
            ..quick()
        };
        let err = CredentialsLock::acquire(&path, &policy, &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Cancelled));
    }
}
