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

pub(crate) struct JunitWriter {
    out: OutputFile,
    cases: BufWriter<std::fs::File>,
    line: String,
}

impl JunitWriter {
    pub(crate) fn new(out: OutputFile) -> std::io::Result<Self> {
        Ok(JunitWriter {
            out,
            cases: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
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
        self.cases.write_all(out.as_bytes())
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
        let cases = self
            .cases
            .into_inner()
            .map_err(|error| error.into_error())?;
        super::join_spools(
            self.out,
            header.as_bytes(),
            vec![cases],
            b"</testsuite>\n</testsuites>\n",
        )
    }
}
