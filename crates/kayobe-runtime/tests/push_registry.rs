//! `push_image` against a real registry (Debian's docker-registry on
//! loopback, htpasswd auth) from the real engine: a refused password, a
//! push whose manifest the registry then serves, an unreachable registry
//! and a missing image, each a clear error without the password.

mod docker_support;

use docker_support::checkout;
use kayobe_automation_tests::docker::{RemoveImages, engine, unique_tag};
use kayobe_automation_tests::registry::{PASSWORD, Registry, USER};
use kayobe_automation_tests::tool;
use kayobe_runtime::{BuildOptions, PushError, RegistryCredentials, build_image, push_image};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_with_credentials_and_refuses_a_wrong_password() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    checkout(dir.path(), &busybox);
    let image = format!("{}/{}", registry.host, unique_tag("push"));
    let _cleanup = RemoveImages(vec![image.clone()]);
    let options = BuildOptions::new(dir.path(), &image).unwrap();
    build_image(&docker, &options, |_| {}).await.unwrap();

    let wrong = RegistryCredentials::new(USER, "not-the-password");
    let error = push_image(&docker, &image, Some(&wrong), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, PushError::Refused { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(&registry.host) && text.contains(USER),
        "{text}"
    );
    assert!(!text.contains("not-the-password"), "{text}");

    let right = RegistryCredentials::new(USER, PASSWORD);
    let mut progress = Vec::new();
    let digest = push_image(&docker, &image, Some(&right), |p| {
        progress.push(p.status.clone());
    })
    .await
    .unwrap()
    .expect("the engine reports the digest");
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert!(progress.iter().any(|s| s == "Pushed"), "{progress:#?}");

    // The registry serves the manifest the engine reported.
    let (repository, tag) = image.rsplit_once(':').unwrap();
    let repository = repository
        .strip_prefix(&format!("{}/", registry.host))
        .unwrap();
    let answer = reqwest::Client::new()
        .get(format!(
            "http://{}/v2/{repository}/manifests/{tag}",
            registry.host
        ))
        .basic_auth(USER, Some(PASSWORD))
        .header(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_or_a_missing_image_is_a_clear_error() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    checkout(dir.path(), &busybox);
    // A port with no listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let image = format!("127.0.0.1:{port}/{}", unique_tag("unreachable"));
    let _cleanup = RemoveImages(vec![image.clone()]);
    build_image(
        &docker,
        &BuildOptions::new(dir.path(), &image).unwrap(),
        |_| {},
    )
    .await
    .unwrap();
    let credentials = RegistryCredentials::new(USER, PASSWORD);
    let error = push_image(&docker, &image, Some(&credentials), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, PushError::Failed { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("reachable") && !text.contains(PASSWORD),
        "{text}"
    );

    let missing = format!("127.0.0.1:{port}/{}", unique_tag("never-built"));
    let error = push_image(&docker, &missing, None, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, PushError::NoImage { .. }), "{error:?}");
}
