//! Image build and rebuild detection on the real Docker engine, with a
//! stand-in Kayobe Dockerfile (`FROM scratch` + Debian's static busybox) in
//! a temporary checkout.

mod docker_support;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use bollard::query_parameters::ListImagesOptionsBuilder;
use container_engine::{ContainerSpec, Docker, run_container};
use docker_support::checkout;
use kayobe_automation_tests::docker::{RemoveImages, engine, unique_suffix, unique_tag};
use kayobe_automation_tests::{debian_tool, tool};
use kayobe_runtime::fingerprint::{CLI_INPUT, GALAXY_REQUIREMENTS};
use kayobe_runtime::image::CLI_PATH;
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

/// A checkout whose image has busybox installed as `/bin/sh` and the rest
/// (the binary's check runs through the container bootstrap's shell), every
/// image of its builds labelled with `label` so the test can find them all.
fn checkout_with_shell(root: &Path, busybox: &Path, label: &str) {
    checkout(root, busybox);
    let dockerfile = root.join(".automation/docker/kayobe/Dockerfile");
    let steps = std::fs::read_to_string(&dockerfile).unwrap().replace(
        "FROM scratch\n",
        &format!(
            "FROM scratch\nLABEL kayobe-automation.test-build=\"{label}\"\nCOPY .automation/docker/kayobe/busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n"
        ),
    );
    std::fs::write(&dockerfile, steps).unwrap();
}

/// A stand-in `kayobe-automation` that runs wherever there is a `/bin/sh`.
fn write_script_cli(path: &Path, version: &str) {
    std::fs::write(
        path,
        format!("#!/bin/sh\necho kayobe-automation {version}\n"),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The images labelled `label`: each one's id and tags, in id order (`all`:
/// intermediate ones too; `dangling`: only untagged ones no image builds on).
async fn labelled_images(
    docker: &Docker,
    label: &str,
    all: bool,
    dangling: bool,
) -> Vec<(String, Vec<String>)> {
    let mut filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("kayobe-automation.test-build={label}")],
    )]);
    if dangling {
        filters.insert("dangling".to_owned(), vec!["true".to_owned()]);
    }
    let options = ListImagesOptionsBuilder::new()
        .all(all)
        .filters(&filters)
        .build();
    let mut images: Vec<(String, Vec<String>)> = docker
        .list_images(Some(options))
        .await
        .unwrap()
        .into_iter()
        .map(|image| (image.id, image.repo_tags))
        .collect();
    images.sort();
    images
}

/// What `command` prints in a container of `image`, and its exit code.
async fn run_in(docker: &Docker, image: &str, command: &[&str]) -> (String, i64) {
    let spec = ContainerSpec {
        image: image.to_owned(),
        command: command.iter().map(|&part| part.to_owned()).collect(),
        ..ContainerSpec::default()
    };
    let mut output = String::new();
    let outcome = run_container(
        docker,
        &spec,
        |line| output.push_str(&format!("{line}\n")),
        std::future::pending(),
    )
    .await
    .unwrap();
    (output, outcome.exit_code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_the_cli_layer_it_ran_in_and_rebuilds_without_dangling_images() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let label = unique_suffix();
    checkout_with_shell(dir.path(), &busybox, &label);
    let cli = dir.path().join("kayobe-automation");
    write_script_cli(&cli, "1.0.0");
    let tag = unique_tag("runtime-cli");
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let mut options = BuildOptions::new(dir.path(), &tag).unwrap();
    // Not root: the binary must run as the image's user.
    options.user = (4321, 4322);
    options.cli = Some(cli.clone());

    let mut log = Vec::new();
    let fingerprint = build_image(&docker, &options, |line| log.push(line.to_owned()))
        .await
        .unwrap();
    assert!(fingerprint.has_cli());
    // The Dockerfile's image is built under a temporary tag first.
    assert_eq!(log.len(), 5, "{log:#?}");
    assert!(
        log[1].starts_with(&format!(
            "built {}:kayobe-automation-build-",
            tag.split_once(':').unwrap().0
        )),
        "{log:#?}"
    );
    assert!(
        log[2].starts_with("adding the kayobe-automation binary"),
        "{log:#?}"
    );
    assert_eq!(
        log[3..],
        [
            "kayobe-automation 1.0.0 runs in the image".to_owned(),
            format!("built {tag}")
        ]
    );
    let (stat, _) = run_in(&docker, &tag, &["stat", "-c", "%a %u:%g", CLI_PATH]).await;
    assert_eq!(stat, "755 0:0\n");
    let (version, code) = run_in(&docker, &tag, &["kayobe-automation", "--version"]).await;
    assert_eq!((version.as_str(), code), ("kayobe-automation 1.0.0\n", 0));
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Fresh
    );
    let mut no_cli = options.clone();
    no_cli.cli = None;
    assert_eq!(
        image_status(&docker, &no_cli).await.unwrap(),
        ImageStatus::Stale {
            changed: vec![CLI_INPUT.to_owned()]
        }
    );
    // Only the tagged image and its parents, no temporary tag.
    let images = labelled_images(&docker, &label, true, false).await;
    let tags: Vec<&String> = images
        .iter()
        .flat_map(|(_, tags)| tags)
        .filter(|tag| *tag != "<none>:<none>")
        .collect();
    assert_eq!(tags, [&tag], "{images:#?}");
    assert!(
        labelled_images(&docker, &label, false, true)
            .await
            .is_empty()
    );

    // Nothing changed: the builders' caches give the same image.
    let first = docker.inspect_image(&tag).await.unwrap().id.unwrap();
    build_image(&docker, &options, |_| {}).await.unwrap();
    assert_eq!(docker.inspect_image(&tag).await.unwrap().id.unwrap(), first);
    assert_eq!(labelled_images(&docker, &label, true, false).await, images);

    write_script_cli(&cli, "1.0.1");
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Stale {
            changed: vec![CLI_INPUT.to_owned()]
        }
    );
    build_image(&docker, &options, |_| {}).await.unwrap();
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Fresh
    );
    let (version, _) = run_in(&docker, &tag, &["kayobe-automation", "--version"]).await;
    assert_eq!(version, "kayobe-automation 1.0.1\n");
    // The replaced image went with its layer; the Dockerfile's image stays,
    // the new one's parent.
    assert_eq!(
        container_engine::inspect_image(&docker, &first)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        labelled_images(&docker, &label, true, false).await.len(),
        images.len()
    );
    assert!(
        labelled_images(&docker, &label, false, true)
            .await
            .is_empty()
    );

    // Without the binary: the Dockerfile's image itself.
    build_image(&docker, &no_cli, |_| {}).await.unwrap();
    assert_eq!(
        image_status(&docker, &no_cli).await.unwrap(),
        ImageStatus::Fresh
    );
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::WithoutCli
    );
    let (_, code) = run_in(&docker, &tag, &["test", "-e", CLI_PATH]).await;
    assert_eq!(code, 1);
    assert_eq!(labelled_images(&docker, &label, true, false).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_that_does_not_run_in_the_image_fails_the_build_and_leaves_nothing() {
    let (Some(busybox), Some(dynamic)) = (tool("busybox"), debian_tool("/usr/bin/true")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let label = unique_suffix();
    checkout_with_shell(dir.path(), &busybox, &label);
    let tag = unique_tag("runtime-cli-broken");
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let mut options = BuildOptions::new(dir.path(), &tag).unwrap();
    // Linked against glibc, in an image without its dynamic loader.
    options.cli = Some(dynamic.clone());

    let error = build_image(&docker, &options, |_| {}).await.unwrap_err();
    let ImageError::CliDoesNotRun {
        binary,
        tag: built,
        exit_code,
        output,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((binary, built, *exit_code), (&dynamic, &tag, 127));
    assert!(
        output.contains(CLI_PATH) && output.contains("not found"),
        "{output}"
    );
    let message = error.to_string();
    assert!(
        message.contains("dynamic loader")
            && message.contains("build without the binary")
            && message.contains("not tagged"),
        "{message}"
    );
    assert_eq!(
        image_status(&docker, &options).await.unwrap(),
        ImageStatus::Missing
    );
    let left = labelled_images(&docker, &label, true, false).await;
    assert!(left.is_empty(), "{left:#?}");
}
