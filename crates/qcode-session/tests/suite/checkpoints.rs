use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use qcode_session::{Checkpoints, Force, MAX_SNAPSHOT_FILE_SIZE, NoticeReason, SessionError};

use super::support::mode;

struct Ws {
    _t: tempfile::TempDir,
    root: PathBuf,
    history: PathBuf,
}

fn ws() -> Ws {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("repo");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    std::fs::write(root.join("src/lib.rs"), "fn a() {}\n").unwrap();
    std::fs::write(root.join("README.md"), "# hello\n").unwrap();
    let root = root.canonicalize().unwrap();
    Ws {
        history: t.path().join("home/file-history"),
        root,
        _t: t,
    }
}

impl Ws {
    fn cp(&self) -> Checkpoints {
        Checkpoints::open(&self.history, "s1", &self.root).unwrap()
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.p(rel)).ok()
    }
    fn write(&self, rel: &str, s: &str) {
        let p = self.p(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    }
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

#[test]
fn edit_is_rewound_with_its_mode() {
    let w = ws();
    std::fs::set_permissions(w.p("src/lib.rs"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cp = w.cp();
    cp.before_write(1, &w.p("src/lib.rs")).unwrap();
    w.write("src/lib.rs", "fn a() { edited }\n");
    cp.before_write(1, Path::new("src/lib.rs")).unwrap(); // a second edit keeps the first state
    w.write("src/lib.rs", "fn a() { edited twice }\n");
    cp.finish_turn(1).unwrap();
    assert_eq!(cp.changed_files()[&1], [PathBuf::from("src/lib.rs")]);
    let plan = cp.rewind_plan(1).unwrap();
    assert!(plan.conflicts.is_empty());
    let restored = cp.apply(&plan, Force::No).unwrap();
    assert_eq!(names(&restored), ["src/lib.rs"]);
    assert_eq!(w.read("src/lib.rs").unwrap(), "fn a() {}\n");
    assert_eq!(mode(&w.p("src/lib.rs")), 0o755);
    assert!(cp.changed_files().is_empty(), "rewound turns are forgotten");
}

#[test]
fn written_new_file_is_deleted_and_later_turns_stay_before_the_cut() {
    let w = ws();
    let mut cp = w.cp();
    // Turn 1 edits README; turn 2 creates a file and edits README again.
    cp.before_write(1, &w.p("README.md")).unwrap();
    w.write("README.md", "# turn 1\n");
    cp.finish_turn(1).unwrap();
    cp.before_write(2, &w.p("src/new.rs")).unwrap();
    w.write("src/new.rs", "new\n");
    cp.before_write(2, &w.p("README.md")).unwrap();
    w.write("README.md", "# turn 2\n");
    cp.finish_turn(2).unwrap();
    // Reopened from disk (a later `qcode sessions rewind`).
    let mut cp = w.cp();
    let plan = cp.rewind_plan(2).unwrap();
    let restored = cp.apply(&plan, Force::No).unwrap();
    assert_eq!(names(&restored), ["README.md", "src/new.rs"]);
    assert_eq!(w.read("README.md").unwrap(), "# turn 1\n");
    assert!(!w.p("src/new.rs").exists());
    let plan = cp.rewind_plan(1).unwrap();
    cp.apply(&plan, Force::No).unwrap();
    assert_eq!(w.read("README.md").unwrap(), "# hello\n");
}

#[test]
fn shell_change_create_and_delete_are_rewound() {
    let w = ws();
    let mut cp = w.cp();
    let before = cp.snapshot_tree(1).unwrap();
    assert_eq!(
        before.len(),
        3,
        "src/lib.rs, README.md, .gitignore; nothing from .git"
    );
    // The "command": change, create, delete, and an ignored build output.
    w.write("src/lib.rs", "fn a() { sed -i }\n");
    w.write("src/gen/created.rs", "created\n");
    std::fs::remove_file(w.p("README.md")).unwrap();
    w.write("target/debug/out", "ignored\n");
    let notices = cp.after_command(1, &before).unwrap();
    assert!(notices.is_empty());
    cp.finish_turn(1).unwrap();
    let plan = cp.rewind_plan(1).unwrap();
    assert_eq!(plan.entries.len(), 3, "{plan:?}");
    let restored = cp.apply(&plan, Force::No).unwrap();
    assert_eq!(
        names(&restored),
        ["README.md", "src/gen/created.rs", "src/lib.rs"]
    );
    assert_eq!(w.read("README.md").unwrap(), "# hello\n");
    assert_eq!(w.read("src/lib.rs").unwrap(), "fn a() {}\n");
    assert!(!w.p("src/gen/created.rs").exists());
    assert_eq!(
        w.read("target/debug/out").unwrap(),
        "ignored\n",
        "ignored files are not touched"
    );
    assert_eq!(w.read(".git/HEAD").unwrap(), "ref: refs/heads/main\n");
}

#[test]
fn a_second_snapshot_reuses_unchanged_files() {
    let w = ws();
    let mut cp = w.cp();
    let s1 = cp.snapshot_tree(1).unwrap();
    assert!(cp.after_command(1, &s1).unwrap().is_empty());
    let s2 = cp.snapshot_tree(1).unwrap();
    w.write("src/lib.rs", "changed\n");
    cp.after_command(1, &s2).unwrap();
    assert_eq!(cp.changed_files()[&1], [PathBuf::from("src/lib.rs")]);
}

#[test]
fn a_change_outside_qcode_is_refused_unless_forced() {
    let w = ws();
    let mut cp = w.cp();
    cp.before_write(1, &w.p("src/lib.rs")).unwrap();
    w.write("src/lib.rs", "qcode's edit\n");
    cp.finish_turn(1).unwrap();
    w.write("src/lib.rs", "the user's own edit\n");
    let plan = cp.rewind_plan(1).unwrap();
    assert_eq!(names(&plan.conflicts), ["src/lib.rs"]);
    let err = cp.apply(&plan, Force::No).unwrap_err();
    assert!(matches!(err, SessionError::Conflicts { .. }));
    assert!(err.to_string().contains("src/lib.rs"), "{err}");
    assert_eq!(w.read("src/lib.rs").unwrap(), "the user's own edit\n");
    let restored = cp.apply(&plan, Force::Yes).unwrap();
    assert_eq!(names(&restored), ["src/lib.rs"]);
    assert_eq!(w.read("src/lib.rs").unwrap(), "fn a() {}\n");
}

#[test]
fn a_deleted_file_recreated_outside_qcode_is_a_conflict() {
    let w = ws();
    let mut cp = w.cp();
    let before = cp.snapshot_tree(1).unwrap();
    w.write("new.txt", "made by the command\n");
    cp.after_command(1, &before).unwrap();
    cp.finish_turn(1).unwrap();
    w.write("new.txt", "then edited by the user\n");
    let plan = cp.rewind_plan(1).unwrap();
    assert_eq!(names(&plan.conflicts), ["new.txt"]);
    assert!(cp.apply(&plan, Force::No).is_err());
    assert!(w.p("new.txt").exists());
}

#[test]
fn large_and_binary_files_are_skipped_with_a_notice() {
    let w = ws();
    let big = vec![b'a'; usize::try_from(MAX_SNAPSHOT_FILE_SIZE).unwrap() + 1];
    std::fs::write(w.p("big.txt"), &big).unwrap();
    std::fs::write(w.p("image.bin"), b"\x89PNG\0\0data").unwrap();
    let mut cp = w.cp();
    let before = cp.snapshot_tree(1).unwrap();
    let reasons: Vec<_> = before
        .notices
        .iter()
        .map(|n| (n.path.display().to_string(), n.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "big.txt".to_string(),
                NoticeReason::TooLarge {
                    size: MAX_SNAPSHOT_FILE_SIZE + 1
                }
            ),
            ("image.bin".to_string(), NoticeReason::Binary),
        ]
    );
    std::fs::write(w.p("image.bin"), b"\x89PNG\0\0other").unwrap();
    let notices = cp.after_command(1, &before).unwrap();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].to_string().contains("image.bin"));
    let plan = cp.rewind_plan(1).unwrap();
    assert!(plan.entries.is_empty());
    assert_eq!(plan.not_restorable.len(), 1);
}

#[test]
fn paths_outside_the_workspace_or_in_git_are_refused() {
    let w = ws();
    let mut cp = w.cp();
    for p in [
        w.p(".git/config"),
        w.root.join("../elsewhere.txt"),
        PathBuf::from("/etc/passwd"),
    ] {
        let err = cp.before_write(1, &p).unwrap_err();
        assert!(
            matches!(err, SessionError::OutsideWorkspace { .. }),
            "{p:?}: {err}"
        );
    }
}

#[test]
fn store_is_private_and_content_addressed() {
    let w = ws();
    w.write("a.txt", "same\n");
    w.write("b.txt", "same\n");
    let mut cp = w.cp();
    cp.before_write(1, &w.p("a.txt")).unwrap();
    cp.before_write(1, &w.p("b.txt")).unwrap();
    let dir = w.history.join("s1");
    assert_eq!(cp.dir(), dir);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("blobs")), 0o700);
    let blobs: Vec<_> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(blobs.len(), 1, "one blob for identical contents");
    assert_eq!(mode(&blobs[0].path()), 0o600);
    let name = blobs[0].file_name().to_string_lossy().into_owned();
    assert_eq!(name.len(), 64);
    assert_eq!(mode(&dir.join("turns/1.json")), 0o600);
}

#[test]
fn a_removed_directory_is_recreated() {
    let w = ws();
    w.write("src/deep/a/b.rs", "b\n");
    let mut cp = w.cp();
    let before = cp.snapshot_tree(1).unwrap();
    std::fs::remove_dir_all(w.p("src")).unwrap();
    cp.after_command(1, &before).unwrap();
    cp.finish_turn(1).unwrap();
    let plan = cp.rewind_plan(1).unwrap();
    assert!(plan.conflicts.is_empty());
    let restored = cp.apply(&plan, Force::No).unwrap();
    assert_eq!(names(&restored), ["src/deep/a/b.rs", "src/lib.rs"]);
    assert_eq!(w.read("src/deep/a/b.rs").unwrap(), "b\n");
    assert_eq!(w.read("src/lib.rs").unwrap(), "fn a() {}\n");
}

#[test]
fn rewinding_a_turn_without_changes_does_nothing() {
    let w = ws();
    let mut cp = w.cp();
    let plan = cp.rewind_plan(1).unwrap();
    assert!(plan.is_empty());
    assert!(cp.apply(&plan, Force::No).unwrap().is_empty());
}

#[test]
fn a_conversation_only_rewind_forgets_the_later_turns() {
    let w = ws();
    let mut cp = w.cp();
    cp.before_write(1, &w.p("README.md")).unwrap();
    w.write("README.md", "# turn 1\n");
    cp.finish_turn(1).unwrap();
    cp.before_write(2, &w.p("README.md")).unwrap();
    w.write("README.md", "# turn 2\n");
    cp.finish_turn(2).unwrap();
    cp.forget_from(2).unwrap();
    assert_eq!(cp.changed_files().keys().copied().collect::<Vec<_>>(), [1]);
    assert!(!w.history.join("s1/turns/2.json").exists());
    // The new turn 2 starts from the files as they are.
    cp.before_write(2, &w.p("README.md")).unwrap();
    w.write("README.md", "# new turn 2\n");
    cp.finish_turn(2).unwrap();
    let plan = cp.rewind_plan(2).unwrap();
    cp.apply(&plan, Force::No).unwrap();
    assert_eq!(w.read("README.md").unwrap(), "# turn 2\n");
}

#[test]
fn a_workspace_reached_through_a_symlink_and_new_directories_work() {
    let w = ws();
    let link = w._t.path().join("link");
    std::os::unix::fs::symlink(&w.root, &link).unwrap();
    let mut cp = Checkpoints::open(&w.history, "s1", &link).unwrap();
    cp.before_write(1, &link.join("new/dir/file.rs")).unwrap();
    w.write("new/dir/file.rs", "x\n");
    cp.finish_turn(1).unwrap();
    let plan = cp.rewind_plan(1).unwrap();
    assert_eq!(
        names(&cp.apply(&plan, Force::No).unwrap()),
        ["new/dir/file.rs"]
    );
    assert!(!w.p("new/dir/file.rs").exists());
}

/// A tree snapshot keeps its many files in one pack per process (not a file each); a later
/// process (`qcode sessions rewind`) restores from it; a damaged pack is reported, never
/// restored as garbage, and a torn index line is skipped.
#[test]
fn tree_snapshots_are_packed_and_restored_by_a_later_process() {
    let w = ws();
    for i in 0..200 {
        w.write(&format!("src/f{i}.rs"), &format!("fn f{i}() {{}}\n"));
    }
    let mut cp = w.cp();
    let before = cp.snapshot_tree(1).unwrap();
    std::fs::remove_dir_all(w.p("src")).unwrap();
    w.write("README.md", "# changed\n");
    cp.after_command(1, &before).unwrap();
    cp.finish_turn(1).unwrap();
    let blobs = w.history.join("s1/blobs");
    let mut files: Vec<String> = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "one pack and its index: {files:?}");
    assert!(
        files[0].ends_with(".idx") && files[1].ends_with(".pack"),
        "{files:?}"
    );
    for f in &files {
        assert_eq!(mode(&blobs.join(f)), 0o600);
    }
    drop(cp);

    // Another process: a torn last index line is ignored, everything else restores.
    let idx = blobs.join(&files[0]);
    let mut text = std::fs::read_to_string(&idx).unwrap();
    text.push_str("0123abc");
    std::fs::write(&idx, &text).unwrap();
    let mut cp = w.cp();
    let plan = cp.rewind_plan(1).unwrap();
    assert_eq!(
        plan.entries.len(),
        202,
        "200 deleted files, lib.rs and README.md"
    );
    let restored = cp.apply(&plan, Force::No).unwrap();
    assert_eq!(restored.len(), 202);
    assert_eq!(w.read("src/f7.rs").unwrap(), "fn f7() {}\n");
    assert_eq!(w.read("README.md").unwrap(), "# hello\n");

    // A damaged pack: the rewind refuses before touching anything.
    let mut cp = w.cp();
    let before = cp.snapshot_tree(2).unwrap();
    w.write("src/f7.rs", "changed\n");
    cp.after_command(2, &before).unwrap();
    cp.finish_turn(2).unwrap();
    drop(cp);
    for f in std::fs::read_dir(&blobs).unwrap().flatten() {
        if f.path().extension().is_some_and(|e| e == "pack") {
            let bytes = std::fs::read(f.path()).unwrap();
            std::fs::write(f.path(), vec![b'x'; bytes.len()]).unwrap();
        }
    }
    let mut cp = w.cp();
    let plan = cp.rewind_plan(2).unwrap();
    let err = cp.apply(&plan, Force::No).unwrap_err();
    assert!(matches!(err, SessionError::MissingBlob { .. }), "{err}");
    assert_eq!(w.read("src/f7.rs").unwrap(), "changed\n");
}
