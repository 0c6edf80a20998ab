//! `kayobe-automation config-diff`: the configuration Ansible sees per host,
//! compared between two git revisions, secrets masked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kayobe_automation::diff::{diff_revisions_with_progress, render};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::progress::FileProgress;

/// How to print the diff.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Format {
    /// Unified text: per host, `-` lines for the base and `+` for the target.
    #[default]
    Text,
    /// JSON: per host, the added, removed and changed keys.
    Json,
}

/// The `config-diff` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision to compare from (e.g. the merge request's target branch).
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision to compare to (e.g. the merge request's head).
    #[arg(long, value_name = "REV")]
    target: String,
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Write the diff to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `config-diff`: exit 0 when the revisions' configuration is the same,
/// 1 when it differs (errors exit 2 in `main`).
pub fn run(global: &Global, args: Args) -> miette::Result<ExitCode> {
    let secret = global.optional_vault_secret()?;
    let diff = diff_revisions_with_progress(
        &global.config_path,
        global.environment.as_deref(),
        &args.base,
        &args.target,
        secret.as_ref(),
        &FileProgress::new("config-diff"),
    )
    .into_diagnostic()?;
    for warning in &diff.warnings {
        eprintln!("warning: {warning}");
    }
    let output = match args.format {
        Format::Text => render::text(&diff),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&render::json(&diff)).into_diagnostic()?;
            json.push('\n');
            json
        }
    };
    match &args.out {
        Some(path) => write_atomically(path, output.as_bytes())?,
        None => std::io::stdout()
            .lock()
            .write_all(output.as_bytes())
            .into_diagnostic()?,
    }
    Ok(if diff.has_changes() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes `path` through a temporary file beside it and a rename, so a reader
/// never sees half a diff.
fn write_atomically(path: &Path, contents: &[u8]) -> miette::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let temporary = path.with_file_name(name);
    std::fs::write(&temporary, contents)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| miette::miette!("could not write {}: {error}", path.display()))
}
