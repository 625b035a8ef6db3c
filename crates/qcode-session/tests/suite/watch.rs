//! Shell-command snapshots after the first: the watched directories tell what to look at
//! again. Each case is a command's typical change, rewound afterwards.

use std::path::PathBuf;

use qcode_session::{Checkpoints, Force};

struct Ws {
    _t: tempfile::TempDir,
    root: PathBuf,
    history: PathBuf,
}

fn ws() -> Ws {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("repo");
    std::fs::create_dir_all(root.join("src/deep/er")).unwrap();
    std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
    std::fs::write(root.join("src/lib.rs"), "lib\n").unwrap();
    std::fs::write(root.join("src/deep/er/x.rs"), "x\n").unwrap();
    std::fs::write(root.join("README.md"), "readme\n").unwrap();
    let root = root.canonicalize().unwrap();
    Ws {
        history: t.path().join("file-history"),
        root,
        _t: t,
    }
}

impl Ws {
    fn sh(&self, command: &str) {
        let ok = std::process::Command::new("bash")
            .args(["-c", command])
            .current_dir(&self.root)
            .status()
            .unwrap()
            .success();
        assert!(ok, "{command}");
    }
    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }
}

/// Runs `command` bracketed as turn 2 (after a first, priming command in turn 1) and returns
/// the paths turn 2 recorded; then rewinds turn 2.
fn bracket(w: &Ws, cp: &mut Checkpoints, command: &str) -> Vec<String> {
    let s = cp.snapshot_tree(2).unwrap();
    w.sh(command);
    cp.after_command(2, &s).unwrap();
    cp.finish_turn(2).unwrap();
    let changed = cp
        .changed_files()
        .get(&2)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let plan = cp.rewind_plan(2).unwrap();
    cp.apply(&plan, Force::No).unwrap();
    changed
}

fn primed(w: &Ws) -> Checkpoints {
    let mut cp = Checkpoints::open(&w.history, "s", &w.root).unwrap();
    let s = cp.snapshot_tree(1).unwrap();
    assert!(cp.after_command(1, &s).unwrap().is_empty());
    cp
}

fn assert_original(w: &Ws) {
    assert_eq!(w.read("src/lib.rs").as_deref(), Some("lib\n"));
    assert_eq!(w.read("src/deep/er/x.rs").as_deref(), Some("x\n"));
    assert_eq!(w.read("README.md").as_deref(), Some("readme\n"));
}

#[test]
fn new_nested_directories_are_seen_and_removed_on_rewind() {
    let w = ws();
    let mut cp = primed(&w);
    let changed = bracket(
        &w,
        &mut cp,
        "mkdir -p gen/a/b && echo 1 > gen/a/b/one.rs && echo 2 > gen/two.rs",
    );
    assert_eq!(changed, ["gen/a/b/one.rs", "gen/two.rs"]);
    assert!(!w.root.join("gen/a/b/one.rs").exists());
    assert!(!w.root.join("gen/two.rs").exists());
}

#[test]
fn a_removed_directory_tree_is_restored() {
    let w = ws();
    let mut cp = primed(&w);
    let changed = bracket(&w, &mut cp, "rm -rf src");
    assert_eq!(changed, ["src/deep/er/x.rs", "src/lib.rs"]);
    assert_original(&w);
}

#[test]
fn a_moved_directory_is_a_delete_and_a_create() {
    let w = ws();
    let mut cp = primed(&w);
    let changed = bracket(&w, &mut cp, "mv src/deep moved");
    assert_eq!(changed, ["moved/er/x.rs", "src/deep/er/x.rs"]);
    assert_original(&w);
    assert!(!w.root.join("moved/er/x.rs").exists());
}

#[test]
fn ignored_files_stay_out_also_when_the_ignore_file_changes() {
    let w = ws();
    let mut cp = primed(&w);
    let changed = bracket(
        &w,
        &mut cp,
        "mkdir -p target && echo o > target/out && echo l > build.log",
    );
    assert!(changed.is_empty(), "{changed:?}");
    // The command changes .gitignore itself: a full walk decides again.
    let changed = bracket(
        &w,
        &mut cp,
        "echo 'gen/' >> .gitignore && mkdir gen && echo g > gen/g.rs && echo n > new.rs",
    );
    assert_eq!(changed, [".gitignore", "new.rs"]);
    assert_eq!(w.read(".gitignore").as_deref(), Some("target/\n*.log\n"));
    assert!(!w.root.join("new.rs").exists());
    assert!(
        w.root.join("gen/g.rs").exists(),
        "ignored: not tracked, not touched"
    );
}

#[test]
fn a_change_between_commands_is_not_the_next_commands() {
    let w = ws();
    let mut cp = primed(&w);
    std::fs::write(w.root.join("src/lib.rs"), "the user's edit\n").unwrap();
    let changed = bracket(
        &w,
        &mut cp,
        "echo r >> README.md && echo d > src/deep/new.rs",
    );
    assert_eq!(changed, ["README.md", "src/deep/new.rs"]);
    assert_eq!(w.read("src/lib.rs").as_deref(), Some("the user's edit\n"));
    assert_eq!(w.read("README.md").as_deref(), Some("readme\n"));
}

#[test]
fn many_commands_in_a_row_agree_with_a_fresh_walk() {
    let w = ws();
    let mut cp = primed(&w);
    let commands = [
        "echo a >> src/lib.rs",
        "mkdir -p t/u && echo 1 > t/u/f",
        "mv t/u t/v",
        "rm -r t",
        "echo b > src/deep/er/x.rs && rm README.md",
        "mkdir README.md.d && touch README.md.d/z",
    ];
    for (i, c) in commands.iter().enumerate() {
        let turn = 2 + u32::try_from(i).unwrap();
        let s = cp.snapshot_tree(turn).unwrap();
        w.sh(c);
        cp.after_command(turn, &s).unwrap();
        cp.finish_turn(turn).unwrap();
    }
    let watched = cp.snapshot_tree(99).unwrap().len();
    let fresh = Checkpoints::open(&w.history, "other", &w.root)
        .unwrap()
        .snapshot_tree(1)
        .unwrap()
        .len();
    assert_eq!(watched, fresh);
    // And all of it rewinds to the start.
    let plan = cp.rewind_plan(2).unwrap();
    cp.apply(&plan, Force::No).unwrap();
    assert_original(&w);
    assert!(!w.root.join("t").join("v").join("f").exists());
    assert!(!w.root.join("README.md.d/z").exists());
}

#[test]
fn a_warm_up_taken_off_the_lock_serves_the_next_command() {
    let w = ws();
    let mut cp = Checkpoints::open(&w.history, "s", &w.root).unwrap();
    let job = cp.warm_up().unwrap();
    // Meanwhile an edit's checkpoint (same content as the warm-up stores: one blob).
    cp.before_write(1, &w.root.join("src/lib.rs")).unwrap();
    let warm = job.run().unwrap();
    // Changed after the warm-up: seen by the watches, not attributed to the command.
    std::fs::write(w.root.join("src/lib.rs"), "edited\n").unwrap();
    cp.install(warm);
    assert!(cp.warm_up().is_none(), "installed");
    cp.finish_turn(1).unwrap();
    let changed = bracket(&w, &mut cp, "echo r >> README.md");
    assert_eq!(changed, ["README.md"]);
    assert_eq!(w.read("README.md").as_deref(), Some("readme\n"));
    // The edit of turn 1 rewinds from the blob both stored.
    let plan = cp.rewind_plan(1).unwrap();
    cp.apply(&plan, Force::No).unwrap();
    assert_eq!(w.read("src/lib.rs").as_deref(), Some("lib\n"));
}

#[test]
fn a_warm_up_finished_after_a_snapshot_is_ignored() {
    let w = ws();
    let mut cp = Checkpoints::open(&w.history, "s", &w.root).unwrap();
    let job = cp.warm_up().unwrap();
    let s = cp.snapshot_tree(1).unwrap();
    std::fs::write(w.root.join("README.md"), "stale\n").unwrap();
    cp.install(job.run().unwrap());
    // The snapshot's own tree stays: the command's change is seen.
    cp.after_command(1, &s).unwrap();
    assert_eq!(
        cp.changed_files()[&1],
        [std::path::PathBuf::from("README.md")]
    );
}
