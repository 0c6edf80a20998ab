//! Long-running service containers (OpenBao): created once under a name,
//! started with the engine, kept across runs.

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HostConfig, Mount, MountType, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, UploadToContainerOptionsBuilder};

use crate::archive::{FileEntry, tar_of};
use crate::engine::{EngineError, call_failed};
use crate::run::remove_container;

/// A service container.
#[derive(Debug, Clone, Default)]
pub struct ServiceSpec {
    /// The container's name.
    pub name: String,
    /// The image.
    pub image: String,
    /// The command (after the image's entrypoint).
    pub command: Vec<String>,
    /// Whether it uses the host's network.
    pub host_network: bool,
    /// Named volumes: `(volume, path in the container)`.
    pub volumes: Vec<(String, String)>,
    /// Files copied in before the first start.
    pub files: Vec<FileEntry>,
}

/// Whether the container `name` exists, and if so whether it runs.
pub async fn service_state(docker: &Docker, name: &str) -> Result<Option<bool>, EngineError> {
    match docker.inspect_container(name, None).await {
        Ok(found) => Ok(Some(
            found.state.and_then(|state| state.running) == Some(true),
        )),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(source) => Err(call_failed(format!("inspect the container {name}"))(source)),
    }
}

/// Starts the existing container `name`.
pub async fn start_service(docker: &Docker, name: &str) -> Result<(), EngineError> {
    docker
        .start_container(name, None)
        .await
        .map_err(call_failed(format!("start the container {name}")))
}

/// Creates the service's container (restarting with the engine unless
/// stopped), copies its files in and starts it.
pub async fn create_service(docker: &Docker, spec: &ServiceSpec) -> Result<(), EngineError> {
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.command.clone()),
        host_config: Some(HostConfig {
            network_mode: spec.host_network.then(|| "host".to_owned()),
            mounts: Some(
                spec.volumes
                    .iter()
                    .map(|(volume, target)| Mount {
                        source: Some(volume.clone()),
                        target: Some(target.clone()),
                        typ: Some(MountType::VOLUME),
                        ..Default::default()
                    })
                    .collect(),
            ),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::new()
                    .name(&spec.name)
                    .build(),
            ),
            body,
        )
        .await
        .map_err(call_failed(format!("create the container {}", spec.name)))?;
    if !spec.files.is_empty() {
        let files = tar_of(&spec.files).expect("writing a tar archive into memory cannot fail");
        docker
            .upload_to_container(
                &spec.name,
                Some(UploadToContainerOptionsBuilder::new().path("/").build()),
                bollard::body_full(files.into()),
            )
            .await
            .map_err(call_failed(format!(
                "copy the files into the container {}",
                spec.name
            )))?;
    }
    start_service(docker, &spec.name).await
}

/// Removes the container `name` (killing it) if it exists.
pub async fn remove_service(docker: &Docker, name: &str) -> Result<(), EngineError> {
    match remove_container(docker, name).await {
        Err(error) if error.is_not_found() => Ok(()),
        other => other,
    }
}

/// Removes the named volume (its data is then gone for good) if it exists.
pub async fn remove_volume(docker: &Docker, name: &str) -> Result<(), EngineError> {
    match docker
        .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
        .await
        .map_err(call_failed(format!("remove the volume {name}")))
    {
        Err(error) if error.is_not_found() => Ok(()),
        other => other,
    }
}
