//! The Kayobe container image and the operations run in it (SPEC.md section 11).
//!
//! Built so far: [`image`] builds the Kayobe image from the configuration
//! repository's Dockerfile with a fingerprint of everything it bakes in, and
//! says whether an image is fresh, missing or stale (and which input changed).
//! Running operations in the image and preflight checks are not built yet.

pub mod fingerprint;
pub mod image;

pub use fingerprint::Fingerprint;
pub use image::{BuildOptions, ImageError, ImageStatus, build_image, connect_docker, image_status};
