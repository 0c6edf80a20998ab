//! Self-hosted runners for a Kayobe config repository (SPEC.md section 6).
//!
//! Not built yet: this crate will read the GitHub and GitLab runner definitions
//! from the config, plan and apply registrations through `ci-platform`, and write
//! the runner host files (directory layout, systemd units, `config.toml`, the
//! registry auth file).
