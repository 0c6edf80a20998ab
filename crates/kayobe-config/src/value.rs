//! The value model: what a YAML, JSON or INI variable is once Ansible has read it.

use std::fmt::Write as _;

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

impl Value {
    /// The JSON `ansible-inventory --list` and Ansible's JSON encoder print for
    /// this value: vault ciphertext becomes `{"__ansible_vault": "…"}`, an
    /// `!unsafe` string `{"__ansible_unsafe": "…"}`; a non-finite float
    /// would be invalid JSON (Python prints `NaN`), so it becomes `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(s.clone()),
            Value::Unsafe(s) => tagged("__ansible_unsafe", s),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => map_to_json(map),
            Value::Vault(ciphertext) => tagged("__ansible_vault", ciphertext),
        }
    }

    /// The value a JSON document means (JSON numbers that fit `i64` are
    /// integers, as Python's `json` reads them).
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as Json;
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            Json::Object(object) => Value::Map(
                object
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// `{"<tag>": "<text>"}`, how Ansible's JSON encoder marks tagged strings.
fn tagged(tag: &str, text: &str) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert(tag.to_owned(), serde_json::Value::String(text.to_owned()));
    serde_json::Value::Object(object)
}

/// [`Value::to_json`] of every entry of a map.
pub fn map_to_json(map: &Map) -> serde_json::Value {
    serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Python's `repr(float)`: shortest round-trip digits, positional notation
/// from 1e-4 up to 1e16 and exponent notation outside it.
pub(crate) fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Shortest round-trip digits and decimal exponent, e.g. "-1.25e-7".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_and_unsafe_print_as_ansible_does() {
        let mut map = Map::new();
        map.insert(
            "secret".into(),
            Value::Vault("$ANSIBLE_VAULT;1.1;AES256\n61".into()),
        );
        map.insert("raw".into(), Value::Unsafe("{{ x }}".into()));
        map.insert("inf".into(), Value::Float(f64::INFINITY));
        let json = Value::Map(map).to_json();
        assert_eq!(
            json,
            serde_json::json!({
                "secret": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n61"},
                "raw": {"__ansible_unsafe": "{{ x }}"},
                "inf": null,
            })
        );
    }

    #[test]
    fn floats_print_as_python_repr() {
        for (f, want) in [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (-0.0, "-0.0"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(python_float_repr(f), want);
        }
    }

    #[test]
    fn json_round_trips_through_value() {
        let json = serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        assert_eq!(Value::from_json(&json).to_json(), json);
    }
}
