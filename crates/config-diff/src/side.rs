//! One side of a diff: the variables Ansible sees per host, secrets masked.
//!
//! **Which values are secret.** Every value decrypted on the way in:
//!
//! - an inline `!vault` value anywhere (it stays encrypted in the loaded
//!   variables; we decrypt it only to mask its plaintext);
//! - every top-level variable that a *vaulted vars file* defines: a vaulted
//!   extra-vars file (e.g. `secrets.yml`, `kolla/passwords.yml` is not one) or
//!   a vaulted `group_vars`/`host_vars` file. We load those files (the list
//!   comes from [`ConfigRepo::vaulted_files`]) and mask, in every host's
//!   variables, each top-level key they define. This errs towards masking: a
//!   plain value that overrides a vaulted one under the same name is masked
//!   too, never the other way round.
//!
//! Vaulted files that are not vars files (certificates, keyrings) do not feed
//! any variable, so they play no part here.
//!
//! Two Ansible magic variables are adjusted so that both sides compare:
//! `kayobe_config_path` becomes the configuration directory relative to the
//! repository root (the sides live in different temporary directories), and
//! `group_names` (the host's groups) is added, so a group membership change
//! shows.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kayobe_config::location::Location;
use kayobe_config::repo::ConfigRepo;
use kayobe_config::value::{Map, Value};
use kayobe_config::vars_file;
use kayobe_config::vault::{self, NoVaultPassword, VaultSecret};
use rayon::prelude::*;

use crate::DiffError;
use crate::mask::Masker;

/// The directories whose files Ansible reads as variables for groups and hosts.
const VARS_DIRS: &[&str] = &["group_vars", "host_vars"];

/// The variables of every host of one revision, secrets masked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Side {
    /// Host name → its variables, before templating. Hosts that see the
    /// same variables share one map, so memory follows distinct values, not
    /// hosts.
    pub hosts: BTreeMap<String, Arc<Map>>,
}

impl Side {
    /// Reads `repo`'s hosts and their variables, decrypting with `secret` and
    /// masking secrets with `masker`.
    pub fn load(
        repo: &ConfigRepo,
        secret: Option<&VaultSecret>,
        masker: &Masker,
    ) -> Result<Self, DiffError> {
        let secret_keys = vaulted_variable_names(repo, secret)?;
        let inventory = repo.inventory(secret)?;
        let config_path = repo
            .config_path()
            .strip_prefix(repo.root())
            .unwrap_or(repo.config_path())
            .to_string_lossy()
            .into_owned();
        let extra_vars = repo.extra_vars(secret)?;
        // Hosts of the same groups without variables of their own see the
        // same variables: each such class is merged and masked once (one
        // class per task), named after its first host in errors.
        let classes = inventory.hosts_sharing_variables();
        let maps = classes
            .par_iter()
            .map(|class| {
                let host = class[0];
                let mut vars = repo.host_variables_with(&inventory, host, &extra_vars)?;
                vars.insert(
                    "kayobe_config_path".into(),
                    Value::from(config_path.as_str()),
                );
                let groups = inventory.host_groups(host).unwrap_or_default();
                vars.insert(
                    "group_names".into(),
                    Value::List(groups.into_iter().map(Value::from).collect()),
                );
                let mut masked = Map::new();
                for (name, value) in vars {
                    let value = if secret_keys.contains(&name) {
                        masker.mask_leaves(&decrypt_inline(&value, host, &name, secret)?)
                    } else {
                        mask_inline(&value, host, &name, secret, masker)?
                    };
                    masked.insert(name, value);
                }
                Ok(Arc::new(masked))
            })
            .collect::<Result<Vec<Arc<Map>>, DiffError>>()?;
        let hosts = classes
            .iter()
            .zip(maps)
            .flat_map(|(class, vars)| {
                class
                    .iter()
                    .map(move |host| ((*host).to_owned(), Arc::clone(&vars)))
            })
            .collect();
        Ok(Self { hosts })
    }
}

/// The top-level names defined by the repository's vaulted vars files.
fn vaulted_variable_names(
    repo: &ConfigRepo,
    secret: Option<&VaultSecret>,
) -> Result<HashSet<String>, DiffError> {
    let extra_vars: HashSet<PathBuf> = repo.extra_vars_files()?.into_iter().collect();
    let vaulted = repo.vaulted_files()?;
    let vars_files: Vec<&PathBuf> = vaulted
        .all()
        .filter(|path| extra_vars.contains(*path) || is_in_vars_dir(path))
        .collect();
    // Decryption (PBKDF2 per file) dominates: one file per task.
    let documents = vars_files
        .into_par_iter()
        .map(|path| vars_file::load(path, secret).map_err(DiffError::from))
        .collect::<Result<Vec<Value>, DiffError>>()?;
    Ok(documents
        .into_iter()
        .filter_map(|document| match document {
            Value::Map(map) => Some(map.into_keys()),
            _ => None,
        })
        .flatten()
        .collect())
}

fn is_in_vars_dir(path: &Path) -> bool {
    path.ancestors().skip(1).any(|dir| {
        dir.file_name()
            .is_some_and(|name| VARS_DIRS.iter().any(|d| name == *d))
    })
}

/// Where an inline vault value came from, for error messages (the loaded
/// variables no longer know their file).
fn inline_location(host: &str, name: &str) -> Location {
    Location::new(format!("<variable `{name}` of host `{host}`>"), 1, 1)
}

/// `value` with each inline `!vault` value replaced by its plaintext.
fn decrypt_inline(
    value: &Value,
    host: &str,
    name: &str,
    secret: Option<&VaultSecret>,
) -> Result<Value, DiffError> {
    Ok(match value {
        Value::Vault(_) => Value::String(plaintext(value, host, name, secret)?),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), decrypt_inline(v, host, name, secret)?)))
                .collect::<Result<Map, DiffError>>()?,
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|v| decrypt_inline(v, host, name, secret))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// `value` with each inline `!vault` value replaced by the mask of its plaintext.
fn mask_inline(
    value: &Value,
    host: &str,
    name: &str,
    secret: Option<&VaultSecret>,
    masker: &Masker,
) -> Result<Value, DiffError> {
    Ok(match value {
        Value::Vault(_) => Value::String(
            masker.mask_bytes(
                Value::String(plaintext(value, host, name, secret)?)
                    .to_json()
                    .to_string()
                    .as_bytes(),
            ),
        ),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), mask_inline(v, host, name, secret, masker)?)))
                .collect::<Result<Map, DiffError>>()?,
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|v| mask_inline(v, host, name, secret, masker))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn plaintext(
    value: &Value,
    host: &str,
    name: &str,
    secret: Option<&VaultSecret>,
) -> Result<String, DiffError> {
    let secret = secret.ok_or_else(|| DiffError::NoVaultPassword {
        variable: name.to_owned(),
        host: host.to_owned(),
        source: NoVaultPassword,
    })?;
    let decrypted = vault::decrypt_value(value, secret, &inline_location(host, name))?;
    Ok(String::from_utf8_lossy(&decrypted.plaintext).into_owned())
}
