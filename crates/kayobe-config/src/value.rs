//! The value model: what a YAML, JSON or INI variable is once Ansible has read it.

use indexmap::IndexMap;

/// A mapping that keeps the order its keys were read in.
///
/// Keys are strings: YAML keys that are not (numbers, booleans) are stored in the
/// form Python's `json` module prints them, which is how Ansible outputs them.
pub type Map = IndexMap<String, Value>;

/// A variable's value, with the two Ansible-specific kinds of string kept apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty scalar.
    Null,
    /// A YAML 1.1 boolean (`true`, `yes`, `on`, …) or a Python `True`/`False`.
    Bool(bool),
    /// An integer (decimal, octal, hexadecimal, binary or sexagesimal in YAML 1.1).
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string, which may hold a Jinja template.
    String(String),
    /// A sequence.
    List(Vec<Value>),
    /// A mapping.
    Map(Map),
    /// A `!vault` tagged scalar: the ansible-vault ciphertext exactly as read.
    Vault(String),
    /// An `!unsafe` tagged string: text that is never templated.
    Unsafe(String),
}

impl Value {
    /// The string inside a plain or `!unsafe` string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Unsafe(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping inside a map value.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
