//! The session transcript loader (`qcode_session::load`) and what is built on a loaded
//! session (history, state, prompts, the exports and `show`).
//!
//! Checked: no panic; a loaded session's header and records, written back as JSON lines (as
//! the writer does), load again to the same header and records.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qcode_session::{ExportFormat, Record, RecordBody, export, load, show};

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    let path = dir.join("session.jsonl");
    common::write(&path, data);
    let Ok(session) = load(&path) else {
        return;
    };
    assert!(
        session.complete_len <= session.file_len,
        "complete_len beyond the file"
    );
    let _ = session.history();
    let _ = session.state();
    let _ = session.user_prompts();
    let _ = session.turns();
    let _ = session.id();
    for format in [
        ExportFormat::Markdown,
        ExportFormat::Json,
        ExportFormat::Jsonl,
    ] {
        let _ = export(&session, format);
    }
    let _ = show(&session);

    // Written back line by line, the same session loads again.
    let header = Record {
        seq: 0,
        ts: session.header_ts.clone(),
        body: RecordBody::Header(session.header.clone()),
    };
    let mut text = String::new();
    for record in std::iter::once(&header).chain(&session.records) {
        match serde_json::to_string(record) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
            }
            Err(e) => panic!("a loaded record does not serialize: {e}"),
        }
    }
    let again_path = dir.join("again.jsonl");
    common::write(&again_path, text.as_bytes());
    let again =
        load(&again_path).unwrap_or_else(|e| panic!("the rewritten session does not load: {e}"));
    assert_eq!(again.header, session.header, "the header changed");
    assert_eq!(again.records, session.records, "the records changed");
    assert!(
        again.warnings.is_empty(),
        "warnings on a rewritten session: {:?}",
        again.warnings
    );
});
