//! Environment variable names every crate that starts a program agrees on: which names hold
//! secrets, and the small core set a clean environment keeps. (Names only: no I/O.)

/// Parts of a variable name that mark it as a secret (case-insensitive): such a variable is
/// never passed to a program qcode starts unless the user names it explicitly.
pub const SECRET_NAME_PARTS: &[&str] = &[
    "KEY",
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
];

/// The variables a clean environment keeps (`LC_*` too, see [`is_core_var`]).
pub const CORE_VARS: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "USERNAME",
    "TMPDIR",
    "TEMP",
    "TMP",
    "TERM",
    "COLORTERM",
    "LANG",
    "LANGUAGE",
    "TZ",
];

/// Whether a variable name looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

/// Whether a clean environment keeps `name`: one of [`CORE_VARS`] or a locale `LC_*`.
pub fn is_core_var(name: &str) -> bool {
    CORE_VARS.contains(&name) || name.starts_with("LC_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_core_names() {
        for s in [
            "OPENAI_API_KEY",
            "github_token",
            "DB_PASSWD",
            "X_AUTH",
            "session_cookie",
        ] {
            assert!(is_secret_name(s), "{s}");
        }
        for s in ["PATH", "HOME", "LANG", "EDITOR"] {
            assert!(!is_secret_name(s), "{s}");
        }
        assert!(is_core_var("PATH") && is_core_var("LC_ALL"));
        assert!(!is_core_var("EDITOR") && !is_core_var("path"));
    }
}
