//! The diff as text and JSON.

use std::fmt::Write as _;
use std::path::Path;

use kayobe_config::value::Value;

use crate::diff::{ConfigDiff, KeyPath};
use kayobe_stdx::{escape_line, escape_text};

use crate::tree::{FileChange, MAX_DIFF_LINES_VAR, TreeDiff, max_diff_lines};

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
/// (a changed key has both); then the files, as [`tree_text`] writes them.
/// Empty when nothing changed.
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
        let name = escape_line(&host.host);
        let _ = writeln!(out, "--- base/{name}");
        let _ = writeln!(out, "+++ target/{name}");
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
    out.push_str(&tree_text(&diff.files));
    // Values and file contents come from the revisions: no control
    // character of theirs reaches the terminal.
    escape_text(&out).into_owned()
}

/// A tree diff as `diff -Naur` writes one, in path order: a changed file as
/// its unified diff, a new or deleted one in full against `/dev/null`, a
/// binary one as a `Binary files … differ` line with both digests.
pub fn tree_text(diff: &TreeDiff) -> String {
    let mut out = String::new();
    for file in &diff.files {
        let path = escape_line(&file.path.to_string_lossy()).into_owned();
        match &file.change {
            FileChange::Added { text } => out.push_str(&whole_file(&file.path, "", text)),
            FileChange::Removed { text } => out.push_str(&whole_file(&file.path, text, "")),
            FileChange::Changed { unified } => out.push_str(unified),
            FileChange::Summarised { .. } => {
                let _ = writeln!(out, "{}", summarised_line(&file.path, &file.change));
            }
            FileChange::Binary { old, new } => {
                let side = |prefix: &str, digest: &Option<String>| match digest {
                    Some(_) => format!("{prefix}/{path}"),
                    None => "/dev/null".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "Binary files {} and {} differ ({} -> {})",
                    side("a", old),
                    side("b", new),
                    old.as_deref().unwrap_or("none"),
                    new.as_deref().unwrap_or("none"),
                );
            }
        }
    }
    escape_text(&out).into_owned()
}

/// The one line standing for a [`FileChange::Summarised`] file.
pub fn summarised_line(path: &Path, change: &FileChange) -> String {
    let FileChange::Summarised {
        old_lines,
        new_lines,
        old,
        new,
    } = change
    else {
        return String::new();
    };
    format!(
        "Files a/{path} and b/{path} differ: changed, {old_lines} -> {new_lines} lines ({old} -> {new}); \
         too many changed lines to diff (more than {max}; raise {var} to see the diff)",
        path = escape_line(&path.to_string_lossy()),
        max = max_diff_lines(),
        var = MAX_DIFF_LINES_VAR,
    )
}

/// The unified diff of a file only one side has, against `/dev/null`.
fn whole_file(path: &Path, old: &str, new: &str) -> String {
    let shown = escape_line(&path.to_string_lossy()).into_owned();
    let (from, to) = if old.is_empty() {
        ("/dev/null".to_owned(), format!("b/{shown}"))
    } else {
        (format!("a/{shown}"), "/dev/null".to_owned())
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&from, &to)
        .to_string()
}

/// The diff as JSON: `{"hosts": {HOST: {"added": {PATH: VALUE},
/// "removed": {PATH: VALUE}, "changed": {PATH: {"base": VALUE, "target":
/// VALUE}}}}, "files": FILES}`, paths written as [`key_path`] does, hosts
/// and paths sorted; `FILES` as [`tree_json`] writes it.
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
    serde_json::json!({ "hosts": hosts, "files": tree_json(&diff.files) })
}

/// A tree diff as JSON, by file path in order: `{"added": TEXT}`,
/// `{"removed": TEXT}`, `{"changed": UNIFIED_DIFF}` or `{"binary": {"base":
/// DIGEST|null, "target": DIGEST|null}}`.
pub fn tree_json(diff: &TreeDiff) -> serde_json::Value {
    let files = diff
        .files
        .iter()
        .map(|file| {
            let change = match &file.change {
                FileChange::Added { text } => serde_json::json!({ "added": text }),
                FileChange::Removed { text } => serde_json::json!({ "removed": text }),
                FileChange::Changed { unified } => serde_json::json!({ "changed": unified }),
                FileChange::Summarised {
                    old_lines,
                    new_lines,
                    old,
                    new,
                } => serde_json::json!({ "summarised": {
                    "base_lines": old_lines, "target_lines": new_lines,
                    "base": old, "target": new,
                } }),
                FileChange::Binary { old, new } => {
                    serde_json::json!({ "binary": { "base": old, "target": new } })
                }
            };
            (file.path.to_string_lossy().into_owned(), change)
        })
        .collect();
    serde_json::Value::Object(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Change, Entry, HostDiff};
    use crate::tree::FileDiff;
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
            files: TreeDiff {
                files: vec![
                    FileDiff {
                        path: "kolla/config/nova.conf".into(),
                        change: FileChange::Changed {
                            unified: "--- a/kolla/config/nova.conf\n+++ b/kolla/config/nova.conf\n\
                                      @@ -1 +1 @@\n-a\n+b\n"
                                .into(),
                        },
                    },
                    FileDiff {
                        path: "kolla/config/new.conf".into(),
                        change: FileChange::Added {
                            text: "x\ny\n".into(),
                        },
                    },
                    FileDiff {
                        path: "old.conf".into(),
                        change: FileChange::Removed { text: "z".into() },
                    },
                    FileDiff {
                        path: "ca.der".into(),
                        change: FileChange::Binary {
                            old: None,
                            new: Some("sha256:ab".into()),
                        },
                    },
                ],
            },
            warnings: Vec::new(),
        }
    }

    #[test]
    fn text_is_unified_in_path_order() {
        assert_eq!(
            text(&sample()),
            "--- base/ctl01\n+++ target/ctl01\n-a: true\n+a: false\n+b.\"x.y\": 1\n-c: \"gone\"\n\
             --- a/kolla/config/nova.conf\n+++ b/kolla/config/nova.conf\n@@ -1 +1 @@\n-a\n+b\n\
             --- /dev/null\n+++ b/kolla/config/new.conf\n@@ -0,0 +1,2 @@\n+x\n+y\n\
             --- a/old.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n\\ No newline at end of file\n\
             Binary files /dev/null and b/ca.der differ (none -> sha256:ab)\n"
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
            }},
            "files": {
                "kolla/config/nova.conf": {"changed": "--- a/kolla/config/nova.conf\n+++ b/kolla/config/nova.conf\n@@ -1 +1 @@\n-a\n+b\n"},
                "kolla/config/new.conf": {"added": "x\ny\n"},
                "old.conf": {"removed": "z"},
                "ca.der": {"binary": {"base": null, "target": "sha256:ab"}},
            }})
        );
    }
}
