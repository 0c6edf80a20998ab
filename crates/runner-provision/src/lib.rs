//! Self-hosted runners for a Kayobe config repository.
//!
//! [`load`] reads the runner definitions of every host in `github-runners`
//! or `gitlab-runners`, with the host's variables layered as Kayobe layers
//! them and their Jinja evaluated (`omit` honoured). [`plan`] compares them
//! with the platform (through [`ci_platform::Platform`]) and with the host
//! files already rendered; [`apply`] makes the changes in a fixed order —
//! deletions, registrations, then files — and on failure says which steps
//! were done. A second apply finds nothing to do.
//!
//! Host files ([`files`]): for GitHub, per runner `<base_runner_dir>/<key>/`
//! with a `registration.env` (mode 0600) and a systemd unit
//! `actions.runner.<account>-<repo>.<host>-<key>.service` that registers
//! the runner on first start; for GitLab, `/etc/gitlab-runner/config.toml`;
//! for both, the registry auth file `/opt/.docker/config.json` (0600).
//!
//! A runner host that is also in a kolla-managed group gets a warning in
//! [`Fleet::warnings`].

mod definitions;
pub mod files;
mod plan;

pub use definitions::{
    DefinitionError, Fleet, GitHubHost, GitHubRunner, GitLabHost, GitLabRunner, HostRunners,
    RegistryAuth, RunnerHost, load, load_from,
};
pub use plan::{ApplyError, Plan, ProvisionError, Step, apply, host_path, plan};
