//! The diff of two [`Side`]s: per host, the added, removed and changed
//! variables, by nested key path.
//!
//! Maps are compared key by key, recursively; any other value (lists
//! included) is compared whole, because a list's items have no names and an
//! index-by-index diff of a reordered list says less than the two lists.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use kayobe_config::value::{Map, Value};
use rayon::prelude::*;

use crate::files::Warning;
use crate::group::Membership;
use crate::side::Side;
use crate::tree::TreeDiff;

/// A variable, or a key nested in one: the top-level name first.
pub type KeyPath = Vec<String>;

/// A host's base and target maps by address: hosts sharing both compare alike.
type MapPair = (usize, usize);

/// A key only one side has.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where the key is.
    pub path: KeyPath,
    /// Its value (masked when secret).
    pub value: Value,
}

/// A key both sides have, with different values.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Where the key is.
    pub path: KeyPath,
    /// The value in the base revision (masked when secret).
    pub base: Value,
    /// The value in the target revision (masked when secret).
    pub target: Value,
}

/// How one host's variables differ. A host only the target has shows every
/// variable as added; one only the base has, every variable as removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostDiff {
    /// The host's inventory name.
    pub host: String,
    /// Keys only the target has, sorted by path.
    pub added: Vec<Entry>,
    /// Keys only the base has, sorted by path.
    pub removed: Vec<Entry>,
    /// Keys whose values differ, sorted by path.
    pub changed: Vec<Change>,
}

impl HostDiff {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The diff between two revisions: the hosts whose variables differ, and
/// the configuration files that differ beside them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigDiff {
    /// Each host whose variables differ, sorted by name.
    pub hosts: Vec<HostDiff>,
    /// The files of the configuration directory that differ and that are not
    /// read as variables (those show in `hosts`), paths relative to it.
    pub files: TreeDiff,
    /// What an operator should know about the revisions, sorted, each once.
    pub warnings: Vec<Warning>,
    /// Every host of either revision and its inventory groups, to name the
    /// hosts a change applies to ([`crate::group`]).
    pub membership: Membership,
}

impl ConfigDiff {
    /// Compares the variables of `base` with those of `target`, host by host
    /// in parallel (`files` and `warnings` stay empty).
    pub fn between(base: &Side, target: &Side) -> Self {
        // Hosts whose two sides share maps ([`Side`]) differ alike: each
        // pair of maps is compared once, then the result is named per host.
        let empty = Arc::new(Map::new());
        let mut pairs: HashMap<MapPair, (&Arc<Map>, &Arc<Map>)> = HashMap::new();
        let mut hosts: Vec<(&String, MapPair)> = Vec::new();
        let names: BTreeSet<&String> = base.hosts.keys().chain(target.hosts.keys()).collect();
        for host in names {
            let old = base.hosts.get(host).unwrap_or(&empty);
            let new = target.hosts.get(host).unwrap_or(&empty);
            // Pointers as numbers, to key the pairs across threads.
            let key = (Arc::as_ptr(old) as usize, Arc::as_ptr(new) as usize);
            pairs.entry(key).or_insert((old, new));
            hosts.push((host, key));
        }
        let pairs: Vec<_> = pairs.into_iter().collect();
        let diffs: HashMap<MapPair, HostDiff> = pairs
            .into_par_iter()
            .map(|(key, (old, new))| {
                let mut diff = HostDiff::default();
                compare_maps(&mut Vec::new(), old, new, &mut diff);
                diff.added.sort_by(|a, b| a.path.cmp(&b.path));
                diff.removed.sort_by(|a, b| a.path.cmp(&b.path));
                diff.changed.sort_by(|a, b| a.path.cmp(&b.path));
                (key, diff)
            })
            .collect();
        let hosts = hosts
            .into_iter()
            .filter_map(|(host, key)| {
                let diff = &diffs[&key];
                (!diff.is_empty()).then(|| HostDiff {
                    host: host.clone(),
                    ..diff.clone()
                })
            })
            .collect();
        Self {
            hosts,
            membership: membership(base, target),
            ..Self::default()
        }
    }

    /// Whether the revisions differ at all.
    pub fn has_changes(&self) -> bool {
        !self.hosts.is_empty() || self.files.has_changes()
    }
}

/// Each host's groups from its `group_names` ([`Side`] sets it): the
/// target's when the target has the host, else the base's.
fn membership(base: &Side, target: &Side) -> Membership {
    let mut membership = Membership::default();
    let hosts = base
        .hosts
        .iter()
        .filter(|(host, _)| !target.hosts.contains_key(*host))
        .chain(&target.hosts);
    for (host, vars) in hosts {
        membership.hosts.insert(host.clone());
        if let Some(Value::List(groups)) = vars.get("group_names") {
            for group in groups {
                if let Value::String(group) = group {
                    membership
                        .groups
                        .entry(group.clone())
                        .or_default()
                        .insert(host.clone());
                }
            }
        }
    }
    membership
}

fn compare_maps(path: &mut KeyPath, base: &Map, target: &Map, diff: &mut HostDiff) {
    for (key, base_value) in base {
        path.push(key.clone());
        match (base_value, target.get(key)) {
            (_, None) => diff.removed.push(Entry {
                path: path.clone(),
                value: base_value.clone(),
            }),
            (Value::Map(base_map), Some(Value::Map(target_map))) => {
                compare_maps(path, base_map, target_map, diff);
            }
            (_, Some(target_value)) if target_value != base_value => diff.changed.push(Change {
                path: path.clone(),
                base: base_value.clone(),
                target: target_value.clone(),
            }),
            (_, Some(_)) => {}
        }
        path.pop();
    }
    for (key, target_value) in target {
        if !base.contains_key(key) {
            path.push(key.clone());
            diff.added.push(Entry {
                path: path.clone(),
                value: target_value.clone(),
            });
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn side(host: &str, vars: Map) -> Side {
        Side {
            hosts: [(host.to_owned(), Arc::new(vars))].into_iter().collect(),
        }
    }

    #[test]
    fn nested_keys_added_removed_changed() {
        let base = side(
            "h",
            map(&[
                ("same", Value::Int(1)),
                ("gone", Value::from("x")),
                (
                    "nested",
                    Value::Map(map(&[("a", Value::Int(1)), ("b", Value::Int(2))])),
                ),
                ("list", Value::List(vec![Value::Int(1)])),
            ]),
        );
        let target = side(
            "h",
            map(&[
                ("same", Value::Int(1)),
                (
                    "nested",
                    Value::Map(map(&[("a", Value::Int(9)), ("c", Value::Int(3))])),
                ),
                ("list", Value::List(vec![Value::Int(1), Value::Int(2)])),
                ("new", Value::Bool(true)),
            ]),
        );
        let diff = ConfigDiff::between(&base, &target);
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<KeyPath>();
        assert_eq!(
            diff.hosts,
            vec![HostDiff {
                host: "h".into(),
                added: vec![
                    Entry {
                        path: path(&["nested", "c"]),
                        value: Value::Int(3)
                    },
                    Entry {
                        path: path(&["new"]),
                        value: Value::Bool(true)
                    },
                ],
                removed: vec![
                    Entry {
                        path: path(&["gone"]),
                        value: Value::from("x")
                    },
                    Entry {
                        path: path(&["nested", "b"]),
                        value: Value::Int(2)
                    },
                ],
                changed: vec![
                    Change {
                        path: path(&["list"]),
                        base: Value::List(vec![Value::Int(1)]),
                        target: Value::List(vec![Value::Int(1), Value::Int(2)]),
                    },
                    Change {
                        path: path(&["nested", "a"]),
                        base: Value::Int(1),
                        target: Value::Int(9)
                    },
                ],
            }]
        );
        assert!(diff.has_changes());
        assert!(!ConfigDiff::between(&base, &base).has_changes());
    }

    #[test]
    fn a_new_host_has_every_variable_added() {
        let diff = ConfigDiff::between(&Side::default(), &side("h", map(&[("v", Value::Int(1))])));
        assert_eq!(diff.hosts.len(), 1);
        assert_eq!(diff.hosts[0].added.len(), 1);
        assert!(diff.hosts[0].removed.is_empty() && diff.hosts[0].changed.is_empty());
    }

    #[test]
    fn hosts_sharing_maps_are_compared_once_and_named_each() {
        let old = Arc::new(map(&[("a", Value::Int(1))]));
        let new = Arc::new(map(&[("a", Value::Int(2))]));
        let base = Side {
            hosts: [("h1", &old), ("h2", &old), ("h3", &old)]
                .into_iter()
                .map(|(host, vars)| (host.to_owned(), Arc::clone(vars)))
                .collect(),
        };
        let target = Side {
            hosts: [("h1", &new), ("h2", &new), ("h3", &old), ("h4", &new)]
                .into_iter()
                .map(|(host, vars)| (host.to_owned(), Arc::clone(vars)))
                .collect(),
        };
        let diff = ConfigDiff::between(&base, &target);
        let changed = |host: &str| HostDiff {
            host: host.to_owned(),
            changed: vec![Change {
                path: vec!["a".to_owned()],
                base: Value::Int(1),
                target: Value::Int(2),
            }],
            ..HostDiff::default()
        };
        let added = HostDiff {
            host: "h4".to_owned(),
            added: vec![Entry {
                path: vec!["a".to_owned()],
                value: Value::Int(2),
            }],
            ..HostDiff::default()
        };
        assert_eq!(diff.hosts, [changed("h1"), changed("h2"), added]);
    }
}
