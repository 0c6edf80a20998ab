//! Tempest runs and reports.
//!
//! - [`subunit`] reads (and writes) subunit v2 packets in constant memory.
//! - [`results`] folds a stream's events into one [`TestResult`] per test
//!   run, as testtools (and so `subunit2junitxml`) does.
//! - [`report`] turns results into a summary, JUnit XML and a self-contained
//!   HTML report in one pass over the stream.
//! - [`settings`] checks the Tempest settings of `.automation.conf`: load
//!   list, skip list (regexes), accounts and overrides files.
//! - [`image`] says which rally image a run uses, when to pull it and the
//!   login for its registry.
//! - [`run`] runs Tempest in docker-rally's image, in the contract of its
//!   `rally-verify-wrapper.sh`, and reports on the results.
//! - [`rally`] turns rally's JSON verification report into a subunit stream.

pub mod image;
pub mod rally;
pub mod report;
pub mod results;
pub mod run;
pub mod settings;
pub mod subunit;

pub use report::{
    ReportError, ReportOutcome, ReportPaths, Summary, report_stream, report_stream_from,
};
pub use results::{Outcome, ResultReader, TestResult};
pub use settings::{SettingsError, TempestPlan};
