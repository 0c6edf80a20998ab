//! `kayobe-automation runners plan|apply`: self-hosted runners through the
//! platform's API, and their host files rendered under `--out`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kayobe_automation::platform::{GitHub, GitLab, Platform, PlatformKind, RetryPolicy, Secret};
use kayobe_automation::runners::{Fleet, HostRunners, Step};
use miette::IntoDiagnostic;

use crate::global::Global;

/// Runner subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print what `apply` would change: runners to delete and register,
    /// host files to write or remove.
    Plan(Options),
    /// Make the changes (a second apply changes nothing).
    Apply(Options),
}

/// The platform the runners serve.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlatformArg {
    /// GitHub Actions runners (`github-runners` group).
    Github,
    /// GitLab runners (`gitlab-runners` group).
    Gitlab,
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

/// Which platform to call and how: shared with `secrets sync`.
#[derive(Debug, clap::Args)]
pub struct PlatformOptions {
    /// The platform.
    #[arg(long, value_enum)]
    pub platform: PlatformArg,
    /// The platform's API URL (default: https://api.github.com, or the
    /// runners' `gitlab_runner_coordinator_url`).
    #[arg(long, env = "KAYOBE_AUTOMATION_API_URL")]
    pub api_url: Option<String>,
    /// GitHub `OWNER/NAME` (default: the runners' `github_account`/`github_repo`).
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: Option<String>,
    /// GitLab project path or id (required for GitLab).
    #[arg(long, env = "CI_PROJECT_PATH")]
    pub project: Option<String>,
    /// Seconds one API request may take.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

impl PlatformOptions {
    /// The platform kind chosen.
    pub fn kind(&self) -> PlatformKind {
        match self.platform {
            PlatformArg::Github => PlatformKind::GitHub,
            PlatformArg::Gitlab => PlatformKind::GitLab,
        }
    }
}

/// What stops `runners` before any platform call.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunnersError {
    /// No token to call the platform with.
    #[error("no {platform} token was given")]
    #[diagnostic(help(
        "set {variable} to a token allowed to manage the runners (GitHub: or define `access_token` for the runner hosts); tokens are never taken from the command line"
    ))]
    NoToken {
        platform: &'static str,
        variable: &'static str,
    },
    /// No GitLab project.
    #[error("no GitLab project was given")]
    #[diagnostic(help("pass `--project GROUP/NAME` or set CI_PROJECT_PATH"))]
    NoProject,
    /// No GitHub repository.
    #[error("no GitHub repository was given and no runner host defines one")]
    #[diagnostic(help(
        "pass `--repo OWNER/NAME`, set GITHUB_REPOSITORY, or define `github_account` and `github_repo` for the github-runners hosts"
    ))]
    NoRepo,
    /// No API URL.
    #[error("no GitLab URL was given and no runner host defines one")]
    #[diagnostic(help(
        "pass `--api-url https://gitlab.example.com` or define `gitlab_runner_coordinator_url`"
    ))]
    NoApiUrl,
    /// Plan or apply failed.
    #[error(transparent)]
    Provision(#[from] kayobe_automation::runners::ProvisionError),
    /// Apply failed part way.
    #[error(transparent)]
    Apply(#[from] Box<kayobe_automation::runners::ApplyError>),
    /// A platform client could not be made.
    #[error(transparent)]
    Platform(#[from] kayobe_automation::platform::PlatformError),
}

/// Runs a runners subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let (options, applying) = match command {
        Command::Plan(options) => (options, false),
        Command::Apply(options) => (options, true),
    };
    let kind = options.platform.kind();
    let secret = global.optional_vault_secret()?;
    let repo = global.repo()?;
    let fleet = kayobe_automation::runners::load(&repo, secret.as_ref(), kind).into_diagnostic()?;
    for warning in &fleet.warnings {
        eprintln!("warning: {warning}");
    }
    crate::async_runtime::block_on(async {
        let platform = connect(Some(&fleet), &options.platform)?;
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

fn token_from_env(variable: &str) -> Option<Secret> {
    std::env::var(variable)
        .ok()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

/// The platform client from flags and environment, with defaults from the
/// runner definitions when there are some.
pub fn connect(
    fleet: Option<&Fleet>,
    options: &PlatformOptions,
) -> Result<Box<dyn Platform>, RunnersError> {
    let kind = options.kind();
    let hosts = fleet.map(|f| f.hosts.as_slice()).unwrap_or_default();
    let policy = RetryPolicy {
        timeout: Duration::from_secs(options.timeout.max(1)),
        ..RetryPolicy::default()
    };
    match kind {
        PlatformKind::GitHub => {
            let first = hosts.iter().find_map(|h| match &h.runners {
                HostRunners::GitHub(github) => Some(github),
                HostRunners::GitLab(_) => None,
            });
            let token = token_from_env("GITHUB_TOKEN")
                .or_else(|| first.and_then(|g| g.access_token.clone()))
                .ok_or(RunnersError::NoToken {
                    platform: "GitHub",
                    variable: "GITHUB_TOKEN",
                })?;
            let (owner, name) = match &options.repo {
                Some(repo) => repo
                    .split_once('/')
                    .map(|(o, n)| (o.to_owned(), n.to_owned()))
                    .ok_or(RunnersError::NoRepo)?,
                None => first
                    .map(|g| (g.account.clone(), g.repo.clone()))
                    .ok_or(RunnersError::NoRepo)?,
            };
            let api = options
                .api_url
                .clone()
                .unwrap_or_else(|| "https://api.github.com".to_owned());
            Ok(Box::new(GitHub::new(&api, &token, &owner, &name, policy)?))
        }
        PlatformKind::GitLab => {
            let token = token_from_env("GITLAB_TOKEN").ok_or(RunnersError::NoToken {
                platform: "GitLab",
                variable: "GITLAB_TOKEN",
            })?;
            let project = options.project.clone().ok_or(RunnersError::NoProject)?;
            let api = options
                .api_url
                .clone()
                .or_else(|| {
                    hosts.iter().find_map(|h| match &h.runners {
                        HostRunners::GitLab(gitlab) => Some(gitlab.coordinator_url.clone()),
                        HostRunners::GitHub(_) => None,
                    })
                })
                .ok_or(RunnersError::NoApiUrl)?;
            Ok(Box::new(GitLab::new(&api, &token, &project, policy)?))
        }
    }
}
