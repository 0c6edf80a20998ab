//! A Kayobe configuration repository and its layers.
//!
//! Kayobe reads `etc/kayobe` (the *base*) and, when an environment is selected,
//! overlays `etc/kayobe/environments/<env>/`. An environment may layer on others
//! (`environments/<env>/.kayobe-environment`: `dependencies: [..]`); the layers
//! are ordered dependencies first and the selected environment last, so later
//! layers win, exactly as Kayobe passes them to Ansible:
//!
//! - extra-vars files: the top-level `*.yml`/`*.yaml`/`*.json` of each layer,
//!   in name order;
//! - inventories: each layer's `inventory/` directory;
//! - Kolla configuration: each layer's `kolla/`.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::ansible_cfg::{AnsibleCfgError, AnsibleSettings};
use crate::automation_conf::{AutomationConf, AutomationConfError, ConfContext};
use crate::inventory::{Inventory, InventoryError};
use crate::value::{Map, Value};
use crate::vars_file::{self, VarsFileError};
use crate::vault::VaultSecret;
use crate::yaml::{self, YamlError};

/// Where an environment declares the environments it layers on.
const ENVIRONMENT_FILE: &str = ".kayobe-environment";
/// The repository-root file naming the default environment.
const DEFAULT_ENVIRONMENT_FILE: &str = ".environment";
/// The directory of kayobe automation's own settings, in the repository root.
const AUTOMATION_CONF_DIR: &str = ".automation.conf";
/// The extensions Kayobe passes to Ansible as extra-vars files.
const EXTRA_VARS_EXTENSIONS: &[&str] = &["yml", "yaml", "json"];
/// The first bytes of every ansible-vault file.
const VAULT_HEADER: &[u8] = b"$ANSIBLE_VAULT;";

/// Why a repository could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The configuration directory does not exist.
    #[error(
        "{}: no Kayobe configuration here; the configuration path must be a repository's etc/kayobe directory",
        .0.display()
    )]
    NoConfig(PathBuf),
    /// The selected environment has no directory.
    #[error(
        "environment `{name}` not found: {} does not exist; the environments here are: {}",
        .dir.display(),
        .available.join(", ")
    )]
    UnknownEnvironment {
        /// The environment asked for.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
        /// The environments that do exist.
        available: Vec<String>,
    },
    /// An environment name that is not one directory name: it would lead
    /// out of `environments/`.
    #[error(
        "environment name `{0}` is not a directory name under environments/ (it holds `/`, or is `.`, `..` or empty); name an environment that exists there"
    )]
    BadEnvironmentName(String),
    /// Environment dependencies form a cycle.
    #[error("environment dependencies form a cycle: {}; remove one of these dependencies", .0.join(" -> "))]
    DependencyCycle(Vec<String>),
    /// A `.kayobe-environment` file is not what Kayobe expects.
    #[error("{}: `dependencies` must be a list of environment names", .0.display())]
    BadEnvironmentFile(PathBuf),
    /// A YAML file could not be read.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The inventory could not be read.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// `.automation.conf/config.sh` could not be read.
    #[error(transparent)]
    AutomationConf(#[from] AutomationConfError),
    /// The `ansible.cfg` in effect could not be read or is not supported.
    #[error(transparent)]
    AnsibleCfg(#[from] AnsibleCfgError),
    /// An extra-vars file could not be read, decrypted or parsed.
    #[error(transparent)]
    VarsFile(#[from] VarsFileError),
    /// The inventory has no such host.
    #[error(
        "host `{0}` is not in the inventory; check the name with `kayobe-automation inventory list`"
    )]
    UnknownHost(String),
    /// A file named in `KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA` does not exist.
    #[error(
        "{}: listed in KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA (.automation.conf/config.sh) but missing; fix the path or remove it from the list",
        .0.display()
    )]
    MissingVaultedExtra(PathBuf),
    /// A file or directory could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One layer of configuration: the base `etc/kayobe` or an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The environment's name, or `None` for the base.
    pub environment: Option<String>,
    /// The layer's directory.
    pub dir: PathBuf,
}

impl Layer {
    /// The layer's top-level extra-vars files in name order.
    fn extra_vars_files(&self) -> Result<Vec<PathBuf>, RepoError> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let path = entry.map_err(io_error(&self.dir))?.path();
            let is_extra_vars = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTRA_VARS_EXTENSIONS.contains(&e));
            if is_extra_vars && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }
}

/// The vaulted files of a repository, in the groups config-diff treats apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultedFiles {
    /// Every layer's `secrets.yml` and each environment's `kolla/passwords.yml`
    /// that is vaulted.
    pub secrets: Vec<PathBuf>,
    /// Every other vaulted file: found by content under the configuration
    /// directory, plus `KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA`.
    pub others: Vec<PathBuf>,
}

impl VaultedFiles {
    /// All vaulted files, secrets first.
    pub fn all(&self) -> impl Iterator<Item = &PathBuf> {
        self.secrets.iter().chain(&self.others)
    }
}

/// An opened Kayobe configuration repository with its selected environment.
#[derive(Debug, Clone)]
pub struct ConfigRepo {
    root: PathBuf,
    config_path: PathBuf,
    environment: Option<String>,
    layers: Vec<Layer>,
    /// The automation settings, read on first use.
    automation_conf: OnceLock<AutomationConf>,
}

impl ConfigRepo {
    /// Opens the configuration at `config_path` (a repository's `etc/kayobe`)
    /// with `environment`, else the one named in the repository root's
    /// `.environment` file, else none.
    pub fn open(config_path: &Path, environment: Option<&str>) -> Result<Self, RepoError> {
        if !config_path.is_dir() {
            return Err(RepoError::NoConfig(config_path.to_path_buf()));
        }
        // Absolute paths, so that files found by walking and files named
        // relative to the repository root compare equal.
        let config_path = &config_path.canonicalize().map_err(io_error(config_path))?;
        let root = repository_root(config_path);
        let environment = match environment {
            Some(name) => Some(name.to_owned()),
            None => default_environment(&root)?,
        };
        let mut layers = vec![Layer {
            environment: None,
            dir: config_path.to_path_buf(),
        }];
        if let Some(name) = &environment {
            for name in environment_order(config_path, name)? {
                layers.push(Layer {
                    dir: environments_dir(config_path).join(&name),
                    environment: Some(name),
                });
            }
        }
        Ok(Self {
            root,
            config_path: config_path.to_path_buf(),
            environment,
            layers,
            automation_conf: OnceLock::new(),
        })
    }

    /// The repository root: two levels above `etc/kayobe`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration directory (`etc/kayobe`).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The selected environment, if any.
    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// The layers, lowest precedence first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The environments the repository defines, sorted by name.
    pub fn environments(&self) -> Result<Vec<String>, RepoError> {
        available_environments(&self.config_path)
    }

    /// The extra-vars files Kayobe passes to Ansible, lowest precedence first.
    pub fn extra_vars_files(&self) -> Result<Vec<PathBuf>, RepoError> {
        let mut files = Vec::new();
        for layer in &self.layers {
            files.extend(layer.extra_vars_files()?);
        }
        Ok(files)
    }

    /// The inventory directories, lowest precedence first.
    pub fn inventories(&self) -> Vec<PathBuf> {
        self.layers
            .iter()
            .map(|layer| layer.dir.join("inventory"))
            .filter(|dir| dir.is_dir())
            .collect()
    }

    /// Reads the inventories as `ansible-inventory` reads them, decrypting
    /// vaulted `group_vars`/`host_vars` files with `secret`.
    pub fn inventory(&self, secret: Option<&VaultSecret>) -> Result<Inventory, RepoError> {
        Ok(Inventory::load(&self.inventories(), secret)?)
    }

    /// The variables of every extra-vars file merged as Ansible merges extra
    /// vars (later files replace top-level keys). Vaulted files are decrypted
    /// with `secret`; inline `!vault` values stay encrypted.
    pub fn extra_vars(&self, secret: Option<&VaultSecret>) -> Result<Map, RepoError> {
        let files = self.extra_vars_files()?;
        let documents: Vec<Result<Value, RepoError>> = files
            .par_iter()
            .map(|path| Ok(vars_file::load(path, secret)?))
            .collect();
        let mut vars = Map::new();
        for document in documents {
            if let Value::Map(map) = document? {
                vars.extend(map);
            }
        }
        Ok(vars)
    }

    /// The variables a Kayobe playbook sees for `host`, before templating:
    /// Kayobe's own `kayobe_environment` (only when an environment is
    /// selected) and `kayobe_config_path`, then the inventory's variables for
    /// the host, then the extra vars, which win. Evaluate them with
    /// [`Templar`](crate::template::Templar).
    pub fn host_variables(
        &self,
        inventory: &Inventory,
        host: &str,
        secret: Option<&VaultSecret>,
    ) -> Result<Map, RepoError> {
        self.host_variables_with(inventory, host, &self.extra_vars(secret)?)
    }

    /// [`host_variables`](Self::host_variables) with the extra vars already
    /// read by [`extra_vars`](Self::extra_vars): loops over hosts read and
    /// decrypt the extra-vars files once, not once per host.
    pub fn host_variables_with(
        &self,
        inventory: &Inventory,
        host: &str,
        extra_vars: &Map,
    ) -> Result<Map, RepoError> {
        let mut vars = Map::new();
        if let Some(environment) = &self.environment {
            vars.insert(
                "kayobe_environment".into(),
                Value::from(environment.as_str()),
            );
        }
        vars.insert(
            "kayobe_config_path".into(),
            Value::from(self.config_path.to_string_lossy().into_owned()),
        );
        let host_vars = inventory
            .host_vars(host)
            .ok_or_else(|| RepoError::UnknownHost(host.to_owned()))?;
        vars.extend(host_vars);
        vars.extend(extra_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(vars)
    }

    /// The files that define `host`'s variables, highest precedence first:
    /// the extra-vars files, then its `host_vars` and `group_vars` files
    /// (see [`Inventory::host_variable_files`]). For telling where a value
    /// is written ([`crate::locate`]).
    pub fn host_variable_files(
        &self,
        inventory: &Inventory,
        host: &str,
    ) -> Result<Vec<PathBuf>, RepoError> {
        let mut files = self.extra_vars_files()?;
        files.reverse();
        files.extend(
            inventory
                .host_variable_files(host)
                .ok_or_else(|| RepoError::UnknownHost(host.to_owned()))?,
        );
        Ok(files)
    }

    /// The Ansible settings Kayobe's playbooks run with: `ANSIBLE_CONFIG`,
    /// else the environment's then the configuration's `ansible.cfg`, else
    /// Ansible's own search (see [`AnsibleSettings`]).
    pub fn ansible_settings(&self) -> Result<AnsibleSettings, RepoError> {
        Ok(AnsibleSettings::for_kayobe(
            &self.config_path,
            self.environment.as_deref(),
        )?)
    }

    /// Reads `.automation.conf/config.sh` for the selected environment by
    /// sourcing it with bash as kayobe-automation's pipelines do (an absent
    /// file reads as the context alone): in the repository root, with
    /// [`automation_context`](Self::automation_context). Read once per
    /// repository value; [`with_automation_conf`](Self::with_automation_conf)
    /// supplies settings read elsewhere instead.
    pub fn automation_conf(&self) -> Result<AutomationConf, RepoError> {
        if let Some(conf) = self.automation_conf.get() {
            return Ok(conf.clone());
        }
        let path = self.root.join(AUTOMATION_CONF_DIR).join("config.sh");
        let conf = AutomationConf::load(&path, &self.automation_context())?;
        Ok(self.automation_conf.get_or_init(|| conf).clone())
    }

    /// This repository using `conf` as its automation settings, without
    /// running its own `config.sh`: for revisions extracted from git, whose
    /// files must not be run (config-diff passes the settings of the
    /// checkout it runs in, as kayobe-automation's config-diff does).
    pub fn with_automation_conf(self, conf: AutomationConf) -> Self {
        let automation_conf = OnceLock::new();
        let _ = automation_conf.set(conf);
        Self {
            automation_conf,
            ..self
        }
    }

    /// What `config.sh` sees when kayobe-automation sources it (`functions`
    /// sets its globals, then `config_set` runs before `config_defaults`):
    /// the process's `KAYOBE_*`, `KOLLA_*` and `TEMPEST_*` variables (CI sets
    /// them), `PATH` and `HOME`; then kayobe-automation's own globals
    /// (`KAYOBE_AUTOMATION_REPO_ROOT`, `…_CONFIG_PATH`, `…_UTILS_PATH`,
    /// `…_CONTEXT_ENV_PATH`, `FUNCTIONS_PARENT`, `_LOG_LEVEL_*`), the
    /// selected environment as `KAYOBE_ENVIRONMENT` (empty without one) and
    /// `KAYOBE_CONFIG_PATH`; the working directory is the repository root.
    /// `KAYOBE_AUTOMATION_REPO_ROOT` is the root itself where the pipelines
    /// write `<root>/.automation/..`: the same directory, also when the
    /// `.automation` submodule is not checked out.
    pub fn automation_context(&self) -> ConfContext {
        let passed = |name: &str| {
            ["KAYOBE_", "KOLLA_", "TEMPEST_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                || name == "PATH"
                || name == "HOME"
        };
        let mut context: ConfContext = std::env::vars().filter(|(name, _)| passed(name)).collect();
        let root = self.root.to_string_lossy();
        let automation = self.root.join(".automation");
        context.set("FUNCTIONS_PARENT", automation.to_string_lossy());
        context.set(
            "KAYOBE_AUTOMATION_UTILS_PATH",
            automation.join("utils").to_string_lossy(),
        );
        context.set("KAYOBE_AUTOMATION_CONTEXT_ENV_PATH", "");
        context.set("KAYOBE_AUTOMATION_REPO_ROOT", root.as_ref());
        context.set(
            "KAYOBE_AUTOMATION_CONFIG_PATH",
            self.root.join(AUTOMATION_CONF_DIR).to_string_lossy(),
        );
        for (name, value) in [
            ("_LOG_LEVEL_DEBUG", "4000"),
            ("_LOG_LEVEL_INFO", "3000"),
            ("_LOG_LEVEL_WARN", "2000"),
            ("_LOG_LEVEL_ERROR", "1000"),
        ] {
            context.set(name, value);
        }
        context.set(
            "KAYOBE_ENVIRONMENT",
            self.environment.as_deref().unwrap_or_default(),
        );
        context.set("KAYOBE_CONFIG_PATH", self.config_path.to_string_lossy());
        context.with_working_dir(&self.root)
    }

    /// The vaulted files: those under the configuration directory whose
    /// content starts with `$ANSIBLE_VAULT;`, plus the automation settings'
    /// `KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA` (relative to the repository
    /// root). Secrets files are every layer's and environment's `secrets.yml`
    /// and `kolla/passwords.yml`, and `KAYOBE_CONFIG_SECRET_PATHS_EXTRA`.
    pub fn vaulted_files(&self) -> Result<VaultedFiles, RepoError> {
        let conf = self.automation_conf()?;
        let secrets = self.secrets_paths(&conf)?;
        let candidates: Vec<PathBuf> = walkdir::WalkDir::new(&self.config_path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.file_name() != ".git")
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_file())
            .map(walkdir::DirEntry::into_path)
            .collect();
        let found: Vec<Result<Option<PathBuf>, RepoError>> = candidates
            .into_par_iter()
            .map(|path| Ok(starts_vaulted(&path)?.then_some(path)))
            .collect();
        let mut files = VaultedFiles::default();
        let mut seen = HashSet::new();
        for path in found {
            let Some(path) = path? else { continue };
            seen.insert(path.clone());
            if secrets.contains(&path) {
                files.secrets.push(path);
            } else {
                files.others.push(path);
            }
        }
        for extra in conf.vaulted_files_paths_extra() {
            let path = self.root.join(extra);
            if !path.is_file() {
                return Err(RepoError::MissingVaultedExtra(path));
            }
            if seen.insert(path.clone()) {
                files.others.push(path);
            }
        }
        Ok(files)
    }

    /// The paths that hold secrets rather than configuration.
    fn secrets_paths(&self, conf: &AutomationConf) -> Result<HashSet<PathBuf>, RepoError> {
        let environments = self.environments()?;
        let dirs = std::iter::once(self.config_path.clone()).chain(
            environments
                .iter()
                .map(|name| environments_dir(&self.config_path).join(name)),
        );
        let mut paths: HashSet<PathBuf> = dirs
            .flat_map(|dir| [dir.join("secrets.yml"), dir.join("kolla/passwords.yml")])
            .collect();
        paths.extend(
            conf.secret_paths_extra()
                .into_iter()
                .map(|extra| self.root.join(extra)),
        );
        Ok(paths)
    }
}

/// Whether the file at `path` starts with the ansible-vault header.
fn starts_vaulted(path: &Path) -> Result<bool, RepoError> {
    let mut head = [0u8; VAULT_HEADER.len()];
    let mut file = fs::File::open(path).map_err(io_error(path))?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]).map_err(io_error(path))? {
            0 => break,
            n => read += n,
        }
    }
    Ok(&head[..read] == VAULT_HEADER)
}

/// Two levels above `etc/kayobe`, or the configuration directory's parent
/// when it is laid out otherwise.
fn repository_root(config_path: &Path) -> PathBuf {
    let levels = if config_path.ends_with("etc/kayobe") {
        2
    } else {
        1
    };
    config_path
        .ancestors()
        .nth(levels)
        .unwrap_or(config_path)
        .to_path_buf()
}

/// The environment named in the repository root's `.environment` file.
fn default_environment(root: &Path) -> Result<Option<String>, RepoError> {
    let path = root.join(DEFAULT_ENVIRONMENT_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|name| !name.is_empty())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RepoError::Io { path, source }),
    }
}

fn environments_dir(config_path: &Path) -> PathBuf {
    config_path.join("environments")
}

fn available_environments(config_path: &Path) -> Result<Vec<String>, RepoError> {
    let dir = environments_dir(config_path);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(RepoError::Io { path: dir, source }),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(&dir))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The environments to layer for `selected`: its dependencies (recursively,
/// each before what depends on it, in the order they are listed) and then
/// `selected` itself.
fn environment_order(config_path: &Path, selected: &str) -> Result<Vec<String>, RepoError> {
    let mut order = Vec::new();
    let mut path = Vec::new();
    visit_environment(config_path, selected, &mut path, &mut order)?;
    Ok(order)
}

fn visit_environment(
    config_path: &Path,
    name: &str,
    path: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), RepoError> {
    if order.iter().any(|done| done == name) {
        return Ok(());
    }
    if let Some(start) = path.iter().position(|seen| seen == name) {
        let mut cycle = path[start..].to_vec();
        cycle.push(name.to_owned());
        return Err(RepoError::DependencyCycle(cycle));
    }
    let mut components = Path::new(name).components();
    if !matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) || name.contains('/')
    {
        return Err(RepoError::BadEnvironmentName(name.to_owned()));
    }
    let dir = environments_dir(config_path).join(name);
    if !dir.is_dir() {
        return Err(RepoError::UnknownEnvironment {
            name: name.to_owned(),
            dir,
            available: available_environments(config_path)?,
        });
    }
    path.push(name.to_owned());
    for dependency in environment_dependencies(&dir.join(ENVIRONMENT_FILE))? {
        visit_environment(config_path, &dependency, path, order)?;
    }
    path.pop();
    order.push(name.to_owned());
    Ok(())
}

/// The `dependencies` an environment's `.kayobe-environment` lists.
fn environment_dependencies(file: &Path) -> Result<Vec<String>, RepoError> {
    if !file.is_file() {
        return Ok(Vec::new());
    }
    let bad = || RepoError::BadEnvironmentFile(file.to_path_buf());
    let document = yaml::load_file(file)?;
    let dependencies = match &document {
        Value::Null => return Ok(Vec::new()),
        Value::Map(map) => map.get("dependencies"),
        _ => return Err(bad()),
    };
    match dependencies {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn repo_with_environments(envs: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("etc/kayobe");
        write(&config.join("globals.yml"), "a: 1\n");
        for (name, dependencies) in envs {
            write(
                &config
                    .join("environments")
                    .join(name)
                    .join(ENVIRONMENT_FILE),
                &format!("dependencies: {dependencies}\n"),
            );
        }
        dir
    }

    fn layer_names(repo: &ConfigRepo) -> Vec<Option<&str>> {
        repo.layers()
            .iter()
            .map(|l| l.environment.as_deref())
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_the_selected_environment_last() {
        let dir = repo_with_environments(&[
            ("prod", "[site, common]"),
            ("site", "[common]"),
            ("common", "[]"),
        ]);
        let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("prod")).unwrap();
        assert_eq!(
            layer_names(&repo),
            [None, Some("common"), Some("site"), Some("prod")]
        );
    }

    #[test]
    fn a_dependency_cycle_is_named() {
        let dir = repo_with_environments(&[("a", "[b]"), ("b", "[a]")]);
        let error = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("a")).unwrap_err();
        assert!(
            matches!(&error, RepoError::DependencyCycle(cycle) if cycle == &["a", "b", "a"]),
            "{error}"
        );
    }

    #[test]
    fn a_dependency_cannot_lead_out_of_the_environments() {
        // `environments/prod/../../..` is the repository's parent: a
        // revision must not make the reader layer the runner's files.
        let dir = repo_with_environments(&[("prod", "[\"../../..\"]")]);
        let error = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("prod")).unwrap_err();
        assert!(
            matches!(&error, RepoError::BadEnvironmentName(name) if name == "../../.."),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_environment_lists_the_known_ones() {
        let dir = repo_with_environments(&[("prod", "[]"), ("dev", "[]")]);
        let error = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("qa")).unwrap_err();
        assert!(error.to_string().contains("here are: dev, prod"), "{error}");
    }

    #[test]
    fn the_environment_file_selects_the_default_environment() {
        let dir = repo_with_environments(&[("prod", "[]")]);
        write(&dir.path().join(DEFAULT_ENVIRONMENT_FILE), "prod\n");
        let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), None).unwrap();
        assert_eq!(repo.environment(), Some("prod"));
    }

    #[test]
    fn a_missing_config_path_says_what_to_do() {
        let error = ConfigRepo::open(Path::new("/nonexistent/etc/kayobe"), None).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("must be a repository's etc/kayobe directory"),
            "{error}"
        );
    }
}
