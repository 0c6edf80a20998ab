//! A stand-in Kayobe checkout for the kayobe-runtime tests to build from
//! (the engine, tags and clean-up are in the shared test support).

use std::path::Path;

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
