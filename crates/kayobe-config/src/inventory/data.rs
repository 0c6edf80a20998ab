//! The inventory model Ansible's `InventoryData` keeps while sources are
//! parsed: groups with hosts, children and inline variables, hosts with inline
//! variables, and the rules applied when the last source has been read.

use indexmap::IndexMap;
use std::collections::HashSet;

use super::InventoryError;
use super::ini::{IniEntry, SectionKind};
use crate::Location;
use crate::value::{Map, Value};

/// Index of the `all` group (created first).
pub(crate) const ALL: usize = 0;
/// Index of the `ungrouped` group (created second).
pub(crate) const UNGROUPED: usize = 1;

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) vars: Map,
    pub(crate) hosts: Vec<usize>,
    host_set: HashSet<usize>,
    pub(crate) children: Vec<usize>,
    pub(crate) parents: Vec<usize>,
    /// Longest path from `all`; computed by `finish`.
    pub(crate) depth: usize,
    pub(crate) priority: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) vars: Map,
}

/// Groups and hosts in the order Ansible first saw them.
#[derive(Debug, Clone)]
pub(crate) struct InventoryData {
    pub(crate) groups: Vec<Group>,
    pub(crate) group_index: IndexMap<String, usize>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) host_index: IndexMap<String, usize>,
}

impl InventoryData {
    pub(crate) fn new() -> Self {
        let mut data = Self {
            groups: Vec::new(),
            group_index: IndexMap::new(),
            hosts: Vec::new(),
            host_index: IndexMap::new(),
        };
        data.add_group("all");
        data.add_group("ungrouped");
        data.groups[ALL].children.push(UNGROUPED);
        data.groups[UNGROUPED].parents.push(ALL);
        data
    }

    pub(crate) fn group(&self, name: &str) -> Option<usize> {
        self.group_index.get(name).copied()
    }

    fn add_group(&mut self, name: &str) -> usize {
        if let Some(index) = self.group(name) {
            return index;
        }
        let index = self.groups.len();
        self.groups.push(Group {
            name: name.to_owned(),
            vars: Map::new(),
            hosts: Vec::new(),
            host_set: HashSet::new(),
            children: Vec::new(),
            parents: Vec::new(),
            depth: 0,
            priority: 1,
        });
        self.group_index.insert(name.to_owned(), index);
        index
    }

    fn add_host(&mut self, name: &str, group: usize, port: Option<u64>) -> usize {
        let host = match self.host_index.get(name) {
            Some(&index) => index,
            None => {
                let index = self.hosts.len();
                let mut vars = Map::new();
                // Only a new host takes the port (and `0` is no port), as in Ansible.
                if let Some(port) = port.filter(|&p| p != 0) {
                    vars.insert(
                        "ansible_port".to_owned(),
                        i64::try_from(port).map_or(Value::Float(port as f64), Value::Int),
                    );
                }
                self.hosts.push(Host {
                    name: name.to_owned(),
                    vars,
                });
                self.host_index.insert(name.to_owned(), index);
                index
            }
        };
        let group = &mut self.groups[group];
        if group.host_set.insert(host) {
            group.hosts.push(host);
        }
        host
    }

    /// Sets a variable on the group named `entity`, else on the host of that
    /// name: Ansible looks groups up first, even for host line variables.
    fn set_variable(
        &mut self,
        entity: &str,
        key: &str,
        value: &Value,
        location: &Location,
    ) -> Result<(), InventoryError> {
        if let Some(index) = self.group(entity) {
            let group = &mut self.groups[index];
            if key == "ansible_group_priority" {
                group.priority =
                    python_int(value).ok_or_else(|| InventoryError::GroupPriority {
                        location: location.clone(),
                        group: entity.to_owned(),
                    })?;
            } else {
                group.vars.insert(key.to_owned(), value.clone());
            }
        } else if let Some(&index) = self.host_index.get(entity) {
            self.hosts[index].vars.insert(key.to_owned(), value.clone());
        }
        Ok(())
    }

    fn is_ancestor(&self, candidate: usize, of: usize) -> bool {
        let mut stack = self.groups[of].parents.clone();
        let mut seen = HashSet::new();
        while let Some(group) = stack.pop() {
            if group == candidate {
                return true;
            }
            if seen.insert(group) {
                stack.extend(&self.groups[group].parents);
            }
        }
        false
    }

    fn add_child(
        &mut self,
        parent: usize,
        child: usize,
        location: &Location,
    ) -> Result<(), InventoryError> {
        if self.groups[parent].children.contains(&child) {
            return Ok(());
        }
        if parent == child || self.is_ancestor(child, parent) {
            return Err(InventoryError::GroupLoop {
                location: location.clone(),
                parent: self.groups[parent].name.clone(),
                child: self.groups[child].name.clone(),
            });
        }
        self.groups[parent].children.push(child);
        if !self.groups[child].parents.contains(&parent) {
            self.groups[child].parents.push(parent);
        }
        Ok(())
    }

    /// Applies the entries of one INI file, resolving `:children` references
    /// to groups declared later in the same file.
    pub(crate) fn apply_ini(&mut self, entries: &[IniEntry]) -> Result<(), InventoryError> {
        // Undeclared groups referenced so far, with what referenced them.
        let mut pending: IndexMap<String, Pending> = IndexMap::new();
        let mut current = UNGROUPED;
        for entry in entries {
            match entry {
                IniEntry::Section {
                    group,
                    kind,
                    location,
                } => {
                    if self.group(group).is_none() {
                        // `[g:vars]` alone does not declare `g`.
                        if *kind == SectionKind::Vars && !pending.contains_key(group) {
                            pending.insert(
                                group.clone(),
                                Pending::Vars {
                                    location: location.clone(),
                                },
                            );
                        }
                        self.add_group(group);
                    }
                    current = self.add_group(group);
                    if *kind != SectionKind::Vars {
                        match pending.get(group) {
                            Some(Pending::Children { .. }) => {
                                self.add_pending_children(group, &mut pending, location)?
                            }
                            Some(Pending::Vars { .. }) => {
                                pending.shift_remove(group);
                            }
                            None => {}
                        }
                    }
                }
                IniEntry::Hosts {
                    names,
                    port,
                    vars,
                    location,
                } => {
                    for name in names {
                        if name.is_empty() {
                            return Err(InventoryError::EmptyHostName {
                                location: location.clone(),
                            });
                        }
                        self.add_host(name, current, *port);
                        for (key, value) in vars {
                            self.set_variable(name, key, value, location)?;
                        }
                    }
                }
                IniEntry::Var {
                    key,
                    value,
                    location,
                } => {
                    let name = self.groups[current].name.clone();
                    self.set_variable(&name, key, value, location)?;
                }
                IniEntry::Child { group, location } => match self.group(group) {
                    Some(child) => self.add_child(current, child, location)?,
                    None => match pending.get_mut(group) {
                        Some(Pending::Children { parents, .. }) => parents.push(current),
                        // Referenced after `[child:vars]`: the vars entry stands.
                        Some(Pending::Vars { .. }) => {}
                        None => {
                            pending.insert(
                                group.clone(),
                                Pending::Children {
                                    location: location.clone(),
                                    parents: vec![current],
                                },
                            );
                        }
                    },
                },
            }
        }
        match pending.into_iter().next() {
            None => Ok(()),
            Some((group, Pending::Vars { location })) => {
                Err(InventoryError::UndefinedVarsGroup { location, group })
            }
            Some((group, Pending::Children { location, parents })) => {
                let parent = parents
                    .last()
                    .map(|&p| self.groups[p].name.clone())
                    .unwrap_or_default();
                Err(InventoryError::UndefinedChildGroup {
                    location,
                    parent,
                    child: group,
                })
            }
        }
    }

    fn add_pending_children(
        &mut self,
        group: &str,
        pending: &mut IndexMap<String, Pending>,
        location: &Location,
    ) -> Result<(), InventoryError> {
        let Some(Pending::Children { parents, .. }) = pending.get(group).cloned() else {
            return Ok(());
        };
        let child = self.add_group(group);
        for parent in parents {
            self.add_child(parent, child, location)?;
            let parent_name = self.groups[parent].name.clone();
            if matches!(pending.get(&parent_name), Some(Pending::Children { .. })) {
                self.add_pending_children(&parent_name, pending, location)?;
            }
        }
        pending.shift_remove(group);
        Ok(())
    }

    /// What Ansible's `reconcile_inventory` does once every source is read:
    /// groups without a parent become children of `all`, hosts in no group
    /// join `ungrouped`, hosts in another group leave it; then group depths.
    pub(crate) fn finish(&mut self) {
        for index in 0..self.groups.len() {
            if index != ALL && self.groups[index].parents.is_empty() {
                self.groups[ALL].children.push(index);
                self.groups[index].parents.push(ALL);
            }
        }
        let direct = self.direct_groups();
        for (host, groups) in direct.iter().enumerate() {
            let closure = self.ancestors_or_self(groups);
            if closure.contains(&UNGROUPED) {
                if closure.iter().any(|&g| g != ALL && g != UNGROUPED) {
                    let ungrouped = &mut self.groups[UNGROUPED];
                    if ungrouped.host_set.remove(&host) {
                        ungrouped.hosts.retain(|&h| h != host);
                    }
                }
            } else if closure.iter().all(|&g| g == ALL) {
                let ungrouped = &mut self.groups[UNGROUPED];
                if ungrouped.host_set.insert(host) {
                    ungrouped.hosts.push(host);
                }
            }
        }
        self.compute_depths();
    }

    /// For each host, the groups that list it directly.
    pub(crate) fn direct_groups(&self) -> Vec<Vec<usize>> {
        let mut direct = vec![Vec::new(); self.hosts.len()];
        for (index, group) in self.groups.iter().enumerate() {
            for &host in &group.hosts {
                direct[host].push(index);
            }
        }
        direct
    }

    /// The given groups and all their ancestors.
    pub(crate) fn ancestors_or_self(&self, groups: &[usize]) -> Vec<usize> {
        let mut seen = vec![false; self.groups.len()];
        let mut out = Vec::new();
        let mut stack: Vec<usize> = groups.to_vec();
        while let Some(group) = stack.pop() {
            if !std::mem::replace(&mut seen[group], true) {
                out.push(group);
                stack.extend(&self.groups[group].parents);
            }
        }
        out
    }

    /// Ansible raises a child's depth to its parent's plus one on every edge:
    /// the result is the longest path from a root.
    fn compute_depths(&mut self) {
        // Groups in topological order (parents first), by Kahn's algorithm.
        let mut remaining: Vec<usize> = self.groups.iter().map(|g| g.parents.len()).collect();
        let mut ready: Vec<usize> = (0..self.groups.len())
            .filter(|&g| remaining[g] == 0)
            .collect();
        for group in &mut self.groups {
            group.depth = 0;
        }
        while let Some(group) = ready.pop() {
            let depth = self.groups[group].depth;
            for child in self.groups[group].children.clone() {
                let child_group = &mut self.groups[child];
                child_group.depth = child_group.depth.max(depth + 1);
                remaining[child] -= 1;
                if remaining[child] == 0 {
                    ready.push(child);
                }
            }
        }
    }

    /// Ansible's `sort_groups`: by depth, priority, then name.
    pub(crate) fn sort_groups(&self, groups: &mut [usize]) {
        groups.sort_by(|&a, &b| {
            let (a, b) = (&self.groups[a], &self.groups[b]);
            (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name))
        });
    }

    /// A group's hosts and its descendants' hosts, as `Group.get_hosts` lists
    /// them: the group, its children, then deeper levels breadth first.
    pub(crate) fn group_hosts(&self, group: usize) -> Vec<usize> {
        let mut order = vec![group];
        let mut seen_groups = vec![false; self.groups.len()];
        seen_groups[group] = true;
        let mut next = 0;
        while next < order.len() {
            for &child in &self.groups[order[next]].children {
                if !std::mem::replace(&mut seen_groups[child], true) {
                    order.push(child);
                }
            }
            next += 1;
        }
        let mut seen_hosts = vec![false; self.hosts.len()];
        let mut hosts = Vec::new();
        for g in order {
            for &host in &self.groups[g].hosts {
                if !std::mem::replace(&mut seen_hosts[host], true) {
                    hosts.push(host);
                }
            }
        }
        hosts
    }
}

#[derive(Debug, Clone)]
enum Pending {
    Vars {
        location: Location,
    },
    Children {
        location: Location,
        parents: Vec<usize>,
    },
}

/// Python's `int(value)` for the values an INI file or YAML can hold.
fn python_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::String(s) | Value::Unsafe(s) => {
            let s = s.trim();
            let (sign, digits) = match s.strip_prefix('-') {
                Some(d) => (-1, d),
                None => (1, s.strip_prefix('+').unwrap_or(s)),
            };
            if digits.is_empty()
                || digits.starts_with('_')
                || digits.ends_with('_')
                || digits.contains("__")
                || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            {
                return None;
            }
            digits
                .replace('_', "")
                .parse::<i64>()
                .ok()
                .map(|n| sign * n)
        }
        _ => None,
    }
}
