//! OpenBao as the runners' secret store (SPEC.md section 7).
//!
//! Not built yet: this crate will deploy OpenBao in Docker, initialise and unseal
//! it (keys file written first, mode 0600), mount the `kayobe-automation/` KV
//! engine, write one secret per environment, the read policy and GitLab JWT auth —
//! idempotently, so an interrupted run can simply be run again.
