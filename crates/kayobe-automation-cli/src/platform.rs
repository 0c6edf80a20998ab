//! `kayobe-automation platform settings check|apply`: the GitLab project
//! settings the setup guide asks for, through the platform's API.

use std::io::Write;
use std::process::ExitCode;

use kayobe_automation::platform::ProjectSetting;
use miette::IntoDiagnostic;

use crate::platform_client::{ConnectError, PlatformOptions, connect};

/// Platform subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The project settings the setup guide asks for (GitLab: no public
    /// pipelines, no auto-cancel of redundant pipelines, no "prevent
    /// outdated deployment jobs", job timeout 12 h, Auto DevOps off).
    #[command(subcommand)]
    Settings(SettingsCommand),
}

/// `platform settings` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Print each setting's current and wanted value; exit 1 when any
    /// differs.
    Check(PlatformOptions),
    /// Change the settings that differ, in one call, and print what changed.
    Apply(PlatformOptions),
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

/// Runs a platform subcommand.
pub fn run(command: Command) -> miette::Result<ExitCode> {
    let Command::Settings(command) = command;
    let (options, applying) = match command {
        SettingsCommand::Check(options) => (options, false),
        SettingsCommand::Apply(options) => (options, true),
    };
    let runtime = crate::async_runtime::runtime()?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(async {
        let platform = connect(None, options.platform.kind(), &options.endpoint)?;
        if applying {
            let changed = platform
                .apply_project_settings()
                .await
                .map_err(ConnectError::from)?;
            if changed.is_empty() {
                writeln!(stdout, "nothing to change").into_diagnostic()?;
            }
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
            Ok(ExitCode::SUCCESS)
        } else {
            let settings = platform
                .project_settings()
                .await
                .map_err(ConnectError::from)?;
            for setting in &settings {
                writeln!(stdout, "{}", check_line(setting)).into_diagnostic()?;
            }
            let differing = settings.iter().filter(|s| s.differs()).count();
            if differing == 0 {
                Ok(ExitCode::SUCCESS)
            } else {
                writeln!(
                    stdout,
                    "{differing} setting(s) differ; run `kayobe-automation platform settings apply`"
                )
                .into_diagnostic()?;
                Ok(ExitCode::from(1))
            }
        }
    })
}
