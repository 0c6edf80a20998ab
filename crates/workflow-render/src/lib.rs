//! Render CI definitions for a Kayobe config repository (SPEC.md section 5).
//!
//! Not built yet: this crate will turn a writer config read by `kayobe-config`
//! into GitHub Actions workflows or a GitLab CI pipeline, written atomically, and
//! report the secrets and variables the output references.
