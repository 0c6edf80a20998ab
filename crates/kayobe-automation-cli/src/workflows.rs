//! `kayobe-automation workflows render`: GitHub workflows or a GitLab
//! pipeline from the writer config, through `workflow_render`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::workflows::{
    Mode, Platform, ReferenceKind, Templates, WriterConfig, render, write,
};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::platform_client::PlatformArg;

/// The `workflows` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Render the CI files from the writer config (`github-writer` /
    /// `gitlab-writer` group_vars) and write the ones that changed.
    Render {
        /// The platform: GitHub Actions workflows (default output
        /// `.github/workflows`) or a GitLab CI pipeline (`.gitlab-ci.yml`).
        #[arg(long, value_enum)]
        platform: PlatformArg,
        /// Write into this directory instead of the writer config's output
        /// directory (relative to the repository root).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 when the files on disk differ from what would
        /// be rendered, or files of disabled operations are left, or the
        /// writer config has a warning (an unknown or unhonoured variable).
        #[arg(long, conflicts_with_all = ["prune", "list_secrets"])]
        check: bool,
        /// Also remove the files of disabled operations.
        #[arg(long)]
        prune: bool,
        /// Print the secrets and variables the rendered files reference, and
        /// write nothing.
        #[arg(long)]
        list_secrets: bool,
        /// A directory of templates replacing the embedded ones by name
        /// (`github/workflow.yml.j2`, `github/build-kayobe-docker-image.yml.j2`,
        /// `gitlab/gitlab-ci.yml.j2`).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

/// Runs a `workflows` subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let Command::Render {
        platform,
        out,
        check,
        prune,
        list_secrets,
        templates,
    } = command;
    let platform = match platform {
        PlatformArg::Github => Platform::Github,
        PlatformArg::Gitlab => Platform::Gitlab,
    };
    let repo = global.repo()?;
    let secret = global.optional_vault_secret()?;
    let mut config = WriterConfig::from_repo(&repo, platform, secret.as_ref()).into_diagnostic()?;
    for warning in config.warnings.iter().chain(&config.notices) {
        eprintln!("warning: {warning}");
    }
    if check && !config.warnings.is_empty() {
        return Err(miette::miette!(
            help = "fix or remove the variables named above: `--check` treats writer-config warnings as errors",
            "the writer config has {} warning(s)",
            config.warnings.len()
        ));
    }
    let root = match out {
        Some(dir) => {
            config.output_dir = dir;
            std::env::current_dir().into_diagnostic()?
        }
        None => repo.root().to_path_buf(),
    };
    let templates = match templates {
        Some(dir) => Templates::with_overrides(&dir),
        None => Templates::embedded(),
    };
    let rendered = render(&config, &templates).into_diagnostic()?;
    let mut stdout = std::io::stdout().lock();
    if list_secrets {
        for reference in &rendered.references {
            let kind = match reference.kind {
                ReferenceKind::Secret => "secret",
                ReferenceKind::Variable => "variable",
                ReferenceKind::OpenBaoKey => "openbao",
            };
            let environment = reference.environment.as_deref().unwrap_or("-");
            let value = match &reference.value {
                Some(value) => format!("\t{value}"),
                None => String::new(),
            };
            writeln!(stdout, "{kind}\t{}\t{environment}{value}", reference.name)
                .into_diagnostic()?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mode = match (check, prune) {
        (true, _) => Mode::Check,
        (false, true) => Mode::WriteAndPrune,
        (false, false) => Mode::Write,
    };
    let report = write(&rendered, &root, mode).into_diagnostic()?;
    let (changed, stale) = match mode {
        Mode::Check => (
            "out of date",
            "stale (its operation is disabled; --prune removes it)",
        ),
        Mode::Write => (
            "wrote",
            "stale (its operation is disabled; --prune removes it)",
        ),
        Mode::WriteAndPrune => ("wrote", "removed (its operation is disabled)"),
    };
    for path in &report.written {
        writeln!(stdout, "{changed}: {}", path.display()).into_diagnostic()?;
    }
    for path in &report.stale {
        writeln!(stdout, "{stale}: {}", path.display()).into_diagnostic()?;
    }
    if mode == Mode::Check && !report.is_up_to_date() {
        writeln!(
            stdout,
            "the CI files differ from the writer config: run `kayobe-automation workflows render --platform {}` and commit the result",
            platform.prefix()
        )
        .into_diagnostic()?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
