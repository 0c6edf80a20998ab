//! Running the parsed subset as bash would: expansions, field splitting,
//! assignments and `if` conditions.

use std::path::Path;

use indexmap::IndexMap;

use super::syntax::{
    AssignValue, Assignment, CondExpr, Condition, FileTest, ParamOp, Part, SUPPORTED_TESTS, Stmt,
    Word, location_of,
};
use super::{AutomationConfError, ConfValue, Variable};

type Result<T> = std::result::Result<T, AutomationConfError>;

/// The largest value a variable may hold. Settings are paths and short
/// words; a variable that doubles itself line after line would otherwise
/// grow without bound.
pub(super) const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A piece of an expanded word.
struct Segment {
    text: String,
    /// Inside quotes (or escaped): never split, never a pattern.
    quoted: bool,
    /// Produced by a parameter expansion (incl. the literal text of its
    /// `:-word`): the only text bash splits into fields.
    expanded: bool,
}

pub(super) struct Evaluator<'a> {
    pub vars: IndexMap<String, Variable>,
    pub context: &'a IndexMap<String, ConfValue>,
    pub line_starts: &'a [usize],
    pub origin: &'a Path,
    /// Where relative paths in file tests start; `None`: file tests refused.
    pub working_dir: Option<&'a Path>,
}

impl Evaluator<'_> {
    fn unsupported(&self, at: usize, construct: &str, hint: &str) -> AutomationConfError {
        AutomationConfError::Unsupported {
            location: location_of(self.line_starts, self.origin, at),
            construct: construct.to_owned(),
            hint: hint.to_owned(),
        }
    }

    fn current(&self, name: &str) -> Option<&ConfValue> {
        self.vars
            .get(name)
            .map(|v| &v.value)
            .or_else(|| self.context.get(name))
    }

    /// `$NAME` as bash expands it; `None` when unset (an empty array counts
    /// as unset, as its element 0 is).
    fn lookup(&self, name: &str) -> Option<String> {
        match self.current(name)? {
            ConfValue::Scalar(s) => Some(s.clone()),
            ConfValue::Array(items) => items.first().cloned(),
        }
    }

    pub fn run(&mut self, stmts: &[Stmt]) -> Result<()> {
        for stmt in stmts {
            match stmt {
                Stmt::Assign(assignment) => self.assign(assignment)?,
                Stmt::Export => {}
                Stmt::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = None;
                    for (condition, body) in branches {
                        if self.condition(condition)? {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.run(taken.unwrap_or(otherwise))?;
                }
            }
        }
        Ok(())
    }

    fn assign(&mut self, assignment: &Assignment) -> Result<()> {
        let previous = self.current(&assignment.name).cloned();
        let value = match &assignment.value {
            AssignValue::Scalar(word) => {
                let text = self.scalar(word);
                match (previous, assignment.append) {
                    (Some(ConfValue::Array(mut items)), append) => {
                        match items.first_mut() {
                            Some(first) if append => first.push_str(&text),
                            Some(first) => *first = text,
                            None => items.push(text),
                        }
                        ConfValue::Array(items)
                    }
                    (Some(ConfValue::Scalar(mut s)), true) => {
                        s.push_str(&text);
                        ConfValue::Scalar(s)
                    }
                    _ => ConfValue::Scalar(text),
                }
            }
            AssignValue::Array(words) => {
                let mut elements = Vec::new();
                for word in words {
                    elements.extend(self.fields(word)?);
                }
                match (previous, assignment.append) {
                    (Some(ConfValue::Array(mut items)), true) => {
                        items.extend(elements);
                        ConfValue::Array(items)
                    }
                    (Some(ConfValue::Scalar(s)), true) => {
                        elements.insert(0, s);
                        ConfValue::Array(elements)
                    }
                    _ => ConfValue::Array(elements),
                }
            }
        };
        let location = location_of(self.line_starts, self.origin, assignment.at);
        let size = match &value {
            ConfValue::Scalar(s) => s.len(),
            ConfValue::Array(items) => items.iter().map(String::len).sum(),
        };
        if size > MAX_VALUE_BYTES {
            return Err(AutomationConfError::ValueTooLarge {
                location,
                name: assignment.name.clone(),
            });
        }
        self.vars
            .insert(assignment.name.clone(), Variable { value, location });
        Ok(())
    }

    fn expand(&self, word: &Word, in_param: bool, out: &mut Vec<Segment>) {
        for part in &word.parts {
            match part {
                Part::Literal { text, quoted } => out.push(Segment {
                    text: text.clone(),
                    quoted: *quoted,
                    expanded: in_param,
                }),
                Part::Param { name, op, quoted } => {
                    let value = self.lookup(name);
                    let alternative = match op {
                        None => None,
                        Some((ParamOp::Default { colon }, alt)) => {
                            let use_alt = match &value {
                                None => true,
                                Some(v) => *colon && v.is_empty(),
                            };
                            use_alt.then_some(alt)
                        }
                        Some((ParamOp::Alternate { colon }, alt)) => {
                            let set = match &value {
                                None => false,
                                Some(v) => !(*colon && v.is_empty()),
                            };
                            if !set {
                                continue;
                            }
                            Some(alt)
                        }
                    };
                    match alternative {
                        Some(alt) => self.expand(alt, true, out),
                        None => out.push(Segment {
                            text: value.unwrap_or_default(),
                            quoted: *quoted,
                            expanded: true,
                        }),
                    }
                }
            }
        }
    }

    /// A word where bash neither splits nor globs: assignments, `[[ ]]` operands.
    fn scalar(&self, word: &Word) -> String {
        let mut segments = Vec::new();
        self.expand(word, false, &mut segments);
        segments.into_iter().map(|s| s.text).collect()
    }

    /// A word where bash splits fields and expands globs: array elements, `[` arguments.
    fn fields(&self, word: &Word) -> Result<Vec<String>> {
        let mut segments = Vec::new();
        self.expand(word, false, &mut segments);
        for segment in segments.iter().filter(|s| !s.quoted) {
            // Bash treats a backslash in an unquoted expansion as a pattern
            // escape when it matches file names, so refuse it like a glob.
            if segment.text.contains(['*', '?', '[', '\\']) {
                return Err(self.unsupported(
                    word.at,
                    "an unquoted `*`, `?`, `[` or `\\` where bash would expand file names",
                    "quote the word",
                ));
            }
            if !segment.expanded && segment.text.contains('{') {
                return Err(self.unsupported(
                    word.at,
                    "an unquoted `{` where bash would do brace expansion",
                    "quote the word",
                ));
            }
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut started = false;
        for segment in segments {
            if segment.quoted || !segment.expanded {
                field.push_str(&segment.text);
                started |= segment.quoted || !segment.text.is_empty();
                continue;
            }
            for c in segment.text.chars() {
                if matches!(c, ' ' | '\t' | '\n') {
                    if started {
                        fields.push(std::mem::take(&mut field));
                        started = false;
                    }
                } else {
                    field.push(c);
                    started = true;
                }
            }
        }
        if started {
            fields.push(field);
        }
        Ok(fields)
    }

    fn condition(&self, condition: &Condition) -> Result<bool> {
        match condition {
            Condition::DoubleBracket(expr) => self.cond_expr(expr),
            Condition::Test { args, at } => {
                let mut fields = Vec::new();
                for word in args {
                    fields.extend(self.fields(word)?);
                }
                self.test(&fields, *at)
            }
            Condition::Not(inner) => Ok(!self.condition(inner)?),
            Condition::And(left, right) => Ok(self.condition(left)? && self.condition(right)?),
            Condition::Or(left, right) => Ok(self.condition(left)? || self.condition(right)?),
        }
    }

    fn cond_expr(&self, expr: &CondExpr) -> Result<bool> {
        Ok(match expr {
            CondExpr::NonEmpty(word) => !self.scalar(word).is_empty(),
            CondExpr::Empty(word) => self.scalar(word).is_empty(),
            CondExpr::Compare { lhs, rhs, negate } => {
                let mut segments = Vec::new();
                self.expand(rhs, false, &mut segments);
                let pattern = glob::compile(&segments).map_err(|construct| {
                    self.unsupported(
                        rhs.at,
                        construct,
                        "quote the right-hand side to compare strings",
                    )
                })?;
                glob::matches(&pattern, &self.scalar(lhs)) != *negate
            }
            CondExpr::Contains { lhs, rhs } => {
                let mut segments = Vec::new();
                self.expand(rhs, false, &mut segments);
                let regex = segments.iter().any(|s| {
                    !s.quoted
                        && s.text.contains([
                            '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\',
                        ])
                });
                if regex {
                    return Err(self.unsupported(
                        rhs.at,
                        "a regular expression on the right of `=~`",
                        "quote the right-hand side to test for a substring",
                    ));
                }
                let needle: String = segments.into_iter().map(|s| s.text).collect();
                self.scalar(lhs).contains(&needle)
            }
            CondExpr::File(test, word) => self.file_test(*test, &self.scalar(word), word.at)?,
            CondExpr::Not(inner) => !self.cond_expr(inner)?,
            CondExpr::And(left, right) => self.cond_expr(left)? && self.cond_expr(right)?,
            CondExpr::Or(left, right) => self.cond_expr(left)? || self.cond_expr(right)?,
        })
    }

    /// `-e`/`-f`/`-d` on `path`, relative paths from the working directory.
    fn file_test(&self, test: FileTest, path: &str, at: usize) -> Result<bool> {
        let Some(dir) = self.working_dir else {
            return Err(self.unsupported(
                at,
                "a file test without a working directory",
                "the caller must say which directory config.sh runs in (ConfContext::with_working_dir)",
            ));
        };
        if path.is_empty() {
            return Ok(false);
        }
        let path = dir.join(path);
        Ok(match test {
            FileTest::Exists => path.exists(),
            FileTest::File => path.is_file(),
            FileTest::Directory => path.is_dir(),
        })
    }

    /// `test`/`[` on its arguments after expansion, by argument count as POSIX
    /// specifies.
    fn test(&self, args: &[String], at: usize) -> Result<bool> {
        let unsupported_op =
            |op: &str| self.unsupported(at, &format!("the test operator `{op}`"), SUPPORTED_TESTS);
        let arity = || {
            self.unsupported(
                at,
                "this `[ … ]` test (after expansion its arguments do not form a test bash accepts, often because an unquoted variable is empty)",
                "quote variables in `[ … ]`, or use `[[ … ]]`",
            )
        };
        match args {
            [] => Ok(false),
            [one] => Ok(!one.is_empty()),
            [bang, operand] if bang == "!" => Ok(operand.is_empty()),
            [op, operand] if op == "-n" => Ok(!operand.is_empty()),
            [op, operand] if op == "-z" => Ok(operand.is_empty()),
            [op, path] if FileTest::from_operator(op).is_some() => {
                let test = FileTest::from_operator(op).expect("checked above");
                self.file_test(test, path, at)
            }
            [op, _] if op.starts_with('-') && UNARY.contains(&op.as_str()) => {
                Err(unsupported_op(op))
            }
            [_, _] => Err(arity()),
            [lhs, op, rhs] => match op.as_str() {
                "=" | "==" => Ok(lhs == rhs),
                "!=" => Ok(lhs != rhs),
                "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" | "-nt" | "-ot" | "-ef" | "-a"
                | "-o" | "<" | ">" => Err(unsupported_op(op)),
                _ if lhs == "!" => Ok(!self.test(&args[1..], at)?),
                _ => Err(arity()),
            },
            [bang, ..] if bang == "!" && args.len() == 4 => Ok(!self.test(&args[1..], at)?),
            _ => Err(self.unsupported(
                at,
                "a `[ … ]` test with more than one comparison (`-a`/`-o`)",
                "join `[ … ]` tests with && and ||",
            )),
        }
    }
}

const UNARY: &[&str] = &[
    "-a", "-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-p", "-r", "-s", "-t", "-u", "-w", "-x",
    "-O", "-G", "-L", "-S", "-N", "-o", "-v", "-R",
];

/// Bash's pattern matching on the right of `==`/`!=` in `[[ … ]]`: `*`, `?`
/// and bracket expressions in unquoted text; quoted text matches itself.
mod glob {
    use super::Segment;

    pub(super) enum Token {
        Char(char),
        Star,
        Question,
        Class {
            negated: bool,
            ranges: Vec<(char, char)>,
        },
    }

    /// The pattern the segments make, or the construct that is not supported.
    pub(super) fn compile(segments: &[Segment]) -> Result<Vec<Token>, &'static str> {
        let mut tokens = Vec::new();
        for segment in segments {
            if segment.quoted {
                tokens.extend(segment.text.chars().map(Token::Char));
                continue;
            }
            let chars: Vec<char> = segment.text.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    '*' => tokens.push(Token::Star),
                    '?' => tokens.push(Token::Question),
                    '\\' if i + 1 < chars.len() => {
                        i += 1;
                        tokens.push(Token::Char(chars[i]));
                    }
                    '[' => match class(&chars[i + 1..])? {
                        Some((token, used)) => {
                            tokens.push(token);
                            i += used;
                        }
                        None => tokens.push(Token::Char('[')),
                    },
                    c => tokens.push(Token::Char(c)),
                }
                i += 1;
            }
        }
        Ok(tokens)
    }

    /// A bracket expression after its `[`: the token and the characters it
    /// used (through the `]`), or `None` when it is not closed (a literal `[`).
    fn class(chars: &[char]) -> Result<Option<(Token, usize)>, &'static str> {
        let mut i = 0;
        let negated = matches!(chars.first(), Some('!' | '^'));
        if negated {
            i += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        while i < chars.len() {
            let c = chars[i];
            if c == ']' && !first {
                return Ok(Some((Token::Class { negated, ranges }, i + 1)));
            }
            if c == '[' && matches!(chars.get(i + 1), Some(':' | '=' | '.')) {
                return Err("a character class like `[[:alpha:]]` in a pattern");
            }
            first = false;
            if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
                ranges.push((c, chars[i + 2]));
                i += 3;
            } else {
                ranges.push((c, c));
                i += 1;
            }
        }
        Ok(None)
    }

    fn matches_one(token: &Token, c: char) -> bool {
        match token {
            Token::Char(expected) => *expected == c,
            Token::Question => true,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
            Token::Star => false,
        }
    }

    /// Whether the whole of `text` matches `pattern`.
    pub(super) fn matches(pattern: &[Token], text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut p, mut t) = (0, 0);
        // After a `*`: where in the pattern and the text to retry from.
        let mut retry: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some(Token::Star) => {
                    retry = Some((p, t));
                    p += 1;
                }
                Some(token) if matches_one(token, text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match retry {
                    Some((star, from)) => {
                        p = star + 1;
                        t = from + 1;
                        retry = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..]
            .iter()
            .all(|token| matches!(token, Token::Star))
    }
}
