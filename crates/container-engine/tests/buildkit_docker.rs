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
use kayobe_automation_tests::tool;

const DOCKERFILE: &str = "ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG KAYOBE_USER_UID=1000
ARG RELEASE=unset
RUN mkdir -p /stack && echo \"release=$RELEASE uid=$KAYOBE_USER_UID\" > /stack/args
COPY --chown=1000:1000 etc/kayobe/globals.yml /stack/globals.yml
RUN --mount=type=ssh,uid=1000 --mount=type=tmpfs,target=/tmp/src --mount=type=bind,source=.,target=/src cp -r /src /tmp/ && ls -a /tmp/src | sort > /stack/context-listing && echo \"ssh socket: ${SSH_AUTH_SOCK:-none}\" > /stack/ssh
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_with_buildkit_features_dockerignore_args_labels_and_tags() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let base = unique_tag("buildkit-base");
    let tags = [unique_tag("buildkit"), unique_tag("buildkit")];
    let _cleanup = RemoveImages(vec![base.clone(), tags[0].clone(), tags[1].clone()]);
    build_from_files(
        &docker,
        &base,
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
    let spec = container_engine::ContainerSpec {
        image: tags[0].clone(),
        command: vec![
            "cat".to_owned(),
            "/stack/args".to_owned(),
            "/stack/context-listing".to_owned(),
            "/stack/ssh".to_owned(),
        ],
        ..container_engine::ContainerSpec::default()
    };
    let mut out = Vec::new();
    let outcome = container_engine::run_container(
        &docker,
        &spec,
        |line| out.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit_code, 0, "{out:#?}");
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
