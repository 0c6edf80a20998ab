//! Which platform to call, where and as whom: the arguments `runners`,
//! `secrets sync`, `platform settings`, `config-diff --publish` and
//! `preflight` share, and the client made from them (tokens only from the
//! environment, never the command line).

use std::time::Duration;

use kayobe_automation::platform::{GitHub, GitLab, Platform, PlatformKind, RetryPolicy, Secret};
use kayobe_automation::runners::{Fleet, HostRunners};
use kayobe_stdx::secret_from_env;

/// A CI platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlatformArg {
    /// GitHub (Actions).
    Github,
    /// GitLab (CI).
    Gitlab,
}

impl PlatformArg {
    /// The platform kind of the libraries.
    pub fn kind(self) -> PlatformKind {
        match self {
            Self::Github => PlatformKind::GitHub,
            Self::Gitlab => PlatformKind::GitLab,
        }
    }
}

/// A platform to call: which, and where.
#[derive(Debug, clap::Args)]
pub struct PlatformOptions {
    /// The platform.
    #[arg(long, value_enum)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Where a platform's API is and which repository or project to call it
/// for, the platform being chosen by the command.
#[derive(Debug, clap::Args)]
pub struct Endpoint {
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

/// What stops a platform client being made.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConnectError {
    /// No token to call the platform with.
    #[error("no {platform} token was given")]
    #[diagnostic(help(
        "set {variable} to a token with the permissions this command needs (runners on GitHub: or define `access_token` for the runner hosts); tokens are never taken from the command line"
    ))]
    NoToken {
        platform: &'static str,
        variable: &'static str,
    },
    /// The token is not text.
    #[error("{variable} is not UTF-8 text")]
    #[diagnostic(help("set {variable} to the token itself, as the platform gave it"))]
    TokenNotText { variable: &'static str },
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
    /// A platform client could not be made.
    #[error(transparent)]
    Platform(#[from] kayobe_automation::platform::PlatformError),
}

/// The token in `variable` (read as [`secret_from_env`] reads it), which
/// must be text: the platforms take nothing else.
fn token_from_env(variable: &'static str) -> Result<Option<Secret>, ConnectError> {
    let token = secret_from_env(variable);
    if token
        .as_ref()
        .is_some_and(|token| token.expose_str().is_err())
    {
        return Err(ConnectError::TokenNotText { variable });
    }
    Ok(token)
}

/// The platform client from flags and environment, with defaults from the
/// runner definitions when there are some.
pub fn connect(
    fleet: Option<&Fleet>,
    kind: PlatformKind,
    options: &Endpoint,
) -> Result<Box<dyn Platform>, ConnectError> {
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
            let token = token_from_env("GITHUB_TOKEN")?
                .or_else(|| first.and_then(|g| g.access_token.clone()))
                .ok_or(ConnectError::NoToken {
                    platform: "GitHub",
                    variable: "GITHUB_TOKEN",
                })?;
            let (owner, name) = match &options.repo {
                Some(repo) => repo
                    .split_once('/')
                    .map(|(o, n)| (o.to_owned(), n.to_owned()))
                    .ok_or(ConnectError::NoRepo)?,
                None => first
                    .map(|g| (g.account.clone(), g.repo.clone()))
                    .ok_or(ConnectError::NoRepo)?,
            };
            let api = options
                .api_url
                .clone()
                .unwrap_or_else(|| "https://api.github.com".to_owned());
            Ok(Box::new(GitHub::new(&api, &token, &owner, &name, policy)?))
        }
        PlatformKind::GitLab => {
            let token = token_from_env("GITLAB_TOKEN")?.ok_or(ConnectError::NoToken {
                platform: "GitLab",
                variable: "GITLAB_TOKEN",
            })?;
            let project = options.project.clone().ok_or(ConnectError::NoProject)?;
            let api = options
                .api_url
                .clone()
                .or_else(|| {
                    hosts.iter().find_map(|h| match &h.runners {
                        HostRunners::GitLab(gitlab) => Some(gitlab.coordinator_url.clone()),
                        HostRunners::GitHub(_) => None,
                    })
                })
                .ok_or(ConnectError::NoApiUrl)?;
            Ok(Box::new(GitLab::new(&api, &token, &project, policy)?))
        }
    }
}
