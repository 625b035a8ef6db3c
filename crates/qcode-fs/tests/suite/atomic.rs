#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use qcode_fs::{Mode, write_atomic};

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn exactly_sets_the_mode_on_new_and_existing_files() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("a/b/creds.json");
    write_atomic(&p, b"one", Mode::Exactly(0o600)).unwrap();
    assert_eq!(mode_of(&p), 0o600);
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    write_atomic(&p, b"two", Mode::Exactly(0o600)).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two");
    assert_eq!(mode_of(&p), 0o600);
    // Exact bits ignore the umask: group bits survive.
    write_atomic(&p, b"three", Mode::Exactly(0o640)).unwrap();
    assert_eq!(mode_of(&p), 0o640);
    assert_eq!(
        names_in(p.parent().unwrap()),
        vec!["creds.json"],
        "no temp left"
    );
}

#[test]
fn keep_or_keeps_the_existing_mode() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("script.sh");
    fs::write(&p, "old").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o750)).unwrap();
    write_atomic(&p, b"new", Mode::KeepOr(0o644)).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"new");
    assert_eq!(mode_of(&p), 0o750);
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&p, b"newer", Mode::KeepOr(0o644)).unwrap();
    assert_eq!(mode_of(&p), 0o600);
}

#[test]
fn keep_or_gives_a_new_file_the_default_mode_without_more_bits() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("new.txt");
    write_atomic(&p, b"x", Mode::KeepOr(0o640)).unwrap();
    let mode = mode_of(&p);
    assert_eq!(mode & !0o640, 0, "mode {mode:o} has more than 0640");
    assert_eq!(mode & 0o600, 0o600, "the owner can read and write");
}

#[test]
fn a_symlinked_target_stays_a_symlink() {
    let t = tempfile::tempdir().unwrap();
    let dotfiles = t.path().join("dotfiles");
    let home = t.path().join("home/.qcode");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::create_dir_all(&home).unwrap();
    let real = dotfiles.join("settings.json");
    fs::write(&real, "old").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = home.join("settings.json");
    symlink("../../dotfiles/settings.json", &link).unwrap();

    write_atomic(&link, b"new", Mode::KeepOr(0o644)).unwrap();

    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../../dotfiles/settings.json")
    );
    assert_eq!(fs::read(&real).unwrap(), b"new");
    assert_eq!(mode_of(&real), 0o640);
    assert_eq!(names_in(&dotfiles), vec!["settings.json"]);
    assert_eq!(names_in(&home), vec!["settings.json"]);
}

#[test]
fn a_dangling_symlink_creates_the_file_it_names() {
    let t = tempfile::tempdir().unwrap();
    let real = t.path().join("repo/conf.json");
    let link = t.path().join("conf.json");
    symlink(&real, &link).unwrap();
    write_atomic(&link, b"hello", Mode::KeepOr(0o644)).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&real).unwrap(), b"hello");
}

#[test]
fn a_parent_that_is_a_file_gives_an_error_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let blocker = t.path().join("not-a-dir");
    fs::write(&blocker, "x").unwrap();
    let p = blocker.join("settings.json");
    let err = write_atomic(&p, b"x", Mode::KeepOr(0o644)).unwrap_err();
    assert_eq!(err.path(), p);
    assert!(err.to_string().contains(&*p.to_string_lossy()), "{err}");
    let io: std::io::Error = err.into();
    assert!(io.to_string().contains("settings.json"), "{io}");
    assert_eq!(fs::read(&blocker).unwrap(), b"x");
}

#[test]
fn a_failed_rename_removes_the_temp_and_keeps_what_was_there() {
    let t = tempfile::tempdir().unwrap();
    // The target is a non-empty directory: writing the temp works, the rename fails.
    let p = t.path().join("target");
    fs::create_dir(&p).unwrap();
    fs::write(p.join("inside"), "keep").unwrap();
    let err = write_atomic(&p, b"new", Mode::KeepOr(0o644)).unwrap_err();
    assert!(err.to_string().contains("replacing the file"), "{err}");
    assert_eq!(fs::read(p.join("inside")).unwrap(), b"keep");
    assert_eq!(names_in(t.path()), vec!["target"], "temp removed");
}

const CHILD_VAR: &str = "QCODE_FS_TEST_FULL_DISK_TARGET";

/// A full disk, simulated with a file-size limit (root ignores read-only directories): the
/// write of the new content fails, the old file is intact and the error names it.
#[test]
fn a_full_disk_leaves_the_old_file_intact() {
    if let Ok(target) = std::env::var(CHILD_VAR) {
        // Child: runs under `ulimit -f`, with SIGXFSZ ignored so writes fail with EFBIG.
        let big = vec![b'n'; 1 << 20];
        match write_atomic(Path::new(&target), &big, Mode::KeepOr(0o644)) {
            Ok(()) => println!("RESULT:ok"),
            Err(e) => println!("RESULT:err:{e}"),
        }
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("settings.json");
    fs::write(&p, "old content").unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 16 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "--exact",
            "suite::atomic::a_full_disk_leaves_the_old_file_intact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, &p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .split_once("RESULT:")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("child gave no result: {stdout}"));
    let message = result
        .strip_prefix("err:")
        .unwrap_or_else(|| panic!("the write should fail: {result}"));
    assert!(message.contains(&*p.to_string_lossy()), "{message}");
    assert!(message.contains("writing"), "{message}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "old content");
    assert_eq!(names_in(t.path()), vec!["settings.json"], "temp removed");
}
