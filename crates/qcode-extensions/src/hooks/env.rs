//! The environment a hook runs in: never qcode's own environment as a whole.

pub use qcode_protocol::env_names::{CORE_VARS, SECRET_NAME_PARTS, is_secret_name};

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
                .filter(|(k, _)| qcode_protocol::env_names::is_core_var(k)),
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
