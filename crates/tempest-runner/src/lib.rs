//! Tempest runs and reports (SPEC.md section 9).
//!
//! Not built yet: this crate will run Tempest in the Kayobe container and turn
//! its subunit v2 stream into a summary, JUnit XML and an HTML report.
