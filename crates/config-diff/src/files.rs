//! Which files of the configuration directory the file diff shows.
//!
//! The per-host variables diff already shows what variables files mean, so
//! the file diff leaves out every file Kayobe reads as variables: the
//! extra-vars files of each layer and everything in a layer's `inventory`
//! directory (hosts, `group_vars`, `host_vars`). It also leaves out the
//! environments not selected (nor depended on): their files do not reach
//! the hosts diffed. What stays is the rest of the configuration: kolla
//! configuration, templates, certificates, playbooks.
//!
//! Secrets never reach the file diff ([`redact`], run on the extracted copy
//! of a revision after its variables are read), as in the shell tool:
//!
//! - **Secret files** (`KAYOBE_CONFIG_SECRET_PATHS`, by default every
//!   layer's `secrets.yml` and `kolla/passwords.yml`, plus
//!   `KAYOBE_CONFIG_SECRET_PATHS_EXTRA`) become one line per top-level key,
//!   the value replaced by its [`Masker`] mask: equal values give equal
//!   masks on both sides, so the diff shows which keys changed, never a value.
//! - **Other vaulted files** (`KAYOBE_CONFIG_VAULTED_FILES_PATHS`, by default
//!   the Octavia CA key and client certificate, plus
//!   `KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA`, and every other file found
//!   starting with `$ANSIBLE_VAULT;`) become the mask of their decrypted
//!   content: a change shows as a changed digest. A vaulted file found but
//!   not listed gets a [`Warning`]: the shell tool would diff its ciphertext.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kayobe_config::automation_conf::AutomationConf;
use kayobe_config::repo::ConfigRepo;
use kayobe_config::value::Value;
use kayobe_config::vars_file::{self, VarsFileError};
use kayobe_config::vault::{self, NoVaultPassword, VaultSecret};
use kayobe_stdx::escape_line;
use rayon::prelude::*;

use crate::DiffError;
use crate::mask::Masker;
use crate::tree::TreeDiff;

/// The vaulted files the shell tool digests unless told otherwise, relative
/// to the repository root.
pub const DEFAULT_VAULTED_FILES: [&str; 2] = [
    "etc/kayobe/kolla/config/octavia/server_ca.key.pem",
    "etc/kayobe/kolla/config/octavia/client.cert-and-key.pem",
];

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

/// Something an operator should know about a diff that still succeeded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Warning {
    /// A vaulted file that `KAYOBE_CONFIG_VAULTED_FILES_PATHS` (with its
    /// defaults and `_EXTRA`) does not list: we show it by digest, the shell
    /// tool would diff its ciphertext.
    UnlistedVaultedFile {
        /// The file, relative to the repository root.
        path: PathBuf,
    },
    /// A setting of the revision (a secret or vaulted files path) naming a
    /// file outside it: not read.
    PathOutOfRevision {
        /// The path named.
        path: PathBuf,
    },
    /// A symbolic link of a revision whose target leaves the revision: it
    /// was not followed, so whatever it names on the runner was not read.
    LinkOutOfRevision {
        /// The link, relative to the repository root.
        path: PathBuf,
        /// Its target.
        target: PathBuf,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnlistedVaultedFile { path } => write!(
                f,
                "{} is vaulted but not listed in KAYOBE_CONFIG_VAULTED_FILES_PATHS; it is shown as \
                 a digest here, but the shell config-diff would show its ciphertext: add it to \
                 KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA in .automation.conf/config.sh",
                path.display()
            ),
            Self::PathOutOfRevision { path } => write!(
                f,
                "{}: a secret or vaulted files path in .automation.conf/config.sh names a file \
                 outside the revision; it was not read (config-diff reads a revision as data): \
                 name files relative to the repository root, without `..`",
                escape_line(&path.to_string_lossy())
            ),
            Self::LinkOutOfRevision { path, target } => write!(
                f,
                "{} -> {}: the link leaves the revision, so it was not followed and what it names \
                 was not read (config-diff reads a revision as data); commit the file itself, or a \
                 relative link to a file inside the repository",
                escape_line(&path.to_string_lossy()),
                escape_line(&target.to_string_lossy())
            ),
        }
    }
}

/// How a file is shown in place of its content.
enum Redaction {
    /// One line per top-level key, each value masked.
    Values,
    /// The mask of the (decrypted) content.
    Digest,
}

/// Replaces, in the extracted revision `repo`, each secret file and vaulted
/// file that `scope` shows with its redacted form (see the module docs),
/// decrypting with `secret`; returns the warnings about unlisted vaulted files.
pub fn redact(
    repo: &ConfigRepo,
    scope: &FileScope,
    secret: Option<&VaultSecret>,
    masker: &Masker,
) -> Result<Vec<Warning>, DiffError> {
    let conf = repo.automation_conf()?;
    let vaulted = repo.vaulted_files()?;
    let at_root = |paths: Vec<String>| -> HashSet<PathBuf> {
        paths.iter().map(|path| repo.root().join(path)).collect()
    };
    let secret_files: HashSet<PathBuf> = match configured(&conf, "KAYOBE_CONFIG_SECRET_PATHS") {
        Some(paths) => at_root(paths),
        None => vaulted.secrets.iter().cloned().collect(),
    };
    let listed = at_root(
        configured(&conf, "KAYOBE_CONFIG_VAULTED_FILES_PATHS").unwrap_or_else(|| {
            DEFAULT_VAULTED_FILES
                .iter()
                .map(|path| (*path).to_owned())
                .chain(conf.vaulted_files_paths_extra())
                .collect()
        }),
    );
    let in_scope = |path: &Path| {
        path.strip_prefix(repo.config_path())
            .is_ok_and(|relative| scope.shows(relative))
    };
    let mut work: Vec<(PathBuf, Redaction)> = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = HashSet::new();
    for path in vaulted.all().chain(&secret_files).chain(&listed) {
        if !within(repo.root(), path) {
            // A setting of the revision naming a file outside it: never read.
            if seen.insert(path.clone()) {
                warnings.push(Warning::PathOutOfRevision { path: path.clone() });
            }
            continue;
        }
        if !(path.is_file() && in_scope(path) && seen.insert(path.clone())) {
            continue;
        }
        if secret_files.contains(path) {
            work.push((path.clone(), Redaction::Values));
        } else {
            if !listed.contains(path) {
                warnings.push(Warning::UnlistedVaultedFile {
                    path: path.strip_prefix(repo.root()).unwrap_or(path).to_path_buf(),
                });
            }
            work.push((path.clone(), Redaction::Digest));
        }
    }
    work.par_iter()
        .map(|(path, redaction)| {
            let text = match redaction {
                Redaction::Values => masked_values(&vars_file::load(path, secret)?, masker),
                Redaction::Digest => format!("{}\n", masker.mask_bytes(&plaintext(path, secret)?)),
            };
            std::fs::write(path, text).map_err(|source| DiffError::WriteTree {
                path: path.clone(),
                source,
            })
        })
        .collect::<Result<(), DiffError>>()?;
    warnings.sort();
    Ok(warnings)
}

/// Whether `path` names something inside `root` without `..`: the
/// extracted revision holds no link leading out, so this is enough to
/// keep reads inside it.
fn within(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root).is_ok_and(|relative| {
        relative
            .components()
            .all(|component| matches!(component, std::path::Component::Normal(_)))
    })
}

/// The list in `name`, when `config.sh` sets it non-empty: it replaces the
/// defaults and `_EXTRA`, as in the shell tool.
fn configured(conf: &AutomationConf, name: &str) -> Option<Vec<String>> {
    conf.get(name)
        .map(|value| value.to_list())
        .filter(|paths| !paths.is_empty())
}

/// A secret file's text: one `KEY: MASKED` line per top-level key (the whole
/// document masked on one line when it is not a map).
fn masked_values(document: &Value, masker: &Masker) -> String {
    match document {
        Value::Map(map) => map
            .iter()
            .map(|(key, value)| format!("{key}: {}\n", masker.mask_leaves(value).to_json()))
            .collect(),
        other => format!("{}\n", masker.mask_leaves(other).to_json()),
    }
}

/// The file's content, decrypted when it is vaulted.
fn plaintext(path: &Path, secret: Option<&VaultSecret>) -> Result<Vec<u8>, DiffError> {
    let bytes = std::fs::read(path).map_err(|source| VarsFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !vault::is_vaulted(&bytes) {
        return Ok(bytes);
    }
    let secret = secret
        .ok_or_else(|| VarsFileError::NeedsVaultPassword(path.to_path_buf(), NoVaultPassword))?;
    Ok(vault::view_file(path, secret)?.plaintext)
}
