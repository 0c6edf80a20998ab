//! The JSON of `ansible-inventory --list`.

use std::collections::HashMap;

use rayon::prelude::*;

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
    ///
    /// Groups list their direct `hosts` and `children` (empty keys and empty
    /// groups left out; `all` never lists hosts); `_meta.hostvars` holds each
    /// host's [`Inventory::host_vars`] when not empty.
    pub fn to_ansible_list_with(&self, settings: &ListSettings) -> Json {
        let data = &self.data;
        let mut out = JsonMap::new();
        let mut seen = vec![false; data.groups.len()];
        self.format_group(ALL, &mut seen, &mut out);
        // Hosts in the same groups share everything up to their own vars:
        // render that part once per set of groups.
        let host_groups: Vec<Vec<usize>> = (0..data.hosts.len())
            .map(|host| self.sorted_host_groups(host))
            .collect();
        let mut group_layers: HashMap<&[usize], JsonMap<String, Json>> = HashMap::new();
        for groups in &host_groups {
            group_layers.entry(groups).or_insert_with(|| {
                self.group_layer(groups)
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect()
            });
        }
        let rendered: Vec<JsonMap<String, Json>> = (0..data.hosts.len())
            .into_par_iter()
            .map(|host| {
                let mut vars = group_layers[host_groups[host].as_slice()].clone();
                self.for_each_host_layer(host, |layer| {
                    for (key, value) in layer {
                        if !is_internal(key) {
                            vars.insert(key.clone(), value.to_json());
                        }
                    }
                });
                if !settings.inject_facts_as_vars {
                    vars.insert("ansible_local".to_owned(), json!({}));
                }
                vars
            })
            .collect();
        let mut hostvars = JsonMap::new();
        for (host, vars) in data.hosts.iter().zip(rendered) {
            if !vars.is_empty() {
                hostvars.insert(host.name.clone(), Json::Object(vars));
            }
        }
        out.insert(
            "_meta".to_owned(),
            json!({ "hostvars": hostvars, "profile": "inventory_legacy" }),
        );
        Json::Object(out)
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
