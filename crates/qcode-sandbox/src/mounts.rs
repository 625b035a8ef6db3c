//! Read-only directories inside writable trees: read-only bind mounts in a private user and
//! mount namespace. Must run in a single-threaded process (a new user namespace requires it),
//! before Landlock is applied (a Landlock domain may not change mounts — which is also what
//! keeps the command from undoing them).

use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};

/// Makes each existing directory of `dirs` read-only for this process and what it `exec`s.
/// Returns the directories protected; an error names what failed (the caller reports it).
pub(crate) fn read_only(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let existing: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .filter(|d| d.is_dir())
        .collect();
    if existing.is_empty() {
        return Ok(existing);
    }
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("no private mount namespace ({e})"))?;
    // The same user and group inside as outside, so that files keep their owners.
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot write {file}: {e}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    // Nothing done here may reach the rest of the system.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make the mounts private ({e})"))?;
    for dir in &existing {
        bind_read_only(dir)?;
    }
    Ok(existing)
}

fn bind_read_only(dir: &Path) -> Result<(), String> {
    let fail = |what: &str, e: nix::Error| format!("cannot {what} {} ({e})", dir.display());
    // The flags a user namespace may not drop (they are locked on the original mount).
    let kept = statvfs(dir).map_err(|e| fail("inspect", e))?.flags();
    mount(
        Some(dir),
        dir,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| fail("bind", e))?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (st, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if kept.contains(st) {
            flags |= ms;
        }
    }
    mount(None::<&str>, dir, None::<&str>, flags, None::<&str>)
        .map_err(|e| fail("make read-only", e))
}
