//! Entry points for the fuzz targets in `fuzz/` (not a stable API: hidden from the docs, may
//! change with the code). Thin wrappers over the crate-private shell-command reader of the
//! allow-list ([`crate::approval`]).

use crate::approval::shell;

/// One simple command as the allow-list sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    /// Leading `NAME=value` assignments.
    pub assignments: usize,
    /// Each word, unquoted, and whether bash would run it unchanged (no expansion).
    pub words: Vec<(String, bool)>,
}

/// A command line split into its simple commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellScript {
    pub commands: Vec<ShellCommand>,
    pub writes_files: bool,
    pub compound: bool,
    /// The words a prefix rule can be made of: set only for one simple command of literal
    /// words and nothing else.
    pub plain_words: Option<Vec<String>>,
}

/// Splits `text` as the allow-list does; the error is why it cannot be classified.
pub fn shell_parse(text: &str) -> Result<ShellScript, String> {
    let script = shell::parse(text).map_err(|why| why.to_string())?;
    Ok(ShellScript {
        plain_words: script.plain_words(),
        writes_files: script.writes_files,
        compound: script.compound,
        commands: script
            .commands
            .into_iter()
            .map(|c| ShellCommand {
                assignments: c.assignments,
                words: c.words.into_iter().map(|w| (w.text, w.literal)).collect(),
            })
            .collect(),
    })
}

/// Whether the entries `patterns` (the text inside `run_shell_command(…)`) allow `command`.
pub fn shell_allowed(command: &str, patterns: &[&str]) -> bool {
    crate::approval::shell_allowed(command, patterns)
}
