//! The Docker side of the kayobe-runtime tests: the engine, a stand-in
//! Kayobe checkout to build from, unique tags and their clean-up.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::query_parameters::RemoveImageOptionsBuilder;
use kayobe_runtime::fingerprint::GALAXY_REQUIREMENTS;

/// A stand-in Kayobe Dockerfile: busybox and the requirements files.
const DOCKERFILE: &str = "FROM scratch
ARG KAYOBE_USER_UID
ARG KAYOBE_USER_GID
COPY .automation/docker/kayobe/busybox /bin/busybox
COPY etc/kayobe/ansible/requirements.yml /stack/requirements.yml
COPY requirements.txt /stack/requirements.txt
USER ${KAYOBE_USER_UID}:${KAYOBE_USER_GID}
";

/// The engine, or `None` (after saying so) when it is unreachable off CI.
pub async fn docker() -> Option<Docker> {
    let connected = match Docker::connect_with_local_defaults() {
        Ok(docker) => docker.negotiate_version().await.ok(),
        Err(_) => None,
    };
    if connected.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Docker engine is not reachable"
        );
        eprintln!("skipping: the Docker engine is not reachable");
    }
    connected
}

/// A tag no other test run uses.
pub fn unique_tag(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "kayobe-automation/runtime-test-{what}:{}-{nanos}",
        std::process::id()
    )
}

/// Removes the images it names when the test ends, passed or not.
pub struct RemoveImages(pub Vec<String>);

impl Drop for RemoveImages {
    fn drop(&mut self) {
        let tags = std::mem::take(&mut self.0);
        // Its own thread and runtime: dropping may happen inside the test's runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let docker = Docker::connect_with_local_defaults()
                    .unwrap()
                    .negotiate_version()
                    .await
                    .unwrap();
                for tag in tags {
                    let options = RemoveImageOptionsBuilder::new().force(true).build();
                    let _ = docker.remove_image(&tag, Some(options), None).await;
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// A checkout at `root` with the stand-in Dockerfile, its busybox and the
/// requirements files, plus a README the image does not bake in.
pub fn checkout(root: &Path, busybox: &Path) {
    let docker_dir = root.join(".automation/docker/kayobe");
    std::fs::create_dir_all(&docker_dir).unwrap();
    std::fs::create_dir_all(root.join("etc/kayobe/ansible")).unwrap();
    std::fs::write(docker_dir.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::copy(busybox, docker_dir.join("busybox")).unwrap();
    std::fs::write(
        root.join(GALAXY_REQUIREMENTS),
        "collections:\n  - name: stackhpc.linux\n    version: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(root.join("requirements.txt"), "kayobe==17.0.0\n").unwrap();
    std::fs::write(root.join("README.md"), "not in the image\n").unwrap();
}
