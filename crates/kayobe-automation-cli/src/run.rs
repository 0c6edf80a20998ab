//! `kayobe-automation run <operation>`: run an operation in the Kayobe
//! container, through `kayobe_runtime::run`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::config::vault::VaultSecret;
use kayobe_stdx::{SecretSourceError, read_secret};

use crate::interrupt::{INTERRUPTED, on_interrupt};
use kayobe_automation::runtime::run::{Limits, RunError, RunOptions, RunSecrets};
use kayobe_automation::runtime::{
    ImageError, Invocation, OperationError, connect_docker, run_operation,
};

use crate::global::{Global, VaultPasswordError};

/// What to run, and how.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The operation: any script of the checkout's `.automation/pipeline/`
    /// (e.g. `overcloud-service-deploy`, `config-diff REVISION`,
    /// `playbook-run PLAYBOOK [ARGS…]`, `kolla-ansible-run COMMAND…`,
    /// `script-run SCRIPT [ARGS…]`, `runbook-overcloud-upgrade`).
    operation: String,
    /// The operation's arguments (after `--` when one starts with `-`):
    /// extra Kayobe arguments for most operations.
    args: Vec<String>,
    /// Kayobe's `--limit`.
    #[arg(long, env = "KAYOBE_LIMIT")]
    limit: Option<String>,
    /// Kayobe's `--tags`.
    #[arg(long, env = "KAYOBE_TAGS")]
    tags: Option<String>,
    /// Kayobe's `--kolla-limit` (operations that run kolla-ansible).
    #[arg(long, env = "KOLLA_LIMIT")]
    kolla_limit: Option<String>,
    /// Kayobe's `--kolla-tags` (operations that run kolla-ansible).
    #[arg(long, env = "KOLLA_TAGS")]
    kolla_tags: Option<String>,
    /// The Kayobe image.
    #[arg(long, env = "KAYOBE_IMAGE", default_value = "kayobe:latest")]
    image: String,
    /// The SSH private key Kayobe logs in with (else the content of
    /// `$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY`, as the workflows pass it).
    #[arg(long, value_name = "FILE")]
    ssh_key: Option<PathBuf>,
    /// Where the run's artefacts are copied.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "kayobe-automation-artifacts"
    )]
    artifacts: PathBuf,
    /// A label for the container (`KEY=VALUE`), e.g. to find a runner's
    /// runs; repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!(
            "`{text}` is not KEY=VALUE; write e.g. `--label runner=ci-01`"
        )),
    }
}

/// A `run` command failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum RunCommandError {
    /// The operation or its arguments are wrong.
    #[error(transparent)]
    #[diagnostic(help("`kayobe-automation run --help` lists the options"))]
    Operation(#[from] OperationError),
    /// No usable vault password.
    #[error(transparent)]
    #[diagnostic(transparent)]
    VaultPassword(#[from] VaultPasswordError),
    /// The SSH key file could not be read, or is empty.
    #[error("SSH private key: {0}")]
    #[diagnostic(help(
        "check the path given to `--ssh-key`, or unset it and pass the key's content in KAYOBE_AUTOMATION_SSH_PRIVATE_KEY"
    ))]
    SshKey(#[from] SecretSourceError),
    /// The engine could not be reached.
    #[error(transparent)]
    #[diagnostic(help("is the Docker engine running, and may this user use its socket?"))]
    Connect(#[from] ImageError),
    /// The run failed.
    #[error(transparent)]
    #[diagnostic(help("the container's output above says what it did"))]
    Run(#[from] RunError),
    /// The async runtime or the Ctrl-C handler could not start.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] crate::async_runtime::RuntimeError),
}

/// Runs `run`: exits with the operation's exit code, 130 after Ctrl-C.
pub fn run(global: &Global, args: Args) -> miette::Result<ExitCode> {
    let repo = global.repo()?;
    let operation =
        Invocation::new(repo.root(), &args.operation, args.args).map_err(RunCommandError::from)?;
    let ssh_private_key = read_secret(args.ssh_key.as_deref(), "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY")
        .map_err(RunCommandError::from)?;
    let secrets = RunSecrets {
        vault_password: global
            .optional_vault_secret()
            .map_err(RunCommandError::from)?
            .map(VaultSecret::into_secret),
        ssh_private_key,
    };
    let mut options = RunOptions::new(&args.image, repo.root(), operation, &args.artifacts);
    options.environment = repo.environment().map(str::to_owned);
    options.limits = Limits {
        kayobe_limit: args.limit,
        kayobe_tags: args.tags,
        kolla_limit: args.kolla_limit,
        kolla_tags: args.kolla_tags,
    };
    options.labels = args.labels.into_iter().collect::<BTreeMap<_, _>>();
    options.ssh_private_key_name = std::env::var("KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME")
        .ok()
        .filter(|name| !name.is_empty());
    let result = crate::async_runtime::block_on(async {
        // Installed before the container exists, so a Ctrl-C at any point
        // is seen and the container cleaned up.
        let cancel = on_interrupt()?;
        let docker = connect_docker().await?;
        // The container's output goes to standard error, line by line, so
        // standard output holds only the result.
        Ok::<_, RunCommandError>(
            run_operation(
                &docker,
                &options,
                &secrets,
                |line| eprintln!("{line}"),
                cancel,
            )
            .await,
        )
    })??;
    match result {
        Ok(outcome) => {
            eprintln!(
                "{} exited {} after {:.1}s; {} artefact file(s) in {}",
                options.operation,
                outcome.exit_code,
                outcome.duration.as_secs_f64(),
                outcome.artifact_files,
                options.artifacts.display()
            );
            Ok(ExitCode::from(u8::try_from(outcome.exit_code).unwrap_or(1)))
        }
        Err(RunError::Cancelled { operation }) => {
            eprintln!("{operation} cancelled; its container was stopped and removed");
            Ok(ExitCode::from(INTERRUPTED))
        }
        Err(error) => Err(RunCommandError::from(error).into()),
    }
}
