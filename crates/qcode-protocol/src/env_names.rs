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

/// Whether `s` is shaped like an API key or token: a known prefix, or a long unbroken run of
/// letters and digits (with `-`, `_`) that mixes both. Paths and ordinary words are not.
pub fn looks_like_key(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "sk-",
        "sk_",
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "eyJ",
    ];
    let charset = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if s.len() < 16 || !s.chars().all(charset) {
        return false;
    }
    if PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let letters = s.chars().filter(char::is_ascii_alphabetic).count();
    s.len() >= 32 && digits >= 4 && letters >= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shaped_values_and_ordinary_ones() {
        assert!(looks_like_key("sk-abcdefghijklmnop1234"));
        assert!(looks_like_key("ghp_0123456789abcdefghij"));
        assert!(looks_like_key("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"));
        assert!(!looks_like_key("sk-short"));
        assert!(!looks_like_key("/usr/local/bin/some-server-binary"));
        assert!(!looks_like_key("modelcontextprotocol-server-everything"));
    }

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
