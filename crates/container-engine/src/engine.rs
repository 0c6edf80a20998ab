//! Reaching the engine, and what went wrong talking to it.

pub use bollard::Docker;
use bollard::errors::Error as DockerError;

/// A call to the Docker engine failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine could not be reached.
    #[error(
        "cannot connect to the Docker engine: {source}; check that Docker runs and DOCKER_HOST (or /var/run/docker.sock) points at it"
    )]
    Connect {
        /// bollard's error.
        #[source]
        source: DockerError,
    },
    /// The engine refused or failed a call.
    #[error("cannot {action}: {source}")]
    Call {
        /// What was being done, e.g. `create the Kayobe container`.
        action: String,
        /// bollard's error.
        #[source]
        source: DockerError,
    },
}

impl EngineError {
    /// Whether the engine answered 404 (no such image, container or path).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::Call {
                source: DockerError::DockerResponseServerError {
                    status_code: 404,
                    ..
                },
                ..
            }
        )
    }
}

/// Wraps bollard's error as the failure of `action`.
pub(crate) fn call_failed(action: impl Into<String>) -> impl FnOnce(DockerError) -> EngineError {
    let action = action.into();
    move |source| EngineError::Call { action, source }
}

/// Connects to the local Docker engine (`DOCKER_HOST`, else the default
/// socket) at the API version both sides speak.
pub async fn connect() -> Result<Docker, EngineError> {
    let error = |source| EngineError::Connect { source };
    Docker::connect_with_local_defaults()
        .map_err(error)?
        .negotiate_version()
        .await
        .map_err(error)
}

/// An image the engine has: its id, labels and user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image id (`sha256:…`).
    pub id: String,
    /// Its labels.
    pub labels: std::collections::HashMap<String, String>,
    /// Its `USER` (empty: root).
    pub user: String,
}

/// The image `reference` names, or `None` when the engine has none.
pub async fn inspect_image(
    docker: &Docker,
    reference: &str,
) -> Result<Option<ImageInfo>, EngineError> {
    match docker.inspect_image(reference).await {
        Ok(image) => {
            let config = image.config.unwrap_or_default();
            Ok(Some(ImageInfo {
                id: image.id.unwrap_or_default(),
                labels: config.labels.unwrap_or_default(),
                user: config.user.unwrap_or_default(),
            }))
        }
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(source) => Err(call_failed(format!("inspect the image {reference}"))(
            source,
        )),
    }
}

/// Gives the image `image` (a reference or an id) the tag `tag` as well
/// (`repository:tag`, `latest` when it names none), moving the tag if another
/// image had it.
pub async fn tag_image(docker: &Docker, image: &str, tag: &str) -> Result<(), EngineError> {
    let (repo, version) = crate::registry::split_tag(tag);
    let options = bollard::query_parameters::TagImageOptionsBuilder::new()
        .repo(repo)
        .tag(version)
        .build();
    docker
        .tag_image(image, Some(options))
        .await
        .map_err(call_failed(format!("tag {image} as {tag}")))
}

/// Removes the image `reference` (its layers no other image uses) unless a
/// container or another tag still uses it; whether it went.
pub async fn remove_image_if_unused(docker: &Docker, reference: &str) -> bool {
    docker
        .remove_image(
            reference,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .is_ok()
}
