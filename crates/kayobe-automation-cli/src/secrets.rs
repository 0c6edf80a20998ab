//! `kayobe-automation secrets sync`: set the platform's secrets and
//! variables from the (vaulted) configuration. Values are never printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kayobe_automation::config::template::Templar;
use kayobe_automation::config::{Location, Value};
use kayobe_automation::platform::{ItemKind, Scope, Secret, SyncItem};
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
    /// The variable has no usable value.
    #[error("{location}: variable `{variable}` {problem}")]
    #[diagnostic(help(
        "define it in the configuration's extra vars (a vaulted secrets.yml for secrets), as a string"
    ))]
    Value {
        location: Location,
        variable: String,
        problem: String,
    },
}

/// One parsed list line.
struct Entry {
    kind: ItemKind,
    name: String,
    variable: String,
    location: Location,
}

fn parse_list(path: &Path, text: &str) -> Result<Vec<Entry>, ListError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let column = content.len() - content.trim_start().len() + 1;
        let location = Location {
            path: path.to_owned(),
            line: index + 1,
            column,
        };
        let words: Vec<&str> = content.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let [kind, name, variable] = words[..] else {
            return Err(ListError::Line {
                location,
                problem: format!("expected 3 words, found {}", words.len()),
            });
        };
        let kind = match kind {
            "secret" => ItemKind::Secret,
            "variable" => ItemKind::Variable,
            other => {
                return Err(ListError::Line {
                    location,
                    problem: format!("`{other}` is neither `secret` nor `variable`"),
                });
            }
        };
        entries.push(Entry {
            kind,
            name: name.to_owned(),
            variable: variable.to_owned(),
            location,
        });
    }
    Ok(entries)
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
    let entries = parse_list(&list, &text)?;
    let secret = global.vault_secret()?;
    let repo = global.repo()?;
    let mut vars = repo.extra_vars(Some(&secret)).into_diagnostic()?;
    if let Some(environment) = repo.environment() {
        vars.entry("kayobe_environment".into())
            .or_insert_with(|| Value::from(environment));
    }
    let templar = Templar::new(&vars);
    let mut items = Vec::new();
    for entry in entries {
        let problem = |problem: String| ListError::Value {
            location: entry.location.clone(),
            variable: entry.variable.clone(),
            problem,
        };
        if !templar.contains(&entry.variable) {
            return Err(problem("is not defined".into()).into());
        }
        let value = match templar.variable(&entry.variable) {
            Ok(Some(Value::String(text))) | Ok(Some(Value::Unsafe(text))) => text,
            Ok(Some(Value::Int(number))) => number.to_string(),
            Ok(Some(Value::Bool(flag))) => flag.to_string(),
            Ok(_) => return Err(problem("is not a string".into()).into()),
            Err(error) => return Err(problem(format!("cannot be evaluated: {error}")).into()),
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
