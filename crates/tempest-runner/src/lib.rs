//! Tempest runs and reports.
//!
//! - Reading a Tempest result stream: [`subunit`] reads (and writes)
//!   subunit v2 packets in constant memory, and [`ResultReader`] folds a
//!   stream's events into one [`TestResult`] per test run, as testtools (and
//!   so `subunit2junitxml`) does.
//! - Reporting: [`report_stream`] turns results into a [`Summary`], JUnit XML
//!   and a self-contained HTML report in one pass over the stream;
//!   [`summary_markdown`] writes the summary for a pull or merge request.
//! - Settings: [`TempestPlan`] checks the Tempest settings of
//!   `.automation.conf` (load list, skip list, accounts and overrides files);
//!   [`RallyImage`] says which rally image a run uses, when to pull it and
//!   the login for its registry.
//! - Running: [`run_tempest`] runs Tempest in docker-rally's image, in the
//!   contract of its `rally-verify-wrapper.sh`; [`rally_report_to_subunit`]
//!   turns rally's JSON verification report into a subunit stream.

mod image;
mod rally;
mod report;
mod results;
mod run;
mod settings;
pub mod subunit;

pub use image::{EnsureError, ImageSettingsError, Pull, RallyImage, RegistryLogin};
pub use rally::{RallyReportError, rally_report_to_subunit};
pub use report::{
    Counts, FailureDetail, MAX_LISTED_FAILURES, ReportError, ReportOutcome, ReportPaths, SLOWEST,
    Summary, report_stream, report_stream_from, summary_markdown,
};
pub use results::{Attachment, MAX_ATTACHMENT_BYTES, Outcome, ResultReader, TestResult};
pub use run::{
    FAILED_TESTS, Openrc, RALLY_JSON_REPORT, STREAM_FILE, TempestError, TempestOptions,
    TempestOutcome, failed_tests, run_tempest,
};
pub use settings::{LoadList, SettingsError, SkipEntry, SkipList, TempestPlan};
