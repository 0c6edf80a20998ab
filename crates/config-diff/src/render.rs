//! The diff as text and JSON.

use std::fmt::Write as _;
use std::path::Path;

use kayobe_config::value::Value;

use crate::diff::{ConfigDiff, KeyPath};
use crate::group::{GroupedDiff, HostSet, Kind};
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

/// The diff as text, grouped ([`GroupedDiff`]): a `#` summary line, then
/// each group of changes under `@@ HOSTS @@` (the hosts named as
/// [`HostSet`](crate::group::HostSet) shows them), one line per key in path
/// order, `-` for the base's value and `+` for the target's (a changed key
/// has both); then the files, as [`tree_text`] writes them. Empty when
/// nothing changed.
pub fn text(diff: &ConfigDiff) -> String {
    let mut out = variables_text(&GroupedDiff::of(diff));
    out.push_str(&tree_text(&diff.files));
    out
}

/// The variables part of [`text`]: the summary line, then each group of
/// hosts and its changes.
pub fn variables_text(grouped: &GroupedDiff) -> String {
    let mut out = String::new();
    if !grouped.is_empty() {
        let _ = writeln!(out, "# {}", escape_line(&grouped.summary()));
    }
    for group in &grouped.groups {
        let _ = writeln!(out, "@@ {} @@", escape_line(&group.hosts.to_string()));
        for change in &group.changes {
            let path = key_path(&change.path);
            if let Some(value) = &change.base {
                let _ = writeln!(out, "-{path}: {}", json_text(value));
            }
            if let Some(value) = &change.target {
                let _ = writeln!(out, "+{path}: {}", json_text(value));
            }
        }
    }
    // Values come from the revisions: no control character of theirs
    // reaches the terminal.
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

/// The diff as JSON: `{"summary": SUMMARY, "changes": [GROUP], "hosts":
/// HOSTS, "files": FILES}`.
///
/// - `SUMMARY`: `{"distinct": {"added": N, "removed": N, "changed": N},
///   "hosts": N, "groups": [GROUP_NAME]}`, counts of distinct changes.
/// - `GROUP` ([`GroupedDiff`]): `{"hosts": {"text": "compute (1 000 hosts)",
///   "count": N, "group": NAME|null, "except": [HOST], "list": [HOST]},
///   "added": {PATH: VALUE}, "removed": {PATH: VALUE}, "changed": {PATH:
///   {"base": VALUE, "target": VALUE}}}`; hosts folded into ranges
///   (`compute[00005:10004]`); `group` is `all` for all hosts, null for a
///   plain list.
/// - `HOSTS`, the per-host view for tools: `{HOST: {"added": {PATH: VALUE},
///   "removed": {PATH: VALUE}, "changed": {PATH: {"base": VALUE, "target":
///   VALUE}}}}`, every changed host with all its changes.
///
/// Paths written as [`key_path`] does, hosts and paths sorted; `FILES` as
/// [`tree_json`] writes it.
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
    let grouped = GroupedDiff::of(diff);
    let changes: Vec<serde_json::Value> = grouped
        .groups
        .iter()
        .map(|group| {
            let of = |kind: Kind| {
                group
                    .changes
                    .iter()
                    .filter(move |change| change.kind() == kind)
            };
            let value = |value: &Option<Value>| {
                value
                    .as_ref()
                    .map_or(serde_json::Value::Null, Value::to_json)
            };
            let added: serde_json::Map<_, _> = of(Kind::Added)
                .map(|c| (key_path(&c.path), value(&c.target)))
                .collect();
            let removed: serde_json::Map<_, _> = of(Kind::Removed)
                .map(|c| (key_path(&c.path), value(&c.base)))
                .collect();
            let changed: serde_json::Map<_, _> = of(Kind::Changed)
                .map(|c| {
                    let both =
                        serde_json::json!({"base": value(&c.base), "target": value(&c.target)});
                    (key_path(&c.path), both)
                })
                .collect();
            serde_json::json!({
                "hosts": host_set_json(&group.hosts),
                "added": added,
                "removed": removed,
                "changed": changed,
            })
        })
        .collect();
    let summary = serde_json::json!({
        "distinct": {"added": grouped.added, "removed": grouped.removed, "changed": grouped.changed},
        "hosts": grouped.hosts,
        "groups": grouped.groups_touched,
    });
    serde_json::json!({
        "summary": summary,
        "changes": changes,
        "hosts": hosts,
        "files": tree_json(&diff.files),
    })
}

fn host_set_json(hosts: &HostSet) -> serde_json::Value {
    let (except, list): (&[String], &[String]) = match hosts {
        HostSet::Except { except, .. } => (except, &[]),
        HostSet::Hosts { folded, .. } => (&[], folded),
        _ => (&[], &[]),
    };
    serde_json::json!({
        "text": hosts.to_string(),
        "count": hosts.count(),
        "group": hosts.group(),
        "except": except,
        "list": list,
    })
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
    use crate::group::Membership;
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
            membership: Membership {
                hosts: ["ctl01".to_owned(), "ctl02".to_owned()].into(),
                groups: [("controllers".to_owned(), ["ctl01".to_owned()].into())].into(),
            },
        }
    }

    #[test]
    fn text_is_unified_in_path_order() {
        assert_eq!(
            text(&sample()),
            "# 3 distinct changes (1 added, 1 removed, 1 changed) on 1 host; groups: controllers\n\
             @@ controllers (1 host) @@\n-a: true\n+a: false\n+b.\"x.y\": 1\n-c: \"gone\"\n\
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
            serde_json::json!({
            "summary": {"distinct": {"added": 1, "removed": 1, "changed": 1}, "hosts": 1, "groups": ["controllers"]},
            "changes": [{
                "hosts": {"text": "controllers (1 host)", "count": 1, "group": "controllers", "except": [], "list": []},
                "added": {"b.\"x.y\"": 1},
                "removed": {"c": "gone"},
                "changed": {"a": {"base": true, "target": false}},
            }],
            "hosts": {"ctl01": {
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
