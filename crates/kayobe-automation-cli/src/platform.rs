//! `kayobe-automation platform settings check|apply`: the GitLab project
//! settings the setup guide asks for, and on both platforms the deployment
//! environments the rendered jobs that change the cloud are bound to, with
//! their protection, through the platform's API.

use std::io::Write;
use std::num::NonZeroU32;
use std::process::ExitCode;

use kayobe_automation::platform::{
    EnvironmentProtection, EnvironmentState, Platform, PlatformError, Principal, ProjectSetting,
};
use kayobe_automation::workflows::{self, WriterConfig};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::platform_client::{ConnectError, PlatformArg, PlatformOptions, connect};

/// Platform subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The project settings the setup guide asks for (GitLab: no public
    /// pipelines, no auto-cancel of redundant pipelines, no "prevent
    /// outdated deployment jobs", job timeout 12 h, Auto DevOps off; GitHub
    /// has none), and one deployment environment per Kayobe environment of
    /// the writer config (`kayobe` without environments), protected: GitHub
    /// required reviewers, only protected branches deploy; GitLab a
    /// production-tier protected environment with deployers and approval
    /// rules (GitLab Premium).
    #[command(subcommand)]
    Settings(SettingsCommand),
}

/// `platform settings` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Print each setting's current and wanted value and each environment's
    /// state; exit 1 when any differs.
    Check(SettingsArgs),
    /// Change the settings that differ, in one call, create or update the
    /// environments that differ, and print what changed.
    Apply(SettingsArgs),
}

/// What `platform settings` checks or applies, and where.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    #[command(flatten)]
    platform: PlatformOptions,
    /// Who approves a deploy to each environment, repeatable: `user:LOGIN`
    /// or `team:SLUG` (a team of the repository's organisation) on GitHub,
    /// where one of them approves and never the one who started the
    /// deploy; `user:NAME`, `group:PATH` or `role:developer|maintainer` on
    /// GitLab. None: the environments' reviewers are left as they are.
    #[arg(long = "reviewer", value_name = "KIND:NAME")]
    reviewers: Vec<Principal>,
    /// GitLab: the approvals each `group:` or `role:` reviewer must give (a
    /// `user:` reviewer gives one).
    #[arg(long, value_name = "N", default_value = "1")]
    approvals: NonZeroU32,
    /// GitLab: who may run the deploy jobs, repeatable: `user:NAME`,
    /// `group:PATH` or `role:developer|maintainer` (default: maintainers).
    #[arg(long = "deployer", value_name = "KIND:NAME")]
    deployers: Vec<Principal>,
}

/// A JSON value as a person reads it: strings without quotes.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "(not reported)".to_owned(),
        other => other.to_string(),
    }
}

fn check_line(setting: &ProjectSetting) -> String {
    let verdict = if setting.differs() { "differs" } else { "ok" };
    format!(
        "{}: current {}, wanted {} ({verdict})",
        setting.name,
        shown(&setting.current),
        shown(&setting.wanted)
    )
}

/// How an environment differs, as one phrase.
fn differences(state: &EnvironmentState) -> String {
    state
        .differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn environment_line(state: &EnvironmentState) -> String {
    if state.differs() {
        format!(
            "environment {}: {} (differs)",
            state.name,
            differences(state)
        )
    } else {
        format!("environment {}: ok", state.name)
    }
}

/// The project settings, or none on a platform that has none (GitHub).
async fn project_settings(platform: &dyn Platform) -> Result<Vec<ProjectSetting>, ConnectError> {
    match platform.project_settings().await {
        Err(PlatformError::Unsupported { .. }) => Ok(Vec::new()),
        other => other.map_err(ConnectError::from),
    }
}

/// [`project_settings`] for apply.
async fn apply_project_settings(
    platform: &dyn Platform,
) -> Result<Vec<ProjectSetting>, ConnectError> {
    match platform.apply_project_settings().await {
        Err(PlatformError::Unsupported { .. }) => Ok(Vec::new()),
        other => other.map_err(ConnectError::from),
    }
}

/// The protection wanted for each deployment environment of the writer
/// config.
fn wanted_environments(
    global: &Global,
    args: &SettingsArgs,
) -> miette::Result<Vec<EnvironmentProtection>> {
    let platform = match args.platform.platform {
        PlatformArg::Github => workflows::Platform::Github,
        PlatformArg::Gitlab => workflows::Platform::Gitlab,
    };
    let repo = global.repo()?;
    let secret = global.optional_vault_secret()?;
    let config = WriterConfig::from_repo(&repo, platform, secret.as_ref()).into_diagnostic()?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(config
        .deployment_environments()
        .into_iter()
        .map(|name| EnvironmentProtection {
            name,
            reviewers: args.reviewers.clone(),
            approvals: args.approvals,
            deployers: args.deployers.clone(),
        })
        .collect())
}

/// Warns about each environment whose deploys nobody reviews.
fn warn_unreviewed(states: &[EnvironmentState]) {
    for state in states.iter().filter(|state| !state.reviewed) {
        eprintln!(
            "warning: environment {}: nobody reviews its deploys; pass `--reviewer` to require an approval",
            state.name
        );
    }
}

/// Runs a platform subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let Command::Settings(command) = command;
    let (args, applying) = match command {
        SettingsCommand::Check(args) => (args, false),
        SettingsCommand::Apply(args) => (args, true),
    };
    let wanted = wanted_environments(global, &args)?;
    let runtime = crate::async_runtime::runtime()?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(async {
        let options = &args.platform;
        let platform = connect(None, options.platform.kind(), &options.endpoint)?;
        if applying {
            let changed = apply_project_settings(platform.as_ref()).await?;
            for setting in &changed {
                writeln!(
                    stdout,
                    "set {}: {} -> {}",
                    setting.name,
                    shown(&setting.current),
                    shown(&setting.wanted)
                )
                .into_diagnostic()?;
            }
            let environments = platform
                .apply_deployment_environments(&wanted)
                .await
                .map_err(ConnectError::from)?;
            for state in &environments {
                writeln!(
                    stdout,
                    "set environment {}: {} -> as wanted",
                    state.name,
                    differences(state)
                )
                .into_diagnostic()?;
            }
            if changed.is_empty() && environments.is_empty() {
                writeln!(stdout, "nothing to change").into_diagnostic()?;
            }
            warn_unreviewed(&environments);
            Ok(ExitCode::SUCCESS)
        } else {
            let settings = project_settings(platform.as_ref()).await?;
            for setting in &settings {
                writeln!(stdout, "{}", check_line(setting)).into_diagnostic()?;
            }
            let environments = platform
                .deployment_environments(&wanted)
                .await
                .map_err(ConnectError::from)?;
            for state in &environments {
                writeln!(stdout, "{}", environment_line(state)).into_diagnostic()?;
            }
            warn_unreviewed(&environments);
            let counts = [
                (
                    settings.iter().filter(|s| s.differs()).count(),
                    "setting(s)",
                ),
                (
                    environments.iter().filter(|s| s.differs()).count(),
                    "environment(s)",
                ),
            ];
            let differing: Vec<String> = counts
                .iter()
                .filter(|(count, _)| *count > 0)
                .map(|(count, what)| format!("{count} {what}"))
                .collect();
            if differing.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                writeln!(
                    stdout,
                    "{} differ; run `kayobe-automation platform settings apply`",
                    differing.join(" and ")
                )
                .into_diagnostic()?;
                Ok(ExitCode::from(1))
            }
        }
    })
}
