//! Diffs between revisions of git repositories built from the example
//! configuration: a changed variable, a changed vaulted secret, a changed
//! group membership, each with its exact expected diff.

use std::path::Path;

use config_diff::files::Warning;
use config_diff::{
    Change, ConfigDiff, DiffError, FileChange, FileDiff, HostDiff, Masker, Side, TreeDiff,
    diff_revisions, render,
};
use kayobe_automation_tests::{commit, copy_dir, git, git_init};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::value::Value;
use kayobe_config::vault::{self, VaultSecret};
use pretty_assertions::assert_eq;

const PRODUCTION_SECRETS: &str = "etc/kayobe/environments/production/secrets.yml";
const OLD_REGISTRY_PASSWORD: &str = "97XQLcN0Ft37krK4Z8tN0xiID4QYophk";
const NEW_REGISTRY_PASSWORD: &str = "n3w-Registry-Passw0rd-for-tests";

fn secret() -> VaultSecret {
    VaultSecret::from_file(&kayobe_automation_tests::example_repo().join(".vault-password"))
        .unwrap()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} holds {from}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// A git repository of the example with tags `base`, `timezone` (a changed
/// variable), `secret` (a changed vaulted secret) and `group` (seed01 in a new
/// group), each on the previous one.
fn history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&kayobe_automation_tests::example_repo(), repo);
    git_init(repo);
    commit(repo, "base");

    edit(
        &repo.join("etc/kayobe/environments/production/globals.yml"),
        "timezone: Europe/London",
        "timezone: Europe/Paris",
    );
    commit(repo, "timezone");

    let secrets = repo.join(PRODUCTION_SECRETS);
    let plaintext = vault::decrypt(&std::fs::read(&secrets).unwrap(), &secret())
        .unwrap()
        .plaintext;
    let plaintext = String::from_utf8(plaintext)
        .unwrap()
        .replace(OLD_REGISTRY_PASSWORD, NEW_REGISTRY_PASSWORD);
    std::fs::write(
        &secrets,
        vault::encrypt(plaintext.as_bytes(), &secret(), None).unwrap(),
    )
    .unwrap();
    commit(repo, "secret");

    let hosts = repo.join("etc/kayobe/environments/production/inventory/hosts");
    let mut text = std::fs::read_to_string(&hosts).unwrap();
    text.push_str("\n[canary]\nseed01\n");
    std::fs::write(&hosts, text).unwrap();
    commit(repo, "group");
    dir
}

fn production_hosts(repo: &Path) -> Vec<String> {
    let config = ConfigRepo::open(&repo.join("etc/kayobe"), Some("production")).unwrap();
    let inventory = config.inventory(Some(&secret())).unwrap();
    let mut hosts: Vec<String> = inventory.hosts().map(str::to_owned).collect();
    hosts.sort();
    hosts
}

/// The diff, its inventory membership checked against the production
/// inventory and then left out, so that tests compare the changes.
fn diff(repo: &Path, base: &str, target: &str) -> ConfigDiff {
    let mut diff = diff_revisions(
        &repo.join("etc/kayobe"),
        Some("production"),
        base,
        target,
        Some(&secret()),
    )
    .unwrap();
    let membership = std::mem::take(&mut diff.membership);
    assert_eq!(
        membership.hosts.into_iter().collect::<Vec<_>>(),
        production_hosts(repo)
    );
    assert_eq!(
        membership.groups["seed"].iter().collect::<Vec<_>>(),
        ["seed01"]
    );
    diff
}

fn changed_everywhere(hosts: &[String], change: &Change) -> ConfigDiff {
    ConfigDiff {
        hosts: hosts
            .iter()
            .map(|host| HostDiff {
                host: host.clone(),
                changed: vec![change.clone()],
                ..HostDiff::default()
            })
            .collect(),
        ..ConfigDiff::default()
    }
}

#[test]
fn diffs_between_revisions_are_exact_and_never_show_secrets() {
    let dir = history();
    let repo = dir.path();
    let hosts = production_hosts(repo);
    assert!(hosts.len() > 10, "the example has many production hosts");
    let head_before = std::fs::read(repo.join(".git/HEAD")).unwrap();

    // Same revision: nothing.
    let same = diff(repo, "base", "base");
    assert!(!same.has_changes());
    assert_eq!(render::text(&same), "");

    // A plain variable changes on every host.
    assert_eq!(
        diff(repo, "base", "timezone"),
        changed_everywhere(
            &hosts,
            &Change {
                path: vec!["timezone".into()],
                base: Value::from("Europe/London"),
                target: Value::from("Europe/Paris"),
            }
        )
    );

    // Grouped, the change shows once for every host.
    let timezone = diff_revisions(
        &repo.join("etc/kayobe"),
        Some("production"),
        "base",
        "timezone",
        Some(&secret()),
    )
    .unwrap();
    assert_eq!(
        render::text(&timezone),
        format!(
            "# 1 distinct change (0 added, 0 removed, 1 changed) on {n} hosts; groups: all\n\
             @@ all hosts ({n} hosts) @@\n-timezone: \"Europe/London\"\n+timezone: \"Europe/Paris\"\n",
            n = hosts.len()
        )
    );

    // A vaulted secret: changed, with different masks and no value.
    let masker = Masker::new(Some(&secret()));
    let mask = |plain: &str| {
        Value::String(masker.mask_bytes(Value::from(plain).to_json().to_string().as_bytes()))
    };
    let secret_diff = diff(repo, "timezone", "secret");
    assert_eq!(
        secret_diff,
        changed_everywhere(
            &hosts,
            &Change {
                path: vec!["secrets_registry_password".into()],
                base: mask(OLD_REGISTRY_PASSWORD),
                target: mask(NEW_REGISTRY_PASSWORD),
            }
        )
    );
    let text = render::text(&secret_diff);
    let json = render::json(&secret_diff).to_string();
    for output in [&text, &json, &format!("{secret_diff:?}")] {
        assert!(!output.contains(OLD_REGISTRY_PASSWORD));
        assert!(!output.contains(NEW_REGISTRY_PASSWORD));
        assert!(output.contains("<secret sha256:"));
    }
    assert!(text.contains("-secrets_registry_password: \"<secret sha256:"));

    // A group membership: only seed01's group_names.
    assert_eq!(
        diff(repo, "secret", "group"),
        ConfigDiff {
            hosts: vec![HostDiff {
                host: "seed01".into(),
                changed: vec![Change {
                    path: vec!["group_names".into()],
                    base: Value::List(vec![
                        Value::from("container-image-builders"),
                        Value::from("docker"),
                        Value::from("docker-registry"),
                        Value::from("ntp"),
                        Value::from("seed"),
                    ]),
                    target: Value::List(vec![
                        Value::from("canary"),
                        Value::from("container-image-builders"),
                        Value::from("docker"),
                        Value::from("docker-registry"),
                        Value::from("ntp"),
                        Value::from("seed"),
                    ]),
                }],
                ..HostDiff::default()
            }],
            ..ConfigDiff::default()
        }
    );

    // Reading revisions left the working tree and HEAD alone.
    assert_eq!(std::fs::read(repo.join(".git/HEAD")).unwrap(), head_before);
    assert_eq!(
        git(repo, &["status", "--porcelain"]),
        "",
        "working tree untouched"
    );
}

#[test]
fn no_plaintext_secret_survives_loading_a_side() {
    let example = kayobe_automation_tests::example_repo();
    let secret = secret();
    let masker = Masker::new(Some(&secret));
    for environment in ["production", "staging"] {
        let repo = ConfigRepo::open(&example.join("etc/kayobe"), Some(environment)).unwrap();
        let side = Side::load(&repo, Some(&secret), &masker).unwrap();
        let shown = format!("{side:?}");
        // Every scalar of every vaulted vars file of the environment.
        let mut plaintexts = Vec::new();
        for path in repo.vaulted_files().unwrap().all() {
            if let Ok(Value::Map(map)) = kayobe_config::vars_file::load(path, Some(&secret)) {
                for value in map.values() {
                    if let Value::String(text) = value {
                        plaintexts.push(text.clone());
                    }
                }
            }
        }
        assert!(!plaintexts.is_empty());
        for plaintext in &plaintexts {
            assert!(
                !shown.contains(plaintext.as_str()),
                "a secret of {environment} shows"
            );
        }
    }
    // The inline `!vault` value of staging is masked too.
    let staging = ConfigRepo::open(&example.join("etc/kayobe"), Some("staging")).unwrap();
    let side = Side::load(&staging, Some(&secret), &masker).unwrap();
    let vars = side.hosts.values().next().unwrap();
    let Value::String(masked) = &vars["kolla_docker_registry_password"] else {
        panic!("the inline vault value is masked as a string")
    };
    assert!(masked.starts_with("<secret sha256:"));
}

#[test]
fn an_unknown_revision_is_a_clear_error() {
    let dir = history();
    let error = diff_revisions(
        &dir.path().join("etc/kayobe"),
        Some("production"),
        "base",
        "no-such-branch",
        Some(&secret()),
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("no-such-branch"), "{message}");
    assert!(message.contains("not found"), "{message}");
}

const PRODUCTION_GLOBALS: &str = "etc/kayobe/environments/production/globals.yml";

/// `main` at tag `base`, then branch `feature` changing the production
/// timezone, then on `main` a change to `change_on_main`'s file.
fn branches(change_on_main: (&str, &str, &str)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&kayobe_automation_tests::example_repo(), repo);
    git_init(repo);
    commit(repo, "base");
    git(repo, &["checkout", "-q", "-b", "feature"]);
    edit(
        &repo.join(PRODUCTION_GLOBALS),
        "timezone: Europe/London",
        "timezone: Europe/Paris",
    );
    commit(repo, "feature-change");
    git(repo, &["checkout", "-q", "main"]);
    let (file, from, to) = change_on_main;
    edit(&repo.join(file), from, to);
    commit(repo, "main-change");
    dir
}

#[test]
fn a_change_landed_on_the_base_after_the_branch_point_does_not_show() {
    // A kolla globals file: unmerged, it would show in the file diff.
    let dir = branches((
        "etc/kayobe/kolla/globals.yml",
        "opensearch_soft_retention_period_days: 7",
        "opensearch_soft_retention_period_days: 14",
    ));
    let repo = dir.path();
    // Something else changed in the working tree and the index: untouched.
    edit(
        &repo.join("etc/kayobe/kolla/globals.yml"),
        "opensearch_soft_retention_period_days: 14",
        "opensearch_soft_retention_period_days: 21",
    );
    std::fs::write(repo.join("staged.txt"), "staged\n").unwrap();
    git(repo, &["add", "staged.txt"]);
    let status = git(repo, &["status", "--porcelain"]);
    let index = std::fs::read(repo.join(".git/index")).unwrap();
    let objects = git(repo, &["count-objects"]);

    let hosts = production_hosts(repo);
    assert_eq!(
        diff(repo, "main", "feature"),
        changed_everywhere(
            &hosts,
            &Change {
                path: vec!["timezone".into()],
                base: Value::from("Europe/London"),
                target: Value::from("Europe/Paris"),
            }
        )
    );
    assert_eq!(git(repo, &["status", "--porcelain"]), status);
    assert_eq!(std::fs::read(repo.join(".git/index")).unwrap(), index);
    assert_eq!(
        git(repo, &["count-objects"]),
        objects,
        "merged objects stay in memory"
    );
}

#[test]
fn a_merge_conflict_is_an_error_naming_the_paths() {
    let dir = branches((
        PRODUCTION_GLOBALS,
        "timezone: Europe/London",
        "timezone: Europe/Berlin",
    ));
    let error = diff_revisions(
        &dir.path().join("etc/kayobe"),
        Some("production"),
        "main",
        "feature",
        Some(&secret()),
    )
    .unwrap_err();
    let DiffError::MergeConflict { paths, .. } = &error else {
        panic!("a merge conflict, not {error}");
    };
    assert_eq!(paths, &[PRODUCTION_GLOBALS.to_owned()]);
    assert_eq!(
        error.to_string(),
        format!(
            "merging `main` into `feature` conflicts in {PRODUCTION_GLOBALS}; merge or rebase \
             `feature` onto `main` and resolve the conflicts, then diff again"
        )
    );
}

const KEYRING: &str =
    "etc/kayobe/environments/production/kolla/config/glance/ceph.client.glance.keyring";
const PRODUCTION_PASSWORDS: &str = "etc/kayobe/environments/production/kolla/passwords.yml";
const OLD_KEY: &str = "AQDmcQZrAAAAABAA6TfhqMLcskZ0xSHYomMWuQ==";
const NEW_KEY: &str = "AQDmcQZrAAAAABAAnewKeyForTheDiffTest0==";
const OLD_RABBITMQ: &str = "6mO2AjVADS-A6up6NJjsozKF7rNKf_D7";
const NEW_RABBITMQ: &str = "new-rabbitmq-password-for-tests";
const NOVA_KEY: &str = "nova-secret-key-never-listed";

/// Replaces `from` with `to` in the plaintext of the vaulted file at `path`;
/// returns the old and the new plaintext.
fn edit_vaulted(path: &Path, from: &str, to: &str) -> (String, String) {
    let old = vault::decrypt(&std::fs::read(path).unwrap(), &secret())
        .unwrap()
        .plaintext;
    let old = String::from_utf8(old).unwrap();
    assert!(old.contains(from), "{} holds {from}", path.display());
    let new = old.replace(from, to);
    std::fs::write(
        path,
        vault::encrypt(new.as_bytes(), &secret(), None).unwrap(),
    )
    .unwrap();
    (old, new)
}

#[test]
fn vaulted_files_show_as_masks_and_unlisted_ones_warn() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&kayobe_automation_tests::example_repo(), repo);
    git_init(repo);
    commit(repo, "base");
    let (old_keyring, new_keyring) = edit_vaulted(&repo.join(KEYRING), OLD_KEY, NEW_KEY);
    edit_vaulted(&repo.join(PRODUCTION_PASSWORDS), OLD_RABBITMQ, NEW_RABBITMQ);
    let nova_key = repo.join("etc/kayobe/kolla/config/nova/secret.key");
    std::fs::create_dir_all(nova_key.parent().unwrap()).unwrap();
    std::fs::write(
        &nova_key,
        vault::encrypt(NOVA_KEY.as_bytes(), &secret(), None).unwrap(),
    )
    .unwrap();
    commit(repo, "vaulted");

    let masker = Masker::new(Some(&secret()));
    let digest = |plain: &str| masker.mask_bytes(plain.as_bytes());
    let mask = |plain: &str| masker.mask_bytes(Value::from(plain).to_json().to_string().as_bytes());
    let Value::Map(passwords) =
        kayobe_config::vars_file::load(&repo.join(PRODUCTION_PASSWORDS), Some(&secret())).unwrap()
    else {
        panic!("passwords.yml is a map")
    };
    let line = |key: &str| {
        let Value::String(value) = &passwords[key] else {
            panic!("{key} is a string")
        };
        format!("{key}: \"{}\"", mask(value))
    };
    let diff = diff(repo, "base", "vaulted");
    assert_eq!(
        diff,
        ConfigDiff {
            hosts: Vec::new(),
            files: TreeDiff {
                files: vec![
                    FileDiff {
                        path:
                            "environments/production/kolla/config/glance/ceph.client.glance.keyring"
                                .into(),
                        change: FileChange::Changed {
                            unified: format!(
                                "--- a/environments/production/kolla/config/glance/ceph.client.glance.keyring\n\
                                 +++ b/environments/production/kolla/config/glance/ceph.client.glance.keyring\n\
                                 @@ -1 +1 @@\n-{}\n+{}\n",
                                digest(&old_keyring),
                                digest(&new_keyring),
                            ),
                        },
                    },
                    FileDiff {
                        path: "environments/production/kolla/passwords.yml".into(),
                        change: FileChange::Changed {
                            unified: format!(
                                "--- a/environments/production/kolla/passwords.yml\n\
                                 +++ b/environments/production/kolla/passwords.yml\n\
                                 @@ -1,6 +1,6 @@\n {}\n {}\n-rabbitmq_password: \"{}\"\n\
                                 +rabbitmq_password: \"{}\"\n {}\n {}\n {}\n",
                                line("database_password"),
                                line("keystone_admin_password"),
                                mask(OLD_RABBITMQ),
                                mask(NEW_RABBITMQ),
                                line("memcache_secret_key"),
                                line("nova_keystone_password"),
                                line("neutron_keystone_password"),
                            ),
                        },
                    },
                    FileDiff {
                        path: "kolla/config/nova/secret.key".into(),
                        change: FileChange::Added {
                            text: format!("{}\n", digest(NOVA_KEY)),
                        },
                    },
                ],
            },
            warnings: vec![Warning::UnlistedVaultedFile {
                path: "etc/kayobe/kolla/config/nova/secret.key".into(),
            }],
            ..ConfigDiff::default()
        }
    );
    let text = render::text(&diff);
    let json = render::json(&diff).to_string();
    for output in [&text, &json, &format!("{diff:?}")] {
        for plain in [OLD_KEY, NEW_KEY, OLD_RABBITMQ, NEW_RABBITMQ, NOVA_KEY] {
            assert!(!output.contains(plain), "{plain} shows");
        }
    }
}

#[test]
fn an_environment_gaining_a_dependency_changes_its_hosts_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&kayobe_automation_tests::example_repo(), repo);
    git_init(repo);
    commit(repo, "base");
    let common = repo.join("etc/kayobe/environments/common");
    std::fs::create_dir_all(&common).unwrap();
    std::fs::write(common.join("globals.yml"), "---\ncommon_setting: shared\n").unwrap();
    std::fs::write(
        repo.join("etc/kayobe/environments/production/.kayobe-environment"),
        "---\n# Production layers on the common environment.\ndependencies:\n  - common\n",
    )
    .unwrap();
    commit(repo, "dependency");

    let diff = diff(repo, "base", "dependency");
    assert_eq!(
        diff,
        ConfigDiff {
            hosts: production_hosts(repo)
                .into_iter()
                .map(|host| HostDiff {
                    host,
                    added: vec![config_diff::Entry {
                        path: vec!["common_setting".into()],
                        value: Value::from("shared"),
                    }],
                    ..HostDiff::default()
                })
                .collect(),
            files: TreeDiff {
                files: vec![FileDiff {
                    path: "environments/production/.kayobe-environment".into(),
                    change: FileChange::Changed {
                        unified: "--- a/environments/production/.kayobe-environment\n\
                                  +++ b/environments/production/.kayobe-environment\n\
                                  @@ -1,3 +1,4 @@\n ---\n\
                                  -# Production overlays etc/kayobe directly; it layers on no other environment.\n\
                                  -dependencies: []\n\
                                  +# Production layers on the common environment.\n\
                                  +dependencies:\n\
                                  +  - common\n"
                            .into(),
                    },
                }],
            },
            warnings: Vec::new(),
            ..ConfigDiff::default()
        }
    );
}

/// A revision under review whose config.sh runs a command: config-diff never
/// runs it (that would be code execution on the runner), it reads the
/// settings of the checkout it runs in, as kayobe-automation does.
#[test]
fn a_revisions_config_sh_is_never_run() {
    let dir = history();
    let repo = dir.path();
    let marker = repo.join(".git/config-sh-ran");
    let config_sh = repo.join(".automation.conf/config.sh");
    let mut text = std::fs::read_to_string(&config_sh).unwrap();
    text.push_str(&format!("touch '{}'\n", marker.display()));
    std::fs::write(&config_sh, text).unwrap();
    commit(repo, "hostile");
    // The working tree (the trusted checkout) is back at `base`.
    git(repo, &["checkout", "-q", "base"]);
    diff(repo, "base", "hostile");
    assert!(!marker.exists(), "the revision's config.sh ran");
    // The checkout's own config.sh is read: its secret extra path is a
    // secrets file of both sides (masked per key, not a digest).
    let settings = ConfigRepo::open(&repo.join("etc/kayobe"), Some("production"))
        .unwrap()
        .automation_conf()
        .unwrap();
    assert_eq!(
        settings.secret_paths_extra(),
        ["etc/kayobe/environments/production/monitoring-secrets.yml"]
    );
}
