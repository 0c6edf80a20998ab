//! Building images.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::grpc::build::{ImageBuildFrontendOptions, ImageBuildLoadInput};
use bollard::grpc::driver::Build;
use bollard::grpc::driver::moby::Moby;
use bollard::moby::buildkit::v1::CacheOptionsEntry;
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
    let ContextBuild {
        tag,
        context,
        dockerfile,
        build_args,
        labels,
    } = build;
    let tag = tag.as_str();
    let build_args: HashMap<String, String> = build_args.into_iter().collect();
    let labels: HashMap<String, String> = labels.into_iter().collect();
    let options = BuildImageOptionsBuilder::new()
        .t(tag)
        .dockerfile(&dockerfile)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut progress = docker.build_image(
        options,
        None,
        // Moved, not copied: a context may hold a binary of a hundred MiB.
        Some(bollard::body_full(context.into())),
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

/// A build with BuildKit of a directory, as `docker buildx build` of it
/// would: `.dockerignore` honoured, build arguments, labels, several tags,
/// cache from earlier images, and the caller's SSH agent forwarded for
/// `RUN --mount=type=ssh` when `SSH_AUTH_SOCK` names one.
#[derive(Debug, Clone, Default)]
pub struct BuildKitBuild {
    /// The build context's root.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context (`/` separators).
    pub dockerfile: String,
    /// The tags; the first names the build, the others are added after.
    pub tags: Vec<String>,
    /// Build arguments.
    pub build_args: BTreeMap<String, String>,
    /// Labels to add to the image.
    pub labels: BTreeMap<String, String>,
    /// Images whose layers may be reused (e.g. the previous build, pushed
    /// with its inline cache).
    pub cache_from: Vec<String>,
}

/// Builds `build` with the engine's BuildKit (through its session and
/// control API, so `RUN --mount=type=ssh|bind|tmpfs` work). BuildKit runs the
/// build in the engine and reports only the outcome: `on_line` hears when it
/// starts and ends.
pub async fn build_with_buildkit(
    docker: &Docker,
    build: &BuildKitBuild,
    mut on_line: impl FnMut(&str),
) -> Result<(), BuildError> {
    let Some(name) = build.tags.first() else {
        return Ok(());
    };
    let context_error = |source| BuildError::Context {
        tag: name.clone(),
        source,
    };
    let context = crate::context::context_archive(&build.context, &build.dockerfile)
        .map_err(context_error)?;
    let forward_ssh = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|sock| !sock.is_empty());
    let mut options = ImageBuildFrontendOptions::builder()
        .dockerfile(Path::new(&build.dockerfile))
        .enable_ssh(forward_ssh);
    for (key, value) in &build.build_args {
        options = options.buildarg(key, value);
    }
    for (key, value) in &build.labels {
        options = options.label(key, value);
    }
    for image in &build.cache_from {
        options = options.cachefrom(&CacheOptionsEntry {
            r#type: "registry".to_owned(),
            attrs: HashMap::from([("ref".to_owned(), image.clone())]),
        });
    }
    on_line(&format!(
        "building {name} with BuildKit ({} KiB of context{})",
        context.len() / 1024,
        if forward_ssh {
            ", SSH agent forwarded"
        } else {
            ""
        }
    ));
    Moby::new(docker)
        .docker_build(
            name,
            options.build(),
            ImageBuildLoadInput::Upload(bytes::Bytes::from(context)),
            None,
            None,
        )
        .await
        .map_err(|error| BuildError::Failed {
            tag: name.clone(),
            message: error.to_string(),
        })?;
    for tag in &build.tags[1..] {
        crate::engine::tag_image(docker, name, tag).await?;
    }
    on_line(&format!("built {}", build.tags.join(", ")));
    Ok(())
}
