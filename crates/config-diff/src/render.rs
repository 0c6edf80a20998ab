//! The diff as text and JSON.

use std::fmt::Write as _;

use kayobe_config::value::Value;

use crate::diff::{ConfigDiff, KeyPath};

/// A key path as one string: segments joined by `.`, a segment that is not
/// plain (letters, digits, `_`, `-`) written as a JSON string, so that paths
/// stay unambiguous (`a."b.c"`).
pub fn key_path(path: &KeyPath) -> String {
    path.iter()
        .map(|segment| {
            let plain = !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if plain {
                segment.clone()
            } else {
                serde_json::Value::String(segment.clone()).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn json_text(value: &Value) -> String {
    value.to_json().to_string()
}

/// The diff as unified text: per host a `---`/`+++` header, then one line per
/// key in path order, `-` for the base's value and `+` for the target's
/// (a changed key has both). Empty when nothing changed.
pub fn text(diff: &ConfigDiff) -> String {
    let mut out = String::new();
    for host in &diff.hosts {
        // Lines in path order: (path, base line, target line).
        let mut lines: Vec<(&KeyPath, Option<&Value>, Option<&Value>)> = Vec::new();
        lines.extend(host.removed.iter().map(|e| (&e.path, Some(&e.value), None)));
        lines.extend(host.added.iter().map(|e| (&e.path, None, Some(&e.value))));
        lines.extend(
            host.changed
                .iter()
                .map(|c| (&c.path, Some(&c.base), Some(&c.target))),
        );
        lines.sort_by(|a, b| a.0.cmp(b.0));
        let _ = writeln!(out, "--- base/{}", host.host);
        let _ = writeln!(out, "+++ target/{}", host.host);
        for (path, base, target) in lines {
            let path = key_path(path);
            if let Some(value) = base {
                let _ = writeln!(out, "-{path}: {}", json_text(value));
            }
            if let Some(value) = target {
                let _ = writeln!(out, "+{path}: {}", json_text(value));
            }
        }
    }
    out
}

/// The diff as JSON: `{"hosts": {HOST: {"added": {PATH: VALUE},
/// "removed": {PATH: VALUE}, "changed": {PATH: {"base": VALUE, "target":
/// VALUE}}}}}`, paths written as [`key_path`] does, hosts and paths sorted.
pub fn json(diff: &ConfigDiff) -> serde_json::Value {
    let mut hosts = serde_json::Map::new();
    for host in &diff.hosts {
        let entries = |entries: &[crate::diff::Entry]| {
            serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (key_path(&e.path), e.value.to_json()))
                    .collect(),
            )
        };
        let changed = host
            .changed
            .iter()
            .map(|c| {
                (
                    key_path(&c.path),
                    serde_json::json!({"base": c.base.to_json(), "target": c.target.to_json()}),
                )
            })
            .collect();
        hosts.insert(
            host.host.clone(),
            serde_json::json!({
                "added": entries(&host.added),
                "removed": entries(&host.removed),
                "changed": serde_json::Value::Object(changed),
            }),
        );
    }
    serde_json::json!({ "hosts": hosts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Change, Entry, HostDiff};
    use pretty_assertions::assert_eq;

    fn sample() -> ConfigDiff {
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<KeyPath>();
        ConfigDiff {
            hosts: vec![HostDiff {
                host: "ctl01".into(),
                added: vec![Entry {
                    path: path(&["b", "x.y"]),
                    value: Value::Int(1),
                }],
                removed: vec![Entry {
                    path: path(&["c"]),
                    value: Value::from("gone"),
                }],
                changed: vec![Change {
                    path: path(&["a"]),
                    base: Value::Bool(true),
                    target: Value::Bool(false),
                }],
            }],
        }
    }

    #[test]
    fn text_is_unified_in_path_order() {
        assert_eq!(
            text(&sample()),
            "--- base/ctl01\n+++ target/ctl01\n-a: true\n+a: false\n+b.\"x.y\": 1\n-c: \"gone\"\n"
        );
        assert_eq!(text(&ConfigDiff::default()), "");
    }

    #[test]
    fn json_groups_by_host_and_kind() {
        assert_eq!(
            json(&sample()),
            serde_json::json!({"hosts": {"ctl01": {
                "added": {"b.\"x.y\"": 1},
                "removed": {"c": "gone"},
                "changed": {"a": {"base": true, "target": false}},
            }}})
        );
    }
}
