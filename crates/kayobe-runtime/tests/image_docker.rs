//! Image build and rebuild detection on the real Docker engine, with a
//! stand-in Kayobe Dockerfile (`FROM scratch` + Debian's static busybox) in
//! a temporary checkout.

mod docker_support;

use docker_support::checkout;
use kayobe_automation_tests::docker::{RemoveImages, engine, unique_tag};
use kayobe_automation_tests::tool;
use kayobe_runtime::fingerprint::GALAXY_REQUIREMENTS;
use kayobe_runtime::{BuildOptions, ImageError, ImageStatus, build_image, image_status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_labels_and_detects_exactly_the_changed_input() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    checkout(dir.path(), &busybox);
    let tag = unique_tag("runtime-build");
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let mut options = BuildOptions::new(dir.path(), &tag).unwrap();
    options.user = (4321, 4322);

    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Missing
    );

    let mut log = Vec::new();
    let fingerprint = build_image(&docker, &options, |line| log.push(line.to_owned()))
        .await
        .unwrap();
    // BuildKit reports the outcome, not the steps.
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(
        log[0].starts_with(&format!("building {tag} with BuildKit")),
        "{log:#?}"
    );
    assert_eq!(log[1], format!("built {tag}"));
    let image = docker.inspect_image(&tag).await.unwrap();
    let config = image.config.unwrap();
    assert_eq!(
        config.user.as_deref(),
        Some("4321:4322"),
        "build args arrive"
    );
    assert_eq!(config.labels.unwrap(), fingerprint.labels());
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Fresh
    );

    // A file outside what the image bakes in changes nothing.
    std::fs::write(dir.path().join("README.md"), "edited\n").unwrap();
    assert!(image_status(&docker, &options).await.unwrap().is_fresh());

    std::fs::write(
        dir.path().join(GALAXY_REQUIREMENTS),
        "collections:\n  - name: stackhpc.linux\n    version: 1.1.0\n",
    )
    .unwrap();
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Stale {
            changed: vec![GALAXY_REQUIREMENTS.to_owned()]
        }
    );
    let mut other_user = options.clone();
    other_user.user = (4321, 4323);
    assert_eq!(
        image_status(&docker, &other_user).await.unwrap(),
        ImageStatus::Stale {
            changed: vec![
                "build-arg KAYOBE_USER_GID".to_owned(),
                GALAXY_REQUIREMENTS.to_owned()
            ]
        }
    );

    let first_id = image.id.unwrap();
    build_image(&docker, &options, |_| {}).await.unwrap();
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Fresh
    );
    // The image the tag named before is gone.
    assert_eq!(
        container_engine::inspect_image(&docker, &first_id)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_a_build_error_and_leaves_no_image() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    checkout(dir.path(), &busybox);
    // requirements.txt is not in the context once deleted: COPY fails. It is
    // the first step, so the failed build leaves no intermediate image.
    std::fs::remove_file(dir.path().join("requirements.txt")).unwrap();
    std::fs::write(
        dir.path().join(".automation/docker/kayobe/Dockerfile"),
        "FROM scratch\nCOPY requirements.txt /stack/requirements.txt\n",
    )
    .unwrap();
    let tag = unique_tag("runtime-failing");
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let options = BuildOptions::new(dir.path(), &tag).unwrap();

    let error = build_image(&docker, &options, |_| {}).await.unwrap_err();
    assert!(
        matches!(&error, ImageError::Build { tag: built, message } if *built == tag && message.contains("requirements.txt")),
        "{error}"
    );
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Missing
    );
}
