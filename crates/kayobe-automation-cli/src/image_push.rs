//! `kayobe-automation image push`: push the Kayobe image to its registry.
//! The password comes from `REGISTRY_PASSWORD` or a file, never the command
//! line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::runtime::{
    CredentialsError, ImageError, PushError, RegistryCredentials, connect_docker, push_image,
};

/// The environment variable holding the registry password (as in the
/// rendered workflows).
pub const PASSWORD_VARIABLE: &str = "REGISTRY_PASSWORD";

/// Which image to push, as whom.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The image's tag, including its registry (`HOST[:PORT]/NAME:TAG`).
    #[arg(long, env = "KAYOBE_IMAGE", default_value = "kayobe:latest")]
    pub tag: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The registry user; the password is read from a file or `REGISTRY_PASSWORD`.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// The registry user (none: push without logging in).
    #[arg(long, env = "REGISTRY_USERNAME")]
    pub registry_username: Option<String>,
    /// A file holding the registry password (else `$REGISTRY_PASSWORD`).
    #[arg(long, env = "REGISTRY_PASSWORD_FILE")]
    pub registry_password_file: Option<PathBuf>,
}

impl RegistryArgs {
    /// The credentials when a user is given.
    pub fn credentials(&self) -> Result<Option<RegistryCredentials>, CredentialsError> {
        self.registry_username
            .as_deref()
            .map(|user| {
                RegistryCredentials::load(
                    user,
                    self.registry_password_file.as_deref(),
                    PASSWORD_VARIABLE,
                )
            })
            .transpose()
    }
}

/// `image push` failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum PushCommandError {
    /// No usable password.
    #[error(transparent)]
    #[diagnostic(help(
        "set REGISTRY_PASSWORD, or pass `--registry-password-file FILE` (or set REGISTRY_PASSWORD_FILE); passwords are never taken from the command line"
    ))]
    Credentials(#[from] CredentialsError),
    /// The push failed.
    #[error(transparent)]
    Push(#[from] PushError),
    /// The engine could not be reached.
    #[error(transparent)]
    Engine(#[from] ImageError),
    /// The async runtime could not start.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] crate::async_runtime::RuntimeError),
}

/// Pushes the image, progress to standard error, the digest to standard output.
pub fn run(args: &PushArgs) -> miette::Result<ExitCode> {
    let credentials = args
        .registry
        .credentials()
        .map_err(PushCommandError::from)?;
    let digest = crate::async_runtime::block_on(async {
        let docker = connect_docker().await?;
        // Byte counts change many times a second: print a status when it
        // changes, not every count.
        let mut last = String::new();
        let digest = push_image(&docker, &args.tag, credentials.as_ref(), |progress| {
            if progress.status != last {
                eprintln!("{}", progress.status);
                last.clone_from(&progress.status);
            }
        })
        .await?;
        Ok::<_, PushCommandError>(digest)
    })??;
    let mut stdout = std::io::stdout().lock();
    let line = match digest {
        Some(digest) => format!("pushed {} ({digest})", args.tag),
        None => format!("pushed {}", args.tag),
    };
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|error| miette::miette!("cannot write to standard output: {error}"))?;
    Ok(ExitCode::SUCCESS)
}
