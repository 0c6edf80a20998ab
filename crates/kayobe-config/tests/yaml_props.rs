//! Properties of `kayobe_config::yaml::parse`: it never panics, whatever the
//! input, and a value written as YAML reads back as the same value.

mod yaml_gen;

use std::fmt::Write as _;
use std::path::Path;

use kayobe_config::yaml::parse;
use kayobe_config::{Map, Value};
use proptest::prelude::*;

/// Writes `value` as YAML 1.1 that means exactly `value` (a small emitter for
/// this test only): strings always quoted or literal blocks, floats always
/// with a dot and a signed exponent, block or flow collections.
fn emit(value: &Value, flow: bool, indent: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&yaml_float(*f)),
        Value::String(s) => emit_string(s, flow, indent, out),
        Value::Unsafe(s) => {
            out.push_str("!unsafe ");
            emit_string(s, flow, indent, out);
        }
        Value::Vault(s) => {
            out.push_str("!vault ");
            emit_string(s, flow, indent, out);
        }
        Value::List(items) if flow || items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                emit(item, true, indent, out);
            }
            out.push(']');
        }
        Value::Map(map) if flow || map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&double_quoted(key));
                out.push_str(": ");
                emit(item, true, indent, out);
            }
            out.push('}');
        }
        Value::List(items) => {
            for item in items {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                emit_nested(item, indent + 2, out);
            }
        }
        Value::Map(map) => {
            for (key, item) in map {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                out.push_str(&double_quoted(key));
                out.push_str(": ");
                emit_nested(item, indent + 2, out);
            }
        }
    }
}

/// A value under a key or dash: block collections go on the following lines;
/// alternate lists and maps use flow style for variety.
fn emit_nested(value: &Value, indent: usize, out: &mut String) {
    let flow = match value {
        Value::List(items) => items.len() % 2 == 1,
        Value::Map(map) => map.len() % 2 == 1,
        _ => false,
    };
    emit(value, flow, indent, out);
}

fn emit_string(s: &str, flow: bool, indent: usize, out: &mut String) {
    let literal_ok = !flow
        && s.ends_with('\n')
        && !s.ends_with("\n\n")
        && s.len() > 1
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars()
            .all(|c| c == '\n' || (!c.is_control() && !is_yaml_break(c)))
        && !s
            .lines()
            .any(|line| line.ends_with([' ', '\t']) || line.is_empty());
    let single_ok = !s.contains(['\n', '\r'])
        && !s.starts_with([' ', '\t'])
        && !s.ends_with([' ', '\t'])
        && s.chars()
            .all(|c| !c.is_control() && !is_yaml_break(c) && c != '\u{feff}');
    if literal_ok {
        out.push('|');
        for line in s.lines() {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
    } else if single_ok && s.len() % 2 == 0 {
        let _ = write!(out, "'{}'", s.replace('\'', "''"));
    } else {
        out.push_str(&double_quoted(s));
    }
}

/// Line breaks in YAML 1.1 (libyaml) but not YAML 1.2: always escaped.
fn is_yaml_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_yaml_break(c) || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float in YAML 1.1's float syntax: `1.0`, `1.5e+20`, `.inf`, `.nan`.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').expect("{:e} has an exponent");
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    let exponent = if exponent.starts_with('-') {
        exponent.to_owned()
    } else {
        format!("+{exponent}")
    };
    format!("{mantissa}e{exponent}")
}

fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    emit(value, false, 0, &mut out);
    out.push('\n');
    out
}

/// Equal, with NaN equal to itself.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => (x.is_nan() && y.is_nan()) || x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9 :#'\"\\\\\n\t.~-]{0,12}",
        prop::sample::select(
            &[
                "yes",
                "no",
                "null",
                "~",
                "1.5",
                "010",
                "0x1f",
                "1:30",
                "2001-12-14",
                ""
            ][..]
        )
        .prop_map(String::from),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        prop::sample::select(
            &[
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                -0.0,
                1e300,
                5e-324
            ][..]
        )
        .prop_map(Value::Float),
        text().prop_map(Value::String),
        // `!unsafe` resolves its scalar as if plain (`!unsafe "yes"` is a
        // boolean), so an unsafe string starts with a letter no YAML 1.1
        // type starts with.
        text().prop_map(|s| Value::Unsafe(format!("u{s}"))),
        Just(Value::Vault(
            "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n3132333435\n".to_owned()
        )),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<Map>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_values_read_back_the_same(value in value()) {
        let yaml = to_yaml(&value);
        let read = parse(&yaml, Path::new("roundtrip.yml"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert!(same(&read, &value), "wrote {value:?} as\n{yaml}\nread {read:?}");
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text, Path::new("any.yml"));
    }

    #[test]
    fn never_panics_on_yaml_like_text(
        text in "([-:?&*!|>'\"#%@`{}\\[\\],<= \n\ta-c0-9~.]|yes|null|<<|&a|\\*a|!unsafe|!vault|!!str|---|\\.\\.\\.){0,40}"
    ) {
        let _ = parse(&text, Path::new("any.yml"));
    }

    #[test]
    fn never_panics_on_generated_documents(document in yaml_gen::document()) {
        let _ = parse(&document, Path::new("generated.yml"));
    }

    #[test]
    fn errors_point_inside_the_text(text in "([-:?&*!|>'\"#{}\\[\\], \n\ta-c0-9]|<<|\\*a|&a|!foo){0,30}") {
        if let Err(error) = parse(&text, Path::new("e.yml")) {
            let location = error.location().expect("parse errors have a location");
            let lines = text.split('\n').count();
            prop_assert!(location.line >= 1 && location.line <= lines + 1, "{error} for {text:?}");
            prop_assert!(location.column >= 1, "{error}");
            prop_assert!(error.to_string().starts_with("e.yml:"), "{error}");
        }
    }
}
