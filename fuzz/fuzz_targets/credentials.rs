//! The credentials files: Qwen OAuth's `oauth_creds.json` (`QwenCredentials::parse`) and the
//! API-key store's `credentials.json` (`ApiKeyStore::load`, which parses the file).
//!
//! Checked: a parsed Qwen login rewrites to text that parses back to the same login and
//! rewrites byte for byte the same (unknown fields kept); no error and no `Debug` output shows
//! a token or key that the file holds.
#![no_main]

#[path = "../common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use qcode_auth::{ApiKeyStore, QwenCredentials};

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    let secrets = secret_strings(data);

    if let Ok(text) = std::str::from_utf8(data) {
        match QwenCredentials::parse(text, Path::new("oauth_creds.json")) {
            Ok(creds) => {
                let rewritten = creds.to_file_text();
                let again = QwenCredentials::parse(&rewritten, Path::new("oauth_creds.json"))
                    .unwrap_or_else(|e| panic!("a rewritten login does not parse: {e}"));
                assert!(again == creds, "a rewritten login parses differently");
                assert_eq!(again.to_file_text(), rewritten, "rewriting is not stable");
                let shown = format!("{creds:?}");
                for secret in [&creds.access_token, &creds.refresh_token] {
                    let s = secret.expose();
                    if is_distinctive(s) && !other_fields(&creds).contains(s) {
                        assert!(!shown.contains(s), "a token in Debug output: {shown}");
                    }
                }
            }
            Err(e) => no_secret_in(&e.to_string(), &secrets),
        }
    }

    let home = dir.join("home");
    if std::fs::create_dir_all(&home).is_err() {
        panic!("cannot create {}", home.display());
    }
    let store = ApiKeyStore::new(&home);
    common::write(&store.path(), data);
    match store.load() {
        Ok(Some(creds)) => {
            let key = creds.api_key.expose();
            let shown = format!("{creds:?}");
            let others = format!("{} {:?}", creds.base_url, creds.model);
            if is_distinctive(key) && !others.contains(key) {
                assert!(!shown.contains(key), "an API key in Debug output: {shown}");
            }
            let _ = creds.validate();
        }
        Ok(None) => panic!("the file was written but reads as missing"),
        Err(e) => no_secret_in(&e.to_string(), &secrets),
    }
});

/// The non-secret fields of a login as text (a token equal to one of them may show).
fn other_fields(creds: &QwenCredentials) -> String {
    format!(
        "{} {:?} {} {:?}",
        creds.token_type,
        creds.resource_url,
        creds.expiry_date,
        creds.extra.keys().collect::<Vec<_>>()
    )
}

/// The string values of the secret fields of the file's top-level object, when it is JSON.
fn secret_strings(data: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(data) else {
        return Vec::new();
    };
    ["access_token", "refresh_token", "id_token", "api_key"]
        .iter()
        .filter_map(|k| map.get(*k)?.as_str())
        .filter(|s| is_distinctive(s))
        .filter(|s| {
            // A secret that is also some other field's value or a key may show as that.
            !map.iter().any(|(k, v)| {
                k.contains(*s)
                    || (!["access_token", "refresh_token", "id_token", "api_key"]
                        .contains(&k.as_str())
                        && v.to_string().contains(*s))
            })
        })
        .map(str::to_string)
        .collect()
}

/// Looks like a token (letters and digits, no blanks, long enough), so that finding it in a
/// message is a leak and not a coincidence with the message's own words and numbers.
fn is_distinctive(s: &str) -> bool {
    s.len() >= 8
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && !s.chars().any(char::is_whitespace)
}

fn no_secret_in(message: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !message.contains(s.as_str()),
            "a secret of the file is in the error: {message}"
        );
    }
}
