//! The real Docker engine in tests: connecting (or skipping off CI), names
//! no other test run uses, cleaning images up, and the stand-in Kayobe
//! checkout whose image the tests build (no image can be pulled here).

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, ListContainersOptionsBuilder, RemoveImageOptionsBuilder,
};

/// The stand-in Kayobe image's steps after `FROM scratch` and its build's
/// own label: Debian's static busybox as `/bin/sh`, `tar` and the rest,
/// running as the checkout's user like the real image.
const STANDIN_STEPS: &str = "ARG KAYOBE_USER_UID
ARG KAYOBE_USER_GID
COPY .automation/docker/kayobe/busybox /bin/busybox
RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]
COPY .automation/docker/kayobe/bash /bin/bash
USER ${KAYOBE_USER_UID}:${KAYOBE_USER_GID}
";

/// The local engine at the API version both sides speak, or `None` (after
/// saying so) when there is none on a developer's machine.
///
/// # Panics
/// Under `CI=true` when the engine is not reachable.
pub async fn engine() -> Option<Docker> {
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

/// A suffix no other test run uses (process id and time), for image tags,
/// container names and label values.
pub fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// An image tag no other test run uses, e.g. `kayobe-automation/test-run:…`.
pub fn unique_tag(what: &str) -> String {
    format!("kayobe-automation/test-{what}:{}", unique_suffix())
}

/// Builds the image `tag` from a context of `(path, content, mode)` files
/// (one of them the `Dockerfile`).
///
/// # Panics
/// When the build fails: the stand-in image is the test's fixture.
pub async fn build_test_image(docker: &Docker, tag: &str, files: &[(&str, &[u8], u32)]) {
    use futures_util::StreamExt as _;
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, *content)
            .expect("add a file to the build context");
    }
    let context = builder.into_inner().expect("finish the build context");
    // No cached layers: one test's clean-up could otherwise remove a layer
    // another test's build is about to use ("unknown parent image ID").
    let options = BuildImageOptionsBuilder::new()
        .t(tag)
        .rm(true)
        .nocache(true)
        .build();
    let mut progress = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(info) = progress.next().await {
        let info = info.expect("the test image builds");
        assert!(info.error_detail.is_none(), "{:?}", info.error_detail);
    }
}

/// The ids of the containers labelled `label` (`KEY=VALUE`): running ones,
/// or all of them.
///
/// # Panics
/// When the engine cannot list containers.
pub async fn labelled_containers(docker: &Docker, label: &str, running_only: bool) -> Vec<String> {
    let filters = HashMap::from([("label".to_owned(), vec![label.to_owned()])]);
    let options = ListContainersOptionsBuilder::new()
        .all(!running_only)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .expect("list the containers")
        .into_iter()
        .filter_map(|container| container.id)
        .collect()
}

/// Removes the images it names when dropped, whether the test passed or not.
pub struct RemoveImages(pub Vec<String>);

impl Drop for RemoveImages {
    fn drop(&mut self) {
        let tags = std::mem::take(&mut self.0);
        // Its own thread and runtime: dropping may happen inside the test's runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup");
            runtime.block_on(async {
                let Ok(docker) = Docker::connect_with_local_defaults() else {
                    return;
                };
                let Ok(docker) = docker.negotiate_version().await else {
                    return;
                };
                for tag in tags {
                    let options = RemoveImageOptionsBuilder::new().force(true).build();
                    let _ = docker.remove_image(&tag, Some(options), None).await;
                }
            });
        })
        .join()
        .expect("the cleanup thread ends");
    }
}

/// Writes the stand-in Kayobe image's Dockerfile, busybox and a static bash
/// (operations run through bash) into the checkout at `root`, where `image
/// build` looks. The Dockerfile starts with
/// a label of its own, so no two builds share cached layers: one test's
/// cleanup could otherwise remove a layer another test's build is about to
/// use as its parent ("unknown parent image ID").
///
/// # Panics
/// When a file cannot be written.
pub fn write_standin_image(root: &Path, busybox: &Path, bash: &Path) {
    let docker_dir = root.join(".automation/docker/kayobe");
    std::fs::create_dir_all(&docker_dir).expect("create the Dockerfile's directory");
    let dockerfile = format!(
        "FROM scratch\nLABEL kayobe-automation.test-build=\"{}\"\n{STANDIN_STEPS}",
        unique_suffix()
    );
    std::fs::write(docker_dir.join("Dockerfile"), dockerfile).expect("write the Dockerfile");
    std::fs::copy(busybox, docker_dir.join("busybox")).expect("copy busybox");
    std::fs::copy(bash, docker_dir.join("bash")).expect("copy bash");
}

/// Adds the executable `content` to the stand-in Kayobe image written by
/// [`write_standin_image`] at `target` (e.g. a static bash at `/bin/bash`, a
/// stand-in for `ssh-add`), through a file of the Dockerfile's directory.
///
/// # Panics
/// When a file cannot be written.
pub fn add_to_standin_image(root: &Path, name: &str, content: &[u8], target: &str) {
    let docker_dir = root.join(".automation/docker/kayobe");
    let path = docker_dir.join(name);
    std::fs::write(&path, content).expect("write the file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the file executable");
    let dockerfile = docker_dir.join("Dockerfile");
    let mut steps = std::fs::read_to_string(&dockerfile).expect("read the Dockerfile");
    steps.push_str(&format!("COPY .automation/docker/kayobe/{name} {target}\n"));
    std::fs::write(&dockerfile, steps).expect("write the Dockerfile");
}

/// Writes the pipeline script `.automation/pipeline/<name>.sh` (a bash
/// script) into the checkout at `root`, not executable, as some of
/// kayobe-automation's are: `run` must start it through bash.
///
/// # Panics
/// When the file cannot be written.
pub fn write_pipeline_script(root: &Path, name: &str, body: &str) {
    let dir = root.join(".automation/pipeline");
    std::fs::create_dir_all(&dir).expect("create the pipeline directory");
    let path = dir.join(format!("{name}.sh"));
    std::fs::write(&path, format!("#!/bin/bash\n{body}")).expect("write the pipeline script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
        .expect("make the pipeline script read-only");
}
