//! The `.env` parser (dotenvy through `EnvLayer::with_dotenv`, and qcode's error description).
//!
//! Checked: a parse error never repeats the file's contents — only a line number, a column and
//! the variable's name (a name that really is a `NAME=` in the file) — as the module promises.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use qcode_config::{ConfigError, EnvLayer};

fuzz_target!(|data: &[u8]| {
    let path = common::scratch().join(".env");
    common::write(&path, data);
    match EnvLayer::default().with_dotenv(&path) {
        Ok(layer) => {
            for name in layer.dotenv_names() {
                // Reading back a name the layer lists must not fail or panic.
                let _ = layer.get_with_origin(&name);
            }
        }
        Err(ConfigError::DotEnv { message, .. }) => check_message(&message, data),
        Err(other) => panic!("unexpected error kind: {other}"),
    }
});

fn check_message(message: &str, file: &[u8]) {
    if message.contains("byte-order mark") || message.starts_with("cannot read it") {
        return;
    }
    let rest = message
        .strip_prefix("cannot parse ")
        .and_then(|r| r.strip_suffix("; the value is not shown"))
        .unwrap_or_else(|| panic!("unexpected message shape: {message:?}"));
    // "line N at character I" or "a line at character I", then maybe the name.
    let (place, name) = match rest.split_once(" (the value of ") {
        Some((place, tail)) => {
            let name = tail
                .strip_suffix(": check its quotes)")
                .unwrap_or_else(|| panic!("unexpected message shape: {message:?}"));
            (place, Some(name))
        }
        None => (rest, None),
    };
    let place_ok = place
        .strip_prefix("line ")
        .or_else(|| place.strip_prefix("a line"))
        .is_some_and(|p| {
            p.chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || "atcharcter".contains(c))
        });
    assert!(place_ok, "unexpected place in {message:?}");
    if let Some(name) = name {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a name with other characters: {message:?}"
        );
        let text = String::from_utf8_lossy(file);
        let assigned = text.lines().any(|line| {
            let line = line.trim_start();
            let line = line.trim_start_matches("export ");
            line.split_once('=').is_some_and(|(n, _)| n.trim() == name)
        });
        assert!(
            assigned,
            "{name:?} is shown as a name but is no `NAME=` of the file: {message:?}"
        );
    }
}
