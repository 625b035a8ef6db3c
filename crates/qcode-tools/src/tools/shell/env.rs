//! Which environment variables a shell command sees.
//!
//! A command the model runs must not see the secrets in qcode's own environment: the provider
//! key qcode was started with, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, the telemetry
//! exporter's headers. The default policy passes everything else (so builds, toolchains and
//! proxies keep working) and drops every variable whose name contains `KEY`, `SECRET`, `TOKEN`,
//! `PASSWORD`, `CREDENTIAL` or `AUTH` (case-insensitive), and qcode's own provider and
//! telemetry variables. Settings (`tools.shell.env`) change it, like Codex's
//! `shell_environment_policy`:
//!
//! - `inherit`: `all` (default), `core` (only `HOME`, `PATH`, `USER`, `LANG`, `LC_*`, `TERM`,
//!   `SHELL`, `TMPDIR`, `TZ` and a few more) or `none`;
//! - `exclude`: more name patterns to drop (`*` and `?` wildcards, case-insensitive);
//! - `include`: name patterns to pass although `inherit` or the secret filter would drop them
//!   (e.g. `["GITHUB_TOKEN", "SSH_AUTH_SOCK"]`); `exclude` still wins;
//! - `set`: variables to set to fixed values (applied last).

use std::ffi::OsString;

/// Which of qcode's variables a command starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvInherit {
    /// Every variable, less the filtered ones.
    #[default]
    All,
    /// Only the variables a shell and common tools need
    /// ([`qcode_protocol::env_names::CORE_VARS`] and `LC_*`).
    Core,
    /// Nothing but what `include` and `set` add.
    None,
}

/// The policy for one session; built from settings by the binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellEnvPolicy {
    pub inherit: EnvInherit,
    /// Name patterns to drop in addition to the default filter.
    pub exclude: Vec<String>,
    /// Name patterns to pass even when `inherit` or the default filter drops them.
    pub include: Vec<String>,
    /// Fixed values, applied last (names are not filtered: the user wrote them).
    pub set: Vec<(String, String)>,
}

/// qcode's own provider, login and telemetry variables (patterns), never passed by default.
pub const QCODE_OWN_VARS: &[&str] = &[
    "OPENAI_*",
    "QWEN_*",
    "QCODE_*",
    "OTEL_*",
    "DASHSCOPE_*",
    "BAILIAN_*",
    "MODELSCOPE_*",
    "OPENROUTER_*",
    "DEEPSEEK_*",
];

impl ShellEnvPolicy {
    /// Whether the default filter drops `name` (a secret-looking name or one of qcode's own).
    pub fn is_filtered_by_default(name: &str) -> bool {
        qcode_protocol::env_names::is_secret_name(name)
            || QCODE_OWN_VARS.iter().any(|p| wildcard_match(p, name))
    }

    /// Whether a variable of qcode's environment named `name` reaches the command.
    pub fn passes(&self, name: &str) -> bool {
        if any_match(&self.exclude, name) {
            return false;
        }
        if any_match(&self.include, name) {
            return true;
        }
        let inherited = match self.inherit {
            EnvInherit::All => true,
            EnvInherit::Core => qcode_protocol::env_names::is_core_var(name),
            EnvInherit::None => false,
        };
        inherited && !Self::is_filtered_by_default(name)
    }

    /// The command's whole environment, from qcode's (`parent`). Names that are not UTF-8 are
    /// kept only when `inherit` is `all` (they cannot match a pattern, nor a secret name).
    pub fn environment(
        &self,
        parent: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        let mut out: Vec<(OsString, OsString)> = parent
            .into_iter()
            .filter(|(k, _)| match k.to_str() {
                Some(name) => self.passes(name),
                None => self.inherit == EnvInherit::All,
            })
            .collect();
        for (k, v) in &self.set {
            out.retain(|(name, _)| name.as_os_str() != k.as_str());
            out.push((k.into(), v.into()));
        }
        out
    }
}

fn any_match(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| wildcard_match(p, name))
}

/// `*` (any run) and `?` (one character), ASCII case-insensitive, the whole name.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_uppercase()).collect();
    let n: Vec<char> = name.chars().map(|c| c.to_ascii_uppercase()).collect();
    // Iterative matcher with backtracking to the last star: linear in practice, no recursion.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    fn names(v: &[(OsString, OsString)]) -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    const PARENT: &[(&str, &str)] = &[
        ("PATH", "/usr/bin"),
        ("HOME", "/home/u"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C"),
        ("CARGO_HOME", "/home/u/.cargo"),
        ("OPENAI_API_KEY", "sk-canary"),
        ("OPENAI_BASE_URL", "https://x"),
        ("GITHUB_TOKEN", "ghp-canary"),
        ("AWS_SECRET_ACCESS_KEY", "aws-canary"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=canary"),
        ("DB_PASSWORD", "pw"),
        ("SSH_AUTH_SOCK", "/tmp/agent"),
        ("QCODE_USAGE_STATS", "0"),
        ("my_api_key", "lower"),
        ("HTTPS_PROXY", "http://proxy:3128"),
    ];

    #[test]
    fn default_policy_drops_secrets_and_qcode_variables() {
        let out = ShellEnvPolicy::default().environment(env(PARENT));
        assert_eq!(
            names(&out),
            [
                "CARGO_HOME",
                "HOME",
                "HTTPS_PROXY",
                "LANG",
                "LC_ALL",
                "PATH"
            ]
        );
    }

    #[test]
    fn include_brings_back_exclude_drops_and_set_wins() {
        let policy = ShellEnvPolicy {
            inherit: EnvInherit::All,
            exclude: vec!["cargo_*".into()],
            include: vec![
                "GITHUB_TOKEN".into(),
                "SSH_AUTH_SOCK".into(),
                "CARGO_HOME".into(),
            ],
            set: vec![
                ("PATH".into(), "/opt/bin".into()),
                ("NEW".into(), "1".into()),
            ],
        };
        let out = policy.environment(env(PARENT));
        assert_eq!(
            names(&out),
            [
                "GITHUB_TOKEN",
                "HOME",
                "HTTPS_PROXY",
                "LANG",
                "LC_ALL",
                "NEW",
                "PATH",
                "SSH_AUTH_SOCK"
            ]
        );
        let path: Vec<_> = out.iter().filter(|(k, _)| k == "PATH").collect();
        assert_eq!(path.len(), 1);
        assert_eq!(path[0].1, "/opt/bin");
    }

    #[test]
    fn core_and_none() {
        let core = ShellEnvPolicy {
            inherit: EnvInherit::Core,
            ..Default::default()
        };
        assert_eq!(
            names(&core.environment(env(PARENT))),
            ["HOME", "LANG", "LC_ALL", "PATH"]
        );
        let none = ShellEnvPolicy {
            inherit: EnvInherit::None,
            include: vec!["PATH".into()],
            ..Default::default()
        };
        assert_eq!(names(&none.environment(env(PARENT))), ["PATH"]);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("LC_*", "LC_ALL"));
        assert!(wildcard_match("lc_*", "LC_ALL"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("A?C", "abc"));
        assert!(!wildcard_match("A?C", "abbc"));
        assert!(wildcard_match("*_TOKEN*", "GH_TOKEN_X"));
        assert!(!wildcard_match("OPENAI_*", "XOPENAI_KEY"));
        assert!(wildcard_match("*a*b*c", "xxaxxbxxc"));
        assert!(!wildcard_match("*a*b*c", "xxaxxbxx"));
    }
}
