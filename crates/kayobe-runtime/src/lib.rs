//! The Kayobe container image and the operations run in it (SPEC.md section 11).
//!
//! Built so far: [`image`] builds the Kayobe image from the configuration
//! repository's Dockerfile with a fingerprint of everything it bakes in, and
//! says whether an image is fresh, missing or stale (and which input changed);
//! [`push`] pushes it to its registry with credentials; [`preflight`] checks
//! image, registry, vault and secrets before a run.

pub mod fingerprint;
pub mod image;
pub mod preflight;
pub mod push;

pub use fingerprint::Fingerprint;
pub use image::{BuildOptions, ImageError, ImageStatus, build_image, connect_docker, image_status};
pub use preflight::{PreflightOptions, Problem, preflight};
pub use push::{CredentialsError, PushError, PushProgress, RegistryCredentials, push_image};
