//! `kayobe-automation runners plan|apply`: self-hosted runners through the
//! platform's API, and their host files rendered under `--out`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::runners::Step;
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::platform_client::{ConnectError, PlatformOptions, connect};

/// Runner subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print what `apply` would change: runners to delete and register,
    /// host files to write or remove.
    Plan(Options),
    /// Make the changes (a second apply changes nothing).
    Apply(Options),
}

/// Options of `plan` and `apply`.
#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    platform: PlatformOptions,
    /// Where the runner hosts' files are rendered, one directory per host.
    #[arg(long, default_value = "runner-hosts")]
    out: PathBuf,
}

/// What stops `runners`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunnersError {
    /// No platform client.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connect(#[from] ConnectError),
    /// Plan or apply failed.
    #[error(transparent)]
    Provision(#[from] kayobe_automation::runners::ProvisionError),
    /// Apply failed part way.
    #[error(transparent)]
    Apply(#[from] Box<kayobe_automation::runners::ApplyError>),
}

/// Runs a runners subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let (options, applying) = match command {
        Command::Plan(options) => (options, false),
        Command::Apply(options) => (options, true),
    };
    let kind = options.platform.platform.kind();
    let secret = global.optional_vault_secret()?;
    let repo = global.repo()?;
    let fleet = kayobe_automation::runners::load(&repo, secret.as_ref(), kind).into_diagnostic()?;
    for warning in &fleet.warnings {
        eprintln!("warning: {warning}");
    }
    crate::async_runtime::block_on(async {
        let platform = connect(
            Some(&fleet),
            options.platform.platform.kind(),
            &options.platform.endpoint,
        )?;
        let mut stdout = std::io::stdout().lock();
        if applying {
            let done = kayobe_automation::runners::apply(&fleet, platform.as_ref(), &options.out)
                .await
                .map_err(|error| RunnersError::from(Box::new(error)))?;
            print_steps(&mut stdout, &done, "applied", "nothing to change")?;
        } else {
            let plan = kayobe_automation::runners::plan(&fleet, platform.as_ref(), &options.out)
                .await
                .map_err(RunnersError::from)?;
            print_steps(&mut stdout, &plan.steps, "to do", "nothing to change")?;
        }
        Ok(ExitCode::SUCCESS)
    })?
}

fn print_steps(
    out: &mut impl Write,
    steps: &[Step],
    what: &str,
    nothing: &str,
) -> miette::Result<()> {
    if steps.is_empty() {
        writeln!(out, "{nothing}").into_diagnostic()?;
    } else {
        for step in steps {
            writeln!(out, "{step}").into_diagnostic()?;
        }
        writeln!(out, "{} step(s) {what}", steps.len()).into_diagnostic()?;
    }
    Ok(())
}
