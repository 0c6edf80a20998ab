//! The `Platform` trait and its GitHub and GitLab backends (SPEC.md section 4).
//!
//! Not built yet: this crate will own every call kayobe-automation makes to a CI
//! platform's API — runner registration credentials, listing and deleting runners,
//! secrets (GitHub sealed boxes, GitLab masked variables), plain variables,
//! triggering workflows/pipelines and reading a run's status — with retries that
//! honour `Retry-After` and tokens kept out of every log and error.
