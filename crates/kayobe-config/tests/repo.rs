//! The example repository opened as Kayobe opens it: layers, extra-vars files,
//! inventories, vaulted files and the merged extra vars.

use std::path::{Path, PathBuf};

use kayobe_automation_tests::example_repo;
use kayobe_config::repo::{ConfigRepo, RepoError};
use kayobe_config::vars_file::VarsFileError;
use kayobe_config::vault::VaultSecret;
use kayobe_config::{Value, yaml};
use pretty_assertions::assert_eq;

fn open(environment: Option<&str>) -> ConfigRepo {
    ConfigRepo::open(&example_repo().join("etc/kayobe"), environment).unwrap()
}

fn secret() -> VaultSecret {
    VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap()
}

/// `paths` relative to the example repository, for readable assertions.
fn relative(paths: &[PathBuf]) -> Vec<String> {
    let root = example_repo().canonicalize().unwrap();
    paths
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect()
}

#[test]
fn production_layers_extra_vars_files_and_inventories() {
    let repo = open(Some("production"));
    assert_eq!(repo.environment(), Some("production"));
    assert_eq!(
        repo.root(),
        example_repo().canonicalize().unwrap().as_path()
    );
    assert_eq!(
        relative(&repo.extra_vars_files().unwrap()),
        [
            "etc/kayobe/globals.yml",
            "etc/kayobe/kolla.yml",
            "etc/kayobe/networks.yml",
            "etc/kayobe/overcloud.yml",
            "etc/kayobe/secrets.yml",
            "etc/kayobe/seed.yml",
            "etc/kayobe/environments/production/globals.yml",
            "etc/kayobe/environments/production/monitoring-secrets.yml",
            "etc/kayobe/environments/production/secrets.yml",
        ]
    );
    assert_eq!(
        relative(&repo.inventories()),
        [
            "etc/kayobe/inventory",
            "etc/kayobe/environments/production/inventory"
        ]
    );
}

#[test]
fn without_an_environment_only_the_base_is_read() {
    let repo = open(None);
    assert_eq!(repo.environment(), None);
    assert_eq!(relative(&repo.inventories()), ["etc/kayobe/inventory"]);
    assert_eq!(repo.environments().unwrap(), ["production", "staging"]);
}

#[test]
fn vaulted_files_split_secrets_from_the_rest() {
    let files = open(Some("production")).vaulted_files().unwrap();
    assert_eq!(
        relative(&files.secrets),
        [
            "etc/kayobe/environments/production/kolla/passwords.yml",
            "etc/kayobe/environments/production/monitoring-secrets.yml",
            "etc/kayobe/environments/production/secrets.yml",
            "etc/kayobe/environments/staging/kolla/passwords.yml",
            "etc/kayobe/environments/staging/secrets.yml",
            "etc/kayobe/secrets.yml",
        ]
    );
    assert_eq!(
        relative(&files.others),
        [
            "etc/kayobe/environments/production/kolla/config/glance/ceph.client.glance.keyring",
            "etc/kayobe/kolla/config/octavia/client.cert-and-key.pem",
        ]
    );
    // Every file found opens with the example's password.
    for path in files.all() {
        kayobe_config::vault::view_file(path, &secret()).unwrap();
    }
}

#[test]
fn extra_vars_merge_layers_and_decrypt_vaulted_files() {
    let repo = open(Some("staging"));
    let vars = repo.extra_vars(Some(&secret())).unwrap();
    // The environment's globals.yml overrides the base's, key by key.
    let base = yaml::load_file(&example_repo().join("etc/kayobe/globals.yml")).unwrap();
    let staging =
        yaml::load_file(&example_repo().join("etc/kayobe/environments/staging/globals.yml"))
            .unwrap();
    for (key, value) in staging.as_map().unwrap() {
        assert_eq!(vars.get(key), Some(value), "{key}");
    }
    for (key, value) in base.as_map().unwrap() {
        if !staging.as_map().unwrap().contains_key(key) {
            assert_eq!(vars.get(key), Some(value), "{key}");
        }
    }
    // Inline `!vault` values stay encrypted until asked for.
    assert!(matches!(
        vars.get("kolla_docker_registry_password"),
        Some(Value::Vault(_))
    ));
}

#[test]
fn vaulted_extra_vars_need_a_password() {
    let error = open(Some("production")).extra_vars(None).unwrap_err();
    assert!(
        matches!(&error, RepoError::VarsFile(VarsFileError::NeedsVaultPassword(path, _)) if path.ends_with("etc/kayobe/secrets.yml")),
        "{error}"
    );
    // Front ends find the missing password in the chain, to say how to give it.
    let source = std::error::Error::source(&error).expect("the missing password is the source");
    assert!(
        source.is::<kayobe_config::vault::NoVaultPassword>(),
        "{source}"
    );
}

#[test]
fn the_automation_conf_follows_the_environment() {
    let production = open(Some("production")).automation_conf().unwrap();
    assert_eq!(production.tempest_concurrency().unwrap(), Some(8));
    let staging = open(Some("staging")).automation_conf().unwrap();
    assert_eq!(staging.tempest_concurrency().unwrap(), Some(2));
    let overrides = production
        .scalar("KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES")
        .unwrap();
    assert!(
        Path::new(overrides).is_file(),
        "{overrides} should name the example's overrides file"
    );
}

#[test]
fn the_files_defining_a_hosts_variables_highest_precedence_first() {
    let repo = open(Some("production"));
    let inventory = repo.inventory(Some(&secret())).unwrap();
    let extra = {
        let mut files = repo.extra_vars_files().unwrap();
        files.reverse();
        relative(&files)
    };
    let files = relative(&repo.host_variable_files(&inventory, "runner01").unwrap());
    assert_eq!(files[..extra.len()], extra[..]);
    assert_eq!(
        files[extra.len()..],
        [
            "etc/kayobe/inventory/host_vars/runner01",
            // Of two groups at one depth, the later name wins.
            "etc/kayobe/inventory/group_vars/gitlab-runners/runners.yml",
            "etc/kayobe/inventory/group_vars/github-runners/runners.yml",
        ]
    );
    let host = inventory
        .group_hosts("compute")
        .unwrap()
        .first()
        .unwrap()
        .to_string();
    let files = relative(&repo.host_variable_files(&inventory, &host).unwrap());
    // The environment's inventory comes after the base one, so it wins.
    assert_eq!(
        files[extra.len()..],
        [
            "etc/kayobe/environments/production/inventory/group_vars/compute/nova",
            "etc/kayobe/inventory/group_vars/compute/network-interfaces",
        ]
    );
    assert!(matches!(
        repo.host_variable_files(&inventory, "no-such-host"),
        Err(RepoError::UnknownHost(_))
    ));
}
