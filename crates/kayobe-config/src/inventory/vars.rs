//! `group_vars/` and `host_vars/` next to each inventory source, found and
//! read as Ansible's `host_group_vars` plugin and `DataLoader` do.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::InventoryError;
use crate::value::{Map, Value};
use crate::vars_file;
use crate::vault::VaultSecret;

/// The extensions `find_vars_files` tries after the bare name, in order.
const EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

/// The vars files of one `group_vars` or `host_vars` directory.
#[derive(Debug, Default)]
pub(crate) struct VarsDir {
    dir: PathBuf,
    /// Entry names of the directory (empty when it does not exist).
    entries: HashSet<String>,
}

impl VarsDir {
    /// Lists `dir` once; a missing directory (or a file in its place, which
    /// Ansible skips with a warning) has no vars.
    pub(crate) fn open(dir: PathBuf) -> Result<Self, InventoryError> {
        let mut entries = HashSet::new();
        if dir.is_dir() {
            let listing = std::fs::read_dir(&dir).map_err(|source| InventoryError::Read {
                path: dir.clone(),
                source,
            })?;
            for entry in listing {
                let entry = entry.map_err(|source| InventoryError::Read {
                    path: dir.clone(),
                    source,
                })?;
                if let Ok(name) = entry.file_name().into_string() {
                    entries.insert(name);
                }
            }
        }
        Ok(Self { dir, entries })
    }

    /// The files holding `name`'s variables, in load order: `name`,
    /// `name.yml`, `name.yaml` or `name.json`, whichever exists first; a
    /// directory is searched recursively.
    pub(crate) fn files_for(&self, name: &str) -> Result<Vec<PathBuf>, InventoryError> {
        // Ansible skips names that are absolute paths ("chroot" hosts).
        if name.is_empty() || name.starts_with('/') || self.entries.is_empty() {
            return Ok(Vec::new());
        }
        let first_component = name.split('/').next().unwrap_or(name);
        let candidates =
            std::iter::once(String::new()).chain(EXTENSIONS.iter().map(|e| (*e).to_owned()));
        for extension in candidates {
            let candidate = format!("{name}{extension}");
            // A name with `/` reaches into subdirectories: check on disk.
            let listed = if first_component == name {
                self.entries.contains(&candidate)
            } else {
                self.dir.join(&candidate).exists()
            };
            if !listed {
                continue;
            }
            let path = self.dir.join(&candidate);
            if path.is_dir() {
                let mut found = Vec::new();
                dir_vars_files(&path, &mut found)?;
                return Ok(found);
            }
            if path.exists() {
                return Ok(vec![path]);
            }
        }
        Ok(Vec::new())
    }
}

/// `_get_dir_vars_files`: sorted entries, hidden and `~` backups skipped,
/// subdirectories without an extension searched, files kept when they have
/// no extension or a YAML/JSON one.
fn dir_vars_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    let read_error = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let extension = python_splitext(&name);
        let path = dir.join(&name);
        if path.is_dir() {
            if extension.is_empty() {
                dir_vars_files(&path, found)?;
            }
        } else if path.is_file() && (extension.is_empty() || EXTENSIONS.contains(&extension)) {
            found.push(path);
        }
    }
    Ok(())
}

/// `os.path.splitext(name)[1]`: from the last `.` that is not leading.
pub(crate) fn python_splitext(name: &str) -> &str {
    let stem_start = name.len() - name.trim_start_matches('.').len();
    match name[stem_start..].rfind('.') {
        Some(dot) => &name[stem_start + dot..],
        None => "",
    }
}

/// Reads one `group_vars`/`host_vars` file; `None` when Ansible would ignore
/// it (an empty or falsy document).
fn load_vars_file(
    path: &Path,
    secret: Option<&VaultSecret>,
) -> Result<Option<Map>, InventoryError> {
    match vars_file::load(path, secret)? {
        Value::Map(map) if map.is_empty() => Ok(None),
        Value::Map(map) => Ok(Some(map)),
        // Ansible ignores empty files (and other falsy documents).
        Value::Null | Value::Bool(false) | Value::Int(0) => Ok(None),
        Value::Float(0.0) => Ok(None),
        Value::String(ref s) | Value::Unsafe(ref s) if s.is_empty() => Ok(None),
        Value::List(ref items) if items.is_empty() => Ok(None),
        _ => Err(InventoryError::VarsNotMapping {
            path: path.to_path_buf(),
        }),
    }
}

/// The merged `group_vars` and `host_vars` of one inventory source.
#[derive(Debug, Default, Clone)]
pub(crate) struct SourceVars {
    pub(crate) groups: HashMap<String, Map>,
    pub(crate) hosts: HashMap<String, Map>,
    /// The files each group's and host's variables came from, in load order
    /// (for telling where a variable is written).
    pub(crate) group_files: HashMap<String, Vec<PathBuf>>,
    pub(crate) host_files: HashMap<String, Vec<PathBuf>>,
}

impl SourceVars {
    /// Loads the vars of `groups` and `hosts` from `dir/group_vars` and
    /// `dir/host_vars`, files of one entity merged in load order.
    pub(crate) fn load<'a>(
        dir: &Path,
        groups: impl Iterator<Item = &'a str>,
        hosts: impl Iterator<Item = &'a str>,
        secret: Option<&VaultSecret>,
    ) -> Result<Self, InventoryError> {
        let mut vars = SourceVars::default();
        let group_dir = VarsDir::open(dir.join("group_vars"))?;
        let host_dir = VarsDir::open(dir.join("host_vars"))?;
        let mut jobs: Vec<(bool, &str, PathBuf)> = Vec::new();
        for name in groups {
            for file in group_dir.files_for(name)? {
                jobs.push((true, name, file));
            }
        }
        for name in hosts {
            for file in host_dir.files_for(name)? {
                jobs.push((false, name, file));
            }
        }
        use rayon::prelude::*;
        let loaded: Vec<Option<Map>> = jobs
            .par_iter()
            .map(|(_, _, path)| load_vars_file(path, secret))
            .collect::<Result<_, _>>()?;
        for ((is_group, name, path), map) in jobs.into_iter().zip(loaded) {
            let Some(map) = map else { continue };
            let (target, files) = if is_group {
                (&mut vars.groups, &mut vars.group_files)
            } else {
                (&mut vars.hosts, &mut vars.host_files)
            };
            files.entry(name.to_owned()).or_default().push(path);
            let merged = target.entry(name.to_owned()).or_default();
            for (key, value) in map {
                merged.insert(key, value);
            }
        }
        Ok(vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitext_matches_python() {
        assert_eq!(python_splitext("a.yml"), ".yml");
        assert_eq!(python_splitext("a.b.json"), ".json");
        assert_eq!(python_splitext("main"), "");
        assert_eq!(python_splitext(".hidden"), "");
        assert_eq!(python_splitext("..x.y"), ".y");
        assert_eq!(python_splitext("a."), ".");
    }
}
