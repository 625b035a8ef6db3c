//! The prompt of a headless run: the `-p` text or the positional words, plus piped stdin
//! (at most [`MAX_STDIN_BYTES`]).

use std::io::{IsTerminal, Read};

use qcode_protocol::{ErrorKind, Problem};

/// Piped input larger than this is refused (it would not fit any context window anyway).
pub const MAX_STDIN_BYTES: u64 = 16 * 1024 * 1024;

/// Where standard input comes from: piped text is read and added to the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    Piped,
    Terminal,
}

impl Stdin {
    pub fn detect() -> Self {
        if std::io::stdin().is_terminal() {
            Self::Terminal
        } else {
            Self::Piped
        }
    }
}

/// The prompt from the command line and, when stdin is piped, the text read from it (off the
/// runtime thread): both joined by a blank line. Empty is an input error.
pub async fn prepare_prompt(prompt: Option<String>, stdin: Stdin) -> Result<String, Problem> {
    let piped = match stdin {
        Stdin::Piped => tokio::task::spawn_blocking(|| read_stdin(std::io::stdin().lock()))
            .await
            .map_err(|e| Problem::internal(format!("reading stdin failed: {e}")))??,
        Stdin::Terminal => String::new(),
    };
    join_prompt(prompt, &piped)
}

fn join_prompt(prompt: Option<String>, piped: &str) -> Result<String, Problem> {
    let prompt = match (prompt, piped.trim().is_empty()) {
        (Some(p), true) => p,
        (Some(p), false) => format!("{p}\n\n{piped}"),
        (None, false) => piped.to_string(),
        (None, true) => String::new(),
    };
    if prompt.trim().is_empty() {
        return Err(Problem::new(ErrorKind::Input, "the prompt is empty")
            .with_hint("pass a prompt with -p \"…\" or pipe text into qcode"));
    }
    Ok(prompt)
}

/// All of `input` as text (invalid UTF-8 replaced), refused beyond [`MAX_STDIN_BYTES`].
pub fn read_stdin(input: impl Read) -> Result<String, Problem> {
    let mut bytes = Vec::new();
    input
        .take(MAX_STDIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Problem::new(ErrorKind::Input, format!("cannot read stdin: {e}")))?;
    if bytes.len() as u64 > MAX_STDIN_BYTES {
        return Err(Problem::new(
            ErrorKind::Input,
            format!(
                "piped input is larger than {} MiB",
                MAX_STDIN_BYTES / 1024 / 1024
            ),
        )
        .with_hint("pipe a smaller excerpt, or let qcode read the file with its tools"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_and_piped_text_are_joined() {
        assert_eq!(join_prompt(Some("fix".into()), "").unwrap(), "fix");
        assert_eq!(join_prompt(Some("fix".into()), " \n").unwrap(), "fix");
        assert_eq!(
            join_prompt(Some("fix".into()), "log\n").unwrap(),
            "fix\n\nlog\n"
        );
        assert_eq!(join_prompt(None, "log").unwrap(), "log");
        let empty = join_prompt(None, "  ").unwrap_err();
        assert_eq!(empty.kind, ErrorKind::Input);
        assert_eq!(empty.message, "the prompt is empty");
        assert!(join_prompt(Some(" ".into()), "").is_err());
    }

    #[tokio::test]
    async fn a_terminal_adds_nothing() {
        assert_eq!(
            prepare_prompt(Some("hi".into()), Stdin::Terminal)
                .await
                .unwrap(),
            "hi"
        );
    }

    #[test]
    fn stdin_is_capped_at_16_mib() {
        assert_eq!(
            read_stdin(&b"caf\xc3\xa9 \xff"[..]).unwrap(),
            "café \u{fffd}"
        );
        let exact = vec![b'a'; MAX_STDIN_BYTES as usize];
        assert_eq!(read_stdin(&exact[..]).unwrap().len(), exact.len());
        let over = vec![b'a'; MAX_STDIN_BYTES as usize + 1];
        let err = read_stdin(&over[..]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Input);
        assert_eq!(err.message, "piped input is larger than 16 MiB");
        assert!(err.hint.is_some());
    }
}
