//! Words: quotes, escapes, expansions, and the commands inside substitutions.

use super::{Parser, Unclassifiable, Until, Word, is_meta, parse_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quoting {
    Unquoted,
    Double,
}

impl Parser {
    /// One word, up to a metacharacter; substitutions inside it are parsed as commands.
    pub(super) fn word(&mut self) -> Result<Word, Unclassifiable> {
        let start = self.pos;
        let mut w = Word {
            text: String::new(),
            literal: true,
        };
        while let Some(c) = self.peek() {
            match c {
                '<' | '>' if self.peek_at(1) == Some('(') => {
                    self.pos += 1;
                    self.substitution()?;
                    w.literal = false;
                }
                c if is_meta(c) => break,
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        None => w.text.push('\\'),
                        Some('\n') => self.pos += 1,
                        Some(e) => {
                            w.text.push(e);
                            self.pos += 1;
                        }
                    }
                }
                '\'' => {
                    self.pos += 1;
                    loop {
                        match self.peek() {
                            None => return Err(Unclassifiable::UnclosedQuote),
                            Some('\'') => break,
                            Some(q) => w.text.push(q),
                        }
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                '"' => {
                    self.pos += 1;
                    self.double_quoted(&mut w)?;
                }
                '`' => {
                    self.backticks(Quoting::Unquoted)?;
                    w.literal = false;
                }
                '$' => self.dollar(&mut w, Quoting::Unquoted)?,
                '*' | '?' | '[' | '{' => {
                    w.literal = false;
                    w.text.push(c);
                    self.pos += 1;
                }
                '~' if self.pos == start => {
                    w.literal = false;
                    w.text.push(c);
                    self.pos += 1;
                }
                _ => {
                    w.text.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(w)
    }

    /// After the opening `"`: up to and past the closing one.
    fn double_quoted(&mut self, w: &mut Word) -> Result<(), Unclassifiable> {
        loop {
            match self.peek() {
                None => return Err(Unclassifiable::UnclosedQuote),
                Some('"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') => {
                    match self.peek_at(1) {
                        Some('\n') => {}
                        Some(e @ ('$' | '`' | '"' | '\\')) => w.text.push(e),
                        Some(e) => {
                            w.text.push('\\');
                            w.text.push(e);
                        }
                        None => return Err(Unclassifiable::UnclosedQuote),
                    }
                    self.pos += 2;
                }
                Some('`') => {
                    self.backticks(Quoting::Double)?;
                    w.literal = false;
                }
                Some('$') => self.dollar(w, Quoting::Double)?,
                Some(c) => {
                    w.text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// At `$`: an expansion, a substitution, a `$'…'` / `$"…"` quote, or a plain `$`.
    fn dollar(&mut self, w: &mut Word, quoting: Quoting) -> Result<(), Unclassifiable> {
        match (self.peek_at(1), self.peek_at(2)) {
            (Some('('), Some('(')) | (Some('['), _) => Err(Unclassifiable::Arithmetic),
            (Some('('), _) => {
                self.pos += 1;
                self.substitution()?;
                w.literal = false;
                Ok(())
            }
            (Some('{'), _) => {
                self.pos += 2;
                let name: String = self.chars[self.pos..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                let len = if name.is_empty() {
                    usize::from(self.peek().is_some_and(|c| "@*#?$!-".contains(c)))
                } else {
                    name.chars().count()
                };
                if len == 0 || self.peek_at(len) != Some('}') {
                    return Err(Unclassifiable::ParameterExpansion);
                }
                self.pos += len + 1;
                w.literal = false;
                Ok(())
            }
            (Some('\''), _) if quoting == Quoting::Unquoted => {
                self.pos += 2;
                loop {
                    match self.peek() {
                        None => return Err(Unclassifiable::UnclosedQuote),
                        Some('\'') => break,
                        Some('\\') => {
                            w.text.push('\\');
                            self.pos += 1;
                            if let Some(e) = self.peek() {
                                w.text.push(e);
                            }
                        }
                        Some(c) => w.text.push(c),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                w.literal = false;
                Ok(())
            }
            (Some('"'), _) if quoting == Quoting::Unquoted => {
                self.pos += 2;
                self.double_quoted(w)?;
                w.literal = false;
                Ok(())
            }
            (Some(c), _) if c.is_ascii_alphanumeric() || c == '_' || "@*#?$!-".contains(c) => {
                self.pos += 2;
                if c.is_ascii_alphabetic() || c == '_' {
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.pos += 1;
                    }
                }
                w.literal = false;
                Ok(())
            }
            _ => {
                w.text.push('$');
                self.pos += 1;
                Ok(())
            }
        }
    }

    /// At the `(` of `$(`, `<(` or `>(`: the commands inside, up to and past the `)`.
    fn substitution(&mut self) -> Result<(), Unclassifiable> {
        self.pos += 1;
        self.nested(Until::Paren)?;
        self.pos += 1;
        Ok(())
    }

    /// At an opening backtick: the (unescaped) text up to the closing one, parsed as commands.
    /// Inside double quotes bash also unescapes `\"` there, which would change the quoting of
    /// the inner text; that case is refused rather than guessed.
    fn backticks(&mut self, quoting: Quoting) -> Result<(), Unclassifiable> {
        self.pos += 1;
        let mut inner = String::new();
        loop {
            match self.peek() {
                None => return Err(Unclassifiable::UnclosedSubstitution),
                Some('`') => break,
                Some('\\') => {
                    match self.peek_at(1) {
                        Some('"') if quoting == Quoting::Double => {
                            return Err(Unclassifiable::Syntax);
                        }
                        Some(e @ ('$' | '`' | '\\')) => inner.push(e),
                        Some(e) => {
                            inner.push('\\');
                            inner.push(e);
                        }
                        None => return Err(Unclassifiable::UnclosedSubstitution),
                    }
                    self.pos += 2;
                    continue;
                }
                Some(c) => inner.push(c),
            }
            self.pos += 1;
        }
        self.pos += 1;
        let nested = parse_at(&inner, self.depth + 1)?;
        self.out.compound = true;
        self.out.writes_files |= nested.writes_files;
        self.out.commands.extend(nested.commands);
        Ok(())
    }
}
