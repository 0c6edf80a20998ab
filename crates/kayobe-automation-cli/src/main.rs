//! `kayobe-automation`: the command line front end over the kayobe-automation
//! libraries. Each subcommand lives in its own module and only parses arguments,
//! calls the facade and prints; the work happens in the libraries.

mod advice;
mod async_runtime;
mod bao;
mod config_diff;
mod global;
mod image;
mod image_push;
mod interrupt;
mod inventory;
mod platform;
mod platform_client;
mod preflight;
mod progress;
mod review;
mod run;
mod runners;
mod secrets;
mod tempest;
mod vault;
mod workflows;

use std::io::IsTerminal;

/// mimalloc: the commands build and drop large trees of small values (an
/// inventory, a diff) across threads, where glibc's allocator spent a
/// quarter of `inventory list`'s time growing and trimming its arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::global::Global;

/// CI/CD for Kayobe-deployed OpenStack clouds.
#[derive(Debug, Parser)]
#[command(name = "kayobe-automation", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read the inventory as Ansible does.
    #[command(subcommand)]
    Inventory(inventory::Command),
    /// View, decrypt, encrypt, rekey and find ansible-vault files.
    #[command(subcommand)]
    Vault(vault::Command),
    /// Render GitHub workflows or a GitLab pipeline from the writer config.
    #[command(subcommand)]
    Workflows(workflows::Command),
    /// Bootstrap OpenBao as the pipelines' secret store.
    #[command(subcommand)]
    Bao(bao::Command),
    /// Plan and apply self-hosted CI runners and their host files.
    #[command(subcommand)]
    Runners(runners::Command),
    /// Set the platform's secrets and variables from the configuration.
    #[command(subcommand)]
    Secrets(secrets::Command),
    /// Run Tempest and report its subunit v2 results.
    #[command(subcommand)]
    Tempest(tempest::Command),
    /// Diff the configuration Ansible sees per host between two git
    /// revisions, secrets masked (exit 0: same, 1: different, 2: error).
    ConfigDiff(config_diff::Args),
    /// Build the Kayobe image and tell whether it is stale.
    #[command(subcommand)]
    Image(image::Command),
    /// Check and apply the CI platform's project settings and deployment
    /// environments.
    #[command(subcommand)]
    Platform(platform::Command),
    /// Check what a run needs: image, registry, vault password, secrets
    /// (exit 0: all well, 1: a check failed, one line each).
    Preflight(preflight::Args),
    /// Run an operation in the Kayobe container: the checkout at /src,
    /// secrets as files, output streamed with secrets masked, artefacts
    /// copied out. Exits with the operation's exit code (130 after Ctrl-C).
    Run(run::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KAYOBE_AUTOMATION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Wrapped lines help a reader at a terminal but break log searches.
    let wrap_lines = std::io::stderr().is_terminal();
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(wrap_lines)
                .build(),
        )
    }))
    .expect("the report hook is set once, first");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inventory(command) => inventory::run(&cli.global, command),
        Command::Vault(command) => vault::run(&cli.global, command),
        Command::Workflows(command) => workflows::run(&cli.global, command),
        Command::Bao(command) => bao::run(&cli.global, command),
        Command::Runners(command) => runners::run(&cli.global, command),
        Command::Secrets(command) => secrets::run(&cli.global, command),
        Command::Tempest(command) => tempest::run(&cli.global, command),
        Command::ConfigDiff(args) => config_diff::run(&cli.global, args),
        Command::Image(command) => image::run(&cli.global, command),
        Command::Platform(command) => platform::run(&cli.global, command),
        Command::Preflight(args) => preflight::run(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            if let Some(advice) = advice::for_report(&report) {
                eprintln!("  help: {advice}");
            }
            ExitCode::from(2)
        }
    }
}
