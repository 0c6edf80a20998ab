//! The diff grouped for a reviewer: each distinct change (same key path,
//! same base and target values) once, with the hosts it applies to named as
//! compactly as the inventory allows ([`HostSet`]).
//!
//! The data flows one way: the sides are read, diffed host by host
//! ([`ConfigDiff`]), then grouped here ([`GroupedDiff::of`]) from the diff
//! and the inventory groups it carries ([`Membership`]); every renderer
//! writes the grouped view. Changes applying to exactly the same hosts form
//! one [`ChangeGroup`], so hosts whose changes differ from their group's
//! (a `host_vars` change) come out as a group of their own.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use kayobe_config::value::Value;

use crate::diff::{ConfigDiff, KeyPath};

/// A group missing at most this many of a set's hosts names the set as
/// "GROUP except HOSTS"; missing more, the hosts are listed.
const MAX_EXCEPTIONS: usize = 5;

/// A run of at least this many consecutively numbered hosts folds into a
/// range (`compute[00005:10004]`); shorter runs are listed.
const MIN_RANGE: usize = 3;

/// The inventory as far as naming hosts needs: every host of either side and
/// each group's hosts. A host's groups are the target's when the target has
/// the host, else the base's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Every host of either revision.
    pub hosts: BTreeSet<String>,
    /// Group name → its hosts (`all` and `ungrouped` are not listed).
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

/// The hosts a change applies to, named as compactly as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSet {
    /// Every host of either revision.
    All {
        /// How many.
        count: usize,
    },
    /// Exactly the hosts of an inventory group.
    Group {
        /// The group.
        name: String,
        /// How many hosts it has.
        count: usize,
    },
    /// The hosts of a group (`None`: of all hosts) but a few.
    Except {
        /// The group, or `None` for all hosts.
        name: Option<String>,
        /// How many hosts the set has.
        count: usize,
        /// The hosts left out, folded as [`fold`] does.
        except: Vec<String>,
    },
    /// Hosts no group names, folded as [`fold`] does.
    Hosts {
        /// How many.
        count: usize,
        /// The hosts, folded.
        folded: Vec<String>,
    },
}

impl HostSet {
    /// How many hosts the set has.
    pub fn count(&self) -> usize {
        match self {
            Self::All { count }
            | Self::Group { count, .. }
            | Self::Except { count, .. }
            | Self::Hosts { count, .. } => *count,
        }
    }

    /// The inventory group named, if any (`all` for all hosts).
    pub fn group(&self) -> Option<&str> {
        match self {
            Self::All { .. } | Self::Except { name: None, .. } => Some("all"),
            Self::Group { name, .. }
            | Self::Except {
                name: Some(name), ..
            } => Some(name),
            Self::Hosts { .. } => None,
        }
    }
}

/// `all hosts (12 hosts)`, `compute (10 000 hosts)`, `compute except
/// compute00007, compute00010 (998 hosts)`, `ctl01, compute[00005:00009]`.
impl fmt::Display for HostSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = hosts(self.count());
        match self {
            Self::All { .. } => write!(f, "all hosts ({count})"),
            Self::Group { name, .. } => write!(f, "{name} ({count})"),
            Self::Except { name, except, .. } => write!(
                f,
                "{} except {} ({count})",
                name.as_deref().unwrap_or("all hosts"),
                except.join(", ")
            ),
            Self::Hosts { folded, .. } => f.write_str(&folded.join(", ")),
        }
    }
}

/// `1 host`, `10 000 hosts`: the count with its thousands apart.
pub fn hosts(count: usize) -> String {
    format!(
        "{} {}",
        thousands(count),
        if count == 1 { "host" } else { "hosts" }
    )
}

/// `10 000`: a count with its thousands apart, as every report writes counts.
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// Host names with runs of consecutively numbered names (same prefix, same
/// number of digits, zero padding kept) of at least three folded into
/// Ansible's range syntax: `compute00005`…`compute10004` becomes
/// `compute[00005:10004]`. Names without a trailing number stay as they
/// are. Sorted by prefix then number.
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    // (prefix, digits) → numbers; names without digits under ("name", 0).
    let mut runs: BTreeMap<(&str, usize), Vec<u64>> = BTreeMap::new();
    let mut plain = Vec::new();
    for name in names {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        match name[name.len() - digits..].parse::<u64>() {
            Ok(number) if digits > 0 => runs
                .entry((&name[..name.len() - digits], digits))
                .or_default()
                .push(number),
            _ => plain.push((name, 0, 0)),
        }
    }
    let mut out: Vec<(&str, usize, u64, String)> = plain
        .into_iter()
        .map(|(name, width, number)| (name, width, number, name.to_owned()))
        .collect();
    for ((prefix, width), mut numbers) in runs {
        numbers.sort_unstable();
        numbers.dedup();
        let mut start = 0;
        while start < numbers.len() {
            let mut end = start + 1;
            while end < numbers.len() && numbers[end] == numbers[end - 1] + 1 {
                end += 1;
            }
            let (lo, hi) = (numbers[start], numbers[end - 1]);
            if end - start >= MIN_RANGE {
                out.push((
                    prefix,
                    width,
                    lo,
                    format!("{prefix}[{lo:0width$}:{hi:0width$}]"),
                ));
            } else {
                out.extend(
                    numbers[start..end]
                        .iter()
                        .map(|n| (prefix, width, *n, format!("{prefix}{n:0width$}"))),
                );
            }
            start = end;
        }
    }
    out.sort();
    out.into_iter().map(|(_, _, _, text)| text).collect()
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Only the target has it.
    Added,
    /// Only the base has it.
    Removed,
    /// Both have it, with different values.
    Changed,
}

impl Kind {
    /// `added`, `removed` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        }
    }
}

/// One distinct change of a key.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedChange {
    /// Where the key is.
    pub path: KeyPath,
    /// The base's value (`None` when added).
    pub base: Option<Value>,
    /// The target's value (`None` when removed).
    pub target: Option<Value>,
}

impl GroupedChange {
    /// Added, removed or changed.
    pub fn kind(&self) -> Kind {
        match (&self.base, &self.target) {
            (None, _) => Kind::Added,
            (_, None) => Kind::Removed,
            _ => Kind::Changed,
        }
    }
}

/// The changes that apply to exactly the same hosts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeGroup {
    /// The hosts, named.
    pub hosts: HostSet,
    /// The changes, by key path.
    pub changes: Vec<GroupedChange>,
}

/// The diff's variables grouped: each distinct change once, with its hosts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupedDiff {
    /// Groups of changes, the most hosts first (then by their first key).
    pub groups: Vec<ChangeGroup>,
    /// Distinct changes of each kind (a change on 1 000 hosts counts once).
    pub added: usize,
    /// See `added`.
    pub removed: usize,
    /// See `added`.
    pub changed: usize,
    /// Hosts with any change.
    pub hosts: usize,
    /// The inventory groups naming the changes' hosts, sorted (`all` for
    /// all hosts).
    pub groups_touched: Vec<String>,
}

impl GroupedDiff {
    /// Groups `diff`'s host changes, naming hosts with `diff.membership`.
    pub fn of(diff: &ConfigDiff) -> Self {
        let names: Vec<&str> = diff
            .membership
            .hosts
            .iter()
            .map(String::as_str)
            .chain(diff.hosts.iter().map(|host| host.host.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index: HashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, i as u32))
            .collect();
        // A distinct change is its path and both values; values have no
        // hash (floats), their JSON text stands for them.
        type Key = (KeyPath, Option<String>, Option<String>);
        let mut changes: HashMap<Key, (GroupedChange, Vec<u32>)> = HashMap::new();
        let mut add = |host: u32, path: &KeyPath, base: Option<&Value>, target: Option<&Value>| {
            let text = |value: Option<&Value>| value.map(|v| v.to_json().to_string());
            changes
                .entry((path.clone(), text(base), text(target)))
                .or_insert_with(|| {
                    let change = GroupedChange {
                        path: path.clone(),
                        base: base.cloned(),
                        target: target.cloned(),
                    };
                    (change, Vec::new())
                })
                .1
                .push(host);
        };
        for host in &diff.hosts {
            let i = index[host.host.as_str()];
            for entry in &host.added {
                add(i, &entry.path, None, Some(&entry.value));
            }
            for entry in &host.removed {
                add(i, &entry.path, Some(&entry.value), None);
            }
            for change in &host.changed {
                add(i, &change.path, Some(&change.base), Some(&change.target));
            }
        }
        let mut by_hosts: HashMap<Vec<u32>, Vec<GroupedChange>> = HashMap::new();
        let (mut added, mut removed, mut changed) = (0, 0, 0);
        for (change, hosts) in changes.into_values() {
            match change.kind() {
                Kind::Added => added += 1,
                Kind::Removed => removed += 1,
                Kind::Changed => changed += 1,
            }
            by_hosts.entry(hosts).or_default().push(change);
        }
        let groups: Vec<(&str, Vec<u32>)> = diff
            .membership
            .groups
            .iter()
            .map(|(name, hosts)| {
                let members = hosts.iter().map(|h| index[h.as_str()]).collect();
                (name.as_str(), members)
            })
            .collect();
        let mut groups_touched = BTreeSet::new();
        let mut grouped: Vec<ChangeGroup> = by_hosts
            .into_iter()
            .map(|(hosts, mut changes)| {
                changes.sort_by(|a, b| a.path.cmp(&b.path).then(a.kind().cmp(&b.kind())));
                let hosts = name(&hosts, &names, &groups);
                groups_touched.extend(hosts.group().map(str::to_owned));
                ChangeGroup { hosts, changes }
            })
            .collect();
        grouped.sort_by(|a, b| {
            b.hosts
                .count()
                .cmp(&a.hosts.count())
                .then_with(|| a.changes[0].path.cmp(&b.changes[0].path))
        });
        Self {
            groups: grouped,
            added,
            removed,
            changed,
            hosts: diff.hosts.len(),
            groups_touched: groups_touched.into_iter().collect(),
        }
    }

    /// One line: `2 distinct changes (1 added, 0 removed, 1 changed) on
    /// 1 016 hosts; groups: all, compute`.
    pub fn summary(&self) -> String {
        let distinct = self.added + self.removed + self.changed;
        let mut line = format!(
            "{distinct} distinct {} ({} added, {} removed, {} changed) on {}",
            if distinct == 1 { "change" } else { "changes" },
            self.added,
            self.removed,
            self.changed,
            hosts(self.hosts)
        );
        if !self.groups_touched.is_empty() {
            line.push_str("; groups: ");
            line.push_str(&self.groups_touched.join(", "));
        }
        line
    }

    /// Whether no variable differs.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Names the hosts `set` (sorted indices into `names`) with `groups` (each
/// sorted): all hosts, one group, a group or all but a few, or a folded list.
fn name(set: &[u32], names: &[&str], groups: &[(&str, Vec<u32>)]) -> HostSet {
    let count = set.len();
    if count == names.len() {
        return HostSet::All { count };
    }
    if let Some((name, _)) = groups.iter().find(|(_, members)| members == set) {
        return HostSet::Group {
            name: (*name).to_owned(),
            count,
        };
    }
    let all: Vec<u32> = (0..names.len() as u32).collect();
    let containers = std::iter::once((None, &all))
        .chain(groups.iter().map(|(name, members)| (Some(*name), members)));
    let best = containers
        .filter(|(_, members)| members.len() > count && members.len() - count <= MAX_EXCEPTIONS)
        .filter_map(|(name, members)| Some((name, missing(members, set)?)))
        .min_by_key(|(_, missing)| missing.len());
    let folded = |indices: &[u32]| fold(indices.iter().map(|i| names[*i as usize]));
    match best {
        Some((name, except)) if except.len() < count => HostSet::Except {
            name: name.map(str::to_owned),
            count,
            except: folded(&except),
        },
        _ => HostSet::Hosts {
            count,
            folded: folded(set),
        },
    }
}

/// The members of `superset` not in `set` (both sorted), or `None` when
/// `set` is not inside `superset`.
fn missing(superset: &[u32], set: &[u32]) -> Option<Vec<u32>> {
    let mut rest = set.iter().peekable();
    let mut out = Vec::new();
    for member in superset {
        if rest.peek() == Some(&member) {
            rest.next();
        } else {
            out.push(*member);
        }
    }
    rest.peek().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn fold_makes_zero_padded_ranges_of_runs() {
        let names: Vec<String> = (5..=10004).map(|n| format!("compute{n:05}")).collect();
        assert_eq!(
            fold(names.iter().map(String::as_str)),
            ["compute[00005:10004]"]
        );
        assert_eq!(
            fold([
                "ctl02", "ctl01", "seed", "cmp1", "cmp2", "cmp3", "cmp5", "ctl03", "x9", "cmp01"
            ]),
            ["cmp[1:3]", "cmp5", "cmp01", "ctl[01:03]", "seed", "x9"]
        );
        assert_eq!(fold(["a1", "a2"]), ["a1", "a2"]);
        assert_eq!(fold(std::iter::empty()), Vec::<String>::new());
    }

    use crate::diff::{Change, HostDiff};

    /// ctl01-03, compute00001-00010 and seed01; `compute`, `controllers`
    /// and `monitored` (ctl01-03 and compute00006-00010, overlapping
    /// `compute`).
    fn membership() -> Membership {
        let compute: BTreeSet<String> = (1..=10).map(|n| format!("compute{n:05}")).collect();
        let controllers: BTreeSet<String> = (1..=3).map(|n| format!("ctl{n:02}")).collect();
        let monitored = controllers
            .iter()
            .chain(compute.iter().skip(5))
            .cloned()
            .collect();
        Membership {
            hosts: compute
                .iter()
                .chain(&controllers)
                .cloned()
                .chain(["seed01".to_owned()])
                .collect(),
            groups: [
                ("compute".to_owned(), compute),
                ("controllers".to_owned(), controllers),
                ("monitored".to_owned(), monitored),
            ]
            .into(),
        }
    }

    fn change(key: &str, base: i64, target: i64) -> Change {
        Change {
            path: vec![key.to_owned()],
            base: Value::Int(base),
            target: Value::Int(target),
        }
    }

    fn grouped_change(key: &str, base: i64, target: i64) -> GroupedChange {
        GroupedChange {
            path: vec![key.to_owned()],
            base: Some(Value::Int(base)),
            target: Some(Value::Int(target)),
        }
    }

    /// The diff where each host of `changes` has those changes.
    fn diff(changes: &[(&str, Vec<Change>)]) -> ConfigDiff {
        let mut hosts: BTreeMap<&str, HostDiff> = BTreeMap::new();
        for (host, host_changes) in changes {
            let diff = hosts.entry(host).or_insert_with(|| HostDiff {
                host: (*host).to_owned(),
                ..HostDiff::default()
            });
            diff.changed.extend(host_changes.iter().cloned());
        }
        ConfigDiff {
            hosts: hosts.into_values().collect(),
            membership: membership(),
            ..ConfigDiff::default()
        }
    }

    fn on<'a>(
        hosts: impl IntoIterator<Item = &'a String>,
        changes: &[Change],
    ) -> Vec<(&'a str, Vec<Change>)> {
        hosts
            .into_iter()
            .map(|host| (host.as_str(), changes.to_vec()))
            .collect()
    }

    fn compute_hosts() -> Vec<String> {
        membership().groups["compute"].iter().cloned().collect()
    }

    #[test]
    fn one_change_on_all_hosts_shows_once_for_all_hosts() {
        let hosts = membership().hosts;
        let grouped = GroupedDiff::of(&diff(&on(&hosts, &[change("a", 1, 2)])));
        assert_eq!(
            grouped.groups,
            [ChangeGroup {
                hosts: HostSet::All { count: 14 },
                changes: vec![grouped_change("a", 1, 2)],
            }]
        );
        assert_eq!(grouped.groups[0].hosts.to_string(), "all hosts (14 hosts)");
        assert_eq!(
            grouped.summary(),
            "1 distinct change (0 added, 0 removed, 1 changed) on 14 hosts; groups: all"
        );
    }

    #[test]
    fn one_change_on_a_group_names_the_group() {
        let grouped = GroupedDiff::of(&diff(&on(&compute_hosts(), &[change("a", 1, 2)])));
        assert_eq!(grouped.groups.len(), 1);
        assert_eq!(
            grouped.groups[0].hosts,
            HostSet::Group {
                name: "compute".into(),
                count: 10
            }
        );
        assert_eq!(grouped.groups[0].hosts.to_string(), "compute (10 hosts)");
        assert_eq!(grouped.groups_touched, ["compute"]);
    }

    #[test]
    fn a_group_minus_two_hosts_names_the_two() {
        let hosts = compute_hosts();
        let some: Vec<&String> = hosts
            .iter()
            .filter(|h| !["compute00003", "compute00007"].contains(&h.as_str()))
            .collect();
        let grouped = GroupedDiff::of(&diff(&on(some, &[change("a", 1, 2)])));
        assert_eq!(
            grouped.groups[0].hosts.to_string(),
            "compute except compute00003, compute00007 (8 hosts)"
        );
        assert_eq!(grouped.groups.len(), 1);
    }

    #[test]
    fn changes_on_two_overlapping_groups_show_once_each() {
        let membership = membership();
        let mut changes = on(&membership.groups["compute"], &[change("a", 1, 2)]);
        changes.extend(on(&membership.groups["monitored"], &[change("b", 3, 4)]));
        let grouped = GroupedDiff::of(&diff(&changes));
        let shown: Vec<(String, Vec<GroupedChange>)> = grouped
            .groups
            .iter()
            .map(|group| (group.hosts.to_string(), group.changes.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "compute (10 hosts)".to_owned(),
                    vec![grouped_change("a", 1, 2)]
                ),
                (
                    "monitored (8 hosts)".to_owned(),
                    vec![grouped_change("b", 3, 4)]
                ),
            ]
        );
        assert_eq!(grouped.hosts, 13);
        assert_eq!(grouped.groups_touched, ["compute", "monitored"]);
    }

    #[test]
    fn host_vars_changes_show_apart_from_their_group() {
        let hosts = compute_hosts();
        // compute00004's host_vars set `a` to 3 and add `b`; ctl01..ctl03 and
        // compute00001..00002 change `c` alike: no group is theirs.
        let mut changes: Vec<(&str, Vec<Change>)> = hosts
            .iter()
            .map(|host| {
                let a = if host == "compute00004" { 3 } else { 2 };
                (host.as_str(), vec![change("a", 1, a)])
            })
            .collect();
        changes.push(("compute00004", vec![change("b", 0, 1)]));
        for host in ["ctl01", "ctl02", "ctl03", "compute00001", "compute00002"] {
            changes.push((host, vec![change("c", 5, 6)]));
        }
        let grouped = GroupedDiff::of(&diff(&changes));
        let shown: Vec<(String, Vec<GroupedChange>)> = grouped
            .groups
            .iter()
            .map(|group| (group.hosts.to_string(), group.changes.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "compute except compute00004 (9 hosts)".to_owned(),
                    vec![grouped_change("a", 1, 2)]
                ),
                (
                    "compute00001, compute00002, ctl[01:03]".to_owned(),
                    vec![grouped_change("c", 5, 6)]
                ),
                (
                    "compute00004".to_owned(),
                    vec![grouped_change("a", 1, 3), grouped_change("b", 0, 1)]
                ),
            ]
        );
        assert_eq!((grouped.changed, grouped.hosts), (4, 13));
    }

    #[test]
    fn the_same_grouped_diff_in_text_json_and_html() {
        let membership = membership();
        let mut changes = on(&membership.hosts, &[change("a", 1, 2)]);
        changes.extend(on(&membership.groups["monitored"], &[change("b", 3, 4)]));
        changes.push(("compute00004", vec![change("c", 0, 1)]));
        let diff = diff(&changes);
        insta::assert_snapshot!("text", crate::render::text(&diff));
        insta::assert_snapshot!(
            "json",
            serde_json::to_string_pretty(&crate::render::json(&diff)).unwrap()
        );
        insta::assert_snapshot!("html", crate::html::page(&diff));
    }

    #[test]
    fn counts_keep_thousands_apart() {
        assert_eq!(hosts(1), "1 host");
        assert_eq!(hosts(999), "999 hosts");
        assert_eq!(hosts(10_000), "10 000 hosts");
        assert_eq!(hosts(1_234_567), "1 234 567 hosts");
    }
}
