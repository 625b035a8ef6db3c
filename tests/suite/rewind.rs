//! Checkpoints and `qcode sessions rewind` end to end: the model (the mock) changes files
//! through `edit`, `write_file` and `run_shell_command` in `--yolo` runs, then a rewind puts
//! the workspace and the transcript back; everything checked on disk and on the wire.

use std::path::{Path, PathBuf};

use qcode_test_support::mock_model::{MockServer, Reply};

use super::harness::*;

/// One scripted tool call.
fn call(id: &str, tool: &str, args: serde_json::Value) -> Reply {
    Reply::tool_calls([(id, tool, args.to_string())], 10)
}

fn edit(id: &str, path: &str, old: &str, new: &str) -> Reply {
    call(
        id,
        "edit",
        serde_json::json!({"file_path": path, "old_string": old, "new_string": new}),
    )
}

fn write(id: &str, path: &str, content: &str) -> Reply {
    call(
        id,
        "write_file",
        serde_json::json!({"file_path": path, "content": content}),
    )
}

fn shell(id: &str, command: &str) -> Reply {
    call(
        id,
        "run_shell_command",
        serde_json::json!({"command": command}),
    )
}

/// Runs one headless turn (`--yolo`, `-o json`) whose model replies are `calls` and then a
/// final answer; continues session `resume` when given. Returns the session id and the run.
fn turn(
    w: &World,
    mock: &MockServer,
    resume: Option<&str>,
    prompt: &str,
    calls: Vec<Reply>,
) -> (String, Run) {
    mock.enqueue_all(calls);
    mock.enqueue(Reply::text("done", 4));
    let mut cmd = w.cmd_for(mock);
    cmd.args(["--yolo", "-o", "json"]);
    if let Some(id) = resume {
        cmd.args(["-r", id]);
    }
    let r = run(cmd.args(["-p", prompt]));
    r.assert_code(0);
    let result: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let id = result["session_id"].as_str().unwrap().to_string();
    (id, r)
}

fn rewind(w: &World, args: &[&str]) -> Run {
    run(w.cmd().args(["sessions", "rewind"]).args(args))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn file_history(w: &World) -> PathBuf {
    w.home.join(".qcode").join("file-history")
}

/// The session's transcript.
fn transcript(w: &World, id: &str) -> PathBuf {
    let projects = w.home.join(".qcode").join("projects");
    for project in std::fs::read_dir(&projects).unwrap().flatten() {
        let p = project.path().join("chats").join(format!("{id}.jsonl"));
        if p.exists() {
            return p;
        }
    }
    panic!("no transcript for {id}");
}

fn user_records(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "user")
        .map(|r| r["content"].as_str().unwrap().to_string())
        .collect()
}

/// Every path under `dir` (the test's `.git` starts empty and must stay so).
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(tree(&e.path()));
        }
    }
    out
}

#[test]
fn edit_write_and_shell_changes_are_rewound_turn_by_turn() {
    let w = World::new();
    let p = &w.project;
    std::fs::write(p.join("a.txt"), "one\n").unwrap();
    std::fs::write(p.join("c.txt"), "original c\n").unwrap();
    std::fs::write(p.join("d.txt"), "to be deleted\n").unwrap();
    let mock = MockServer::start();
    let (id, first) = turn(
        &w,
        &mock,
        None,
        "first",
        vec![
            edit("e1", "a.txt", "one", "two"),
            write("w1", "new.txt", "brand new\n"),
        ],
    );
    assert!(!first.stdout.contains("[rewind]"), "{}", first.stdout);
    turn(
        &w,
        &mock,
        Some(&id),
        "second",
        vec![shell(
            "s1",
            "echo changed > c.txt && echo made > made.txt && rm d.txt",
        )],
    );
    assert_eq!(read(&p.join("a.txt")), "two\n");
    assert_eq!(read(&p.join("c.txt")), "changed\n");
    assert!(!p.join("d.txt").exists());
    let dir = file_history(&w).join(&id);
    assert!(dir.join("turns/1.json").is_file() && dir.join("turns/2.json").is_file());

    // Turn 2 only: the shell's change, creation and deletion; turn 1's edits stay.
    let r = rewind(&w, &[&id, "--turn", "2"]);
    r.assert_code(0);
    assert!(r.stdout.contains("restored c.txt"), "{}", r.stdout);
    assert!(r.stdout.contains("restored d.txt"), "{}", r.stdout);
    assert!(r.stdout.contains("deleted made.txt"), "{}", r.stdout);
    assert_eq!(read(&p.join("c.txt")), "original c\n");
    assert_eq!(read(&p.join("d.txt")), "to be deleted\n");
    assert!(!p.join("made.txt").exists());
    assert_eq!(read(&p.join("a.txt")), "two\n");
    assert_eq!(user_records(&transcript(&w, &id)), ["first"]);

    // Then turn 1: the edit and the created file.
    let r = rewind(&w, &[&id, "--turn", "1"]);
    r.assert_code(0);
    assert!(r.stdout.contains("restored a.txt"), "{}", r.stdout);
    assert!(r.stdout.contains("deleted new.txt"), "{}", r.stdout);
    assert_eq!(read(&p.join("a.txt")), "one\n");
    assert!(!p.join("new.txt").exists());
    assert!(user_records(&transcript(&w, &id)).is_empty());
    assert!(
        tree(&p.join(".git")).is_empty(),
        "nothing written into .git"
    );
    assert!(
        !dir.join("turns/1.json").exists(),
        "rewound turns are forgotten"
    );
}

#[test]
fn a_file_changed_outside_qcode_refuses_the_rewind_unless_forced() {
    let w = World::new();
    let a = w.project.join("a.txt");
    std::fs::write(&a, "one\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(
        &w,
        &mock,
        None,
        "edit it",
        vec![edit("e1", "a.txt", "one", "two")],
    );
    std::fs::write(&a, "the user's own work\n").unwrap();
    let before = read(&transcript(&w, &id));

    let r = rewind(&w, &[&id, "--turn", "1"]);
    r.assert_code(42);
    assert!(r.stderr.contains("a.txt"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(read(&a), "the user's own work\n", "nothing overwritten");
    assert_eq!(read(&transcript(&w, &id)), before, "conversation untouched");

    let r = rewind(&w, &[&id, "--turn", "1", "--force"]);
    r.assert_code(0);
    assert_eq!(read(&a), "one\n");
}

#[test]
fn code_only_restores_files_and_keeps_the_transcript() {
    let w = World::new();
    let a = w.project.join("a.txt");
    std::fs::write(&a, "one\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(
        &w,
        &mock,
        None,
        "edit it",
        vec![edit("e1", "a.txt", "one", "two")],
    );
    let before = read(&transcript(&w, &id));
    let r = rewind(&w, &[&id, "--turn", "1", "--code-only"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("conversation left as it is"),
        "{}",
        r.stdout
    );
    assert_eq!(read(&a), "one\n");
    assert_eq!(read(&transcript(&w, &id)), before);
    // The scopes exclude each other.
    rewind(
        &w,
        &[&id, "--turn", "1", "--code-only", "--conversation-only"],
    )
    .assert_code(2);
}

#[test]
fn conversation_only_cuts_the_transcript_and_the_next_resume_continues_from_there() {
    let w = World::new();
    let a = w.project.join("a.txt");
    std::fs::write(&a, "one\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(&w, &mock, None, "first", vec![]);
    let after_first = mock.requests().last().unwrap().body_json().unwrap();
    turn(
        &w,
        &mock,
        Some(&id),
        "second",
        vec![edit("e1", "a.txt", "one", "two")],
    );

    let r = rewind(&w, &[&id, "--turn", "2", "--conversation-only"]);
    r.assert_code(0);
    assert!(r.stdout.contains("files left as they are"), "{}", r.stdout);
    assert_eq!(read(&a), "two\n", "files unchanged");
    assert_eq!(user_records(&transcript(&w, &id)), ["first"]);

    mock.enqueue(Reply::text("fine", 4));
    run(w.cmd_for(&mock).args(["-r", &id, "-p", "instead"])).assert_code(0);
    let sent = messages(&mock.requests().last().unwrap().body_json().unwrap());
    let mut expected = messages(&after_first);
    expected.push(serde_json::json!({"role": "assistant", "content": "done"}));
    expected.push(serde_json::json!({"role": "user", "content": "instead"}));
    let strip = |ms: &[serde_json::Value]| -> Vec<(String, String)> {
        ms.iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_string(),
                    m["content"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&sent), strip(&expected));
    // The continued session numbers its next turn 2 again, with fresh checkpoints.
    assert_eq!(user_records(&transcript(&w, &id)), ["first", "instead"]);
}

#[test]
fn deleting_a_session_removes_its_checkpoints() {
    let w = World::new();
    std::fs::write(w.project.join("a.txt"), "one\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(
        &w,
        &mock,
        None,
        "edit",
        vec![edit("e1", "a.txt", "one", "two")],
    );
    let dir = file_history(&w).join(&id);
    assert!(dir.is_dir());
    run(w.cmd().args(["sessions", "delete", &id])).assert_code(0);
    assert!(!dir.exists());
}

#[test]
fn recording_off_keeps_no_checkpoints() {
    let w = World::new();
    std::fs::write(w.project.join("a.txt"), "one\n").unwrap();
    let mock = MockServer::start();
    mock.enqueue(edit("e1", "a.txt", "one", "two"));
    mock.enqueue(shell("s1", "echo x > b.txt"));
    mock.enqueue(Reply::text("done", 4));
    run(w
        .cmd_for(&mock)
        .args(["--yolo", "--no-chat-recording", "-p", "edit"]))
    .assert_code(0);
    assert_eq!(read(&w.project.join("a.txt")), "two\n");
    assert!(!file_history(&w).exists());
}

#[test]
fn an_unknown_turn_and_an_unknown_session_are_input_errors() {
    let w = World::new();
    let mock = MockServer::start();
    let (id, _) = turn(&w, &mock, None, "hi", vec![]);
    let r = rewind(&w, &[&id, "--turn", "5"]);
    r.assert_code(42);
    assert!(r.stderr.contains("no turn 5"), "{}", r.stderr);
    rewind(&w, &[&id, "--turn", "0"]).assert_code(42);
    rewind(&w, &["nosuchsession", "--turn", "1"]).assert_code(42);
}

#[test]
fn a_binary_file_a_command_changes_is_named_and_left_alone() {
    let w = World::new();
    std::fs::write(w.project.join("x.bin"), b"a\0b").unwrap();
    let mock = MockServer::start();
    let (id, r) = turn(
        &w,
        &mock,
        None,
        "change",
        vec![shell("s1", "printf 'z\\0z' > x.bin")],
    );
    let sent = mock.requests().last().unwrap().body_text();
    assert!(
        sent.contains("x.bin: not kept for rewind (a binary file)"),
        "{sent}"
    );
    let _ = r;
    let r = rewind(&w, &[&id, "--turn", "1"]);
    r.assert_code(0);
    assert!(r.stdout.contains("not restored x.bin"), "{}", r.stdout);
    assert_eq!(std::fs::read(w.project.join("x.bin")).unwrap(), b"z\0z");
}

/// A hostile repository: after qcode changed `sub/a.txt`, `sub` becomes a symbolic link to a
/// directory outside the workspace. A rewind never writes through it.
#[cfg(unix)]
#[test]
fn a_rewind_never_writes_outside_the_workspace_through_a_symlink() {
    let w = World::new();
    let sub = w.project.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("a.txt"), "one\n").unwrap();
    let outside = w.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("a.txt"), "two\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(
        &w,
        &mock,
        None,
        "edit",
        vec![edit("e1", "sub/a.txt", "one", "two")],
    );
    std::fs::remove_dir_all(&sub).unwrap();
    std::os::unix::fs::symlink(&outside, &sub).unwrap();

    let r = rewind(&w, &[&id, "--turn", "1", "--force"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("outside the workspace"), "{}", r.stderr);
    assert_eq!(
        read(&outside.join("a.txt")),
        "two\n",
        "the outside file untouched"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
}

/// A shell command that writes through a symbolic link to outside the workspace: the walk
/// does not follow links, so nothing outside is recorded or restored.
#[cfg(unix)]
#[test]
fn a_command_writing_through_a_symlink_is_not_tracked_outside() {
    let w = World::new();
    let outside = w.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, w.project.join("out")).unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(
        &w,
        &mock,
        None,
        "write",
        vec![shell("s1", "echo x > out/f.txt")],
    );
    let r = rewind(&w, &[&id, "--turn", "1"]);
    r.assert_code(0);
    assert!(r.stdout.contains("no file to restore"), "{}", r.stdout);
    assert_eq!(read(&outside.join("f.txt")), "x\n");
}

/// Interactively, `/clear` starts a new session: the checkpoints follow it (the new session
/// counts its turns from 1 in its own store) and both sessions rewind on their own.
#[test]
fn after_clear_the_checkpoints_follow_the_new_session() {
    use super::pty::{Pty, keys};
    let w = World::new();
    let mock = MockServer::start();
    mock.enqueue(write("w1", "a.txt", "first\n"));
    mock.enqueue(Reply::text("Wrote it.", 4));
    mock.enqueue(edit("e1", "a.txt", "first", "second"));
    mock.enqueue(Reply::text("Edited it.", 4));
    let env = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        ),
        ("HOME".to_string(), w.home.display().to_string()),
        ("DO_NOT_TRACK".to_string(), "1".to_string()),
        ("OPENAI_BASE_URL".to_string(), mock.url()),
        ("OPENAI_API_KEY".to_string(), "sk-test-key-123".to_string()),
        ("OPENAI_MODEL".to_string(), "test-model".to_string()),
    ];
    let mut t = Pty::spawn(
        Path::new(env!("CARGO_BIN_EXE_qcode")),
        &["--yolo"],
        &env,
        &w.project,
    );
    t.wait_for_text("› Ask anything");
    t.send_line("write a.txt");
    t.wait_for_transcript("Wrote it.");
    t.send_line("/clear");
    t.wait_for_text("› Ask anything");
    t.send_line("edit a.txt");
    t.wait_for_transcript("Edited it.");
    t.wait_for_text("› Ask anything");
    t.send(keys::CTRL_D);
    assert_eq!(t.wait_exit(), 0);
    assert_eq!(read(&w.project.join("a.txt")), "second\n");

    let ids: Vec<String> = std::fs::read_dir(file_history(&w))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ids.len(), 2, "one store per session: {ids:?}");
    let manifest = |id: &str| read(&file_history(&w).join(id).join("turns/1.json"));
    let (first, second) = if manifest(&ids[0]).contains("\"absent\"") {
        (&ids[0], &ids[1])
    } else {
        (&ids[1], &ids[0])
    };
    assert_eq!(user_records(&transcript(&w, first)), ["write a.txt"]);
    assert_eq!(user_records(&transcript(&w, second)), ["edit a.txt"]);

    rewind(&w, &[second, "--turn", "1"]).assert_code(0);
    assert_eq!(read(&w.project.join("a.txt")), "first\n");
    rewind(&w, &[first, "--turn", "1"]).assert_code(0);
    assert!(!w.project.join("a.txt").exists());
}

/// Resumed from a subdirectory of the project: the checkpoints stay relative to where the
/// session was recorded, so a rewind restores the right files.
#[test]
fn a_session_resumed_from_a_subdirectory_rewinds_the_right_files() {
    let w = World::new();
    let sub = w.project.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(w.project.join("b.txt"), "root b\n").unwrap();
    std::fs::write(sub.join("b.txt"), "sub b\n").unwrap();
    let mock = MockServer::start();
    let (id, _) = turn(&w, &mock, None, "first", vec![]);
    mock.enqueue(edit("e1", "b.txt", "sub b", "edited"));
    mock.enqueue(Reply::text("done", 4));
    run(w
        .cmd_for(&mock)
        .current_dir(&sub)
        .args(["--yolo", "-r", &id, "-p", "edit b"]))
    .assert_code(0);
    assert_eq!(read(&sub.join("b.txt")), "edited\n");
    let r = rewind(&w, &[&id, "--turn", "2"]);
    r.assert_code(0);
    assert!(r.stdout.contains("restored sub/b.txt"), "{}", r.stdout);
    assert_eq!(read(&sub.join("b.txt")), "sub b\n");
    assert_eq!(read(&w.project.join("b.txt")), "root b\n");
}
