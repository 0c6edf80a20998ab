//! Ansible INI inventories with `group_vars`/`host_vars`, combined and
//! rendered exactly as `ansible-inventory -i S1 -i S2 … --list` does.
//!
//! ```no_run
//! # use std::path::PathBuf;
//! use kayobe_config::inventory::Inventory;
//! let inventory = Inventory::load(&[
//!     PathBuf::from("etc/kayobe/inventory"),
//!     PathBuf::from("etc/kayobe/environments/production/inventory"),
//! ], None)?;
//! for host in inventory.group_hosts("controllers").unwrap_or_default() {
//!     println!("{host}: {:?}", inventory.host_vars(host));
//! }
//! println!("{}", inventory.to_ansible_list());
//! # Ok::<(), kayobe_config::inventory::InventoryError>(())
//! ```
//!
//! What is read, as ansible-core 2.19 reads it:
//! - a source is a file or a directory; a directory's entries are read in
//!   name order, recursively, skipping hidden names, `group_vars`,
//!   `host_vars`, `vars_plugins` and the extensions Ansible ignores
//!   (`.md`, `.txt`, `.cfg`, `~`, …);
//! - INI files as the `ini` plugin reads them (see [`parse_ini`]);
//! - `group_vars/<group>` and `host_vars/<host>` next to each source (a
//!   file's directory, or the directory itself): `name`, `name.yml`,
//!   `name.yaml` or `name.json`, or a directory of such files read in name
//!   order;
//! - variables merged with Ansible's precedence (see [`Inventory::host_vars`]).
//!
//! Where Ansible only warns and skips a source that does not parse, this
//! module stops with an [`InventoryError`] naming file, line and column: in CI
//! a silently missing inventory file is worse than a failed job. YAML, TOML
//! and script inventories are not supported and are reported as such.

mod data;
mod ini;
mod list;
mod pyliteral;
mod range;
mod shlex;
mod vars;

use std::path::{Path, PathBuf};

pub use ini::{IniEntry, QuotingProblem, SectionKind, parse_ini};
pub use list::{AnsibleList, ListSettings};
pub use range::{
    DEFAULT_MAX_HOSTS_PER_FILE, DEFAULT_MAX_HOSTS_PER_INVENTORY, HostBudget,
    MAX_HOSTS_PER_FILE_VAR, MAX_HOSTS_PER_INVENTORY_VAR, RangeError, expand_hostname_range,
    expand_hostname_range_within,
};

use crate::Location;
use crate::value::{Map, Value};
use crate::vars_file::VarsFileError;
use crate::vault::VaultSecret;
use data::InventoryData;
use vars::SourceVars;

/// An inventory read from one or more sources, as Ansible holds it after
/// parsing: groups, hosts, inline variables, and the `group_vars`/`host_vars`
/// of every source.
#[derive(Debug, Clone)]
pub struct Inventory {
    data: InventoryData,
    /// `group_vars`/`host_vars` per source, in source order.
    source_vars: Vec<SourceVars>,
    /// For each host, the groups that list it directly.
    direct_groups: Vec<Vec<usize>>,
}

impl Inventory {
    /// Reads `sources` as repeated `ansible-inventory -i` arguments would:
    /// each a file or a directory, later sources adding to earlier ones.
    /// Wholly vaulted `group_vars`/`host_vars` files are decrypted with
    /// `secret` (without one they are an error, as in Ansible).
    ///
    /// # Errors
    /// Any file that cannot be read or parsed, an undefined group referenced
    /// by `[g:vars]` or `[g:children]`, a group loop, and any unsupported
    /// source (YAML/TOML inventory files, missing paths).
    pub fn load(
        sources: &[PathBuf],
        secret: Option<&VaultSecret>,
    ) -> Result<Inventory, InventoryError> {
        let mut data = InventoryData::new();
        let mut budget = HostBudget::from_env();
        for source in sources {
            read_source(&mut data, source, true, &mut budget)?;
        }
        data.finish();
        let source_vars = sources
            .iter()
            .map(|source| {
                let dir = if source.is_dir() {
                    source.as_path()
                } else {
                    source.parent().unwrap_or(Path::new("."))
                };
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                SourceVars::load(
                    dir,
                    data.groups.iter().map(|g| g.name.as_str()),
                    data.hosts.iter().map(|h| h.name.as_str()),
                    secret,
                )
            })
            .collect::<Result<_, _>>()?;
        let direct_groups = data.direct_groups();
        Ok(Inventory {
            data,
            source_vars,
            direct_groups,
        })
    }

    /// Every host, in the order the sources first named them.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.data.hosts.iter().map(|h| h.name.as_str())
    }

    /// Every group (including `all` and `ungrouped`), in the order the sources
    /// first named them.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.data.groups.iter().map(|g| g.name.as_str())
    }

    /// The hosts of group `name` and of its descendants, in Ansible's
    /// `get_hosts` order (the group's own hosts, then its children's, level by
    /// level), or `None` when there is no such group.
    ///
    /// Beyond the direct children, Ansible visits each level in Python set
    /// order, which is not stable; here each level follows declaration order.
    pub fn group_hosts(&self, name: &str) -> Option<Vec<&str>> {
        let group = self.data.group(name)?;
        Some(
            self.data
                .group_hosts(group)
                .into_iter()
                .map(|h| self.data.hosts[h].name.as_str())
                .collect(),
        )
    }

    /// The hosts in classes that see the same inventory variables and groups:
    /// hosts of the same groups without variables of their own (inline or
    /// `host_vars`) share a class; every other host is a class of its own.
    /// Classes and their hosts follow [`hosts`](Self::hosts) order. At cloud
    /// scale most hosts share a few classes, so per-class work is done once.
    pub fn hosts_sharing_variables(&self) -> Vec<Vec<&str>> {
        let mut classes: Vec<Vec<&str>> = Vec::new();
        let mut by_groups: std::collections::HashMap<Vec<usize>, usize> =
            std::collections::HashMap::new();
        for (index, host) in self.data.hosts.iter().enumerate() {
            let mut own = false;
            self.for_each_host_layer(index, |layer| {
                own |= layer.keys().any(|key| !list::is_internal(key));
            });
            if own {
                classes.push(vec![host.name.as_str()]);
                continue;
            }
            let mut groups = self.host_group_indices(index);
            groups.sort_unstable();
            let class = *by_groups.entry(groups).or_insert_with(|| {
                classes.push(Vec::new());
                classes.len() - 1
            });
            classes[class].push(host.name.as_str());
        }
        classes
    }

    /// The direct child groups of group `name`, or `None` when there is no such group.
    pub fn group_children(&self, name: &str) -> Option<Vec<&str>> {
        let group = self.data.group(name)?;
        Some(
            self.data.groups[group]
                .children
                .iter()
                .map(|&c| self.data.groups[c].name.as_str())
                .collect(),
        )
    }

    /// The groups host `name` belongs to, directly or through a child group,
    /// sorted by name and without `all` (Ansible's `group_names`), or `None`
    /// when there is no such host.
    pub fn host_groups(&self, name: &str) -> Option<Vec<&str>> {
        let host = *self.data.host_index.get(name)?;
        let mut names: Vec<&str> = self
            .host_group_indices(host)
            .into_iter()
            .filter(|&g| g != data::ALL)
            .map(|g| self.data.groups[g].name.as_str())
            .collect();
        names.sort_unstable();
        Some(names)
    }

    /// The variables of host `name` as Ansible computes them from the
    /// inventory, or `None` when there is no such host. Later entries win:
    ///
    /// 1. `[all:vars]`;
    /// 2. `[g:vars]` of the host's groups, sorted by depth, then
    ///    `ansible_group_priority`, then name;
    /// 3. `group_vars/all` of each source, in source order;
    /// 4. `group_vars/<g>` of each source (source order, then group order as in 2);
    /// 5. the host line's inline variables (and `ansible_port` from `host:port`);
    /// 6. `host_vars/<host>` of each source.
    ///
    /// Each step replaces whole top-level keys (Ansible's default
    /// `hash_behaviour = replace`). Ansible's internal variables
    /// (`inventory_file`, `group_names`, …) are not included.
    pub fn host_vars(&self, name: &str) -> Option<Map> {
        let host = *self.data.host_index.get(name)?;
        let mut vars = self.group_layer(&self.sorted_host_groups(host));
        self.for_each_host_layer(host, |layer| {
            for (key, value) in layer {
                if !list::is_internal(key) {
                    vars.insert(key.clone(), value.clone());
                }
            }
        });
        Some(vars)
    }

    /// The host's groups without `all`, in `sort_groups` order.
    fn sorted_host_groups(&self, host: usize) -> Vec<usize> {
        let mut groups = self.host_group_indices(host);
        groups.retain(|&g| g != data::ALL);
        self.data.sort_groups(&mut groups);
        groups
    }

    /// The `group_vars` and `host_vars` files that define host `name`'s
    /// variables, highest precedence first (the reverse of the layering of
    /// [`Inventory::host_vars`]), or `None` when there is no such host. Files
    /// that hold no variables are left out; `[g:vars]` and inline variables
    /// of the INI files are not files of their own.
    pub fn host_variable_files(&self, name: &str) -> Option<Vec<PathBuf>> {
        let host = *self.data.host_index.get(name)?;
        let groups = self.sorted_host_groups(host);
        let mut files: Vec<&PathBuf> = Vec::new();
        for source in &self.source_vars {
            files.extend(source.group_files.get("all").into_iter().flatten());
        }
        for source in &self.source_vars {
            for &group in &groups {
                let group = &self.data.groups[group].name;
                files.extend(source.group_files.get(group).into_iter().flatten());
            }
        }
        for source in &self.source_vars {
            files.extend(source.host_files.get(name).into_iter().flatten());
        }
        Some(files.into_iter().rev().cloned().collect())
    }

    /// Steps 1–4 of [`Inventory::host_vars`] for a host in `groups` (sorted),
    /// without internal variables.
    fn group_layer(&self, groups: &[usize]) -> Map {
        let mut vars = Map::new();
        let mut merge = |layer: &Map| {
            for (key, value) in layer {
                if !list::is_internal(key) {
                    vars.insert(key.clone(), value.clone());
                }
            }
        };
        merge(&self.data.groups[data::ALL].vars);
        for &group in groups {
            merge(&self.data.groups[group].vars);
        }
        for source in &self.source_vars {
            if let Some(layer) = source.groups.get("all") {
                merge(layer);
            }
        }
        for source in &self.source_vars {
            for &group in groups {
                if let Some(layer) = source.groups.get(&self.data.groups[group].name) {
                    merge(layer);
                }
            }
        }
        vars
    }

    /// Steps 5–6 of [`Inventory::host_vars`]: inline host variables, then
    /// each source's `host_vars`.
    fn for_each_host_layer(&self, host: usize, mut apply: impl FnMut(&Map)) {
        let host = &self.data.hosts[host];
        apply(&host.vars);
        for source in &self.source_vars {
            if let Some(layer) = source.hosts.get(&host.name) {
                apply(layer);
            }
        }
    }

    /// Every group the host is in, directly or through descendants, with `all`.
    fn host_group_indices(&self, host: usize) -> Vec<usize> {
        self.data.ancestors_or_self(&self.direct_groups[host])
    }
}

/// Reads one source: an INI file, or a directory of them.
fn read_source(
    data: &mut InventoryData,
    path: &Path,
    top: bool,
    budget: &mut HostBudget,
) -> Result<(), InventoryError> {
    let metadata = std::fs::metadata(path).map_err(|source| {
        if top && source.kind() == std::io::ErrorKind::NotFound {
            InventoryError::SourceNotFound {
                path: path.to_path_buf(),
            }
        } else {
            InventoryError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if metadata.is_dir() {
        let mut names = Vec::new();
        let listing = std::fs::read_dir(path).map_err(|source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        for entry in listing {
            let entry = entry.map_err(|source| InventoryError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            names.push(entry.file_name());
        }
        names.sort();
        for name in names {
            let text = name.to_string_lossy();
            if is_ignored(&text) {
                continue;
            }
            read_source(data, &path.join(&name), false, budget)?;
        }
        return Ok(());
    }
    let extension = vars::python_splitext(
        path.file_name()
            .map(|n| n.to_string_lossy())
            .as_deref()
            .unwrap_or(""),
    )
    .to_owned();
    if matches!(extension.as_str(), ".yml" | ".yaml" | ".json" | ".toml") {
        return Err(InventoryError::UnsupportedFormat {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let entries = match std::str::from_utf8(&bytes) {
        Ok(text) => {
            if extension.is_empty() && reads_as_yaml_inventory(text, path) {
                return Err(InventoryError::ReadAsYaml {
                    path: path.to_path_buf(),
                });
            }
            budget.next_file();
            ini::parse_lines(ini::python_splitlines(text), path, budget)?
        }
        Err(_) => {
            budget.next_file();
            ini::parse_lines(
                non_utf8_lines(&bytes, path)?.iter().map(String::as_str),
                path,
                budget,
            )?
        }
    };
    data.apply_ini(&entries)
}

/// Whether Ansible's `yaml` inventory plugin, which tries extension-less files
/// before the `ini` plugin, would take this text: a non-empty mapping without
/// a `plugin` key.
fn reads_as_yaml_inventory(text: &str, path: &Path) -> bool {
    // A first line (as YAML sees lines: `#` comments skipped) that is a
    // section header is a flow sequence to YAML, never a mapping key.
    let first = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'));
    if first.is_some_and(|line| line.starts_with('[') && line.ends_with(']')) {
        return false;
    }
    match crate::yaml::parse_data(text, path) {
        Ok(Value::Map(map)) => {
            !map.is_empty()
                && !map.get("plugin").is_some_and(|plugin| {
                    !matches!(plugin, Value::Null | Value::Bool(false))
                        && plugin.as_str() != Some("")
                })
        }
        _ => false,
    }
}

/// Ansible's fallback for files that are not UTF-8: comment lines may hold
/// any bytes (they become empty), other lines must decode.
fn non_utf8_lines(bytes: &[u8], path: &Path) -> Result<Vec<String>, InventoryError> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        let line = &rest[..end];
        let mut skip = end;
        if rest[end..].starts_with(b"\r\n") {
            skip += 2;
        } else if end < rest.len() {
            skip += 1;
        }
        rest = &rest[skip..];
        if line.first().is_some_and(|b| *b == b'#' || *b == b';') {
            lines.push(String::new());
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(text) => lines.push(text.to_owned()),
            Err(error) => {
                let column = String::from_utf8_lossy(&line[..error.valid_up_to()])
                    .chars()
                    .count()
                    + 1;
                return Err(InventoryError::NotUtf8 {
                    location: Location::new(path, lines.len() + 1, column),
                });
            }
        }
    }
    Ok(lines)
}

/// The entries of an inventory directory Ansible skips: hidden names,
/// `group_vars`, `host_vars`, `vars_plugins`, and ignored extensions.
fn is_ignored(name: &str) -> bool {
    const IGNORED_SUFFIXES: [&str; 12] = [
        ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg",
        ".retry",
    ];
    name.starts_with('.')
        || matches!(name, "group_vars" | "host_vars" | "vars_plugins")
        || IGNORED_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// Why an inventory could not be read. Each names the file (and for syntax,
/// the line and column) and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// An inventory source given to [`Inventory::load`] does not exist.
    #[error("{}: inventory source not found: check the path", path.display())]
    SourceNotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A YAML, JSON or TOML inventory file: only INI inventories are read.
    #[error(
        "{}: only INI inventory files are supported: convert it to INI or move it out of the inventory directory",
        path.display()
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// An extension-less file that parses as a YAML mapping: Ansible's `yaml`
    /// plugin reads it before the `ini` plugin sees it, and ignores its INI content.
    #[error(
        "{}: this file parses as a YAML mapping, so Ansible reads it as a YAML inventory and ignores it as INI: \
         start it with a [section] header, or quote values containing `: `",
        path.display()
    )]
    ReadAsYaml {
        /// The file.
        path: PathBuf,
    },
    /// A non-comment line that is not UTF-8.
    #[error("{location}: the line is not valid UTF-8: save the file as UTF-8")]
    NotUtf8 {
        /// Where the first invalid byte is.
        location: Location,
    },
    /// `[group:tag]` with a tag other than `children`, `vars` or `hosts`.
    #[error(
        "{location}: section [{group}:{kind}] has unknown type `{kind}`: use [{group}], [{group}:children] or [{group}:vars]"
    )]
    UnknownSectionType {
        /// Where the header is.
        location: Location,
        /// The group named in the header.
        group: String,
        /// The unknown tag.
        kind: String,
    },
    /// A line in brackets that is not a valid section header.
    #[error(
        "{location}: invalid section header `{header}`: write `[name]`, `[name:children]` or `[name:vars]` without spaces in the name"
    )]
    InvalidSection {
        /// Where the header is.
        location: Location,
        /// The line.
        header: String,
    },
    /// A host line whose quoting cannot be split into words.
    #[error("{location}: {problem}")]
    Quoting {
        /// Where the unfinished quote or escape starts.
        location: Location,
        /// What is wrong.
        problem: QuotingProblem,
    },
    /// A host line with an empty host name.
    #[error("{location}: empty host name: write a host name before any variables")]
    EmptyHostName {
        /// Where the line is.
        location: Location,
    },
    /// `host:` with nothing after the colon.
    #[error(
        "{location}: host pattern `{pattern}` ends in `:`, which is reserved for a port: add the port number or remove the colon"
    )]
    TrailingColon {
        /// Where the line is.
        location: Location,
        /// The host pattern.
        pattern: String,
    },
    /// A host range that cannot be expanded.
    #[error(
        "{location}: host pattern `{pattern}`: {source}; write ranges as [01:10], [a:f] or [0:10:2]"
    )]
    HostRange {
        /// Where the line is.
        location: Location,
        /// The host pattern.
        pattern: String,
        /// What is wrong with the range.
        source: RangeError,
    },
    /// A `---` host: the file is probably YAML.
    #[error(
        "{location}: `---` is not a host name; this looks like a YAML file, which is not an INI inventory"
    )]
    LooksLikeYaml {
        /// Where the line is.
        location: Location,
    },
    /// A host line token after the host pattern that is not `key=value`.
    #[error(
        "{location}: expected a key=value host variable here: quote values that contain spaces, and put comments after `#`"
    )]
    ExpectedAssignment {
        /// Where the token starts.
        location: Location,
    },
    /// A value that is a Python dict literal with a list, tuple or dict as a key.
    #[error(
        "{location}: this value is a Python dict with a list, tuple or dict as a key, which Ansible cannot use: write it as a quoted Python string to keep it as text"
    )]
    UnhashableKey {
        /// Where the variable is.
        location: Location,
    },
    /// A `:vars` line without `=`.
    #[error("{location}: expected key=value in a [group:vars] section")]
    ExpectedVariable {
        /// Where the line is.
        location: Location,
    },
    /// A `:children` line that is not one group name.
    #[error("{location}: expected one group name in a [group:children] section, got `{line}`")]
    ExpectedGroupName {
        /// Where the line is.
        location: Location,
        /// The line.
        line: String,
    },
    /// `[g:vars]` for a group the same file never declares.
    #[error(
        "{location}: section [{group}:vars] is for undefined group `{group}`: declare it with [{group}] or [{group}:children] in this file"
    )]
    UndefinedVarsGroup {
        /// Where the header is.
        location: Location,
        /// The group.
        group: String,
    },
    /// `[p:children]` listing a group never declared.
    #[error(
        "{location}: section [{parent}:children] includes undefined group `{child}`: declare it with [{child}] or [{child}:children]"
    )]
    UndefinedChildGroup {
        /// Where the first reference is.
        location: Location,
        /// The group whose children include it.
        parent: String,
        /// The undefined group.
        child: String,
    },
    /// A child relation that makes a group its own ancestor.
    #[error(
        "{location}: adding group `{child}` as a child of `{parent}` creates a loop: remove one of the :children entries"
    )]
    GroupLoop {
        /// Where the relation is declared.
        location: Location,
        /// The parent group.
        parent: String,
        /// The child group.
        child: String,
    },
    /// `ansible_group_priority` that is not an integer.
    #[error("{location}: ansible_group_priority of group `{group}` must be an integer")]
    GroupPriority {
        /// Where it is set.
        location: Location,
        /// The group.
        group: String,
    },
    /// A `group_vars`/`host_vars` file could not be read, decrypted or parsed.
    #[error(transparent)]
    VarsFile(#[from] VarsFileError),
    /// A `group_vars`/`host_vars` file whose top level is not a mapping.
    #[error("{}: a vars file must hold a mapping of variable names to values", path.display())]
    VarsNotMapping {
        /// The file.
        path: PathBuf,
    },
}

impl InventoryError {
    /// Where in a file the problem is, when it is at a particular line.
    pub fn location(&self) -> Option<&Location> {
        use InventoryError as E;
        match self {
            E::NotUtf8 { location }
            | E::UnknownSectionType { location, .. }
            | E::InvalidSection { location, .. }
            | E::Quoting { location, .. }
            | E::EmptyHostName { location }
            | E::TrailingColon { location, .. }
            | E::HostRange { location, .. }
            | E::LooksLikeYaml { location }
            | E::ExpectedAssignment { location }
            | E::UnhashableKey { location }
            | E::ExpectedVariable { location }
            | E::ExpectedGroupName { location, .. }
            | E::UndefinedVarsGroup { location, .. }
            | E::UndefinedChildGroup { location, .. }
            | E::GroupLoop { location, .. }
            | E::GroupPriority { location, .. } => Some(location),
            E::VarsFile(VarsFileError::Yaml(error)) => error.location(),
            E::SourceNotFound { .. }
            | E::Read { .. }
            | E::UnsupportedFormat { .. }
            | E::ReadAsYaml { .. }
            | E::VarsNotMapping { .. }
            | E::VarsFile(_) => None,
        }
    }
}
