//! The environment a hook runs in: never qcode's own environment as a whole.

/// Parts of a variable name that mark it as a secret (case-insensitive); such a variable never
/// reaches a hook, whoever asks.
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

/// What [`HookEnv::core_from`] keeps of a parent environment (`LC_` prefixes included).
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

/// The variables a hook gets (plus `QCODE_PROJECT_DIR`, `QWEN_PROJECT_DIR` and
/// `CLAUDE_PROJECT_DIR`, set to the session's working directory by the runner).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEnv {
    vars: Vec<(String, String)>,
}

impl HookEnv {
    /// Exactly these variables, minus any secret-looking name.
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| !is_secret_name(k))
            .collect();
        vars.sort();
        vars.dedup_by(|a, b| a.0 == b.0);
        Self { vars }
    }

    /// The core variables of `parent` (PATH, HOME, locale, terminal, …), nothing else.
    pub fn core_from(parent: impl IntoIterator<Item = (String, String)>) -> Self {
        Self::new(
            parent
                .into_iter()
                .filter(|(k, _)| CORE_VARS.contains(&k.as_str()) || k.starts_with("LC_")),
        )
    }

    /// [`HookEnv::core_from`] over this process's environment.
    pub fn core_from_process() -> Self {
        Self::core_from(std::env::vars())
    }

    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }
}
