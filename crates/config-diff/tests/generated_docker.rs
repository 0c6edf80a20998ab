//! Generated mode on the real Docker engine, with a stand-in for the Kayobe
//! image (which cannot be pulled here): `FROM scratch` with a static
//! busybox and a `kayobe` script that writes a configuration tree per host
//! from the mounted checkout and its environment, and prints what it saw.

use std::os::unix::fs::MetadataExt;

use bollard::query_parameters::ListContainersOptionsBuilder;
use config_diff::generated::GenerateOptions;
use config_diff::tree::{FileChange, FileDiff, TreeDiff};
use config_diff::{DiffError, Masker, diff_generated, html, render};
use kayobe_automation_tests::docker::{RemoveImages, build_test_image, engine, unique_tag};
use kayobe_automation_tests::tool;
use kayobe_config::value::Value;
use kayobe_config::vault::VaultSecret;
use pretty_assertions::assert_eq;

mod common;

use common::{NEW_SECRET, OLD_SECRET, PASSWORD, history};

/// The stand-in `kayobe`: one directory per inventory host with a
/// `globals.conf` (the timezone, `KAYOBE_AUTOMATION_CONFIG_DIFF` and the
/// configuration path) and `secrets.json` (the secrets file as mounted);
/// its output says what it was given. It prints the vault password too:
/// the log must mask it. It sleeps a second, so the test can inspect it.
const KAYOBE: &str = r#"#!/bin/busybox sh
set -e
bb=/bin/busybox
echo "argv: $*"
echo "env: $($bb env | $bb grep -E '^(KAYOBE|KOLLA)_' | $bb sort | $bb tr '\n' ' ')"
out=""; password_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --node-config-dir) out="$2"; shift ;;
    --vault-password-file) password_file="$2"; shift ;;
  esac
  shift
done
echo "vault password file: $($bb stat -c '%a %u:%g %F' "$password_file")"
echo "vault password: $($bb cat "$password_file")"
if $bb env | $bb grep -qF "$($bb cat "$password_file")"; then echo "the password is in the environment"; fi
$bb sleep 1
env_dir="$KAYOBE_CONFIG_PATH/environments/$KAYOBE_ENVIRONMENT"
timezone=$($bb sed -n 's/^timezone: //p' "$env_dir/globals.yml")
for host in $($bb grep -v -e '^\[' -e '^$' "$env_dir/inventory/hosts"); do
  $bb mkdir -p "$out/$host"
  printf '[DEFAULT]\ntimezone = %s\nconfig_diff = %s\nsource = %s\n' \
    "$timezone" "$KAYOBE_AUTOMATION_CONFIG_DIFF" "$KAYOBE_CONFIG_PATH" > "$out/$host/globals.conf"
  $bb cp "$env_dir/secrets.yml" "$out/$host/secrets.json"
done
"#;

/// Each container of `image` that runs while `watching`, by id, with what
/// `docker inspect` says of it.
async fn inspect_while(
    docker: container_engine::Docker,
    image: String,
    watching: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::collections::BTreeMap<String, String> {
    let mut inspected = std::collections::BTreeMap::new();
    while watching.load(std::sync::atomic::Ordering::SeqCst) {
        let running = docker
            .list_containers(Some(ListContainersOptionsBuilder::new().build()))
            .await
            .unwrap();
        for container in running {
            let id = container.id.unwrap_or_default();
            if container.image.as_deref() != Some(image.as_str()) || inspected.contains_key(&id) {
                continue;
            }
            if let Ok(details) = docker.inspect_container(&id, None).await {
                inspected.insert(id, serde_json::to_string(&details).unwrap());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    inspected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generates_both_sides_in_the_container_and_diffs_the_trees() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let secret = VaultSecret::new(PASSWORD);
    let dir = history(&secret);
    let repo = dir.path();

    // The image runs as the checkout's owner, as the real Kayobe image does
    // (built with KAYOBE_USER_UID/GID).
    let owner = std::fs::metadata(repo).unwrap();
    let (uid, gid) = (owner.uid(), owner.gid());
    let image = unique_tag("config-diff-kayobe");
    let _cleanup = RemoveImages(vec![image.clone()]);
    let dockerfile = format!(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY kayobe /usr/local/bin/kayobe\nUSER {uid}:{gid}\n"
    );
    let busybox = std::fs::read(busybox).unwrap();
    build_test_image(
        &docker,
        &image,
        &[
            ("Dockerfile", dockerfile.as_bytes(), 0o644),
            ("busybox", &busybox, 0o755),
            ("kayobe", KAYOBE.as_bytes(), 0o755),
        ],
    )
    .await;

    // No environment: each revision's `.environment` names it.
    let options = GenerateOptions {
        image: image.clone(),
        limit: Some("ctl01,cmp01".into()),
        kolla_tags: Some("nova".into()),
        extra_args: Some("-vv".into()),
        ..GenerateOptions::default()
    };
    let mut log = Vec::new();
    // What `docker inspect` shows of each container while it runs (the
    // stand-in sleeps a second so that it is seen).
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let inspector = tokio::spawn(inspect_while(
        docker.clone(),
        image.clone(),
        watching.clone(),
    ));
    let diff = diff_generated(
        &docker,
        &repo.join("etc/kayobe"),
        "base",
        "changed",
        Some(&secret),
        &options,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    watching.store(false, std::sync::atomic::Ordering::SeqCst);
    let inspected = inspector.await.unwrap();
    assert_eq!(inspected.len(), 2, "both containers were inspected");
    for shown in inspected.values() {
        assert!(!shown.contains(PASSWORD), "{shown}");
        assert!(shown.contains("KAYOBE_AUTOMATION_CONFIG_DIFF=1"), "{shown}");
    }

    let side_log = vec![
        "argv: overcloud service configuration generate --node-config-dir /kayobe-automation/node-config --vault-password-file /run/kayobe-automation/vault-password --limit ctl01,cmp01 --kolla-tags nova -vv".to_owned(),
        "env: KAYOBE_AUTOMATION_CONFIG_DIFF=1 KAYOBE_CONFIG_PATH=/src/etc/kayobe KAYOBE_ENVIRONMENT=production KAYOBE_EXTRA_ARGS=-vv KAYOBE_LIMIT=ctl01,cmp01 KOLLA_TAGS=nova ".to_owned(),
        format!("vault password file: 600 {uid}:{gid} regular file"),
        "vault password: ********".to_owned(),
    ];
    let header = |revision: &str| {
        vec![format!(
            "generating the configuration of revision `{revision}`"
        )]
    };
    assert_eq!(
        log,
        [
            header("base"),
            side_log.clone(),
            header("changed"),
            side_log
        ]
        .concat()
    );

    let masker = Masker::new(Some(&secret));
    let masked_secrets = |value: &str| {
        let mask = masker.mask_bytes(Value::from(value).to_json().to_string().as_bytes());
        format!("{{\"registry_password\":\"{mask}\"}}\n")
    };
    let globals = |timezone: &str| {
        format!("[DEFAULT]\ntimezone = {timezone}\nconfig_diff = 1\nsource = /src/etc/kayobe\n")
    };
    let unified = |path: &str, old: &str, new: &str| {
        format!(
            "--- a/{path}\n+++ b/{path}\n@@ -1,4 +1,4 @@\n [DEFAULT]\n-{old}\n+{new}\n config_diff = 1\n source = /src/etc/kayobe\n"
        )
    };
    let (old_mask, new_mask) = (masked_secrets(OLD_SECRET), masked_secrets(NEW_SECRET));
    assert_eq!(
        diff.files,
        TreeDiff {
            files: vec![
                FileDiff {
                    path: "cmp01/globals.conf".into(),
                    change: FileChange::Added {
                        text: globals("Europe/Paris")
                    },
                },
                FileDiff {
                    path: "cmp01/secrets.json".into(),
                    change: FileChange::Added {
                        text: new_mask.clone()
                    },
                },
                FileDiff {
                    path: "ctl01/globals.conf".into(),
                    change: FileChange::Changed {
                        unified: unified(
                            "ctl01/globals.conf",
                            "timezone = Europe/London",
                            "timezone = Europe/Paris"
                        ),
                    },
                },
                FileDiff {
                    path: "ctl01/secrets.json".into(),
                    change: FileChange::Changed {
                        unified: format!(
                            "--- a/ctl01/secrets.json\n+++ b/ctl01/secrets.json\n@@ -1 +1 @@\n-{old_mask}+{new_mask}"
                        ),
                    },
                },
            ]
        }
    );
    assert!(diff.hosts.is_empty(), "generated mode diffs files only");
    let text = render::text(&diff);
    let json = render::json(&diff).to_string();
    let page = html::page(&diff);
    for output in [&text, &json, &page, &format!("{diff:?}"), &log.join("\n")] {
        for secret in [OLD_SECRET, NEW_SECRET, PASSWORD] {
            assert!(!output.contains(secret), "{secret} shows");
        }
    }

    // Both containers are gone.
    let left = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
        .await
        .unwrap();
    assert!(
        left.iter()
            .all(|container| container.image.as_deref() != Some(image.as_str())),
        "{left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_generation_is_an_error_and_leaves_no_container() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let secret = VaultSecret::new(PASSWORD);
    let dir = history(&secret);
    let image = unique_tag("config-diff-failing");
    let _cleanup = RemoveImages(vec![image.clone()]);
    let busybox = std::fs::read(busybox).unwrap();
    let failing = "#!/bin/busybox sh\necho 'no inventory' >&2\nexit 3\n";
    build_test_image(
        &docker,
        &image,
        &[
            (
                "Dockerfile",
                b"FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY kayobe /usr/local/bin/kayobe\n",
                0o644,
            ),
            ("busybox", &busybox, 0o755),
            ("kayobe", failing.as_bytes(), 0o755),
        ],
    )
    .await;
    let options = GenerateOptions {
        image: image.clone(),
        ..GenerateOptions::default()
    };
    let mut log = Vec::new();
    let error = diff_generated(
        &docker,
        &dir.path().join("etc/kayobe"),
        "base",
        "changed",
        Some(&secret),
        &options,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, DiffError::Revision { revision, source } if revision == "base" && matches!(**source, DiffError::GenerateFailed { exit_code: 3 })),
        "{error}"
    );
    assert_eq!(
        log,
        [
            "generating the configuration of revision `base`",
            "no inventory"
        ]
    );
    let left = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
        .await
        .unwrap();
    assert!(
        left.iter()
            .all(|container| container.image.as_deref() != Some(image.as_str()))
    );
}
