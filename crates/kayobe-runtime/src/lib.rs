//! The Kayobe container image and the operations run in it.
//!
//! Built so far: [`image`] builds the Kayobe image from the configuration
//! repository's Dockerfile with a fingerprint of everything it bakes in, and
//! says whether an image is fresh, missing or stale (and which input changed);
//! [`push`] pushes it to its registry with credentials; [`preflight`] checks
//! image, registry, vault and secrets before a run. [`run`] runs an
//! operation of `kayobe_config::operation`'s catalogue in the image: the checkout mounted, secrets as files on a
//! tmpfs, output streamed with secrets masked, artefacts collected
//! from a host staging directory mounted in.

pub mod fingerprint;
pub mod image;
pub mod preflight;
pub mod run;

pub use container_engine::Secret;
pub use container_engine::{
    CredentialsError, PushError, PushProgress, RegistryCredentials, push_image, registry_of,
};
pub use fingerprint::Fingerprint;
pub use image::{BuildOptions, ImageError, ImageStatus, build_image, connect_docker, image_status};
pub use kayobe_config::operation::{Invocation, OperationError};
pub use preflight::{PreflightOptions, Problem, preflight};
pub use run::{Limits, RunError, RunOptions, RunOutcome, RunSecrets, run_operation};
