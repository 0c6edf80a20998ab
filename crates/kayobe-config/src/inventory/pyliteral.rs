//! Python's `ast.literal_eval`, as Ansible's INI plugin applies it to each
//! variable value: a string that is exactly a Python literal (numbers,
//! strings, `True`/`False`/`None`, tuples, lists, sets, dicts, `set()`,
//! `a+bj` complex numbers) becomes that value; anything else stays the raw
//! string. Tuples and sets become lists, complex numbers and `...` their
//! Python `str()`, bytes their UTF-8 text, as Ansible coerces them.

use crate::value::{Map, Value, python_float_repr};

/// Python's tokenizer refuses deeper nesting of brackets.
const MAX_DEPTH: usize = 199;

/// A literal Python evaluates but Ansible cannot use: a dict key that is a
/// list, tuple or dict (Python raises `TypeError`, or Ansible's JSON output
/// fails), which Ansible does not catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnhashableKey;

/// The value Ansible's INI plugin gives the text `raw`.
pub(crate) fn parse_value(raw: &str) -> Result<Value, UnhashableKey> {
    let mut parser = Parser {
        text: raw.trim_start_matches([' ', '\t']),
        pos: 0,
        depth: 0,
        unhashable_key: false,
    };
    match literal_eval(&mut parser) {
        Some(_) if parser.unhashable_key => Err(UnhashableKey),
        Some(value) => Ok(value),
        None => Ok(Value::String(raw.to_owned())),
    }
}

/// `ast.literal_eval(text)` mapped to a [`Value`], or `None` when Python
/// would raise `ValueError`/`SyntaxError`.
fn literal_eval(parser: &mut Parser<'_>) -> Option<Value> {
    if parser.text.contains('\0') {
        return None;
    }
    let value = parser.expression_list(None)?;
    parser.skip_space();
    parser.at_end().then(|| value.into_value())
}

/// A literal before Ansible's coercion (complex numbers stay numbers so `1+2j`
/// can be folded).
#[derive(Debug, Clone)]
enum Literal {
    Value(Value),
    Complex(f64, f64),
    /// A bytes literal, kept apart so `b'a' 'b'` is refused as Python does.
    Bytes(Vec<u8>),
}

impl Literal {
    fn into_value(self) -> Value {
        match self {
            Literal::Value(value) => value,
            Literal::Complex(re, im) => Value::String(complex_str(re, im)),
            // Ansible decodes bytes strictly; undecodable ones are kept lossily.
            Literal::Bytes(bytes) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// The key a dict literal's key becomes once Ansible prints it as JSON.
    fn into_key(self) -> String {
        match self.into_value() {
            Value::String(s) => s,
            Value::Int(i) => i.to_string(),
            Value::Float(f) => python_float_repr(f),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_owned(),
            other => format!("{:?}", other.to_json()),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// A dict key was a container.
    unhashable_key: bool,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    /// Skips whitespace and a trailing `#` comment.
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\x0c') => self.pos += 1,
                Some('#') => self.pos = self.text.len(),
                _ => return,
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// `item (, item)* [,]` up to `close` (or the end at top level); a single
    /// item without a comma is that item, otherwise a tuple.
    fn expression_list(&mut self, close: Option<char>) -> Option<Literal> {
        let first = self.item()?;
        if !self.eat(',') {
            return Some(first);
        }
        let mut items = vec![first.into_value()];
        loop {
            self.skip_space();
            if self.at_end() || close.is_some_and(|c| self.peek() == Some(c)) {
                break;
            }
            items.push(self.item()?.into_value());
            if !self.eat(',') {
                break;
            }
        }
        Some(Literal::Value(Value::List(items)))
    }

    /// Items of a `[...]`, `{...}` set or `(...)` tuple up to `close`.
    fn items_until(&mut self, close: char, mut items: Vec<Value>) -> Option<Vec<Value>> {
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.item()?.into_value());
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    /// A signed number, `number ± complex`, or any other literal.
    fn item(&mut self) -> Option<Literal> {
        let left = self.signed()?;
        let save = self.pos;
        self.skip_space();
        let op = match self.peek() {
            Some(op @ ('+' | '-')) => op,
            _ => {
                self.pos = save;
                return Some(left);
            }
        };
        self.pos += 1;
        // The right operand is a plain (unsigned) complex constant, the left
        // a real number.
        let left = match left {
            Literal::Value(Value::Int(i)) => i as f64,
            Literal::Value(Value::Float(f)) => f,
            _ => return None,
        };
        self.skip_space();
        let Literal::Complex(re, im) = self.number()? else {
            return None;
        };
        Some(match op {
            '+' => Literal::Complex(left + re, 0.0 + im),
            _ => Literal::Complex(left - re, 0.0 - im),
        })
    }

    /// An atom, or `+`/`-` applied once to a number.
    fn signed(&mut self) -> Option<Literal> {
        self.skip_space();
        let negate = match self.peek() {
            Some('-') => true,
            Some('+') => false,
            _ => return self.atom(),
        };
        self.pos += 1;
        self.skip_space();
        // Parentheses make no node: `-((1))` is still `-1`, but the operand
        // must be a number constant, not another operation.
        let mut parens = 0;
        while self.peek() == Some('(') {
            self.pos += 1;
            parens += 1;
            self.skip_space();
        }
        if parens > MAX_DEPTH {
            return None;
        }
        let operand = self.number()?;
        for _ in 0..parens {
            if !self.eat(')') {
                return None;
            }
        }
        Some(match (negate, operand) {
            (false, operand) => operand,
            (true, Literal::Value(Value::Int(i))) => match i.checked_neg() {
                Some(n) => Literal::Value(Value::Int(n)),
                None => Literal::Value(Value::Float(-(i as f64))),
            },
            (true, Literal::Value(Value::Float(f))) => Literal::Value(Value::Float(-f)),
            (true, Literal::Complex(re, im)) => Literal::Complex(-re, -im),
            _ => return None,
        })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn atom(&mut self) -> Option<Literal> {
        self.skip_space();
        let c = self.peek()?;
        match c {
            '(' | '[' | '{' => {
                self.pos += 1;
                self.enter()?;
                let result = self.bracketed(c);
                self.depth -= 1;
                result
            }
            '0'..='9' | '.' if !self.rest().starts_with("...") => self.number(),
            '.' => {
                self.pos += 3;
                Some(Literal::Value(Value::String("...".to_owned())))
            }
            '\'' | '"' => self.strings(),
            c if c.is_alphabetic() || c == '_' => {
                let word_len = self
                    .rest()
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(self.rest().len());
                let word = &self.rest()[..word_len];
                let after = &self.rest()[word_len..];
                if after.starts_with(['\'', '"']) && is_string_prefix(word) {
                    return self.strings();
                }
                let value = match word {
                    "True" => Value::Bool(true),
                    "False" => Value::Bool(false),
                    "None" => Value::Null,
                    "set" => {
                        self.pos += word_len;
                        return (self.eat('(') && self.eat(')'))
                            .then_some(Literal::Value(Value::List(Vec::new())));
                    }
                    _ => return None,
                };
                self.pos += word_len;
                Some(Literal::Value(value))
            }
            _ => None,
        }
    }

    fn bracketed(&mut self, open: char) -> Option<Literal> {
        match open {
            '(' => {
                if self.eat(')') {
                    return Some(Literal::Value(Value::List(Vec::new())));
                }
                let inner = self.expression_list(Some(')'))?;
                self.eat(')').then_some(inner)
            }
            '[' => Some(Literal::Value(Value::List(
                self.items_until(']', Vec::new())?,
            ))),
            _ => {
                if self.eat('}') {
                    return Some(Literal::Value(Value::Map(Map::new())));
                }
                let first = self.item()?;
                if !self.eat(':') {
                    // A set: duplicates collapse (Python's own order is
                    // hash-based; the source order is kept here).
                    let items = self.items_after_first_set_item(first)?;
                    return Some(Literal::Value(Value::List(items)));
                }
                let mut map = Map::new();
                let value = self.item()?.into_value();
                let key = self.key(first);
                map.insert(key, value);
                loop {
                    if !self.eat(',') {
                        return self.eat('}').then_some(Literal::Value(Value::Map(map)));
                    }
                    if self.eat('}') {
                        return Some(Literal::Value(Value::Map(map)));
                    }
                    let key = self.item()?;
                    let key = self.key(key);
                    if !self.eat(':') {
                        return None;
                    }
                    let value = self.item()?.into_value();
                    map.insert(key, value);
                }
            }
        }
    }

    /// A dict key as Ansible prints it, noting container keys.
    fn key(&mut self, key: Literal) -> String {
        if matches!(key, Literal::Value(Value::List(_) | Value::Map(_))) {
            self.unhashable_key = true;
        }
        key.into_key()
    }

    fn items_after_first_set_item(&mut self, first: Literal) -> Option<Vec<Value>> {
        let first = first.into_value();
        let items = if self.eat(',') {
            self.items_until('}', vec![first])?
        } else if self.eat('}') {
            vec![first]
        } else {
            return None;
        };
        let mut unique: Vec<Value> = Vec::with_capacity(items.len());
        for item in items {
            if matches!(item, Value::List(_) | Value::Map(_)) {
                // Unhashable: Python raises TypeError, which Ansible does not
                // treat as "not a literal"; keeping the raw text is the
                // closest safe reading.
                return None;
            }
            if !unique.contains(&item) {
                unique.push(item);
            }
        }
        Some(unique)
    }

    /// Adjacent string literals, concatenated (all text or all bytes).
    fn strings(&mut self) -> Option<Literal> {
        let mut text: Option<String> = None;
        let mut bytes: Option<Vec<u8>> = None;
        loop {
            self.skip_space();
            let rest = self.rest();
            let prefix_len = rest.find(['\'', '"']).unwrap_or(0);
            let prefix = &rest[..prefix_len];
            if !rest[prefix_len..].starts_with(['\'', '"']) || !is_string_prefix(prefix) {
                break;
            }
            let lower = prefix.to_ascii_lowercase();
            if lower.contains('f') {
                // An f-string is a JoinedStr: never a literal.
                return None;
            }
            let raw = lower.contains('r');
            let is_bytes = lower.contains('b');
            self.pos += prefix_len;
            let body = self.string_body(raw, is_bytes)?;
            match (is_bytes, body) {
                (false, StringBody::Text(s)) if bytes.is_none() => {
                    text.get_or_insert_with(String::new).push_str(&s)
                }
                (true, StringBody::Bytes(b)) if text.is_none() => {
                    bytes.get_or_insert_with(Vec::new).extend(b)
                }
                _ => return None,
            }
        }
        match (text, bytes) {
            (Some(s), None) => Some(Literal::Value(Value::String(s))),
            (None, Some(b)) => Some(Literal::Bytes(b)),
            _ => None,
        }
    }

    /// One quoted body starting at the opening quote.
    fn string_body(&mut self, raw: bool, is_bytes: bool) -> Option<StringBody> {
        let rest = self.rest();
        let quote = rest.chars().next()?;
        let triple: String = std::iter::repeat_n(quote, 3).collect();
        let (delimiter, start) = if rest.starts_with(&triple) {
            (triple.as_str(), 3)
        } else {
            (&rest[..1], 1)
        };
        let mut out = String::new();
        let mut chars = rest[start..].char_indices();
        while let Some((i, c)) = chars.next() {
            if rest[start + i..].starts_with(delimiter) {
                self.pos += start + i + delimiter.len();
                return Some(if is_bytes {
                    StringBody::Bytes(bytes_of(&out)?)
                } else {
                    StringBody::Text(out)
                });
            }
            if is_bytes && !c.is_ascii() {
                return None;
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let (_, next) = chars.next()?;
            if raw {
                out.push('\\');
                out.push(next);
                continue;
            }
            match next {
                '\\' | '\'' | '"' => out.push(next),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                '0'..='7' => {
                    let mut code = next.to_digit(8)?;
                    for _ in 0..2 {
                        let Some(digit) = chars.clone().next().and_then(|(_, d)| d.to_digit(8))
                        else {
                            break;
                        };
                        chars.next();
                        code = code * 8 + digit;
                    }
                    if is_bytes && code > 0xff {
                        return None;
                    }
                    // Bytes keep the byte value; mark it for `bytes_of`.
                    out.push(char::from_u32(if is_bytes {
                        0xF0000 + code
                    } else {
                        code
                    })?);
                }
                'x' | 'u' | 'U' if !(is_bytes && next != 'x') => {
                    let len = match next {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut code = 0u32;
                    for _ in 0..len {
                        let (_, digit) = chars.next()?;
                        code = code.checked_mul(16)? + digit.to_digit(16)?;
                    }
                    if is_bytes {
                        out.push(char::from_u32(0xF0000 + code)?);
                    } else {
                        // Lone surrogates are not representable: not taken as literal.
                        out.push(char::from_u32(code)?);
                    }
                }
                // `\N{name}` needs the Unicode name table: keep the raw text.
                'N' if !is_bytes => return None,
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        None
    }

    /// A Python number literal (int, float or imaginary), unsigned.
    fn number(&mut self) -> Option<Literal> {
        let rest = self.rest();
        let scan = |from: usize| {
            rest[from..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .map_or(rest.len(), |n| from + n)
        };
        let mut len = scan(0);
        let lower = rest[..len].to_ascii_lowercase();
        let radix_prefixed = ["0x", "0o", "0b"].iter().any(|p| lower.starts_with(p));
        // An exponent's sign belongs to the number: `1e-5`.
        if !radix_prefixed && lower.ends_with('e') && rest[len..].starts_with(['+', '-']) {
            len = scan(len + 1);
        }
        let literal = number_literal(&rest[..len])?;
        self.pos += len;
        Some(literal)
    }
}

enum StringBody {
    Text(String),
    Bytes(Vec<u8>),
}

/// The bytes of a bytes literal body: ASCII characters as themselves, escapes
/// (marked in the `U+F0000` plane by `string_body`) as their byte value.
fn bytes_of(body: &str) -> Option<Vec<u8>> {
    body.chars()
        .map(|c| match c as u32 {
            code @ 0..=0x7f => Some(code as u8),
            code @ 0xF0000..=0xF00FF => Some((code - 0xF0000) as u8),
            _ => None,
        })
        .collect()
}

fn is_string_prefix(prefix: &str) -> bool {
    matches!(
        prefix.to_ascii_lowercase().as_str(),
        "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
    )
}

/// Digits with single `_` between them, all satisfying `digit`.
fn digit_part(text: &str, digit: fn(char) -> bool) -> bool {
    !text.is_empty()
        && !text.starts_with('_')
        && !text.ends_with('_')
        && !text.contains("__")
        && text.chars().all(|c| c == '_' || digit(c))
}

fn decimal(text: &str) -> bool {
    digit_part(text, |c| c.is_ascii_digit())
}

/// Python's `floatnumber` (pointfloat or exponentfloat).
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if !decimal(digits) {
            return false;
        }
    }
    match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() || decimal(int))
                && (frac.is_empty() || decimal(frac))
                && !(int.is_empty() && frac.is_empty())
        }
        None => exponent.is_some() && decimal(mantissa),
    }
}

fn number_literal(token: &str) -> Option<Literal> {
    let clean = |t: &str| t.replace('_', "");
    if let Some(body) = token.strip_suffix(['j', 'J']) {
        if is_float(body) || decimal(body) {
            let im: f64 = clean(body).parse().ok()?;
            return Some(Literal::Complex(0.0, im));
        }
        return None;
    }
    let lower = token.to_ascii_lowercase();
    for (prefix, radix, digit) in [
        (
            "0x",
            16,
            (|c: char| c.is_ascii_hexdigit()) as fn(char) -> bool,
        ),
        ("0o", 8, |c: char| ('0'..='7').contains(&c)),
        ("0b", 2, |c: char| c == '0' || c == '1'),
    ] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            // `0x_ff` is valid: one underscore may follow the prefix.
            let digits = digits.strip_prefix('_').unwrap_or(digits);
            if !digit_part(digits, digit) {
                return None;
            }
            return Some(int_value(u128::from_str_radix(&clean(digits), radix).ok()));
        }
    }
    if is_float(token) {
        return Some(Literal::Value(Value::Float(clean(token).parse().ok()?)));
    }
    if !decimal(token) {
        return None;
    }
    let digits = clean(token);
    // Leading zeros are only allowed for zero itself.
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
        return None;
    }
    Some(int_value(digits.parse::<u128>().ok()))
}

/// An integer literal's value; beyond `i64` (Python ints are unbounded) the
/// nearest float, which is what a JSON reader makes of Ansible's output.
fn int_value(value: Option<u128>) -> Literal {
    match value {
        Some(v) => match i64::try_from(v) {
            Ok(i) => Literal::Value(Value::Int(i)),
            Err(_) => Literal::Value(Value::Float(v as f64)),
        },
        None => Literal::Value(Value::Float(f64::INFINITY)),
    }
}

/// Python's `str(complex)`.
fn complex_str(re: f64, im: f64) -> String {
    let part = |f: f64| {
        let repr = python_float_repr(f);
        repr.strip_suffix(".0").map(str::to_owned).unwrap_or(repr)
    };
    let imag = part(im);
    if re == 0.0 && re.is_sign_positive() {
        return format!("{imag}j");
    }
    let sign = if im.is_sign_negative() || im.is_nan() && imag.starts_with('-') {
        ""
    } else {
        "+"
    };
    format!("({}{sign}{imag}j)", part(re))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> serde_json::Value {
        parse_value(text).unwrap().to_json()
    }

    #[test]
    fn container_dict_keys_are_refused() {
        assert_eq!(parse_value("{[1]: 2}"), Err(UnhashableKey));
        assert_eq!(parse_value("{'a': {(1, 2): 3}}"), Err(UnhashableKey));
        // Not a literal at all: Python stops before building the dict.
        assert_eq!(parse_value("{[1]: x}"), Ok(Value::from("{[1]: x}")));
    }

    #[test]
    fn reads_python_literals() {
        use serde_json::json;
        assert_eq!(v("1"), json!(1));
        assert_eq!(v("-1_000"), json!(-1000));
        assert_eq!(v("0x1F"), json!(31));
        assert_eq!(v("1.5e3"), json!(1500.0));
        assert_eq!(v("True"), json!(true));
        assert_eq!(v("None"), json!(null));
        assert_eq!(v("'a b'"), json!("a b"));
        assert_eq!(v(r#""a\tb""#), json!("a\tb"));
        assert_eq!(v(r"r'a\tb'"), json!("a\\tb"));
        assert_eq!(v("'a' \"b\""), json!("ab"));
        assert_eq!(v("b'x'"), json!("x"));
        assert_eq!(v("[1, 'a', (2, 3), {4}]"), json!([1, "a", [2, 3], [4]]));
        assert_eq!(v("{'a': 1, 2: [None]}"), json!({"a": 1, "2": [null]}));
        assert_eq!(v("1, 2,"), json!([1, 2]));
        assert_eq!(v("()"), json!([]));
        assert_eq!(v("set()"), json!([]));
        assert_eq!(v("(1)"), json!(1));
        assert_eq!(v("-(1)"), json!(-1));
        assert_eq!(v("1 # comment"), json!(1));
        assert_eq!(v("  7"), json!(7));
        assert_eq!(v("..."), json!("..."));
        assert_eq!(v("1-0j"), json!("(1+0j)"));
        assert_eq!(v("-1j"), json!("(-0-1j)"));
        assert_eq!(v("1e16j"), json!("1e+16j"));
        assert_eq!(v("1.5+2j"), json!("(1.5+2j)"));
        assert_eq!(v("0777j"), json!("777j"));
    }

    #[test]
    fn keeps_everything_else_raw() {
        for raw in [
            "hello",
            "0777",
            "1_",
            "--1",
            "-True",
            "1 2",
            "f'x'",
            "'a' b'b'",
            "[1,",
            "{'a'}x",
            "1+2",
            "x=1",
            "",
            "'\\N{DASH}'",
            "-(-1)",
            "-(1+2j)",
            "/usr/bin/python3",
        ] {
            assert_eq!(v(raw), serde_json::json!(raw), "{raw:?}");
        }
    }
}
