//! Which files of the configuration directory the file diff shows.
//!
//! The per-host variables diff already shows what variables files mean, so
//! the file diff leaves out every file Kayobe reads as variables: the
//! extra-vars files of each layer and everything in a layer's `inventory`
//! directory (hosts, `group_vars`, `host_vars`). It also leaves out the
//! environments not selected (nor depended on): their files do not reach
//! the hosts diffed. What stays is the rest of the configuration: kolla
//! configuration, templates, certificates, playbooks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kayobe_config::repo::ConfigRepo;

use crate::DiffError;
use crate::tree::TreeDiff;

/// The directory holding the environments, under the configuration directory.
const ENVIRONMENTS_DIR: &str = "environments";
/// A layer's inventory directory.
const INVENTORY_DIR: &str = "inventory";

/// The files of one side that the file diff leaves out, relative to the
/// configuration directory.
#[derive(Debug, Clone, Default)]
pub struct FileScope {
    variables_files: HashSet<PathBuf>,
    inventories: Vec<PathBuf>,
    environments: HashSet<String>,
}

impl FileScope {
    /// The scope of `repo`'s selected environment.
    pub fn of(repo: &ConfigRepo) -> Result<Self, DiffError> {
        let relative = |path: &Path| {
            path.strip_prefix(repo.config_path())
                .unwrap_or(path)
                .to_path_buf()
        };
        Ok(Self {
            variables_files: repo
                .extra_vars_files()?
                .iter()
                .map(|path| relative(path))
                .collect(),
            inventories: repo
                .layers()
                .iter()
                .map(|layer| relative(&layer.dir.join(INVENTORY_DIR)))
                .collect(),
            environments: repo
                .layers()
                .iter()
                .filter_map(|layer| layer.environment.clone())
                .collect(),
        })
    }

    /// Whether the file diff shows `path` (relative to the configuration directory).
    pub fn shows(&self, path: &Path) -> bool {
        if self.variables_files.contains(path)
            || self.inventories.iter().any(|dir| path.starts_with(dir))
        {
            return false;
        }
        let mut components = path.components();
        match (components.next(), components.next()) {
            (Some(first), Some(environment)) if first.as_os_str() == ENVIRONMENTS_DIR => self
                .environments
                .contains(environment.as_os_str().to_string_lossy().as_ref()),
            _ => true,
        }
    }
}

/// `diff` without the files either side's scope leaves out.
pub fn in_scope(mut diff: TreeDiff, scopes: &[&FileScope]) -> TreeDiff {
    diff.files
        .retain(|file| scopes.iter().all(|scope| scope.shows(&file.path)));
    diff
}
