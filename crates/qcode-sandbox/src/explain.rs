//! Saying when a failed command was stopped by the sandbox: a heuristic over its output (the
//! errors `EACCES` / `EPERM` / `EROFS` print as, refused connections) checked against the
//! policy — a denial names a path the policy keeps out of reach, or the command tried to
//! connect while the network is off.

use std::path::{Path, PathBuf};

use crate::policy::{Mode, Policy};

const DENIED: &[&str] = &[
    "permission denied",
    "operation not permitted",
    "read-only file system",
];

const NETWORK_WORDS: &[&str] = &[
    "connect",
    "connection",
    "socket",
    "port ",
    "network",
    "bind",
];

/// The text to add to a failed command's result when the sandbox is the likely cause; `None`
/// when nothing in `output` points at it. `cwd` is where the command ran.
pub fn explain_failure(policy: &Policy, output: &str, cwd: &Path) -> Option<String> {
    if policy.mode == Mode::Off {
        return None;
    }
    let mut reads: Vec<PathBuf> = Vec::new();
    let mut writes: Vec<PathBuf> = Vec::new();
    let mut network = false;
    for line in output.lines().take(2000) {
        let lower = line.to_lowercase();
        let denied = DENIED.iter().any(|d| lower.contains(d));
        let refused = lower.contains("connection refused")
            || lower.contains("couldn't connect")
            || lower.contains("failed to connect");
        if !policy.network && (refused || denied) && NETWORK_WORDS.iter().any(|w| lower.contains(w))
        {
            network = true;
        }
        if !denied {
            continue;
        }
        for path in paths_in(line) {
            let full = cwd.join(&path);
            if policy.denies_read(&full, cwd) {
                if !reads.contains(&full) {
                    reads.push(full);
                }
            } else if !policy.allows_write(&full, cwd) && !writes.contains(&full) {
                writes.push(full);
            }
        }
    }
    if reads.is_empty() && writes.is_empty() && !network {
        return None;
    }
    let mut why = Vec::new();
    if !reads.is_empty() {
        why.push(format!(
            "{} {} a credential store, which no sandboxed command may read or write",
            list(&reads),
            if reads.len() == 1 { "is" } else { "are" }
        ));
    }
    if !writes.is_empty() {
        let allowed = match policy.mode {
            Mode::ReadOnly => "only the temp directory is writable in read-only mode".to_string(),
            Mode::WorkspaceWrite | Mode::Off => {
                "only the workspace (but .git/hooks and .qcode), the temp directory and \
                 tools.sandbox.writableRoots are writable"
                    .to_string()
            }
        };
        why.push(format!(
            "writing {} is outside what the sandbox allows ({allowed})",
            list(&writes)
        ));
    }
    if network {
        why.push(
            "network access is off in the sandbox (TCP connections and listening sockets are \
             refused; tools.sandbox.network: true in the user settings allows them)"
                .to_string(),
        );
    }
    Some(format!(
        "[sandbox] This command ran in the {} sandbox, which probably stopped (part of) it: {}. If the \
         command really needs this, call run_shell_command again with sandbox: \"off\"; the \
         user will be asked to approve running it outside the sandbox.",
        policy.mode,
        why.join("; ")
    ))
}

fn list(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .take(3)
        .map(|p| p.display().to_string())
        .collect();
    let more = paths.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The words of `line` that look like paths: they contain `/` or start with `.`, stripped of
/// quotes and the punctuation error messages put around them.
fn paths_in(line: &str) -> Vec<PathBuf> {
    line.split(|c: char| {
        c.is_whitespace() || c == '\'' || c == '"' || c == '`' || c == '‘' || c == '’'
    })
    .map(|w| w.trim_matches(|c: char| matches!(c, ':' | ',' | ';' | '(' | ')' | '[' | ']')))
    .filter(|w| !w.is_empty() && (w.contains('/') || w.starts_with('.')) && !w.contains("://"))
    .map(PathBuf::from)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyPaths;

    fn policy(network: bool) -> Policy {
        let paths = PolicyPaths {
            qcode_home: "/h/.qcode".into(),
            qwen_dir: "/h/.qwen".into(),
        };
        let mut p = Policy::new(Mode::WorkspaceWrite, vec!["/h/proj".into()], &paths);
        p.temp_dirs = vec!["/tmp".into()];
        p.network = network;
        p
    }

    #[test]
    fn a_denied_write_outside_the_workspace_is_explained() {
        let cwd = Path::new("/h/proj");
        let out = "bash: /h/outside.txt: Permission denied\n";
        let e = explain_failure(&policy(false), out, cwd).unwrap();
        assert!(e.contains("writing /h/outside.txt is outside"), "{e}");
        assert!(e.contains("sandbox: \"off\""), "{e}");
        let out = "touch: cannot touch '.git/hooks/pre-commit': Read-only file system";
        let e = explain_failure(&policy(false), out, cwd).unwrap();
        assert!(e.contains("/h/proj/.git/hooks/pre-commit"), "{e}");
    }

    #[test]
    fn a_denied_read_of_a_credential_store_is_explained() {
        let out = "cat: /h/.qcode/credentials.json: Permission denied";
        let e = explain_failure(&policy(false), out, Path::new("/h/proj")).unwrap();
        assert!(
            e.contains("/h/.qcode/credentials.json is a credential store"),
            "{e}"
        );
    }

    #[test]
    fn refused_connections_are_explained_only_with_the_network_off() {
        let out = "curl: (7) Failed to connect to 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server";
        let e = explain_failure(&policy(false), out, Path::new("/h/proj")).unwrap();
        assert!(e.contains("network access is off"), "{e}");
        assert_eq!(
            explain_failure(&policy(true), out, Path::new("/h/proj")),
            None
        );
    }

    #[test]
    fn failures_the_sandbox_did_not_cause_get_nothing() {
        let cwd = Path::new("/h/proj");
        for out in [
            "error[E0308]: mismatched types\n --> src/main.rs:3:5",
            "rm: cannot remove 'src/x': Permission denied",
            "Permission denied",
            "",
        ] {
            assert_eq!(explain_failure(&policy(false), out, cwd), None, "{out}");
        }
        let mut off = policy(false);
        off.mode = Mode::Off;
        assert_eq!(
            explain_failure(
                &off,
                "cat: /h/.qcode/credentials.json: Permission denied",
                cwd
            ),
            None
        );
    }
}
