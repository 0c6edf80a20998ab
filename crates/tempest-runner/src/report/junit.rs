//! JUnit XML, written as results arrive.
//!
//! Test cases follow python-junitxml (`subunit2junitxml`): the id splits
//! into classname and name at the last dot before any `(`; a failure is a
//! `<failure>` with the traceback, an unexpected success a `<failure
//! type="unittest.case._UnexpectedSuccess">`, a skip a `<skipped>` with the
//! reason, an expected failure passes. A test that did not complete is an
//! `<error>` (python-junitxml calls it a failure).

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

use kayobe_stdx::OutputFile;

use super::summary::Summary;
use super::text::{push_xml, split_id};
use crate::results::{Outcome, TestResult};

/// Where the test cases go as they come.
enum Cases {
    /// Straight into the output, after a header of [`HEADER_BYTES`] spaces
    /// that `finish` overwrites with the counts: one write of the report.
    Direct(BufWriter<OutputFile>),
    /// Into a spool joined after the header at the end, for an output with
    /// no going back (standard output, a FIFO).
    Spooled {
        out: OutputFile,
        spool: BufWriter<std::fs::File>,
    },
}

/// The room the header takes in a direct report: its two start tags with
/// every count at `u64::MAX` fit, and the rest is spaces inside the tags.
const HEADER_BYTES: usize = 512;

pub(crate) struct JunitWriter {
    cases: Cases,
    line: String,
}

impl JunitWriter {
    pub(crate) fn new(mut out: OutputFile) -> std::io::Result<Self> {
        let cases = if out.seekable().is_some() {
            let mut direct = BufWriter::with_capacity(256 * 1024, out);
            direct.write_all(&[b' '; HEADER_BYTES])?;
            Cases::Direct(direct)
        } else {
            Cases::Spooled {
                out,
                spool: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
            }
        };
        Ok(JunitWriter {
            cases,
            line: String::new(),
        })
    }

    pub(crate) fn add(&mut self, result: &TestResult) -> std::io::Result<()> {
        let out = &mut self.line;
        out.clear();
        let (classname, name) = split_id(&result.id);
        out.push_str("<testcase classname=\"");
        push_xml(out, classname, true);
        out.push_str("\" name=\"");
        push_xml(out, name, true);
        // Integer arithmetic: float formatting was a fifth of the JUnit cost.
        let millis = (result.duration().unwrap_or_default().as_nanos() + 500_000) / 1_000_000;
        let _ = write!(out, "\" time=\"{}.{:03}\"", millis / 1000, millis % 1000);
        let element = match result.outcome {
            Outcome::Success | Outcome::ExpectedFailure => None,
            Outcome::Failure => Some(("failure", "testtools.testresult.real._StringException")),
            Outcome::UnexpectedSuccess => Some(("failure", "unittest.case._UnexpectedSuccess")),
            Outcome::Incomplete => Some(("error", "incomplete")),
            Outcome::Skip => Some(("skipped", "")),
        };
        match element {
            None => out.push_str("/>\n"),
            Some((tag, kind)) => {
                let _ = write!(out, ">\n<{tag}");
                if !kind.is_empty() {
                    let _ = write!(out, " type=\"{kind}\"");
                }
                out.push('>');
                push_xml(out, &result.details(), false);
                let _ = write!(out, "</{tag}>\n</testcase>\n");
            }
        }
        match &mut self.cases {
            Cases::Direct(writer) => writer.write_all(out.as_bytes()),
            Cases::Spooled { spool, .. } => spool.write_all(out.as_bytes()),
        }
    }

    pub(crate) fn finish(self, summary: &Summary) -> std::io::Result<()> {
        let counts = &summary.counts;
        let failures = counts.failure + counts.unexpected_success;
        let header = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">\n<testsuite name=\"tempest\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time:.3}\">\n",
            tests = counts.total(),
            errors = counts.incomplete,
            skipped = counts.skip,
            time = summary.total_time.as_secs_f64(),
        );
        const FOOTER: &[u8] = b"</testsuite>\n</testsuites>\n";
        match self.cases {
            Cases::Direct(mut writer) => {
                use std::io::{Seek, SeekFrom};
                writer.write_all(FOOTER)?;
                let mut out = writer.into_inner().map_err(|error| error.into_error())?;
                let file = out.seekable().ok_or_else(|| {
                    std::io::Error::other("the report's file cannot be written again")
                })?;
                let end = file.stream_position()?;
                file.seek(SeekFrom::Start(0))?;
                file.write_all(&padded_header(&header))?;
                file.seek(SeekFrom::Start(end))?;
                out.commit().map_err(std::io::Error::other)
            }
            Cases::Spooled { out, spool } => {
                let spool = spool.into_inner().map_err(|error| error.into_error())?;
                super::join_spools(out, header.as_bytes(), vec![spool], FOOTER)
            }
        }
    }
}

/// `header` grown to [`HEADER_BYTES`] with spaces before the `>` of its two
/// start tags, where XML allows white space.
fn padded_header(header: &str) -> Vec<u8> {
    let room = HEADER_BYTES - header.len();
    let mut padded = String::with_capacity(HEADER_BYTES);
    let mut tags = header.splitn(3, ">\n");
    let (Some(declaration), Some(testsuites), Some(testsuite)) =
        (tags.next(), tags.next(), tags.next())
    else {
        unreachable!("the header is a declaration and two start tags")
    };
    padded.push_str(declaration);
    padded.push_str(">\n");
    padded.push_str(testsuites);
    padded.push_str(&" ".repeat(room / 2));
    padded.push_str(">\n");
    padded.push_str(testsuite.trim_end_matches(">\n"));
    padded.push_str(&" ".repeat(room - room / 2));
    padded.push_str(">\n");
    padded.into_bytes()
}
