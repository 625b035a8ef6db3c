//! A conservative reader of bash command lines for the shell allow-list.
//!
//! [`parse`] splits a command into the simple commands bash would run — across `;`, `&`, `&&`,
//! `||`, `|`, `|&`, newlines, subshells `( … )`, groups `{ …; }`, and inside command
//! substitutions `$( … )` / `` `…` `` and process substitutions `<( … )` / `>( … )` — with each
//! command's words unquoted. Redirections stay with their command and are not words; one that
//! writes to a file (anything but `/dev/null`, `/dev/stdout`, `/dev/stderr`) is recorded.
//!
//! Whatever it cannot classify with certainty is an error, so the caller asks the user:
//! unbalanced quotes, here-documents, arithmetic, `${…}` beyond a plain name, control flow and
//! function definitions, a command word that is computed (`$CMD`, globs, braces, `~`), and
//! commands that run their arguments as shell code (`eval`, `exec`, `source`, `sh -c`, …).
//! It never runs or expands anything.

use std::fmt;

/// One word of a simple command, with quotes and escapes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// False when bash would change the word before running it: an expansion (`$x`, `$(…)`),
    /// an unquoted glob or brace, a leading `~`, or an ANSI-C / locale quote.
    pub literal: bool,
}

/// A simple command: leading `NAME=value` assignments, then words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SimpleCommand {
    pub assignments: usize,
    pub words: Vec<Word>,
}

impl SimpleCommand {
    /// Whether the command's words begin with `prefix` (literal words, compared exactly).
    pub(crate) fn starts_with(&self, prefix: &[String]) -> bool {
        self.assignments == 0
            && !prefix.is_empty()
            && self.words.len() >= prefix.len()
            && self
                .words
                .iter()
                .zip(prefix)
                .all(|(w, p)| w.literal && w.text == *p)
    }
}

/// Every simple command of a command line (those inside a substitution come before the command
/// containing it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Script {
    pub commands: Vec<SimpleCommand>,
    /// Some redirection writes to a file (anything but `/dev/null`, `/dev/stdout`,
    /// `/dev/stderr`, or a file descriptor), or reads from a computed target or from bash's
    /// `/dev/tcp/…` / `/dev/udp/…` network connections.
    pub writes_files: bool,
    /// Anything beyond one simple command: an operator, group, substitution or redirection.
    pub compound: bool,
}

impl Script {
    /// The words of a script that is one simple command of literal words and nothing else —
    /// what a prefix rule can be made of.
    pub(crate) fn plain_words(&self) -> Option<Vec<String>> {
        match self.commands.as_slice() {
            [only]
                if !self.compound
                    && !self.writes_files
                    && only.assignments == 0
                    && !only.words.is_empty()
                    && only.words.iter().all(|w| w.literal) =>
            {
                Some(only.words.iter().map(|w| w.text.clone()).collect())
            }
            _ => None,
        }
    }
}

/// Why a command line cannot be classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unclassifiable {
    Empty,
    UnclosedQuote,
    UnclosedSubstitution,
    Heredoc,
    Arithmetic,
    ParameterExpansion,
    ControlFlow,
    FunctionDefinition,
    ComputedCommandWord,
    RunsShellCode,
    Syntax,
    TooDeep,
}

impl fmt::Display for Unclassifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "an empty command",
            Self::UnclosedQuote => "an unclosed quote",
            Self::UnclosedSubstitution => "an unclosed substitution or group",
            Self::Heredoc => "a here-document",
            Self::Arithmetic => "arithmetic expansion",
            Self::ParameterExpansion => "a parameter expansion beyond ${NAME}",
            Self::ControlFlow => "control flow (if, for, while, case, …)",
            Self::FunctionDefinition => "a function definition",
            Self::ComputedCommandWord => "a command name that is computed when it runs",
            Self::RunsShellCode => "a command that runs its arguments as shell code",
            Self::Syntax => "syntax the checker does not understand",
            Self::TooDeep => "substitutions nested too deeply",
        })
    }
}

/// Reserved words: a command starting with one is control flow, not a simple command.
const RESERVED: &[&str] = &[
    "!", "[[", "]]", "{", "}", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
    "function", "if", "in", "select", "then", "time", "until", "while",
];

/// Commands that run their arguments as shell code (compared on the command's file name).
const RUNS_SHELL_CODE: &[&str] = &[
    ".", "ash", "bash", "builtin", "command", "csh", "dash", "enable", "eval", "exec", "fish",
    "ksh", "mksh", "sh", "source", "tcsh", "trap", "zsh",
];

/// Redirection targets that are not files.
const HARMLESS_TARGETS: &[&str] = &["/dev/null", "/dev/stdout", "/dev/stderr"];

const MAX_DEPTH: usize = 16;

/// Splits `text` into its simple commands; see the module documentation.
pub(crate) fn parse(text: &str) -> Result<Script, Unclassifiable> {
    parse_at(text, 0)
}

fn parse_at(text: &str, depth: usize) -> Result<Script, Unclassifiable> {
    if depth > MAX_DEPTH {
        return Err(Unclassifiable::TooDeep);
    }
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth,
        out: Script::default(),
    };
    p.list(Until::End)?;
    Ok(p.out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    End,
    Paren,
    Brace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redirect {
    HereString,
    Input,
    Output,
    DupOutput,
    DupInput,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    out: Script,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Characters that end a word (bash's metacharacters).
fn is_meta(c: char) -> bool {
    is_blank(c) || matches!(c, '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>')
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(c) if is_blank(c) => self.pos += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.pos += 2,
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn skip_blanks_and_newlines(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    /// The unquoted word `w` stands at the cursor, followed by a metacharacter or the end.
    fn at_word(&self, w: &str) -> bool {
        let n = w.chars().count();
        w.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
            && self.peek_at(n).is_none_or(is_meta)
    }

    fn at_terminator(&self, until: Until) -> bool {
        match until {
            Until::End => self.peek().is_none(),
            Until::Paren => self.peek() == Some(')'),
            Until::Brace => self.at_word("}"),
        }
    }

    /// A list of pipelines joined by `;`, `&`, `&&`, `||` and newlines, up to `until`.
    fn list(&mut self, until: Until) -> Result<(), Unclassifiable> {
        let mut count = 0usize;
        let mut need_command = false;
        loop {
            self.skip_blanks_and_newlines();
            if self.at_terminator(until) {
                if need_command {
                    return Err(Unclassifiable::Syntax);
                }
                break;
            }
            if self.peek().is_none() {
                return Err(Unclassifiable::UnclosedSubstitution);
            }
            self.pipeline()?;
            count += 1;
            need_command = false;
            self.skip_blanks();
            match (self.peek(), self.peek_at(1)) {
                (None | Some(')'), _) => {}
                (Some(';'), Some(';' | '&')) => return Err(Unclassifiable::ControlFlow),
                (Some('&'), Some('&')) | (Some('|'), Some('|')) => {
                    self.pos += 2;
                    self.out.compound = true;
                    need_command = true;
                }
                (Some(';' | '&' | '\n'), _) => {
                    self.pos += 1;
                    self.out.compound = true;
                }
                _ => return Err(Unclassifiable::Syntax),
            }
        }
        if count == 0 {
            return Err(Unclassifiable::Empty);
        }
        Ok(())
    }

    /// Commands joined by `|` or `|&`.
    fn pipeline(&mut self) -> Result<(), Unclassifiable> {
        self.command()?;
        loop {
            self.skip_blanks();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                self.pos += 1;
                if self.peek() == Some('&') {
                    self.pos += 1;
                }
                self.out.compound = true;
                self.skip_blanks_and_newlines();
                self.command()?;
            } else {
                return Ok(());
            }
        }
    }

    fn command(&mut self) -> Result<(), Unclassifiable> {
        self.skip_blanks();
        if self.peek() == Some('(') {
            if self.peek_at(1) == Some('(') {
                return Err(Unclassifiable::Arithmetic);
            }
            self.pos += 1;
            self.nested(Until::Paren)?;
            self.pos += 1; // the `)`
            return self.redirections_after_group();
        }
        if self.at_word("{") {
            self.pos += 1;
            self.nested(Until::Brace)?;
            self.pos += 1; // the `}`
            return self.redirections_after_group();
        }
        self.simple()
    }

    /// A nested list (subshell, group or `$( … )`); leaves the cursor on its terminator.
    fn nested(&mut self, until: Until) -> Result<(), Unclassifiable> {
        self.out.compound = true;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unclassifiable::TooDeep);
        }
        self.list(until)?;
        self.depth -= 1;
        if self.at_terminator(until) && until != Until::End {
            Ok(())
        } else {
            Err(Unclassifiable::UnclosedSubstitution)
        }
    }

    fn redirections_after_group(&mut self) -> Result<(), Unclassifiable> {
        loop {
            self.skip_blanks();
            if !self.redirection_if_any()? {
                return Ok(());
            }
        }
    }

    /// Parses a redirection (with its fd number) if one starts at the cursor.
    fn redirection_if_any(&mut self) -> Result<bool, Unclassifiable> {
        let digits = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        match (self.peek_at(digits), self.peek_at(digits + 1)) {
            (Some('<' | '>'), Some('(')) => Ok(false),
            (Some('<' | '>'), _) => {
                self.pos += digits;
                self.redirection()?;
                Ok(true)
            }
            (Some('&'), Some('>')) if digits == 0 => {
                self.pos += 1;
                self.redirection()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// At `<`, `>` (or the `>` of `&>`): the operator and its target word.
    fn redirection(&mut self) -> Result<(), Unclassifiable> {
        self.out.compound = true;
        let both = self.pos > 0 && self.chars[self.pos - 1] == '&';
        let kind = match (self.peek(), self.peek_at(1), self.peek_at(2)) {
            (Some('<'), Some('<'), Some('<')) => {
                self.pos += 3;
                Redirect::HereString
            }
            (Some('<'), Some('<'), _) => return Err(Unclassifiable::Heredoc),
            (Some('<'), Some('>'), _) => {
                self.pos += 2;
                Redirect::Output
            }
            (Some('<'), Some('&'), _) => {
                self.pos += 2;
                Redirect::DupInput
            }
            (Some('<'), _, _) => {
                self.pos += 1;
                Redirect::Input
            }
            (Some('>'), Some('>' | '|'), _) => {
                self.pos += 2;
                Redirect::Output
            }
            (Some('>'), Some('&'), _) if !both => {
                self.pos += 2;
                Redirect::DupOutput
            }
            (Some('>'), _, _) => {
                self.pos += 1;
                Redirect::Output
            }
            _ => return Err(Unclassifiable::Syntax),
        };
        self.skip_blanks();
        if self
            .peek()
            .is_none_or(|c| is_meta(c) && c != '<' && c != '>')
        {
            return Err(Unclassifiable::Syntax);
        }
        let target = self.word()?;
        let fd_or_close = target.literal
            && !target.text.is_empty()
            && target
                .text
                .strip_suffix('-')
                .unwrap_or(&target.text)
                .chars()
                .all(|c| c.is_ascii_digit());
        let harmless = target.literal && HARMLESS_TARGETS.contains(&target.text.as_str());
        // bash opens a network connection for `/dev/tcp/…` and `/dev/udp/…`, also for input;
        // a computed input target might name one.
        let network = !target.literal
            || ["/dev/tcp/", "/dev/udp/"]
                .iter()
                .any(|p| target.text.starts_with(p));
        match kind {
            Redirect::Input if network => self.out.writes_files = true,
            Redirect::HereString | Redirect::Input | Redirect::DupInput => {}
            Redirect::Output if harmless => {}
            Redirect::DupOutput if fd_or_close || harmless => {}
            Redirect::Output | Redirect::DupOutput => self.out.writes_files = true,
        }
        Ok(())
    }

    fn simple(&mut self) -> Result<(), Unclassifiable> {
        let mut cmd = SimpleCommand::default();
        let mut redirected = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some('\n' | ';' | '|' | ')') => break,
                Some('&') if self.peek_at(1) != Some('>') => break,
                Some('(') => {
                    return Err(if cmd.words.len() == 1 {
                        Unclassifiable::FunctionDefinition
                    } else {
                        Unclassifiable::Syntax
                    });
                }
                _ => {}
            }
            if self.redirection_if_any()? {
                redirected = true;
                continue;
            }
            let start = self.pos;
            let word = self.word()?;
            if cmd.words.is_empty() && is_assignment(&self.chars[start..self.pos]) {
                cmd.assignments += 1;
            } else {
                cmd.words.push(word);
            }
        }
        if cmd.words.is_empty() && cmd.assignments == 0 && !redirected {
            return Err(Unclassifiable::Syntax);
        }
        if let Some(first) = cmd.words.first() {
            if !first.literal {
                return Err(Unclassifiable::ComputedCommandWord);
            }
            if RESERVED.contains(&first.text.as_str()) {
                return Err(Unclassifiable::ControlFlow);
            }
            let name = first.text.rsplit('/').next().unwrap_or(&first.text);
            if RUNS_SHELL_CODE.contains(&name) {
                return Err(Unclassifiable::RunsShellCode);
            }
        }
        self.out.commands.push(cmd);
        Ok(())
    }
}

/// `NAME=…`, `NAME+=…` or `NAME[…]=…`, judged on the word's source text (quotes included).
fn is_assignment(source: &[char]) -> bool {
    let name = source
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .count();
    name > 0
        && !source[0].is_ascii_digit()
        && matches!(
            (source.get(name), source.get(name + 1)),
            (Some('='), _) | (Some('+'), Some('=')) | (Some('['), _)
        )
}

mod words;

#[cfg(test)]
mod tests;
