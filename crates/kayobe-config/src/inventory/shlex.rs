//! Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible's INI
//! plugin uses to split host lines into a host pattern and `key=value` tokens.

/// Why a line could not be split; the column (1-based, in characters) is where
/// the unfinished construct starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShlexError {
    /// A quote opened at `column` is never closed.
    UnclosedQuote { column: usize },
    /// A backslash at `column` ends the line.
    TrailingEscape { column: usize },
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Between tokens.
    Whitespace,
    /// Inside an unquoted word.
    Word,
    /// Inside a quoted part of a word (the quote character).
    Quoted(char),
}

/// A token and the 0-based character index in the line where it starts.
pub(crate) type Token = (usize, String);

/// Splits `line` into tokens as `shlex.split(line, comments=True)` does.
///
/// Whitespace is only space, tab, CR and LF; `#` anywhere outside quotes ends
/// the line; a backslash escapes the next character outside quotes and only
/// `"` and `\` inside double quotes; single quotes escape nothing.
pub(crate) fn split(line: &str) -> Result<Vec<Token>, ShlexError> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    // A token that had quotes is kept even when empty (`''`).
    let mut quoted = false;
    let mut state = State::Whitespace;
    let mut quote_column = 0;
    let mut start = 0;
    let mut chars = line.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        let column = index + 1;
        if state == State::Whitespace && !matches!(c, ' ' | '\t' | '\r' | '\n' | '#') {
            start = index;
        }
        match state {
            State::Whitespace | State::Word => match c {
                ' ' | '\t' | '\r' | '\n' => {
                    if state == State::Word {
                        tokens.push((start, std::mem::take(&mut token)));
                        quoted = false;
                        state = State::Whitespace;
                    }
                }
                '#' => break,
                '\'' | '"' => {
                    quote_column = column;
                    quoted = true;
                    state = State::Quoted(c);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => {
                        token.push(escaped);
                        state = State::Word;
                    }
                    None => return Err(ShlexError::TrailingEscape { column }),
                },
                _ => {
                    token.push(c);
                    state = State::Word;
                }
            },
            State::Quoted(quote) => {
                if c == quote {
                    state = State::Word;
                } else if quote == '"' && c == '\\' {
                    match chars.next() {
                        Some((_, escaped @ ('"' | '\\'))) => token.push(escaped),
                        Some((_, other)) => {
                            token.push('\\');
                            token.push(other);
                        }
                        None => {
                            return Err(ShlexError::UnclosedQuote {
                                column: quote_column,
                            });
                        }
                    }
                } else {
                    token.push(c);
                }
            }
        }
    }
    match state {
        State::Quoted(_) => Err(ShlexError::UnclosedQuote {
            column: quote_column,
        }),
        State::Word => {
            tokens.push((start, token));
            Ok(tokens)
        }
        State::Whitespace => {
            if quoted {
                tokens.push((start, token));
            }
            Ok(tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(ok("host a=1  b='x y'"), ["host", "a=1", "b=x y"]);
        assert_eq!(ok(r#"h v="a\"b\c""#), ["h", r#"v=a"b\c"#]);
        assert_eq!(ok(r"h v=a\ b"), ["h", "v=a b"]);
        assert_eq!(ok("h a=1 # comment b=2"), ["h", "a=1"]);
        assert_eq!(ok("h#x y"), ["h"]);
        assert_eq!(ok("h ''"), ["h", ""]);
        assert_eq!(ok("h 'a'\"b\"c"), ["h", "abc"]);
    }

    #[test]
    fn records_token_starts() {
        let starts: Vec<usize> = split("h  a='x y' b").unwrap().iter().map(|t| t.0).collect();
        assert_eq!(starts, [0, 3, 11]);
    }

    #[test]
    fn reports_unfinished_constructs() {
        assert_eq!(
            split("h a='x"),
            Err(ShlexError::UnclosedQuote { column: 5 })
        );
        assert_eq!(
            split("h a\\"),
            Err(ShlexError::TrailingEscape { column: 4 })
        );
        assert_eq!(
            split("h \"a\\"),
            Err(ShlexError::UnclosedQuote { column: 3 })
        );
    }
}
