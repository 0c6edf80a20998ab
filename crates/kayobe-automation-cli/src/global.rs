//! Options every subcommand shares (SPEC.md section 10).

use std::path::PathBuf;

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
