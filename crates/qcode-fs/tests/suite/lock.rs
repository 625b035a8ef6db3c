use std::path::Path;
use std::sync::Arc;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use qcode_fs::{FileLock, LockError, lock_path_for};

#[test]
fn the_sidecar_sits_next_to_the_file() {
    assert_eq!(
        lock_path_for(Path::new("/h/.qcode/settings.json")),
        Path::new("/h/.qcode/settings.json.lock")
    );
}

#[test]
fn a_held_lock_times_out_with_a_message_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("new-dir/settings.json");
    let held = FileLock::acquire(&p, Duration::from_secs(1)).unwrap();
    assert_eq!(held.lock_path(), lock_path_for(&p));
    let started = Instant::now();
    let err = FileLock::acquire(&p, Duration::from_millis(100)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
    assert_eq!(err.path(), p);
    assert!(err.to_string().contains(&*p.to_string_lossy()), "{err}");
    drop(held);
    FileLock::acquire(&p, Duration::from_millis(100)).unwrap();
}

#[test]
fn the_lock_serialises_read_modify_write() {
    let t = tempfile::tempdir().unwrap();
    let p = Arc::new(t.path().join("counter"));
    std::fs::write(&*p, "0").unwrap();
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let p = Arc::clone(&p);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..25 {
                    let _guard = FileLock::acquire(&p, Duration::from_secs(10)).unwrap();
                    let n: u32 = std::fs::read_to_string(&*p).unwrap().parse().unwrap();
                    std::thread::yield_now();
                    std::fs::write(&*p, (n + 1).to_string()).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(std::fs::read_to_string(&*p).unwrap(), "100");
}
