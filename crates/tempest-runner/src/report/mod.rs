//! One pass over a subunit v2 stream → a summary, JUnit XML and HTML.
//!
//! Memory stays constant whatever the stream's size: results are written
//! to spool files as they complete (JUnit and HTML need counts in their
//! headers and failures first, so the spools are joined at the end), and the
//! summary keeps only counts, the 20 slowest tests and the first
//! [`summary::MAX_LISTED_FAILURES`] failures. Output files are written
//! atomically (a temporary file beside them, then a rename), not synced:
//! they can be made again from the stream. A JUnit report into a regular
//! file is written once, its header filled in at the end.

mod html;
mod junit;
mod markdown;
mod summary;
mod text;

use std::io::Read;
use std::path::{Path, PathBuf};

use kayobe_stdx::{OutputFile, OutputOptions};

pub use markdown::summary_markdown;
pub use summary::{Counts, FailureDetail, MAX_LISTED_FAILURES, SLOWEST, Summary};

use crate::results::ResultReader;
use crate::subunit::SubunitError;

/// Where to write the reports (none: summary only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportPaths {
    /// JUnit XML file.
    pub junit: Option<PathBuf>,
    /// Self-contained HTML file.
    pub html: Option<PathBuf>,
}

/// What reading a stream gave.
#[derive(Debug)]
pub struct ReportOutcome {
    /// Counts, slowest tests and failures of the results read.
    pub summary: Summary,
    /// Why the stream could not be read to its end, if it could not; the
    /// summary and reports hold every result read before it.
    pub stream_error: Option<SubunitError>,
    /// Bytes skipped as text between packets: a test's own prints (with
    /// `python -m subunit.run`), a damaged packet signature, or a stream
    /// that is not subunit v2 at all.
    pub text_bytes: u64,
}

/// Writing a report failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct ReportError {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// What was being done, e.g. `write the JUnit report`.
    pub action: &'static str,
    /// The underlying failure.
    #[source]
    pub source: std::io::Error,
}

/// Reads the stream from `source` once, writing the reports `paths` asks for,
/// and returns the summary. A corrupt or truncated stream is not an error
/// here: the reports cover what was read and [`ReportOutcome::stream_error`]
/// says where reading stopped.
pub fn report_stream(source: impl Read, paths: &ReportPaths) -> Result<ReportOutcome, ReportError> {
    report_stream_from(source, None, paths)
}

/// [`report_stream`] of the stream read from the file `input`, which no
/// report may overwrite (refused before anything is read).
pub fn report_stream_from(
    source: impl Read,
    input: Option<&Path>,
    paths: &ReportPaths,
) -> Result<ReportOutcome, ReportError> {
    let open = |path: &Path, action| {
        // Made again from the stream at will: not worth a sync to disk.
        let options = OutputOptions::public()
            .creating_parents()
            .regenerable()
            .refusing_inputs(input);
        OutputFile::create(path, &options).map_err(|error| ReportError {
            path: path.to_path_buf(),
            action,
            source: std::io::Error::other(error),
        })
    };
    let mut junit = paths
        .junit
        .as_deref()
        .map(|path| {
            let out = open(path, "write the JUnit report")?;
            junit::JunitWriter::new(out).map_err(spool_error(path))
        })
        .transpose()?;
    let mut html = paths
        .html
        .as_deref()
        .map(|path| {
            let out = open(path, "write the HTML report")?;
            html::HtmlWriter::new(out).map_err(spool_error(path))
        })
        .transpose()?;
    let mut summary = Summary::default();
    let mut stream_error = None;
    let mut results = ResultReader::new(source);
    for item in results.by_ref() {
        let result = match item {
            Ok(result) => result,
            Err(error) => {
                stream_error = Some(error);
                continue;
            }
        };
        summary.add(&result);
        if let (Some(writer), Some(path)) = (&mut junit, &paths.junit) {
            writer.add(&result).map_err(spool_error(path))?;
        }
        if let (Some(writer), Some(path)) = (&mut html, &paths.html) {
            writer.add(&result).map_err(spool_error(path))?;
        }
    }
    if let (Some(writer), Some(path)) = (junit, &paths.junit) {
        writer.finish(&summary).map_err(|source| ReportError {
            path: path.clone(),
            action: "write the JUnit report",
            source,
        })?;
    }
    if let (Some(writer), Some(path)) = (html, &paths.html) {
        writer
            .finish(&summary, stream_error.as_ref())
            .map_err(|source| ReportError {
                path: path.clone(),
                action: "write the HTML report",
                source,
            })?;
    }
    Ok(ReportOutcome {
        summary,
        stream_error,
        text_bytes: results.text_bytes(),
    })
}

fn spool_error(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError {
        path: path.to_path_buf(),
        action: "spool results for",
        source,
    }
}

/// Writes `header`, then each spool, then `footer` to `out`, and commits it.
fn join_spools(
    mut out: OutputFile,
    header: &[u8],
    spools: Vec<std::fs::File>,
    footer: &[u8],
) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    {
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, &mut out);
        writer.write_all(header)?;
        for mut spool in spools {
            spool.seek(std::io::SeekFrom::Start(0))?;
            std::io::copy(&mut spool, &mut writer)?;
        }
        writer.write_all(footer)?;
        writer.flush()?;
    }
    out.commit().map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests;
