//! The bash subset `config.sh` may use, parsed into a small syntax tree.
//!
//! The parser rejects every construct outside the subset where it appears,
//! even in a branch that would not run, so that an unsupported line is
//! reported the same way whatever the environment.

use std::path::Path;

use super::AutomationConfError;
use crate::Location;

/// A word: the concatenation of its parts, with the quoting of each kept for
/// field splitting and pattern checks.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub parts: Vec<Part>,
    /// Char offset of the word's first character.
    pub at: usize,
}

#[derive(Debug, Clone)]
pub(super) enum Part {
    /// Literal text; `quoted` when it came from quotes or a backslash escape.
    Literal { text: String, quoted: bool },
    /// `$NAME`, `${NAME}` or `${NAME<op>word}`.
    Param {
        name: String,
        op: Option<(ParamOp, Word)>,
        quoted: bool,
    },
}

/// The `${NAME<op>word}` operators of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ParamOp {
    /// `-` (unset) or `:-` (unset or empty, `colon`): use the word.
    Default { colon: bool },
    /// `+` or `:+`: use the word when set (and non-empty with `colon`).
    Alternate { colon: bool },
}

#[derive(Debug, Clone)]
pub(super) enum Stmt {
    Assign(Assignment),
    /// `export NAME`: marks a variable exported, its value unchanged.
    Export,
    If {
        branches: Vec<(Condition, Vec<Stmt>)>,
        otherwise: Vec<Stmt>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Assignment {
    pub name: String,
    pub append: bool,
    pub value: AssignValue,
    /// Char offset of the name.
    pub at: usize,
}

#[derive(Debug, Clone)]
pub(super) enum AssignValue {
    Scalar(Word),
    Array(Vec<Word>),
}

/// An `if`/`elif` condition: test commands joined by `&&`/`||`.
#[derive(Debug, Clone)]
pub(super) enum Condition {
    /// `[[ … ]]`.
    DoubleBracket(CondExpr),
    /// `[ … ]` or `test …`: arguments after expansion decide the meaning.
    Test {
        args: Vec<Word>,
        at: usize,
    },
    Not(Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

/// An expression inside `[[ … ]]`.
#[derive(Debug, Clone)]
pub(super) enum CondExpr {
    /// `-n word`, or a lone word.
    NonEmpty(Word),
    /// `-z word`.
    Empty(Word),
    /// `lhs == rhs`, `lhs = rhs` or `lhs != rhs` (`negate`).
    Compare {
        lhs: Word,
        rhs: Word,
        negate: bool,
    },
    /// `lhs =~ rhs`, read only where `rhs` is a literal (quoted) string:
    /// whether `lhs` contains it.
    Contains {
        lhs: Word,
        rhs: Word,
    },
    /// `-e`, `-f` or `-d` on a path.
    File(FileTest, Word),
    Not(Box<CondExpr>),
    And(Box<CondExpr>, Box<CondExpr>),
    Or(Box<CondExpr>, Box<CondExpr>),
}

/// The file tests the subset reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileTest {
    /// `-e`: exists.
    Exists,
    /// `-f`: is a regular file.
    File,
    /// `-d`: is a directory.
    Directory,
}

impl FileTest {
    /// The test named by operator `op`.
    pub fn from_operator(op: &str) -> Option<Self> {
        match op {
            "-e" => Some(FileTest::Exists),
            "-f" => Some(FileTest::File),
            "-d" => Some(FileTest::Directory),
            _ => None,
        }
    }
}

/// Which quoting a word is read in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A shell word: ends at a blank or a metacharacter.
    Plain,
    /// The word of an unquoted `${NAME:-word}`: ends at `}`.
    ParamWord,
    /// The word of `${NAME:-word}` inside double quotes: ends at `}`.
    ParamWordInDquote,
}

const RESERVED_UNSUPPORTED: &[&str] = &[
    "for", "while", "until", "case", "select", "function", "{", "}", "do", "done", "esac", "in",
    "time", "coproc",
];

const UNARY_FILE_TESTS: &[&str] = &[
    "-a", "-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-p", "-r", "-s", "-t", "-u", "-w", "-x",
    "-O", "-G", "-L", "-S", "-N", "-o", "-v", "-R",
];

const BINARY_UNSUPPORTED: &[&str] = &[
    "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef",
];

/// The hint for a test outside the subset.
pub(super) const SUPPORTED_TESTS: &str =
    "only ==, =, !=, =~ \"literal\", -n, -z, -e, -f, -d and ! are read";

pub(super) struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    line_starts: Vec<usize>,
    origin: &'a Path,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')'
    )
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

type Result<T> = std::result::Result<T, AutomationConfError>;

impl<'a> Parser<'a> {
    pub fn new(text: &str, origin: &'a Path) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut line_starts = vec![0];
        for (i, c) in chars.iter().enumerate() {
            if *c == '\n' {
                line_starts.push(i + 1);
            }
        }
        Self {
            chars,
            pos: 0,
            line_starts,
            origin,
        }
    }

    /// The file location of char offset `at`.
    pub fn location(&self, at: usize) -> Location {
        location_of(&self.line_starts, self.origin, at)
    }

    /// Line starts, for locating errors found after parsing.
    pub fn into_line_starts(self) -> Vec<usize> {
        self.line_starts
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn unsupported(
        &self,
        at: usize,
        construct: impl Into<String>,
        hint: &str,
    ) -> AutomationConfError {
        AutomationConfError::Unsupported {
            location: self.location(at),
            construct: construct.into(),
            hint: hint.to_owned(),
        }
    }

    fn syntax(&self, at: usize, message: impl Into<String>) -> AutomationConfError {
        AutomationConfError::Syntax {
            location: self.location(at),
            message: message.into(),
        }
    }

    /// Skips spaces, tabs and backslash-newline continuations.
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => self.pos += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.pos += 2,
                _ => return,
            }
        }
    }

    /// Skips backslash-newline pairs, which bash removes before it reads
    /// tokens (so `$\\⏎NAME` is `$NAME`).
    fn skip_continuations(&mut self) {
        while self.peek() == Some('\\') && self.peek_at(1) == Some('\n') {
            self.pos += 2;
        }
    }

    /// Skips a `#` comment up to (not including) the newline.
    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            while self.peek().is_some_and(|c| c != '\n') {
                self.pos += 1;
            }
        }
    }

    /// Skips blanks, comments and newlines.
    fn skip_lines(&mut self) {
        loop {
            self.skip_blanks();
            self.skip_comment();
            if self.peek() == Some('\n') {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    /// The unquoted token at the cursor if it is a plain run of non-meta characters.
    fn peek_bare_token(&self) -> String {
        let mut token = String::new();
        let mut i = self.pos;
        while let Some(&c) = self.chars.get(i) {
            if is_meta(c) || matches!(c, '"' | '\'' | '\\' | '$' | '`') {
                break;
            }
            token.push(c);
            i += 1;
        }
        token
    }

    /// Whether the cursor is at reserved word `word` (followed by a delimiter).
    fn at_reserved(&self, word: &str) -> bool {
        self.peek_bare_token() == word
            && self
                .peek_at(word.chars().count())
                .is_none_or(|c| is_meta(c) || c == '#')
    }

    pub fn parse_script(&mut self) -> Result<Vec<Stmt>> {
        let stmts = self.parse_list(&[])?;
        if self.pos < self.chars.len() {
            let token = self.peek_bare_token();
            return Err(self.syntax(self.pos, format!("unexpected `{token}`")));
        }
        Ok(stmts)
    }

    /// Statements up to EOF or one of the reserved words `stops` (not consumed).
    fn parse_list(&mut self, stops: &[&str]) -> Result<Vec<Stmt>> {
        let mut stmts = Vec::new();
        loop {
            self.skip_lines();
            if self.peek().is_none() || stops.iter().any(|s| self.at_reserved(s)) {
                return Ok(stmts);
            }
            for word in ["then", "elif", "else", "fi"] {
                if self.at_reserved(word) {
                    return Err(self.syntax(self.pos, format!("unexpected `{word}`")));
                }
            }
            self.parse_command(&mut stmts)?;
            self.end_of_command()?;
        }
    }

    /// After a command: blanks, then `;`, a comment, a newline or EOF.
    fn end_of_command(&mut self) -> Result<()> {
        self.skip_blanks();
        match self.peek() {
            None | Some('\n' | '#') => Ok(()),
            Some(';') => {
                self.pos += 1;
                self.skip_blanks();
                if self.peek() == Some(';') {
                    return Err(self.syntax(self.pos, "unexpected `;;`"));
                }
                Ok(())
            }
            Some(c) => Err(self.operator_error(c)),
        }
    }

    /// The error for metacharacter `c` where the subset has no use for it.
    fn operator_error(&self, c: char) -> AutomationConfError {
        let at = self.pos;
        match c {
            '&' if self.peek_at(1) == Some('&') => self.unsupported(
                at,
                "a command list with `&&`",
                "use `&&` only inside an `if` condition",
            ),
            '|' if self.peek_at(1) == Some('|') => self.unsupported(
                at,
                "a command list with `||`",
                "use `||` only inside an `if` condition",
            ),
            '|' => self.unsupported(at, "a pipe `|`", "write plain assignments"),
            '&' => self.unsupported(at, "a background job `&`", "write plain assignments"),
            '<' | '>' => self.unsupported(at, "a redirection", "write plain assignments"),
            '(' => self.unsupported(
                at,
                "a subshell, function definition or arithmetic command",
                "write plain assignments",
            ),
            _ => self.syntax(at, format!("unexpected `{c}`")),
        }
    }

    fn parse_command(&mut self, stmts: &mut Vec<Stmt>) -> Result<()> {
        let at = self.pos;
        if self.at_reserved("if") {
            self.pos += 2;
            let stmt = self.parse_if()?;
            stmts.push(stmt);
            return Ok(());
        }
        for word in RESERVED_UNSUPPORTED {
            if self.at_reserved(word) {
                return Err(self.unsupported(
                    at,
                    format!("`{word}` (loops, functions, case and groups)"),
                    "only assignments and if/elif/else/fi are read",
                ));
            }
        }
        if self.at_reserved("[[") || self.at_reserved("[") || self.at_reserved("!") {
            return Err(self.unsupported(
                at,
                "a test outside an `if` condition",
                "write `if [[ … ]]; then … fi`",
            ));
        }
        if let Some(c) = self.peek().filter(|&c| is_meta(c)) {
            return Err(self.operator_error(c));
        }
        if self.at_reserved("export") {
            self.pos += "export".len();
            self.skip_blanks();
            let mut any = false;
            while self.peek().is_some_and(|c| !is_meta(c) && c != '#') {
                if let Some(assignment) = self.try_assignment()? {
                    stmts.push(Stmt::Assign(assignment));
                } else {
                    let word_at = self.pos;
                    let token = self.peek_bare_token();
                    let valid_name = token.chars().next().is_some_and(is_name_start)
                        && token.chars().all(is_name_char)
                        && self.peek_at(token.chars().count()).is_none_or(is_meta);
                    if !valid_name {
                        return Err(self.unsupported(
                            word_at,
                            format!("`export {token}`"),
                            "use `export NAME=value` or `export NAME`",
                        ));
                    }
                    self.pos += token.chars().count();
                    stmts.push(Stmt::Export);
                }
                any = true;
                self.skip_blanks();
            }
            if !any {
                return Err(self.unsupported(
                    at,
                    "`export` without a name",
                    "use `export NAME=value`",
                ));
            }
            return Ok(());
        }
        let mut any = false;
        loop {
            match self.try_assignment()? {
                Some(assignment) => {
                    stmts.push(Stmt::Assign(assignment));
                    any = true;
                }
                None => {
                    let word_at = self.pos;
                    let token = self.peek_bare_token();
                    let what = if token.is_empty() {
                        "a command (or a quoted assignment name)".to_owned()
                    } else if any {
                        format!("running the command `{token}` with variable assignments")
                    } else if token == "source" || token == "." {
                        "`source` (reading another file)".to_owned()
                    } else {
                        format!("the command `{token}`")
                    };
                    return Err(self.unsupported(
                        word_at,
                        what,
                        "config.sh may only assign variables (NAME=value, export NAME=value, arrays) inside if/elif/else/fi",
                    ));
                }
            }
            self.skip_blanks();
            if self.peek().is_none_or(|c| is_meta(c) || c == '#') {
                return Ok(());
            }
        }
    }

    /// `NAME=value`, `NAME+=value`, `NAME=( … )` at the cursor, or `None`
    /// (cursor unchanged) when the word there is not an assignment.
    fn try_assignment(&mut self) -> Result<Option<Assignment>> {
        let start = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return Ok(None);
        }
        let mut end = start;
        while self.chars.get(end).is_some_and(|&c| is_name_char(c)) {
            end += 1;
        }
        let (append, value_start) = match (self.chars.get(end), self.chars.get(end + 1)) {
            (Some('='), _) => (false, end + 1),
            (Some('+'), Some('=')) => (true, end + 2),
            (Some('['), _) => {
                return Err(self.unsupported(
                    start,
                    "an array element assignment `NAME[index]=`",
                    "assign the whole array: NAME=( … )",
                ));
            }
            _ => return Ok(None),
        };
        let name: String = self.chars[start..end].iter().collect();
        self.pos = value_start;
        let value = if self.peek() == Some('(') {
            self.pos += 1;
            AssignValue::Array(self.parse_array_elements()?)
        } else {
            AssignValue::Scalar(self.parse_word(Mode::Plain)?)
        };
        if let Some(c) = self.peek().filter(|&c| matches!(c, '(' | ')')) {
            return Err(self.operator_error(c));
        }
        Ok(Some(Assignment {
            name,
            append,
            value,
            at: start,
        }))
    }

    /// The elements of `( … )` after the `(`, consuming the `)`.
    fn parse_array_elements(&mut self) -> Result<Vec<Word>> {
        let open = self.pos - 1;
        let mut words = Vec::new();
        loop {
            self.skip_lines();
            match self.peek() {
                None => return Err(self.syntax(open, "`(` of an array is never closed by `)`")),
                Some(')') => {
                    self.pos += 1;
                    return Ok(words);
                }
                Some('[') if self.peek_bare_token().contains("]=") => {
                    return Err(self.unsupported(
                        self.pos,
                        "an indexed array element `[index]=value`",
                        "list the elements in order",
                    ));
                }
                Some(c) if is_meta(c) => return Err(self.operator_error(c)),
                Some(_) => words.push(self.parse_word(Mode::Plain)?),
            }
        }
    }

    fn parse_if(&mut self) -> Result<Stmt> {
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        loop {
            let condition = self.parse_condition()?;
            self.skip_lines();
            if !self.at_reserved("then") {
                return Err(self.syntax(self.pos, "expected `then` after the `if` condition"));
            }
            self.pos += "then".len();
            let body = self.parse_list(&["elif", "else", "fi"])?;
            self.refuse_empty(&body)?;
            branches.push((condition, body));
            if self.at_reserved("elif") {
                self.pos += "elif".len();
                continue;
            }
            if self.at_reserved("else") {
                self.pos += "else".len();
                otherwise = self.parse_list(&["fi"])?;
                self.refuse_empty(&otherwise)?;
            }
            if !self.at_reserved("fi") {
                return Err(self.syntax(self.pos, "`if` is never closed by `fi`"));
            }
            self.pos += "fi".len();
            return Ok(Stmt::If {
                branches,
                otherwise,
            });
        }
    }

    /// Bash rejects a `then` or `else` with no command in it.
    fn refuse_empty(&self, body: &[Stmt]) -> Result<()> {
        if body.is_empty() {
            let token = self.peek_bare_token();
            return Err(self.syntax(
                self.pos,
                format!("unexpected `{token}`: a branch needs at least one command"),
            ));
        }
        Ok(())
    }

    /// A condition up to and including its `;` or newline.
    fn parse_condition(&mut self) -> Result<Condition> {
        self.skip_blanks();
        let mut condition = self.parse_test_command()?;
        loop {
            self.skip_blanks();
            if self.starts_with("&&") || self.starts_with("||") {
                let and = self.starts_with("&&");
                self.pos += 2;
                self.skip_lines();
                let right = self.parse_test_command()?;
                condition = if and {
                    Condition::And(Box::new(condition), Box::new(right))
                } else {
                    Condition::Or(Box::new(condition), Box::new(right))
                };
                continue;
            }
            match self.peek() {
                Some(';') => {
                    self.pos += 1;
                    return Ok(condition);
                }
                Some('\n' | '#') => return Ok(condition),
                None => return Err(self.syntax(self.pos, "`if` condition without `then`")),
                Some(c) => return Err(self.operator_error(c)),
            }
        }
    }

    fn parse_test_command(&mut self) -> Result<Condition> {
        let at = self.pos;
        if self.at_reserved("!") {
            self.pos += 1;
            self.skip_blanks();
            return Ok(Condition::Not(Box::new(self.parse_test_command()?)));
        }
        if self.at_reserved("[[") {
            self.pos += 2;
            let expr = self.parse_cond_or()?;
            self.skip_cond_space();
            if !self.at_reserved("]]") {
                return Err(self.syntax(self.pos, "expected `]]` to close `[[`"));
            }
            self.pos += 2;
            return Ok(Condition::DoubleBracket(expr));
        }
        let token = self.peek_bare_token();
        let bracket = self.at_reserved("[");
        if bracket || self.at_reserved("test") {
            self.pos += token.len();
            let mut args = Vec::new();
            loop {
                self.skip_blanks();
                match self.peek() {
                    None | Some('\n' | ';' | '&' | '|' | '#') => break,
                    Some(c) if is_meta(c) => return Err(self.operator_error(c)),
                    Some(_) => args.push(self.parse_word(Mode::Plain)?),
                }
            }
            if bracket {
                let closed = args.last().is_some_and(|w| w.is_plain_literal("]"));
                if !closed {
                    return Err(self.syntax(at, "`[` is not closed by `]`"));
                }
                args.pop();
            }
            return Ok(Condition::Test { args, at });
        }
        Err(self.unsupported(
            at,
            if token.is_empty() {
                "this condition".to_owned()
            } else {
                format!("the command `{token}` as a condition")
            },
            "conditions are `[[ … ]]` or `[ … ]` tests joined by && or ||",
        ))
    }

    /// Blanks and newlines inside `[[ … ]]`.
    fn skip_cond_space(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    fn parse_cond_or(&mut self) -> Result<CondExpr> {
        self.parse_cond_chain("||", Self::parse_cond_and, CondExpr::Or)
    }

    fn parse_cond_and(&mut self) -> Result<CondExpr> {
        self.parse_cond_chain("&&", Self::parse_cond_not, CondExpr::And)
    }

    /// `operand (operator operand)*`, folded to the left.
    fn parse_cond_chain(
        &mut self,
        operator: &str,
        operand: fn(&mut Self) -> Result<CondExpr>,
        join: fn(Box<CondExpr>, Box<CondExpr>) -> CondExpr,
    ) -> Result<CondExpr> {
        let mut left = operand(self)?;
        loop {
            self.skip_cond_space();
            if !self.starts_with(operator) {
                return Ok(left);
            }
            self.pos += operator.len();
            let right = operand(self)?;
            left = join(Box::new(left), Box::new(right));
        }
    }

    fn parse_cond_not(&mut self) -> Result<CondExpr> {
        self.skip_cond_space();
        if self.at_reserved("!") {
            self.pos += 1;
            return Ok(CondExpr::Not(Box::new(self.parse_cond_not()?)));
        }
        if self.peek() == Some('(') {
            self.pos += 1;
            let inner = self.parse_cond_or()?;
            self.skip_cond_space();
            if self.peek() != Some(')') {
                return Err(self.syntax(self.pos, "expected `)` in `[[ … ]]`"));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let first = self.parse_cond_word()?;
        // A unary operator takes the next word whatever it is, as bash does.
        for (op, empty) in [("-n", false), ("-z", true)] {
            if first.is_plain_literal(op) && self.cond_word_follows() {
                let operand = self.parse_cond_word()?;
                return Ok(if empty {
                    CondExpr::Empty(operand)
                } else {
                    CondExpr::NonEmpty(operand)
                });
            }
        }
        if UNARY_FILE_TESTS.iter().any(|op| first.is_plain_literal(op)) && self.cond_word_follows()
        {
            let op = first.literal_text();
            if let Some(test) = FileTest::from_operator(&op) {
                return Ok(CondExpr::File(test, self.parse_cond_word()?));
            }
            return Err(self.unsupported(first.at, format!("the test `{op}`"), SUPPORTED_TESTS));
        }
        self.skip_cond_space();
        if matches!(self.peek(), Some('<' | '>')) {
            return Err(self.unsupported(
                self.pos,
                "string ordering `<`/`>` in `[[ … ]]`",
                SUPPORTED_TESTS,
            ));
        }
        if !self.cond_word_follows() {
            return Ok(CondExpr::NonEmpty(first));
        }
        let op = self.parse_cond_word()?;
        if op.is_plain_literal("=~") {
            if !self.cond_word_follows() {
                return Err(self.syntax(self.pos, "missing right-hand side of `=~`"));
            }
            let rhs = self.parse_cond_word()?;
            return Ok(CondExpr::Contains { lhs: first, rhs });
        }
        let negate = if op.is_plain_literal("==") || op.is_plain_literal("=") {
            false
        } else if op.is_plain_literal("!=") {
            true
        } else if BINARY_UNSUPPORTED.iter().any(|u| op.is_plain_literal(u)) {
            return Err(self.unsupported(
                op.at,
                format!("the operator `{}`", op.literal_text()),
                SUPPORTED_TESTS,
            ));
        } else {
            return Err(self.syntax(
                op.at,
                "expected a binary operator (==, = or !=) in `[[ … ]]`",
            ));
        };
        if !self.cond_word_follows() {
            return Err(self.syntax(self.pos, "missing right-hand side of the comparison"));
        }
        let rhs = self.parse_cond_word()?;
        Ok(CondExpr::Compare {
            lhs: first,
            rhs,
            negate,
        })
    }

    /// Whether a word (not `]]`, `&&`, `||` or `)`) follows inside `[[ … ]]`.
    fn cond_word_follows(&mut self) -> bool {
        self.skip_cond_space();
        match self.peek() {
            None => false,
            Some(c) if is_meta(c) => false,
            Some(_) => !self.at_reserved("]]"),
        }
    }

    fn parse_cond_word(&mut self) -> Result<Word> {
        self.skip_cond_space();
        match self.peek() {
            None => Err(self.syntax(self.pos, "`[[` is not closed by `]]`")),
            Some(c) if is_meta(c) => Err(self.operator_error(c)),
            Some(_) => {
                if self.at_reserved("]]") {
                    return Err(self.syntax(self.pos, "unexpected `]]`"));
                }
                self.parse_word(Mode::Plain)
            }
        }
    }

    fn parse_word(&mut self, mode: Mode) -> Result<Word> {
        let at = self.pos;
        let mut parts = Vec::new();
        let mut literal = String::new();
        // Text from quotes/escapes and unquoted text go to separate parts.
        let flush = |literal: &mut String, parts: &mut Vec<Part>, quoted: bool| {
            if !literal.is_empty() {
                parts.push(Part::Literal {
                    text: std::mem::take(literal),
                    quoted,
                });
            }
        };
        let quoted_mode = mode == Mode::ParamWordInDquote;
        // Inside "${N:-word}", single quotes stay in the value but hide `}`
        // from the search for the closing brace, as in bash.
        let mut in_single_quotes = false;
        loop {
            let Some(c) = self.peek() else {
                if mode == Mode::Plain {
                    break;
                }
                return Err(self.syntax(at, "`${` is never closed by `}`"));
            };
            match c {
                '}' if mode != Mode::Plain && !in_single_quotes => break,
                '<' | '>' if mode != Mode::Plain && self.peek_at(1) == Some('(') => {
                    return Err(self.unsupported(
                        self.pos,
                        "process substitution `<(…)`/`>(…)`",
                        "write the value itself",
                    ));
                }
                '\'' if quoted_mode => {
                    in_single_quotes = !in_single_quotes;
                    literal.push('\'');
                    self.pos += 1;
                }
                c if mode == Mode::Plain && is_meta(c) => break,
                '\'' if !quoted_mode => {
                    flush(&mut literal, &mut parts, false);
                    let open = self.pos;
                    self.pos += 1;
                    let mut text = String::new();
                    loop {
                        match self.peek() {
                            None => {
                                return Err(self.syntax(open, "single quote is never closed"));
                            }
                            Some('\'') => break,
                            Some(c) => text.push(c),
                        }
                        self.pos += 1;
                    }
                    self.pos += 1;
                    // An empty '' still makes the word non-empty.
                    parts.push(Part::Literal { text, quoted: true });
                }
                // Bash gives such inner quotes meanings that vary with what
                // precedes a backslash; no config needs them.
                '"' if quoted_mode => {
                    return Err(self.unsupported(
                        self.pos,
                        "double quotes inside a double-quoted `${NAME:-…}`",
                        "drop the inner quotes: the outer ones already quote the default",
                    ));
                }
                '"' => {
                    flush(&mut literal, &mut parts, quoted_mode);
                    self.pos += 1;
                    self.parse_dquoted(&mut parts)?;
                }
                '\\' => {
                    let escaped = self.peek_at(1);
                    let escapable = !quoted_mode
                        || matches!(escaped, Some('$' | '`' | '"' | '\\' | '\n' | '}'));
                    match escaped {
                        Some('\n') => self.pos += 2,
                        Some(e) if escapable => {
                            flush(&mut literal, &mut parts, quoted_mode);
                            parts.push(Part::Literal {
                                text: e.to_string(),
                                quoted: true,
                            });
                            self.pos += 2;
                        }
                        _ => {
                            literal.push('\\');
                            self.pos += 1;
                        }
                    }
                }
                '$' => {
                    flush(&mut literal, &mut parts, quoted_mode);
                    if let Some(part) = self.parse_dollar(quoted_mode)? {
                        parts.push(part);
                    } else {
                        literal.push('$');
                    }
                }
                '`' => {
                    return Err(self.unsupported(
                        self.pos,
                        "command substitution with backticks",
                        "write the value itself",
                    ));
                }
                // Bash expands `~` at the start of a word and after `:` in assignments.
                '~' if !quoted_mode && (self.pos == at || literal.ends_with(':')) => {
                    return Err(self.unsupported(
                        self.pos,
                        "an unquoted `~` (tilde expansion)",
                        "quote it, or write the path in full",
                    ));
                }
                c => {
                    literal.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut literal, &mut parts, quoted_mode);
        Ok(Word { parts, at })
    }

    /// The inside of `"…"` after the opening quote, consuming the closing one.
    fn parse_dquoted(&mut self, parts: &mut Vec<Part>) -> Result<()> {
        let open = self.pos - 1;
        let mut literal = String::new();
        // `""` still makes a word, so push an empty literal first.
        parts.push(Part::Literal {
            text: String::new(),
            quoted: true,
        });
        loop {
            let Some(c) = self.peek() else {
                return Err(self.syntax(open, "double quote is never closed"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\\' => match self.peek_at(1) {
                    Some('\n') => self.pos += 2,
                    Some(e @ ('$' | '`' | '"' | '\\')) => {
                        literal.push(e);
                        self.pos += 2;
                    }
                    _ => {
                        literal.push('\\');
                        self.pos += 1;
                    }
                },
                '$' => {
                    if let Some(part) = self.parse_dollar(true)? {
                        if !literal.is_empty() {
                            parts.push(Part::Literal {
                                text: std::mem::take(&mut literal),
                                quoted: true,
                            });
                        }
                        parts.push(part);
                    } else {
                        literal.push('$');
                    }
                }
                '`' => {
                    return Err(self.unsupported(
                        self.pos,
                        "command substitution with backticks",
                        "write the value itself",
                    ));
                }
                c => {
                    literal.push(c);
                    self.pos += 1;
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal {
                text: literal,
                quoted: true,
            });
        }
        Ok(())
    }

    /// An expansion at a `$`, or `None` (the `$` consumed) for a literal `$`.
    fn parse_dollar(&mut self, quoted: bool) -> Result<Option<Part>> {
        let at = self.pos;
        self.pos += 1;
        self.skip_continuations();
        let next = self.peek();
        match next {
            Some('{') => {
                self.pos += 1;
                self.skip_continuations();
                self.parse_braced(at, quoted).map(Some)
            }
            Some(c) if is_name_start(c) => {
                let mut name = String::new();
                while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
                    name.push(c);
                    self.pos += 1;
                    self.skip_continuations();
                }
                Ok(Some(Part::Param {
                    name,
                    op: None,
                    quoted,
                }))
            }
            Some('(') if self.peek_at(1) == Some('(') => Err(self.unsupported(
                at,
                "arithmetic expansion `$((…))`",
                "write the number itself",
            )),
            Some('(') => {
                Err(self.unsupported(at, "command substitution `$(…)`", "write the value itself"))
            }
            Some('[') => {
                Err(self.unsupported(at, "arithmetic expansion `$[…]`", "write the number itself"))
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => Err(self.unsupported(
                at,
                format!("the special parameter `${c}`"),
                "use named variables",
            )),
            Some('\'') if !quoted => {
                Err(self.unsupported(at, "ANSI-C quoting `$'…'`", "use single or double quotes"))
            }
            Some('"') if !quoted => {
                Err(self.unsupported(at, "locale quoting `$\"…\"`", "use double quotes"))
            }
            _ => Ok(None),
        }
    }

    /// `${…}` after the `${`.
    fn parse_braced(&mut self, at: usize, quoted: bool) -> Result<Part> {
        match self.peek() {
            Some('#') => {
                return Err(self.unsupported(
                    at,
                    "the length expansion `${#…}`",
                    "use ${NAME}, ${NAME:-default} or ${NAME-default}",
                ));
            }
            Some('!') => {
                return Err(self.unsupported(
                    at,
                    "indirect expansion `${!…}`",
                    "use ${NAME}, ${NAME:-default} or ${NAME-default}",
                ));
            }
            _ => {}
        }
        let mut name = String::new();
        if self.peek().is_some_and(is_name_start) {
            while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
                name.push(c);
                self.pos += 1;
                self.skip_continuations();
            }
        } else {
            return match self.peek() {
                Some(c) if c.is_ascii_digit() || "@*#?$-".contains(c) => Err(self.unsupported(
                    at,
                    format!("the special parameter `${{{c}…}}`"),
                    "use named variables",
                )),
                None => Err(self.syntax(at, "`${` is never closed by `}`")),
                _ => Err(self.syntax(at, "bad substitution: expected a variable name after `${`")),
            };
        }
        let op_at = self.pos;
        let colon = self.peek() == Some(':');
        if colon {
            self.pos += 1;
            self.skip_continuations();
        }
        let op = match self.peek() {
            Some('}') if !colon => {
                self.pos += 1;
                return Ok(Part::Param {
                    name,
                    op: None,
                    quoted,
                });
            }
            Some('-') => ParamOp::Default { colon },
            Some('+') => ParamOp::Alternate { colon },
            None => return Err(self.syntax(at, "`${` is never closed by `}`")),
            Some(c) => {
                let shown = if colon {
                    format!(":{c}")
                } else {
                    c.to_string()
                };
                return Err(self.unsupported(
                    op_at,
                    format!("the expansion operator `{shown}` in `${{{name}{shown}…}}`"),
                    "use ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:+alt} or ${NAME+alt}",
                ));
            }
        };
        self.pos += 1;
        let mode = if quoted {
            Mode::ParamWordInDquote
        } else {
            Mode::ParamWord
        };
        let word = self.parse_word(mode)?;
        // parse_word stops only at `}` in these modes.
        self.pos += 1;
        Ok(Part::Param {
            name,
            op: Some((op, word)),
            quoted,
        })
    }
}

impl Word {
    /// Whether the word is exactly the unquoted text `text`.
    pub fn is_plain_literal(&self, text: &str) -> bool {
        matches!(self.parts.as_slice(), [Part::Literal { text: t, quoted: false }] if t == text)
    }

    /// The word's literal text (for messages about operator words).
    fn literal_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal { text, .. } => text.as_str(),
                Part::Param { .. } => "$…",
            })
            .collect()
    }
}

/// The location of char offset `at` given the offsets where lines start.
pub(super) fn location_of(line_starts: &[usize], origin: &Path, at: usize) -> Location {
    let line = line_starts.partition_point(|&start| start <= at);
    let column = at - line_starts[line - 1] + 1;
    Location::new(origin, line, column)
}
