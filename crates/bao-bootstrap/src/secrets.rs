//! The secret each environment's pipelines read from
//! `kayobe-automation/<env>`, taken from the (vaulted) configuration.
//!
//! | key in OpenBao | from |
//! |---|---|
//! | `kayobe_vault_password` | the vault password the configuration was opened with |
//! | `kayobe_automation_ssh_private_key` | variable `kayobe_automation_ssh_private_key` (required) |
//! | `kayobe_tempest_openrc`, `kayobe_public_openrc` | variable `kayobe_tempest_openrc` (required; the second key is the older name pipelines still read) |
//! | `registry_url` | variable `kolla_docker_registry` (if defined) |
//! | `registry_username` | variable `kolla_docker_registry_username` (if defined) |
//! | `registry_password` | variable `kolla_docker_registry_password` (if defined) |
//!
//! Variables are the environment's extra vars (vaulted files decrypted,
//! inline `!vault` values decrypted) evaluated with
//! [`Templar`](kayobe_config::template::Templar), with `kayobe_environment` set
//! as Kayobe sets it.

use std::collections::BTreeMap;
use std::fmt;

use kayobe_config::repo::{ConfigRepo, RepoError};
use kayobe_config::template::{Templar, TemplateError};
use kayobe_config::vault::{self, VaultError, VaultSecret};
use kayobe_config::{Location, Value};

/// OpenBao keys filled from a required variable of the same meaning.
const REQUIRED: &[(&str, &str)] = &[
    (
        "kayobe_automation_ssh_private_key",
        "kayobe_automation_ssh_private_key",
    ),
    ("kayobe_tempest_openrc", "kayobe_tempest_openrc"),
    ("kayobe_public_openrc", "kayobe_tempest_openrc"),
];

/// OpenBao keys filled from a variable only when it is defined.
const OPTIONAL: &[(&str, &str)] = &[
    ("registry_url", "kolla_docker_registry"),
    ("registry_username", "kolla_docker_registry_username"),
    ("registry_password", "kolla_docker_registry_password"),
];

/// One environment's secret: its name and the key/value pairs written at
/// `kayobe-automation/<environment>`.
///
/// Its `Debug` output shows the keys, never the values.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvironmentSecrets {
    environment: String,
    values: BTreeMap<String, String>,
}

impl fmt::Debug for EnvironmentSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentSecrets")
            .field("environment", &self.environment)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why an environment's secret could not be assembled. Never holds a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No environment is selected, so there is no secret path.
    #[error(
        "no Kayobe environment is selected: each environment has a secret of its own, so select one (as Kayobe does: KAYOBE_ENVIRONMENT, or the repository's .environment file)"
    )]
    NoEnvironment,
    /// The environment name cannot be a path segment.
    #[error(
        "the environment name `{0}` cannot name an OpenBao secret: use letters, digits, `-`, `_` and `.`"
    )]
    BadEnvironmentName(String),
    /// Reading the configuration failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A variable could not be evaluated.
    #[error("cannot evaluate variable `{variable}`: {source}")]
    Template {
        /// The variable.
        variable: &'static str,
        /// The template error.
        source: TemplateError,
    },
    /// An inline `!vault` value could not be decrypted.
    #[error("cannot decrypt variable `{variable}`: {source}")]
    Vault {
        /// The variable.
        variable: &'static str,
        /// The vault error.
        source: VaultError,
    },
    /// Required variables are not defined.
    #[error(
        "environment `{environment}` does not define {}: define them (vaulted) in etc/kayobe/environments/{environment}/secrets.yml or etc/kayobe/secrets.yml",
        .variables.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
    )]
    Missing {
        /// The environment.
        environment: String,
        /// The undefined variables.
        variables: Vec<&'static str>,
    },
    /// A variable is a list or map, not text.
    #[error("variable `{variable}` must be text (a string or number), not a list or map")]
    NotText {
        /// The variable.
        variable: &'static str,
    },
    /// The vault password is not UTF-8, so it cannot be stored as text.
    #[error("the vault password is not UTF-8 text, so it cannot be stored in OpenBao")]
    PasswordNotText,
}

impl EnvironmentSecrets {
    /// A secret with exactly these values (for embedders with their own
    /// sources; [`from_repo`](Self::from_repo) is the usual way).
    pub fn new(
        environment: impl Into<String>,
        values: BTreeMap<String, String>,
    ) -> Result<Self, SecretsError> {
        let environment = environment.into();
        check_environment(&environment)?;
        Ok(Self {
            environment,
            values,
        })
    }

    /// The selected environment's secret, from `repo`'s variables decrypted
    /// with `secret` (see the module documentation for the keys).
    pub fn from_repo(repo: &ConfigRepo, secret: &VaultSecret) -> Result<Self, SecretsError> {
        let environment = repo.environment().ok_or(SecretsError::NoEnvironment)?;
        check_environment(environment)?;
        let mut vars = repo.extra_vars(Some(secret))?;
        vars.insert("kayobe_environment".into(), Value::from(environment));
        let templar = Templar::new(&vars);
        let mut values = BTreeMap::new();
        let password =
            std::str::from_utf8(secret.bytes()).map_err(|_| SecretsError::PasswordNotText)?;
        values.insert("kayobe_vault_password".to_owned(), password.to_owned());
        let mut missing = Vec::new();
        for &(key, variable) in REQUIRED {
            match text_variable(&templar, secret, variable)? {
                Some(value) => {
                    values.insert(key.to_owned(), value);
                }
                None if !missing.contains(&variable) => missing.push(variable),
                None => {}
            }
        }
        if !missing.is_empty() {
            return Err(SecretsError::Missing {
                environment: environment.to_owned(),
                variables: missing,
            });
        }
        for &(key, variable) in OPTIONAL {
            if let Some(value) = text_variable(&templar, secret, variable)? {
                values.insert(key.to_owned(), value);
            }
        }
        Ok(Self {
            environment: environment.to_owned(),
            values,
        })
    }

    /// The environment, which is also the secret's path under the mount.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The key/value pairs (handle with care: these are secrets).
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }
}

fn check_environment(environment: &str) -> Result<(), SecretsError> {
    let valid = !environment.is_empty()
        && environment != "."
        && environment != ".."
        && environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(SecretsError::BadEnvironmentName(environment.to_owned()))
    }
}

/// The variable's text, `None` when it is undefined or omitted.
fn text_variable(
    templar: &Templar,
    secret: &VaultSecret,
    variable: &'static str,
) -> Result<Option<String>, SecretsError> {
    if !templar.contains(variable) {
        return Ok(None);
    }
    let value = templar
        .variable(variable)
        .map_err(|source| SecretsError::Template { variable, source })?;
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(value @ Value::Vault(_)) => {
            let decrypted = vault::decrypt_value(&value, secret, &Location::new(variable, 1, 1))
                .map_err(|source| SecretsError::Vault { variable, source })?;
            String::from_utf8(decrypted.plaintext)
                .map_err(|_| SecretsError::NotText { variable })?
        }
        // The text Ansible's templating makes of a scalar, as every reader
        // of variables coerces it.
        Some(value) => value
            .to_ansible_text()
            .ok_or(SecretsError::NotText { variable })?,
    };
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_become_the_text_every_reader_makes_of_them() {
        let vars: kayobe_config::Map = [
            ("flag", Value::Bool(true)),
            ("ratio", Value::Float(1.0)),
            ("port", Value::Int(8200)),
            ("list", Value::List(vec![])),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let templar = Templar::new(&vars);
        let secret = VaultSecret::new("password");
        let text = |variable| text_variable(&templar, &secret, variable);
        assert_eq!(text("flag").unwrap().as_deref(), Some("True"));
        assert_eq!(text("ratio").unwrap().as_deref(), Some("1.0"));
        assert_eq!(text("port").unwrap().as_deref(), Some("8200"));
        assert_eq!(text("absent").unwrap(), None);
        assert!(matches!(text("list"), Err(SecretsError::NotText { .. })));
    }

    #[test]
    fn debug_shows_keys_only() {
        let secrets = EnvironmentSecrets::new(
            "prod",
            BTreeMap::from([("kayobe_vault_password".to_owned(), "hunter2".to_owned())]),
        )
        .unwrap();
        let text = format!("{secrets:?}");
        assert!(text.contains("kayobe_vault_password"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn environment_names_must_be_path_segments() {
        for bad in ["", ".", "..", "a/b", "a b", "é"] {
            assert!(
                matches!(
                    EnvironmentSecrets::new(bad, BTreeMap::new()),
                    Err(SecretsError::BadEnvironmentName(_))
                ),
                "{bad:?}"
            );
        }
        for good in ["production", "staging-2", "a_b.c"] {
            EnvironmentSecrets::new(good, BTreeMap::new()).unwrap();
        }
    }
}
