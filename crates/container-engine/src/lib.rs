//! The one place kayobe-automation talks to the Docker engine.
//!
//! The feature crates (`kayobe-runtime`, `tempest-runner`, `config-diff`,
//! `bao-bootstrap`) each keep only their own contract with their image —
//! which command, which variables, which files — and go through this crate
//! for everything else:
//!
//! - [`engine`]: connecting ([`connect`]), inspecting, tagging and removing
//!   images, typed errors.
//! - [`run`]: one command in a new container ([`run_container`]): secrets
//!   only on a tmpfs, sent over the attach stream; output streamed and
//!   masked; files copied in and out; structured bind mounts; cancellation;
//!   the container always removed.
//! - [`mask`]: the one streaming masker of secret values.
//! - [`archive`]: tar archives in, and safe extraction out ([`extract`]: no
//!   path leaves the target, no link leads out of it).
//! - [`build`]: image builds: small ones from in-memory files, and with
//!   BuildKit from a directory ([`context`]: `.dockerignore` honoured).
//! - [`registry`]: pull and push with registry credentials.
//! - [`service`]: long-running service containers (create, start, remove).

pub mod archive;
pub mod build;
pub mod context;
pub mod engine;
pub mod mask;
pub mod registry;
pub mod run;
pub mod service;

pub use archive::{ExtractError, FileEntry, extract, tar_of};
pub use build::{
    BuildError, BuildKitBuild, ContextBuild, build_context, build_from_files, build_with_buildkit,
};
pub use context::{DockerIgnore, context_archive};
pub use engine::{
    Docker, EngineError, ImageInfo, connect, inspect_image, remove_image_if_unused, tag_image,
};
pub use mask::{MASK, Masker};
pub use registry::{
    CredentialsError, PullError, PushError, PushProgress, RegistryCredentials, check_registry,
    pull_image, push_image, registry_of,
};
pub use run::{
    BindMount, Collect, ContainerOutcome, ContainerSpec, OutputDir, RunError, SECRETS_DIR,
    SecretFile, copy_out, remove_container, run_container,
};
// Secret files carry it, so callers name it here.
pub use kayobe_stdx::Secret;
pub use service::{
    ServiceSpec, create_service, remove_service, remove_volume, service_state, start_service,
};
