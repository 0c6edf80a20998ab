//! `kayobe-automation secrets sync`: set the platform's secrets and
//! variables from the (vaulted) configuration. Values are never printed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::config::locate::{VariableFiles, VariablePath};
use kayobe_automation::config::template::Templar;
use kayobe_automation::config::vault;
use kayobe_automation::config::{Location, Value, VariableReader};
use kayobe_automation::platform::{Scope, Secret, SyncItem, parse_sync_list};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::platform_client::{PlatformOptions, connect};

/// Secrets subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Set every secret and variable of a list from the configuration's
    /// values.
    ///
    /// The list has one item a line: `secret NAME VARIABLE` or
    /// `variable NAME VARIABLE`, where NAME is the platform's name and
    /// VARIABLE a configuration variable (extra vars, vaulted ones
    /// decrypted); `#` starts a comment.
    Sync {
        #[command(flatten)]
        platform: PlatformOptions,
        /// The list of secrets and variables.
        #[arg(long)]
        list: PathBuf,
        /// Set them in this deployment environment instead of the whole
        /// repository or project.
        #[arg(long)]
        scope_environment: Option<String>,
    },
}

/// A list line that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum ListError {
    /// The list could not be read.
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line is not `KIND NAME VARIABLE`.
    #[error("{location}: {problem}")]
    #[diagnostic(help("write each item as `secret NAME VARIABLE` or `variable NAME VARIABLE`"))]
    Line { location: Location, problem: String },
    /// The variable is not defined.
    #[error("{location}: variable `{variable}` is not defined")]
    #[diagnostic(help(
        "define it in the configuration's extra vars (a vaulted secrets.yml for secrets)"
    ))]
    Undefined {
        location: Location,
        variable: String,
    },
    /// An inline `!vault` value could not be decrypted, or is not text.
    #[error("{location}: variable `{variable}`: {problem}")]
    Vaulted {
        location: Location,
        variable: String,
        problem: String,
    },
}

/// Runs a secrets subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let Command::Sync {
        platform,
        list,
        scope_environment,
    } = command;
    let text = std::fs::read_to_string(&list).map_err(|source| ListError::Read {
        path: list.clone(),
        source,
    })?;
    let entries = parse_sync_list(&text).map_err(|error| ListError::Line {
        location: Location {
            path: list.clone(),
            line: error.line,
            column: error.column,
        },
        problem: error.problem,
    })?;
    let secret = global.vault_secret()?;
    let repo = global.repo()?;
    let mut vars = repo.extra_vars(Some(&secret)).into_diagnostic()?;
    if let Some(environment) = repo.environment() {
        vars.entry("kayobe_environment".into())
            .or_insert_with(|| Value::from(environment));
    }
    // Highest precedence first, so a wrong value is found where it wins.
    let mut files = repo.extra_vars_files().into_diagnostic()?;
    files.reverse();
    let reader = VariableReader::new(Templar::new(&vars), VariableFiles::new(files, ""));
    let mut items = Vec::new();
    for entry in entries {
        let location = Location {
            path: list.clone(),
            line: entry.line,
            column: entry.column,
        };
        let path = VariablePath::new(&entry.variable);
        let value = match reader.get(&path).into_diagnostic()? {
            None => {
                return Err(ListError::Undefined {
                    location,
                    variable: entry.variable,
                }
                .into());
            }
            Some(value @ Value::Vault(_)) => {
                let vaulted = |problem: String| ListError::Vaulted {
                    location: location.clone(),
                    variable: entry.variable.clone(),
                    problem,
                };
                // A decryption error points at where the value is written.
                let written = reader.place(&path).location().cloned();
                let decrypted =
                    vault::decrypt_value(&value, &secret, written.as_ref().unwrap_or(&location))
                        .map_err(|error| vaulted(error.to_string()))?;
                String::from_utf8(decrypted.plaintext)
                    .map_err(|_| vaulted("its decrypted value is not text".into()))?
            }
            Some(value) => reader.text(&path, &value).into_diagnostic()?,
        };
        items.push(SyncItem {
            kind: entry.kind,
            name: entry.name,
            value: Secret::new(value),
        });
    }
    let scope = scope_environment.map_or(Scope::Repository, Scope::Environment);
    let done = crate::async_runtime::block_on(async {
        let platform = connect(None, platform.platform.kind(), &platform.endpoint)?;
        kayobe_automation::platform::sync(platform.as_ref(), &scope, &items)
            .await
            .into_diagnostic()
    })??;
    let mut stdout = std::io::stdout().lock();
    for name in &done {
        writeln!(stdout, "set {name}").into_diagnostic()?;
    }
    Ok(ExitCode::SUCCESS)
}
