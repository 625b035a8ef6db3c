//! The settings parser: `strip_comments` (JSON with comments and trailing commas), one file
//! read as `read_settings_file` does, and the whole load of a user and a project file
//! (`load_settings`: key checks, type checks, merge, typed settings).
//!
//! Input: the user file's text, optionally followed by a NUL byte and the project file's text.
//! Checked: `strip_comments` keeps every byte offset and line break (so error positions stay
//! right) and leaves plain JSON unchanged; a file that reads is an object.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qcode_config::settings::{read_settings_file, strip_comments};

fuzz_target!(|data: &[u8]| {
    let (user, project) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };

    if let Ok(text) = std::str::from_utf8(user) {
        let stripped = strip_comments(text);
        assert_eq!(
            stripped.len(),
            text.len(),
            "strip_comments changed the length"
        );
        for (a, b) in text.bytes().zip(stripped.bytes()) {
            assert_eq!(a == b'\n', b == b'\n', "strip_comments moved a line break");
        }
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            assert_eq!(stripped, text, "strip_comments changed plain JSON");
        }
    }

    let dir = common::scratch();
    let user_file = dir.join("settings.json");
    common::write(&user_file, user);
    if let Ok(Some(value)) = read_settings_file(&user_file) {
        assert!(value.is_object(), "a settings file read as a non-object");
    }

    let cwd = dir.join("project");
    let qcode_dir = cwd.join(".qcode");
    if std::fs::create_dir_all(&qcode_dir).is_err() {
        panic!("cannot create {}", qcode_dir.display());
    }
    let project_file = qcode_dir.join("settings.json");
    match project {
        Some(text) => common::write(&project_file, text),
        None => {
            let _ = std::fs::remove_file(&project_file);
        }
    }
    let _ = qcode_config::load_settings(&user_file, &cwd);
});
