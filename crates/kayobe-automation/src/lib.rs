//! kayobe-automation: CI/CD for Kayobe-deployed OpenStack clouds, as libraries.
//!
//! This facade re-exports the workspace's crates so an embedder needs one
//! dependency (`cargo add kayobe-automation`). It holds no logic of its own: each
//! module below is a crate with one job, documented there, behind a cargo
//! feature of the same name (all on by default). `default-features = false,
//! features = ["config"]` reads configuration without pulling in Docker, git or
//! HTTP clients.
//!
//! The types most embedders start from are re-exported here: [`ConfigRepo`]
//! (a configuration checkout, one environment's view of it), [`VaultSecret`]
//! and [`Value`]. `examples/` shows three uses: read an inventory, render
//! workflows, diff two revisions.

#[cfg(feature = "bao")]
pub use bao_bootstrap as bao;
#[cfg(feature = "platform")]
pub use ci_platform as platform;
#[cfg(feature = "diff")]
pub use config_diff as diff;
#[cfg(feature = "engine")]
pub use container_engine as engine;
#[cfg(feature = "config")]
pub use kayobe_config as config;
#[cfg(feature = "runtime")]
pub use kayobe_runtime as runtime;
#[cfg(feature = "runners")]
pub use runner_provision as runners;
#[cfg(feature = "tempest")]
pub use tempest_runner as tempest;
#[cfg(feature = "workflows")]
pub use workflow_render as workflows;

#[cfg(feature = "config")]
pub use kayobe_config::{Map, Value, repo::ConfigRepo, vault::VaultSecret};
