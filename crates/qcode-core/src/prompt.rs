//! The system prompt: who the assistant is and how it works, in our own words, plus facts
//! about the environment and the project's context files.

use std::path::Path;

use crate::context::ProjectContext;

const CORE: &str = "\
You are qcode, a careful coding agent working in the user's terminal, inside their project.

How you work:
- Understand before you act: read the relevant files and search the code base before editing. Never guess at file contents, APIs or conventions; check them.
- Make the smallest correct change that solves the problem, in the style of the surrounding code. Do not reformat or rewrite unrelated code.
- Use absolute paths (or paths relative to the working directory) with the file tools. Use `edit` for changes to existing files (the old text must match exactly, including whitespace) and `write_file` for new files.
- After changing code, verify it: run the project's tests, build or linter with `run_shell_command` when they exist.
- Explain shell commands that modify the system before running them. Never run destructive commands (deleting data, force-pushing, rewriting history) unless the user asked for exactly that.
- If a tool call is denied, do not retry it unchanged: adapt, or explain what you would have done.
- Keep the user informed but be concise: short answers, no filler, markdown for code. When you are done, say briefly what you changed and how you verified it.
- Use `todo_write` to plan and track multi-step tasks.
- Never reveal secrets such as API keys or tokens you come across.";

/// Whether the working directory is inside a git repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repository {
    Git,
    NotARepository,
}

/// Facts about where the assistant runs.
#[derive(Debug, Clone)]
pub struct EnvironmentFacts {
    pub cwd: String,
    pub os: &'static str,
    pub date: String,
    pub repository: Repository,
    pub top_level: Vec<String>,
}

/// Gathers environment facts (cheap: one directory listing, capped).
pub fn environment_facts(cwd: &Path, repository: Repository, date: String) -> EnvironmentFacts {
    const MAX_ENTRIES: usize = 200;
    let mut top_level: Vec<String> = std::fs::read_dir(cwd)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name == ".git" {
                        return None;
                    }
                    let dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    Some(if dir { format!("{name}/") } else { name })
                })
                .take(MAX_ENTRIES + 1)
                .collect()
        })
        .unwrap_or_default();
    top_level.sort();
    if top_level.len() > MAX_ENTRIES {
        top_level.truncate(MAX_ENTRIES);
        top_level.push("…".into());
    }
    EnvironmentFacts {
        cwd: cwd.display().to_string(),
        os: std::env::consts::OS,
        date,
        repository,
        top_level,
    }
}

/// The complete system prompt.
pub fn system_prompt(facts: &EnvironmentFacts, context: &ProjectContext) -> String {
    format!("{CORE}\n\n{}", environment_and_context(facts, context))
}

/// A subagent's system prompt: its definition's body, then the same environment facts and
/// context files the main prompt has.
pub fn subagent_prompt(body: &str, environment_and_context: &str) -> String {
    format!("{}\n\n{environment_and_context}", body.trim_end())
}

/// The `# Environment` section and the project's context files, as both the main and the
/// subagents' prompts carry them.
pub fn environment_and_context(facts: &EnvironmentFacts, context: &ProjectContext) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("# Environment\n");
    out.push_str(&format!("- Working directory: {}\n", facts.cwd));
    out.push_str(&format!("- Operating system: {}\n", facts.os));
    out.push_str(&format!("- Today's date: {}\n", facts.date));
    out.push_str(&format!(
        "- Git repository: {}\n",
        match facts.repository {
            Repository::Git => "yes",
            Repository::NotARepository => "no",
        }
    ));
    out.push_str("- Top-level entries of the working directory:\n");
    for e in &facts.top_level {
        out.push_str("  - ");
        out.push_str(e);
        out.push('\n');
    }
    let ctx = context.render();
    if !ctx.is_empty() {
        out.push_str("\n# Project context\nThe user keeps these instructions for this project; follow them.\n\n");
        out.push_str(&ctx);
    }
    out
}

/// Today's date as YYYY-MM-DD (UTC), without a date crate.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_format() {
        let d = today_utc();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }

    #[test]
    fn prompt_has_facts_and_context() {
        let facts = EnvironmentFacts {
            cwd: "/w".into(),
            os: "linux",
            date: "2026-11-24".into(),
            repository: Repository::Git,
            top_level: vec!["src/".into(), "Cargo.toml".into()],
        };
        let ctx = ProjectContext {
            files: vec![crate::context::ContextFile {
                path: "/w/QWEN.md".into(),
                content: "use tabs".into(),
            }],
            notices: vec![],
        };
        let p = system_prompt(&facts, &ctx);
        assert!(p.contains("Working directory: /w"));
        assert!(p.contains("- Git repository: yes\n"));
        assert!(p.contains("  - src/\n"));
        assert!(p.contains("use tabs"));
        let sub = subagent_prompt("You review code.\n", &environment_and_context(&facts, &ctx));
        assert!(
            sub.starts_with("You review code.\n\n# Environment\n"),
            "{sub}"
        );
        assert!(sub.contains("use tabs") && !sub.contains("You are qcode"));
        assert!(p.ends_with(&environment_and_context(&facts, &ctx)));
    }
}
