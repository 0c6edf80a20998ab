//! Options every subcommand shares.

use std::path::PathBuf;

use kayobe_automation::config::repo::{ConfigRepo, RepoError};
use kayobe_automation::config::vault::VaultSecret;
use kayobe_stdx::secret_from_env;
use miette::IntoDiagnostic;

/// Where the Kayobe configuration is, which environment, and how to open the vault.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The Kayobe configuration directory.
    #[arg(
        long,
        global = true,
        env = "KAYOBE_CONFIG_PATH",
        default_value = "etc/kayobe"
    )]
    pub config_path: PathBuf,
    /// The Kayobe environment (else the repository's `.environment` file).
    #[arg(long, global = true, env = "KAYOBE_ENVIRONMENT")]
    pub environment: Option<String>,
    /// A file holding the vault password (else `$KAYOBE_VAULT_PASSWORD`).
    #[arg(long, global = true, env = "KAYOBE_VAULT_PASSWORD_FILE")]
    pub vault_password_file: Option<PathBuf>,
}

/// Why no vault password could be had.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum VaultPasswordError {
    /// Neither a password file nor `KAYOBE_VAULT_PASSWORD` was given (an
    /// empty variable counts as not given).
    #[error("no vault password was given")]
    #[diagnostic(help(
        "pass `--vault-password-file FILE`, set KAYOBE_VAULT_PASSWORD_FILE to a file holding the password, or set KAYOBE_VAULT_PASSWORD"
    ))]
    Missing,
    /// The password file could not be used.
    #[error("{error}")]
    #[diagnostic(help(
        "the file comes from `--vault-password-file` or KAYOBE_VAULT_PASSWORD_FILE; an executable file is run and its output used"
    ))]
    File {
        /// What went wrong.
        error: kayobe_automation::config::vault::VaultError,
    },
}

impl Global {
    /// The vault password: from `--vault-password-file` (or
    /// `$KAYOBE_VAULT_PASSWORD_FILE`), read as Ansible reads password files,
    /// else from `$KAYOBE_VAULT_PASSWORD` as [`secret_from_env`] reads it
    /// (surrounding newlines dropped, as Kayobe's password helper and Ansible
    /// do).
    pub fn vault_secret(&self) -> Result<VaultSecret, VaultPasswordError> {
        if let Some(path) = &self.vault_password_file {
            return VaultSecret::from_file(path)
                .map_err(|error| VaultPasswordError::File { error });
        }
        secret_from_env("KAYOBE_VAULT_PASSWORD")
            .map(VaultSecret::from)
            .ok_or(VaultPasswordError::Missing)
    }
}

impl Global {
    /// The vault password when one was given, for commands that only need it
    /// if they meet a vaulted file.
    pub fn optional_vault_secret(&self) -> Result<Option<VaultSecret>, VaultPasswordError> {
        match self.vault_secret() {
            Ok(secret) => Ok(Some(secret)),
            Err(VaultPasswordError::Missing) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Opens the configuration repository these options name.
    pub fn repo(&self) -> miette::Result<ConfigRepo> {
        match ConfigRepo::open(&self.config_path, self.environment.as_deref()) {
            Err(error @ RepoError::NoConfig(_)) => Err(miette::miette!(
                help = "pass `--config-path DIR` (or set KAYOBE_CONFIG_PATH) naming the repository's etc/kayobe directory",
                "{error}"
            )),
            result => result.into_diagnostic(),
        }
    }
}
