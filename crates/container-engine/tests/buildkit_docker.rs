//! BuildKit through the engine's API, on the real engine: a test Dockerfile
//! using the BuildKit features kayobe-automation's Kayobe Dockerfile uses
//! (`RUN --mount=type=ssh`, `--mount=type=tmpfs`, `--mount=type=bind` of the
//! whole context, `COPY --chown`, build args), built from a local busybox
//! base image, since nothing can be pulled here. The real Dockerfile's first
//! line, `# syntax=docker/dockerfile:1.2`, makes BuildKit pull that
//! front-end image; the test Dockerfile leaves it out and uses the front end
//! built into the engine, which reads the same instructions.

use std::collections::BTreeMap;

use container_engine::{BuildKitBuild, FileEntry, build_from_files, build_with_buildkit};
use kayobe_automation_tests::docker::{RemoveImages, engine, unique_tag};
use kayobe_automation_tests::{debian_tool, tool};

const DOCKERFILE: &str = "ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG KAYOBE_USER_UID=1000
ARG RELEASE=unset
RUN mkdir -p /stack && echo \"release=$RELEASE uid=$KAYOBE_USER_UID\" > /stack/args
COPY --chown=1000:1000 etc/kayobe/globals.yml /stack/globals.yml
RUN --mount=type=ssh,uid=1000 --mount=type=tmpfs,target=/tmp/src --mount=type=bind,source=.,target=/src cp -r /src /tmp/ && ls -a /tmp/src | sort > /stack/context-listing && echo \"ssh socket: ${SSH_AUTH_SOCK:-none}\" > /stack/ssh
";

/// A busybox image tagged `tag`, the base of the test builds.
async fn build_busybox_base(docker: &bollard::Docker, busybox: &std::path::Path, tag: &str) {
    build_from_files(
        docker,
        tag,
        &[
            FileEntry::file(
                "Dockerfile",
                "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
                0o644,
            ),
            FileEntry::file("busybox", std::fs::read(busybox).unwrap(), 0o755),
        ],
        |_| {},
    )
    .await
    .unwrap();
}

/// What a container of `image` prints for `command`.
async fn output_of(docker: &bollard::Docker, image: &str, command: &[&str]) -> Vec<String> {
    let spec = container_engine::ContainerSpec {
        image: image.to_owned(),
        command: command.iter().map(|arg| (*arg).to_owned()).collect(),
        ..container_engine::ContainerSpec::default()
    };
    let mut out = Vec::new();
    let outcome = container_engine::run_container(
        docker,
        &spec,
        |line| out.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit_code, 0, "{out:#?}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_with_buildkit_features_dockerignore_args_labels_and_tags() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let base = unique_tag("buildkit-base");
    let tags = [unique_tag("buildkit"), unique_tag("buildkit")];
    let _cleanup = RemoveImages(vec![base.clone(), tags[0].clone(), tags[1].clone()]);
    build_busybox_base(&docker, &busybox, &base).await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".automation/docker/kayobe")).unwrap();
    std::fs::create_dir_all(root.join("etc/kayobe")).unwrap();
    std::fs::create_dir_all(root.join("private")).unwrap();
    std::fs::write(
        root.join(".automation/docker/kayobe/Dockerfile"),
        DOCKERFILE,
    )
    .unwrap();
    std::fs::write(root.join("etc/kayobe/globals.yml"), "timezone: UTC\n").unwrap();
    std::fs::write(root.join("private/key"), "not for the context").unwrap();
    std::fs::write(root.join(".dockerignore"), "private\n").unwrap();
    let build = BuildKitBuild {
        context: root.to_path_buf(),
        dockerfile: ".automation/docker/kayobe/Dockerfile".to_owned(),
        tags: tags.to_vec(),
        build_args: BTreeMap::from([
            ("BASE_IMAGE".to_owned(), base.clone()),
            ("RELEASE".to_owned(), "2024.1".to_owned()),
        ]),
        labels: BTreeMap::from([("kayobe-automation.test".to_owned(), "yes".to_owned())]),
        cache_from: Vec::new(),
    };
    let mut log = Vec::new();
    build_with_buildkit(&docker, &build, |line| log.push(line.to_owned()))
        .await
        .unwrap_or_else(|error| panic!("{error}\n{log:#?}"));

    for tag in &tags {
        let image = container_engine::inspect_image(&docker, tag).await.unwrap();
        let image = image.unwrap_or_else(|| panic!("{tag} is not tagged"));
        assert_eq!(
            image
                .labels
                .get("kayobe-automation.test")
                .map(String::as_str),
            Some("yes")
        );
    }
    // What the build saw, read back from a container of the image.
    let out = output_of(
        &docker,
        &tags[0],
        &["cat", "/stack/args", "/stack/context-listing", "/stack/ssh"],
    )
    .await;
    assert_eq!(out[0], "release=2024.1 uid=1000");
    let listing: Vec<&str> = out[1..]
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("ssh"))
        .collect();
    assert_eq!(listing, [".", "..", ".automation", ".dockerignore", "etc"]);
    assert!(out.last().unwrap().starts_with("ssh socket: "), "{out:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_a_build_error_naming_it() {
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY missing-file /x\n",
    )
    .unwrap();
    let tag = unique_tag("buildkit-failing");
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let error = build_with_buildkit(
        &docker,
        &BuildKitBuild {
            context: dir.path().to_path_buf(),
            dockerfile: "Dockerfile".to_owned(),
            tags: vec![tag.clone()],
            ..BuildKitBuild::default()
        },
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("missing-file"), "{error}");
    assert!(
        container_engine::inspect_image(&docker, &tag)
            .await
            .unwrap()
            .is_none()
    );
}

/// The Kayobe Dockerfile's `RUN --mount=type=ssh` reaches the caller's SSH
/// agent (`SSH_AUTH_SOCK`, which the engine client reads from the process's
/// environment) through the build session: a mount that requires the agent
/// fails the build without one; with one, BuildKit mounts the socket the
/// session serves the agent on. (Nothing in a busybox image can speak the
/// agent's protocol through it, so that the agent answers is left to
/// BuildKit's own tests.) Each build runs in a process of its own (this
/// test, run again by its test binary to do [`ssh_mount_build`]), since a
/// test cannot change its own environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_agent_is_forwarded_to_ssh_mounts() {
    if let (Ok(base), Ok(tag)) = (
        std::env::var("SSH_MOUNT_BUILD_BASE"),
        std::env::var("SSH_MOUNT_BUILD_TAG"),
    ) {
        return ssh_mount_build(base, tag).await;
    }
    let (Some(busybox), Some(ssh_agent), Some(ssh_add), Some(ssh_keygen)) = (
        tool("busybox"),
        debian_tool("/usr/bin/ssh-agent"),
        debian_tool("/usr/bin/ssh-add"),
        debian_tool("/usr/bin/ssh-keygen"),
    ) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    let status = std::process::Command::new(&ssh_keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "buildkit-test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let socket = dir.path().join("agent.sock");
    // `-d`: in the foreground, so the test can stop it.
    let agent = std::process::Command::new(&ssh_agent)
        .arg("-d")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _agent = StopOnDrop(agent);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let status = std::process::Command::new(&ssh_add)
        .arg("-q")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &socket)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let base = unique_tag("buildkit-ssh-base");
    let tag = unique_tag("buildkit-ssh");
    let _cleanup = RemoveImages(vec![base.clone(), tag.clone()]);
    build_busybox_base(&docker, &busybox, &base).await;
    let build_in_own_process = |agent: Option<&std::path::Path>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "the_ssh_agent_is_forwarded_to_ssh_mounts",
                "--exact",
                "--nocapture",
            ])
            .env("SSH_MOUNT_BUILD_BASE", &base)
            .env("SSH_MOUNT_BUILD_TAG", &tag)
            .env_remove("SSH_AUTH_SOCK");
        if let Some(agent) = agent {
            command.env("SSH_AUTH_SOCK", agent);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };

    let (built, log) = build_in_own_process(None);
    assert!(!built, "built without an agent:\n{log}");
    assert!(log.contains("ssh"), "{log}");
    let (built, log) = build_in_own_process(Some(&socket));
    assert!(built, "{log}");
    assert!(log.contains("SSH agent forwarded"), "{log}");
    assert_eq!(
        output_of(&docker, &tag, &["cat", "/ssh"]).await,
        ["forwarded"]
    );
}

/// Stops a helper process however the test ends.
struct StopOnDrop(std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One build of the `RUN --mount=type=ssh,required=true` Dockerfile from
/// `base` as `tag`, with whatever `SSH_AUTH_SOCK` this process has.
async fn ssh_mount_build(base: String, tag: String) {
    let docker = engine().await.expect("the engine");
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        // The tag in the step, so no earlier build's cache answers for it.
        format!(
            "ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\n\
             RUN --mount=type=ssh,required=true test -S \"$SSH_AUTH_SOCK\" \
             && echo forwarded > /ssh && echo {tag} > /tag\n"
        ),
    )
    .unwrap();
    let build = BuildKitBuild {
        context: context.path().to_path_buf(),
        dockerfile: "Dockerfile".to_owned(),
        tags: vec![tag],
        build_args: BTreeMap::from([("BASE_IMAGE".to_owned(), base)]),
        ..BuildKitBuild::default()
    };
    let mut log = Vec::new();
    let result = build_with_buildkit(&docker, &build, |line| log.push(line.to_owned())).await;
    println!("{}", log.join("\n"));
    result.unwrap();
}
