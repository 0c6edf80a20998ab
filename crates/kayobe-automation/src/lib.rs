//! kayobe-automation: CI/CD for Kayobe-deployed OpenStack clouds, as libraries.
//!
//! This facade re-exports the workspace's crates so an embedder needs one
//! dependency (`cargo add kayobe-automation`). It holds no logic of its own: each
//! module below is a crate with one job, documented there.

pub use bao_bootstrap as bao;
pub use ci_platform as platform;
pub use config_diff as diff;
pub use container_engine as engine;
pub use kayobe_config as config;
pub use kayobe_runtime as runtime;
pub use runner_provision as runners;
pub use tempest_runner as tempest;
pub use workflow_render as workflows;
