//! `preflight` on the real engine and a real registry, over a copy of the
//! example repository: all green, then every check failing at once (each a
//! line saying what to do), then a stale image and a missing vault password.

mod docker_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use docker_support::checkout;
use kayobe_automation_tests::docker::{RemoveImages, engine, unique_tag};
use kayobe_automation_tests::registry::{PASSWORD, Registry, USER};
use kayobe_automation_tests::{copy_dir, example_repo, tool};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::{VaultSecret, encrypt};
use kayobe_runtime::fingerprint::GALAXY_REQUIREMENTS;
use kayobe_runtime::{
    BuildOptions, ImageStatus, PreflightOptions, Problem, build_image, preflight,
};

/// The password variable no test sets.
const UNSET_VARIABLE: &str = "KAYOBE_PREFLIGHT_TEST_UNSET_PASSWORD";

fn example_copy(root: &Path) -> (ConfigRepo, VaultSecret) {
    copy_dir(&example_repo(), root);
    let repo = ConfigRepo::open(&root.join("etc/kayobe"), Some("production")).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    (repo, secret)
}

fn key_file(dir: &Path, mode: u32) -> std::path::PathBuf {
    let path = dir.join("id_ed25519");
    std::fs::write(&path, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_green_then_a_stale_image_and_no_vault_password() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(registry) = Registry::start() else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let checkout_dir = tempfile::tempdir().unwrap();
    checkout(checkout_dir.path(), &busybox);
    let tag = format!("{}/{}", registry.host, unique_tag("preflight"));
    let _cleanup = RemoveImages(vec![tag.clone()]);
    let image = BuildOptions::new(checkout_dir.path(), &tag).unwrap();
    build_image(&docker, &image, |_| {}).await.unwrap();
    let repo_dir = tempfile::tempdir().unwrap();
    let (repo, secret) = example_copy(repo_dir.path());
    let password_file = repo_dir.path().join("registry-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let options = PreflightOptions {
        image,
        registry: None,
        registry_username: Some(USER.to_owned()),
        registry_password_file: Some(password_file),
        registry_password_variable: UNSET_VARIABLE,
        ssh_key: Some(key_file(repo_dir.path(), 0o600)),
    };

    let problems = preflight(&repo, Some(&secret), &options).await;
    assert!(problems.is_empty(), "{problems:#?}");

    std::fs::write(
        checkout_dir.path().join(GALAXY_REQUIREMENTS),
        "collections: []\n",
    )
    .unwrap();
    let problems = preflight(&repo, None, &options).await;
    assert!(
        matches!(
            &problems[..],
            [
                Problem::Image {
                    status: ImageStatus::Stale { .. },
                    ..
                },
                Problem::NoVaultPassword { .. },
            ]
        ),
        "{problems:#?}"
    );
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(lines[0].contains(GALAXY_REQUIREMENTS), "{lines:#?}");
    assert!(lines[1].contains("KAYOBE_VAULT_PASSWORD"), "{lines:#?}");

    // The engine logs in as a push would: a wrong password is found here,
    // and never printed.
    let wrong = "not-the-registry-password";
    std::fs::write(options.registry_password_file.as_ref().unwrap(), wrong).unwrap();
    let problems = preflight(&repo, Some(&secret), &options).await;
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        matches!(&problems[..], [_, Problem::RegistryUnreachable { .. }]),
        "{lines:#?}"
    );
    assert!(!lines[1].contains(wrong), "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_fails_and_each_says_what_to_do() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    if engine().await.is_none() {
        return;
    }
    let checkout_dir = tempfile::tempdir().unwrap();
    checkout(checkout_dir.path(), &busybox);
    let repo_dir = tempfile::tempdir().unwrap();
    let (repo, secret) = example_copy(repo_dir.path());
    // One vaulted file that another password opened.
    let other = VaultSecret::new("not-the-repository-password");
    let stray = repo_dir.path().join("etc/kayobe/stray-vaulted.yml");
    std::fs::write(&stray, encrypt(b"x: 1\n", &other, None).unwrap()).unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = PreflightOptions {
        image: BuildOptions::new(checkout_dir.path(), &unique_tag("never-built")).unwrap(),
        registry: Some(format!("127.0.0.1:{closed_port}")),
        registry_username: Some(USER.to_owned()),
        registry_password_file: None,
        registry_password_variable: UNSET_VARIABLE,
        ssh_key: Some(key_file(repo_dir.path(), 0o644)),
    };

    let problems = preflight(&repo, Some(&secret), &options).await;
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 5, "{lines:#?}");
    assert!(matches!(
        problems[0],
        Problem::Image {
            status: ImageStatus::Missing,
            ..
        }
    ));
    assert!(lines[0].contains("image build"), "{lines:#?}");
    assert!(
        matches!(problems[1], Problem::RegistryUnreachable { .. }),
        "{lines:#?}"
    );
    assert!(
        matches!(&problems[2], Problem::VaultDoesNotOpen { path, .. } if *path == stray),
        "{lines:#?}"
    );
    assert!(lines[2].contains("vault rekey"), "{lines:#?}");
    assert!(lines[3].contains("chmod 600"), "{lines:#?}");
    assert!(lines[4].contains(UNSET_VARIABLE), "{lines:#?}");
    for line in &lines {
        assert!(!line.contains('\n'), "one line each: {line}");
    }
}
