//! `rewind_session`, `rewind_points` and the shared session ids over a real transcript and
//! real checkpoints.

use std::path::{Path, PathBuf};

use qcode_session::{
    Checkpoints, Force, RewindScope, SessionError, SessionIds, SessionWriter, SyncPolicy, load,
    rewind_points, rewind_session,
};

use super::support::header;

struct Fixture {
    _t: tempfile::TempDir,
    root: PathBuf,
    history: PathBuf,
    transcript: PathBuf,
}

/// A workspace with `a.txt`, and a two-turn session recorded in it: turn 1 wrote `new.txt`,
/// turn 2 edited `a.txt` (checkpoints as the tools leave them).
fn fixture() -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let root = root.canonicalize().unwrap();
    std::fs::write(root.join("a.txt"), "one\n").unwrap();
    let history = t.path().join("file-history");
    let mut h = header("s1");
    h.cwd = root.display().to_string();
    let mut w = SessionWriter::create(&t.path().join("project"), h, SyncPolicy::FlushOnly).unwrap();
    let mut cp = Checkpoints::open(&history, "s1", &root).unwrap();
    w.user("make new.txt").unwrap();
    cp.before_write(1, &root.join("new.txt")).unwrap();
    std::fs::write(root.join("new.txt"), "new\n").unwrap();
    cp.finish_turn(1).unwrap();
    w.user("edit a.txt").unwrap();
    cp.before_write(2, &root.join("a.txt")).unwrap();
    std::fs::write(root.join("a.txt"), "two\n").unwrap();
    cp.finish_turn(2).unwrap();
    let transcript = w.path().to_path_buf();
    drop(w);
    Fixture {
        _t: t,
        root,
        history,
        transcript,
    }
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

#[test]
fn both_restores_the_files_and_cuts_the_conversation() {
    let f = fixture();
    let report =
        rewind_session(&f.transcript, &f.history, 2, RewindScope::Both, Force::No).unwrap();
    assert_eq!(report.restored, [PathBuf::from("a.txt")]);
    assert!(report.deleted.is_empty());
    assert_eq!(report.records_removed, 1);
    assert_eq!(read(&f.root.join("a.txt")).as_deref(), Some("one\n"));
    assert_eq!(read(&f.root.join("new.txt")).as_deref(), Some("new\n"));
    assert_eq!(
        load(&f.transcript).unwrap().user_prompts(),
        ["make new.txt"]
    );

    let report =
        rewind_session(&f.transcript, &f.history, 1, RewindScope::Both, Force::No).unwrap();
    assert_eq!(report.deleted, [PathBuf::from("new.txt")]);
    assert!(!f.root.join("new.txt").exists());
    assert_eq!(load(&f.transcript).unwrap().turns(), 0);
}

#[test]
fn code_only_and_conversation_only_touch_one_side() {
    let f = fixture();
    let before = read(&f.transcript);
    rewind_session(
        &f.transcript,
        &f.history,
        1,
        RewindScope::CodeOnly,
        Force::No,
    )
    .unwrap();
    assert_eq!(read(&f.transcript), before);
    assert_eq!(read(&f.root.join("a.txt")).as_deref(), Some("one\n"));
    assert!(!f.root.join("new.txt").exists());

    let f = fixture();
    let r = rewind_session(
        &f.transcript,
        &f.history,
        2,
        RewindScope::ConversationOnly,
        Force::No,
    )
    .unwrap();
    assert!(r.restored.is_empty() && r.deleted.is_empty());
    assert_eq!(read(&f.root.join("a.txt")).as_deref(), Some("two\n"));
    assert_eq!(load(&f.transcript).unwrap().turns(), 1);
    // Turn 2's checkpoints are forgotten: a later rewind to 1 restores only turn 1's file.
    let points = rewind_points(&f.transcript, &f.history).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].files, [PathBuf::from("new.txt")]);
}

#[test]
fn a_conflict_refuses_before_anything_is_touched() {
    let f = fixture();
    std::fs::write(f.root.join("a.txt"), "the user's\n").unwrap();
    let before = read(&f.transcript);
    let err =
        rewind_session(&f.transcript, &f.history, 1, RewindScope::Both, Force::No).unwrap_err();
    assert!(
        matches!(&err, SessionError::Conflicts { paths } if paths == &[PathBuf::from("a.txt")])
    );
    assert_eq!(read(&f.root.join("new.txt")).as_deref(), Some("new\n"));
    assert_eq!(read(&f.transcript), before);
    rewind_session(&f.transcript, &f.history, 1, RewindScope::Both, Force::Yes).unwrap();
    assert_eq!(read(&f.root.join("a.txt")).as_deref(), Some("one\n"));
}

#[test]
fn bad_turns_and_a_session_in_use_are_refused() {
    let f = fixture();
    for turn in [0, 3] {
        let err = rewind_session(
            &f.transcript,
            &f.history,
            turn,
            RewindScope::Both,
            Force::No,
        )
        .unwrap_err();
        assert!(
            matches!(err, SessionError::NoSuchTurn { turns: 2, .. }),
            "{err}"
        );
    }
    let loaded = load(&f.transcript).unwrap();
    let writer = SessionWriter::resume(&loaded, SyncPolicy::FlushOnly).unwrap();
    let err =
        rewind_session(&f.transcript, &f.history, 1, RewindScope::Both, Force::No).unwrap_err();
    assert!(matches!(err, SessionError::InUse { .. }), "{err}");
    assert_eq!(
        read(&f.root.join("a.txt")).as_deref(),
        Some("two\n"),
        "nothing touched"
    );
    drop(writer);
}

#[test]
fn rewind_points_list_every_prompt_with_its_files() {
    let f = fixture();
    let points = rewind_points(&f.transcript, &f.history).unwrap();
    let summary: Vec<(u32, &str, Vec<PathBuf>)> = points
        .iter()
        .map(|p| (p.turn, p.prompt.as_str(), p.files.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "make new.txt", vec![PathBuf::from("new.txt")]),
            (2, "edit a.txt", vec![PathBuf::from("a.txt")]),
        ]
    );
}

#[test]
fn session_ids_are_decided_once_whoever_asks_first() {
    let ids = SessionIds::new("first".into());
    let other = ids.clone();
    assert_eq!(ids.after_clears(0), "first");
    let second = other.after_clears(1);
    assert_ne!(second, "first");
    assert_eq!(ids.after_clears(1), second);
    let third = ids.after_clears(2);
    assert_eq!(other.after_clears(2), third);
    assert_ne!(third, second);
}

#[test]
fn after_a_clear_the_recorder_uses_the_shared_next_id() {
    let t = tempfile::tempdir().unwrap();
    let start = qcode_session::SessionStart {
        cwd: "/w".into(),
        git_branch: None,
        model: "m".into(),
        auth: qcode_protocol::AuthKind::Openai,
        approval_mode: qcode_protocol::ApprovalMode::Default,
    };
    let mut r = qcode_session::Recorder::create(t.path(), start, SyncPolicy::FlushOnly).unwrap();
    let ids = r.ids();
    assert_eq!(ids.after_clears(0), r.session_id());
    // The checkpoint tracker learns of the clear first and decides the id…
    let next = ids.after_clears(1);
    r.observe(&qcode_protocol::Event::HistoryCleared).unwrap();
    // …and the recorder's new transcript has that id.
    assert_eq!(r.session_id(), next);
    assert!(r.path().ends_with(format!("{next}.jsonl")));
}
