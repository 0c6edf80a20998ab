//! Building images.

use std::collections::{BTreeMap, HashMap};

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::archive::{FileEntry, tar_of};
use crate::engine::{EngineError, call_failed};

/// A build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The builder reported an error (a step failed, a file is missing…).
    #[error("building {tag} failed: {message}")]
    Failed {
        /// The image tag.
        tag: String,
        /// The builder's message.
        message: String,
    },
    /// The build context could not be put together.
    #[error("cannot put the build context of {tag} together: {source}")]
    Context {
        /// The image tag.
        tag: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The engine could not be asked.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A build with the classic builder from a context archive.
#[derive(Debug, Clone, Default)]
pub struct ContextBuild {
    /// The tag to give the image.
    pub tag: String,
    /// The build context, a tar archive.
    pub context: Vec<u8>,
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    /// Build arguments.
    pub build_args: BTreeMap<String, String>,
    /// Labels to add to the image.
    pub labels: BTreeMap<String, String>,
}

/// Builds the small image `tag` from in-memory files (one of them the
/// `Dockerfile`) with the classic builder, each log line to `on_line`.
pub async fn build_from_files(
    docker: &Docker,
    tag: &str,
    files: &[FileEntry],
    on_line: impl FnMut(&str),
) -> Result<(), BuildError> {
    let context = tar_of(files).map_err(|source| BuildError::Context {
        tag: tag.to_owned(),
        source,
    })?;
    let build = ContextBuild {
        tag: tag.to_owned(),
        context,
        dockerfile: "Dockerfile".to_owned(),
        ..ContextBuild::default()
    };
    build_context(docker, build, on_line).await
}

/// Builds `build` with the classic builder, each log line to `on_line`.
pub async fn build_context(
    docker: &Docker,
    build: ContextBuild,
    mut on_line: impl FnMut(&str),
) -> Result<(), BuildError> {
    let tag = build.tag.as_str();
    let build_args: HashMap<String, String> = build.build_args.clone().into_iter().collect();
    let labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    let options = BuildImageOptionsBuilder::new()
        .t(tag)
        .dockerfile(&build.dockerfile)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut progress = docker.build_image(
        options,
        None,
        Some(bollard::body_full(build.context.clone().into())),
    );
    let failed = |message: String| BuildError::Failed {
        tag: tag.to_owned(),
        message,
    };
    while let Some(info) = progress.next().await {
        let info = info.map_err(|source| match source {
            DockerError::DockerStreamError { error } => failed(error),
            source => call_failed(format!("build {tag}"))(source).into(),
        })?;
        if let Some(text) = info.stream.as_deref() {
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .for_each(&mut on_line);
        }
        if let Some(detail) = info.error_detail {
            return Err(failed(detail.message.unwrap_or_default()));
        }
    }
    Ok(())
}
