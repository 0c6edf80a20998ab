//! `kayobe-automation tempest …`: reports of Tempest's subunit v2 results,
//! through `tempest_runner`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::tempest::subunit::SubunitError;
use kayobe_automation::tempest::{ReportError, ReportPaths, report_stream};

/// The `tempest` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise a subunit v2 stream (counts, failures with tracebacks, the
    /// 20 slowest tests) and write JUnit XML and HTML reports. Exits 0 when
    /// every test passed, 1 when some failed, 2 when the stream is damaged
    /// (after reporting what was read).
    Report {
        /// The subunit v2 stream (`-` for standard input).
        stream: PathBuf,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

/// A `tempest` command failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum TempestCommandError {
    /// The stream could not be opened.
    #[error("cannot open the subunit stream {}: {source}", path.display())]
    #[diagnostic(help(
        "pass the path of a subunit v2 stream (e.g. from `stestr last --subunit`), or `-` to read standard input"
    ))]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The stream is damaged; the reports cover what was read before.
    #[error("the subunit stream {} is damaged at {error}", path.display())]
    #[diagnostic(help(
        "the summary and reports above hold every result read before this point; collect the stream again (e.g. `stestr last --subunit`) for the rest"
    ))]
    Stream { path: PathBuf, error: SubunitError },
    /// A report could not be written.
    #[error(transparent)]
    #[diagnostic(help("check that the report's directory is writable and the disk is not full"))]
    Report(#[from] ReportError),
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    #[diagnostic(help("check where standard output goes (a closed pipe or a full disk)"))]
    Stdout(#[source] std::io::Error),
}

/// Runs a `tempest` subcommand.
pub fn run(command: Command) -> miette::Result<ExitCode> {
    match command {
        Command::Report {
            stream,
            junit,
            html,
        } => Ok(report(stream, ReportPaths { junit, html })?),
    }
}

fn report(stream: PathBuf, paths: ReportPaths) -> Result<ExitCode, TempestCommandError> {
    let outcome = if stream.as_os_str() == "-" {
        report_stream(std::io::stdin().lock(), &paths)?
    } else {
        let file = std::fs::File::open(&stream).map_err(|source| TempestCommandError::Open {
            path: stream.clone(),
            source,
        })?;
        report_stream(file, &paths)?
    };
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", outcome.summary)
        .and_then(|()| stdout.flush())
        .map_err(TempestCommandError::Stdout)?;
    if outcome.text_bytes > 0 {
        // Tests' own prints land between packets; a stream with no packets
        // at all is not subunit v2.
        eprintln!(
            "note: {} bytes between packets were not subunit v2 (test output, or a damaged or v1 stream) and were skipped",
            outcome.text_bytes
        );
    }
    if let Some(error) = outcome.stream_error {
        return Err(TempestCommandError::Stream {
            path: stream,
            error,
        });
    }
    Ok(if outcome.summary.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
