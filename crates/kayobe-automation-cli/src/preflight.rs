//! `kayobe-automation preflight`: everything a run needs, checked at once;
//! one line per problem, saying what to do.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::runtime::{PreflightOptions, preflight};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::image::ImageArgs;
use crate::image_push::{PASSWORD_VARIABLE, RegistryArgs};

/// What a run will use.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// The registry to reach (URL or `HOST[:PORT]`; default: the registry
    /// the image's tag names).
    #[arg(long, env = "REGISTRY_URL")]
    registry: Option<String>,
    #[command(flatten)]
    credentials: RegistryArgs,
    /// The SSH private key file the operations use.
    #[arg(long, env = "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE")]
    ssh_key_file: Option<PathBuf>,
}

/// Runs every check; exits 1 when any fails.
pub fn run(global: &Global, args: Args) -> miette::Result<ExitCode> {
    let repo = global.repo()?;
    let vault = global.optional_vault_secret()?;
    let options = PreflightOptions {
        image: args.image.build_options(repo.root()).into_diagnostic()?,
        registry: args.registry,
        registry_username: args.credentials.registry_username,
        registry_password_file: args.credentials.registry_password_file,
        registry_password_variable: PASSWORD_VARIABLE,
        ssh_key: args.ssh_key_file,
    };
    let problems = crate::async_runtime::block_on(preflight(&repo, vault.as_ref(), &options))?;
    let mut stdout = std::io::stdout().lock();
    let mut print = |line: String| writeln!(stdout, "{line}").into_diagnostic();
    for problem in &problems {
        print(format!("FAIL {problem}"))?;
    }
    if problems.is_empty() {
        print("preflight passed".to_owned())?;
        Ok(ExitCode::SUCCESS)
    } else {
        print(format!("{} check(s) failed", problems.len()))?;
        Ok(ExitCode::from(1))
    }
}
