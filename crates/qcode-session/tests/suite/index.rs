use std::time::{Duration, SystemTime};

use qcode_session::{
    SessionError, SessionWriter, SyncPolicy, cleanup, delete, find, list, list_all, most_recent,
};

use super::support::{fixture, header, typical};
use qcode_session::RecordBody;

fn user(s: &str) -> RecordBody {
    RecordBody::User { content: s.into() }
}

#[test]
fn prefix_lookup_unique_ambiguous_missing() {
    let t = tempfile::tempdir().unwrap();
    for id in ["abc123", "abd456", "xyz789"] {
        typical(t.path(), id);
    }
    assert!(find(t.path(), "x").unwrap().ends_with("chats/xyz789.jsonl"));
    assert!(
        find(t.path(), "abc")
            .unwrap()
            .ends_with("chats/abc123.jsonl")
    );
    assert!(
        find(t.path(), "abd456")
            .unwrap()
            .ends_with("chats/abd456.jsonl")
    );
    match find(t.path(), "ab").unwrap_err() {
        SessionError::Ambiguous { candidates, .. } => assert_eq!(candidates, ["abc123", "abd456"]),
        e => panic!("{e}"),
    }
    let e = find(t.path(), "ab").unwrap_err().to_string();
    assert!(e.contains("abc123") && e.contains("abd456"), "{e}");
    assert!(matches!(
        find(t.path(), "q"),
        Err(SessionError::NotFound { .. })
    ));
    assert!(matches!(
        find(t.path(), ""),
        Err(SessionError::NotFound { .. })
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        find(empty.path(), "a"),
        Err(SessionError::NotFound { .. })
    ));
}

#[test]
fn an_exact_id_wins_over_longer_ids_it_prefixes() {
    let t = tempfile::tempdir().unwrap();
    typical(t.path(), "abc");
    typical(t.path(), "abcd");
    assert!(find(t.path(), "abc").unwrap().ends_with("chats/abc.jsonl"));
}

#[test]
fn listing_is_newest_first_with_titles_turns_and_models() {
    let t = tempfile::tempdir().unwrap();
    let chats = t.path().join("chats");
    // "old": created first, last activity at 10:02.
    fixture(
        &chats.join("old.jsonl"),
        "old",
        vec![user("  \nfirst line\nsecond"), user("more")],
    );
    // "titled": activity until 10:03 with a title and a model switch.
    fixture(
        &chats.join("titled.jsonl"),
        "titled",
        vec![
            user("whatever"),
            RecordBody::Model {
                model: "qwen3-max".into(),
            },
            RecordBody::Title {
                title: "Parser work".into(),
            },
        ],
    );
    // "fresh": only a header.
    fixture(&chats.join("fresh.jsonl"), "fresh", vec![]);
    std::fs::write(chats.join("notes.txt"), "not a session").unwrap();
    std::fs::write(chats.join("broken.jsonl"), "garbage\n").unwrap();
    let l = list(t.path()).unwrap();
    let ids: Vec<_> = l.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["titled", "old", "fresh"]);
    assert_eq!(l[0].title, "Parser work");
    assert_eq!(l[0].model, "qwen3-max");
    assert_eq!(l[0].turns, 1);
    assert_eq!(l[0].updated_at, "2026-12-01T10:03:00.000Z");
    assert_eq!(l[1].title, "first line");
    assert_eq!(l[1].first_prompt.as_deref(), Some("  \nfirst line\nsecond"));
    assert_eq!(l[1].turns, 2);
    assert_eq!(l[1].created_at, "2026-12-01T10:00:00.000Z");
    assert_eq!(l[2].title, "(no prompt yet)");
    assert_eq!(l[2].cwd, "/work/project");
    assert_eq!(most_recent(t.path()).unwrap().unwrap(), l[0].path);
    let json = serde_json::to_value(&l[0]).unwrap();
    for key in [
        "id",
        "path",
        "title",
        "cwd",
        "created_at",
        "updated_at",
        "turns",
        "model",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[test]
fn no_sessions_means_none() {
    let t = tempfile::tempdir().unwrap();
    assert!(list(t.path()).unwrap().is_empty());
    assert!(most_recent(t.path()).unwrap().is_none());
    assert!(list_all(&t.path().join("projects")).unwrap().is_empty());
}

#[test]
fn list_all_covers_every_project() {
    let t = tempfile::tempdir().unwrap();
    let projects = t.path().join("projects");
    typical(&projects.join("a-1"), "s-a");
    typical(&projects.join("b-2"), "s-b");
    let mut ids: Vec<_> = list_all(&projects)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["s-a", "s-b"]);
}

#[test]
fn delete_removes_the_transcript_and_its_checkpoints() {
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("file-history");
    let path = typical(t.path(), "abc");
    typical(t.path(), "other");
    std::fs::create_dir_all(history.join("abc/blobs")).unwrap();
    std::fs::create_dir_all(history.join("other/blobs")).unwrap();
    assert_eq!(delete(t.path(), &history, "ab").unwrap(), path);
    assert!(!path.exists());
    assert!(!history.join("abc").exists());
    assert!(history.join("other").exists());
    assert!(matches!(
        delete(t.path(), &history, "abc"),
        Err(SessionError::NotFound { .. })
    ));
    // A session being written is not deleted.
    let w = SessionWriter::create(t.path(), header("live"), SyncPolicy::FlushOnly).unwrap();
    assert!(matches!(
        delete(t.path(), &history, "live"),
        Err(SessionError::InUse { .. })
    ));
    drop(w);
}

fn age(path: &std::path::Path, days: u64) {
    let t = SystemTime::now() - Duration::from_secs(days * 86_400 + 60);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn retention_removes_old_sessions_and_their_checkpoints() {
    let t = tempfile::tempdir().unwrap();
    let projects = t.path().join("projects");
    let history = t.path().join("file-history");
    let old = typical(&projects.join("p"), "old");
    let new = typical(&projects.join("p"), "new");
    let other_old = typical(&projects.join("q"), "other-old");
    age(&old, 31);
    age(&other_old, 40);
    age(&new, 29);
    for id in ["old", "new", "other-old", "orphan"] {
        std::fs::create_dir_all(history.join(id)).unwrap();
    }
    let orphan = history.join("orphan");
    std::fs::File::open(&orphan)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(90 * 86_400))
        .unwrap();
    assert!(
        cleanup(&projects, &history, 0).unwrap().is_empty(),
        "0 keeps everything"
    );
    assert!(old.exists());
    let removed = cleanup(&projects, &history, 30).unwrap();
    assert_eq!(removed, [old.clone(), other_old.clone()]);
    assert!(!old.exists() && !other_old.exists() && new.exists());
    assert!(!history.join("old").exists() && !history.join("other-old").exists());
    assert!(!orphan.exists());
    assert!(history.join("new").exists());
}
