//! The JSON of `ansible-inventory --list`.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::ser::{Serialize, SerializeMap, Serializer};

use serde_json::{Map as JsonMap, Value as Json, json};

use super::Inventory;
use super::data::ALL;

/// Ansible settings that change what `ansible-inventory --list` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSettings {
    /// `inject_facts_as_vars` (`ANSIBLE_INJECT_FACT_VARS`). When false, as
    /// Kayobe's `ansible.cfg` sets it, every host gets `ansible_local: {}`.
    pub inject_facts_as_vars: bool,
}

impl Default for ListSettings {
    /// Kayobe's settings: `inject_facts_as_vars = False`.
    fn default() -> Self {
        Self {
            inject_facts_as_vars: false,
        }
    }
}

/// The variables `ansible-inventory` never prints (`C.INTERNAL_STATIC_VARS`).
const INTERNAL_VARS: [&str; 33] = [
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
];

/// Whether `ansible-inventory` leaves variable `name` out.
pub(crate) fn is_internal(name: &str) -> bool {
    INTERNAL_VARS.contains(&name)
}

impl Inventory {
    /// The JSON `ansible-inventory -i … --list` prints for these sources,
    /// with Kayobe's Ansible settings ([`ListSettings::default`]).
    pub fn to_ansible_list(&self) -> Json {
        self.to_ansible_list_with(&ListSettings::default())
    }

    /// [`Inventory::to_ansible_list`] with explicit Ansible settings.
    pub fn to_ansible_list_with(&self, settings: &ListSettings) -> Json {
        serde_json::to_value(self.ansible_list_with(settings))
            .expect("an inventory list is plain JSON")
    }

    /// [`Inventory::to_ansible_list_with`] as a value to serialize, e.g.
    /// straight to a writer: hosts of the same groups share one copy of their
    /// group variables instead of each holding its own, so memory follows
    /// the groups, not the hosts.
    ///
    /// Groups list their direct `hosts` and `children` (empty keys and empty
    /// groups left out; `all` never lists hosts); `_meta.hostvars` holds each
    /// host's [`Inventory::host_vars`] when not empty.
    pub fn ansible_list_with(&self, settings: &ListSettings) -> AnsibleList<'_> {
        let data = &self.data;
        let mut groups = JsonMap::new();
        let mut seen = vec![false; data.groups.len()];
        self.format_group(ALL, &mut seen, &mut groups);
        // Hosts in the same groups share everything up to their own vars:
        // render that part once per set of groups.
        let host_groups: Vec<Vec<usize>> = (0..data.hosts.len())
            .map(|host| self.sorted_host_groups(host))
            .collect();
        let mut layer_of: HashMap<&[usize], usize> = HashMap::new();
        let mut group_layers: Vec<JsonMap<String, Json>> = Vec::new();
        for groups in &host_groups {
            layer_of.entry(groups).or_insert_with(|| {
                group_layers.push(
                    self.group_layer(groups)
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_json()))
                        .collect(),
                );
                group_layers.len() - 1
            });
        }
        let hosts = (0..data.hosts.len())
            .into_par_iter()
            .map(|host| {
                let mut own = JsonMap::new();
                self.for_each_host_layer(host, |layer| {
                    for (key, value) in layer {
                        if !is_internal(key) {
                            own.insert(key.clone(), value.to_json());
                        }
                    }
                });
                if !settings.inject_facts_as_vars {
                    own.insert("ansible_local".to_owned(), json!({}));
                }
                HostEntry {
                    name: data.hosts[host].name.as_str(),
                    layer: layer_of[host_groups[host].as_slice()],
                    own,
                }
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|entry| !(entry.own.is_empty() && group_layers[entry.layer].is_empty()))
            .collect();
        AnsibleList {
            groups,
            group_layers,
            hosts,
        }
    }

    fn format_group(&self, group: usize, seen: &mut [bool], out: &mut JsonMap<String, Json>) {
        let data = &self.data;
        let mut entry = JsonMap::new();
        if group != ALL && !data.groups[group].hosts.is_empty() {
            let hosts = data.groups[group]
                .hosts
                .iter()
                .map(|&h| Json::String(data.hosts[h].name.clone()))
                .collect();
            entry.insert("hosts".to_owned(), Json::Array(hosts));
        }
        let mut children = Vec::new();
        for &child in &data.groups[group].children {
            children.push(Json::String(data.groups[child].name.clone()));
            if !seen[child] {
                self.format_group(child, seen, out);
                seen[child] = true;
            }
        }
        if !children.is_empty() {
            entry.insert("children".to_owned(), Json::Array(children));
        }
        if !entry.is_empty() {
            out.insert(data.groups[group].name.clone(), Json::Object(entry));
        }
    }
}

/// The JSON of `ansible-inventory --list`, ready to serialize
/// ([`Inventory::ansible_list_with`]).
#[derive(Debug)]
pub struct AnsibleList<'a> {
    /// Every group's entry, in Ansible's order.
    groups: JsonMap<String, Json>,
    /// The distinct group variables of hosts.
    group_layers: Vec<JsonMap<String, Json>>,
    /// Every host with variables, in inventory order.
    hosts: Vec<HostEntry<'a>>,
}

/// A host's variables: its group layer, then its own over it.
#[derive(Debug)]
struct HostEntry<'a> {
    name: &'a str,
    layer: usize,
    own: JsonMap<String, Json>,
}

impl Serialize for AnsibleList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.groups.len() + 1))?;
        for (name, entry) in &self.groups {
            map.serialize_entry(name, entry)?;
        }
        map.serialize_entry("_meta", &Meta(self))?;
        map.end()
    }
}

/// `_meta`: the host variables and the output's profile.
struct Meta<'a, 'b>(&'b AnsibleList<'a>);

impl Serialize for Meta<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("hostvars", &HostVars(self.0))?;
        map.serialize_entry("profile", "inventory_legacy")?;
        map.end()
    }
}

struct HostVars<'a, 'b>(&'b AnsibleList<'a>);

impl Serialize for HostVars<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.hosts.len()))?;
        for host in &self.0.hosts {
            let vars = Merged {
                layer: &self.0.group_layers[host.layer],
                own: &host.own,
            };
            map.serialize_entry(host.name, &vars)?;
        }
        map.end()
    }
}

/// `own` over `layer`, in the order inserting one into a copy of the other
/// gives: the layer's keys first, then the host's new ones.
struct Merged<'a> {
    layer: &'a JsonMap<String, Json>,
    own: &'a JsonMap<String, Json>,
}

impl Serialize for Merged<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.layer {
            map.serialize_entry(key, self.own.get(key).unwrap_or(value))?;
        }
        for (key, value) in self.own {
            if !self.layer.contains_key(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}
