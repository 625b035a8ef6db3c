//! Expanding a custom command's template into the prompt sent to the model.
//!
//! One pass over the template, so nothing inserted is expanded again (a file's content or a
//! command's output may hold `!{…}`; it stays text):
//! - `{{args}}` and `$ARGUMENTS` → the text after the command, as typed;
//! - `$1` … `$9` → its shell-style words (quotes and backslashes respected; missing → empty);
//! - `@{path}` → the file's content, read by the caller's [`FileReader`];
//! - `!{command}` → the command's output, run by the caller's [`ShellRunner`] (which asks for
//!   approval); inside it the argument placeholders are inserted shell-quoted.
//!
//! If the template uses no argument placeholder and arguments were given, they are appended
//! after a blank line (as Qwen Code does). Any failure is returned before anything is sent.
//! [`CustomCommand::shell_commands`] lists the `!{…}` commands an expansion would run, without
//! reading or running anything, so an interactive caller can ask first.

use std::future::Future;

use crate::commands::CustomCommand;

/// Reads `@{path}` for a command, applying the caller's read_file limits and workspace rules.
pub trait FileReader {
    /// The file's text, or why it cannot be read.
    fn read(&self, path: &str) -> impl Future<Output = Result<String, String>>;
}

/// Why a `!{…}` command produced no output to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellRefusal {
    /// The user (or the approval mode) did not allow it.
    Denied(String),
    /// It ran and failed (non-zero exit, timeout, could not start).
    Failed(String),
}

/// Runs `!{command}` for a command: asks for approval as a shell call would, then runs it.
pub trait ShellRunner {
    fn run(&self, command: &str) -> impl Future<Output = Result<String, ShellRefusal>>;
}

/// Why a command did not expand; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error(
        "/{command} runs shell commands (`!{{…}}`) and comes from this project, which is not trusted; run `qcode trust` to allow it"
    )]
    Untrusted { command: String },
    #[error("/{command}: `{opener}` at byte {offset} is never closed with `}}`")]
    Unclosed {
        command: String,
        opener: &'static str,
        offset: usize,
    },
    #[error("/{command}: {what} is empty")]
    Empty { command: String, what: &'static str },
    #[error("/{command}: cannot include @{{{path}}}: {reason}")]
    File {
        command: String,
        path: String,
        reason: String,
    },
    #[error("/{command}: !{{{shell}}} was not run: {reason}")]
    ShellDenied {
        command: String,
        shell: String,
        reason: String,
    },
    #[error("/{command}: !{{{shell}}} failed: {reason}")]
    ShellFailed {
        command: String,
        shell: String,
        reason: String,
    },
    #[error("/{command}: arguments: {reason}")]
    Arguments { command: String, reason: String },
}

/// Splits arguments into shell-style words: whitespace separates, `'…'` is literal, `"…"`
/// allows `\"` and `\\`, a backslash outside quotes escapes the next character.
pub fn shell_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Quotes one value for `sh` (single quotes; `'` becomes `'\''`).
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

struct Args<'a> {
    raw: &'a str,
    words: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Raw,
    Shell,
}

/// Replaces `{{args}}`, `$ARGUMENTS` and `$1`…`$9` in `text`; returns whether any was seen.
fn substitute(text: &str, args: &Args<'_>, quoting: Quoting, out: &mut String) -> bool {
    let put = |v: &str, out: &mut String| match quoting {
        Quoting::Raw => out.push_str(v),
        Quoting::Shell => out.push_str(&shell_quote(v)),
    };
    let mut used = false;
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{{args}}") {
            put(args.raw, out);
            used = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("$ARGUMENTS") {
            put(args.raw, out);
            used = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('$')
            && let Some(d) = r.chars().next().and_then(|c| c.to_digit(10))
            && d >= 1
        {
            let word = args.words.get(d as usize - 1).map_or("", String::as_str);
            put(word, out);
            used = true;
            rest = &r[1..];
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    used
}

/// Finds the `}` closing a `{` opened just before `from` (nested braces balance).
fn closing_brace(text: &str, from: usize) -> Option<usize> {
    let mut depth = 1usize;
    for (i, c) in text[from..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i);
                }
            }
            _ => {}
        }
    }
    None
}

impl CustomCommand {
    /// The prompt for `/name <args>`. Files and commands are read and run in template order;
    /// the first failure stops the expansion.
    pub async fn expand(
        &self,
        args: &str,
        files: &impl FileReader,
        shell: &impl ShellRunner,
    ) -> Result<String, ExpandError> {
        if self.needs_trust() {
            return Err(ExpandError::Untrusted {
                command: self.name.clone(),
            });
        }
        let command = || self.name.clone();
        let args = Args {
            raw: args.trim(),
            words: shell_words(args).map_err(|reason| ExpandError::Arguments {
                command: command(),
                reason,
            })?,
        };
        let template = self.template.as_str();
        let mut out = String::with_capacity(template.len());
        let mut used_args = false;
        let mut pos = 0;
        while pos < template.len() {
            let next = [template[pos..].find("@{"), template[pos..].find("!{")]
                .into_iter()
                .flatten()
                .min();
            let Some(rel) = next else {
                used_args |= substitute(&template[pos..], &args, Quoting::Raw, &mut out);
                break;
            };
            let start = pos + rel;
            used_args |= substitute(&template[pos..start], &args, Quoting::Raw, &mut out);
            let is_file = template[start..].starts_with('@');
            let opener = if is_file { "@{" } else { "!{" };
            let Some(end) = closing_brace(template, start + 2) else {
                return Err(ExpandError::Unclosed {
                    command: command(),
                    opener,
                    offset: start,
                });
            };
            let inner = &template[start + 2..end];
            let mut value = String::new();
            let quoting = if is_file {
                Quoting::Raw
            } else {
                Quoting::Shell
            };
            used_args |= substitute(inner, &args, quoting, &mut value);
            let value = value.trim().to_string();
            if value.is_empty() {
                return Err(ExpandError::Empty {
                    command: command(),
                    what: if is_file {
                        "a file path @{}"
                    } else {
                        "a shell command !{}"
                    },
                });
            }
            if is_file {
                let text = files
                    .read(&value)
                    .await
                    .map_err(|reason| ExpandError::File {
                        command: command(),
                        path: value.clone(),
                        reason,
                    })?;
                out.push_str(&text);
            } else {
                match shell.run(&value).await {
                    Ok(text) => out.push_str(&text),
                    Err(ShellRefusal::Denied(reason)) => {
                        return Err(ExpandError::ShellDenied {
                            command: command(),
                            shell: value,
                            reason,
                        });
                    }
                    Err(ShellRefusal::Failed(reason)) => {
                        return Err(ExpandError::ShellFailed {
                            command: command(),
                            shell: value,
                            reason,
                        });
                    }
                }
            }
            pos = end + 1;
        }
        if !used_args && !args.raw.is_empty() {
            out.truncate(out.trim_end().len());
            out.push_str("\n\n");
            out.push_str(args.raw);
        }
        Ok(out)
    }
}

/// A [`FileReader`] that reads nothing and a [`ShellRunner`] that runs nothing but records
/// each command: [`CustomCommand::shell_commands`]'s dry run.
struct DryRun {
    commands: std::sync::Mutex<Vec<String>>,
}

impl FileReader for DryRun {
    async fn read(&self, _path: &str) -> Result<String, String> {
        Ok(String::new())
    }
}

impl ShellRunner for DryRun {
    async fn run(&self, command: &str) -> Result<String, ShellRefusal> {
        if let Ok(mut c) = self.commands.lock() {
            c.push(command.to_string());
        }
        Ok(String::new())
    }
}

impl CustomCommand {
    /// The `!{…}` commands `/name <args>` would run, in template order, exactly as
    /// [`CustomCommand::expand`] would pass them to its [`ShellRunner`] (arguments inserted
    /// shell-quoted), without reading a file or running anything: what an interactive front
    /// end shows before asking. The errors are those of `expand` that need no file or shell
    /// (untrusted, unclosed, empty, bad arguments).
    pub async fn shell_commands(&self, args: &str) -> Result<Vec<String>, ExpandError> {
        let dry = DryRun {
            commands: std::sync::Mutex::new(Vec::new()),
        };
        self.expand(args, &dry, &dry).await?;
        Ok(dry.commands.into_inner().unwrap_or_default())
    }
}
