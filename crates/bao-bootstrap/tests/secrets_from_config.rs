//! The per-environment secret, read from (a copy of) the example repository.

use kayobe_automation_tests::copy_dir;
use std::path::Path;

use bao_bootstrap::{EnvironmentSecrets, SecretsError};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::{self, VaultSecret};

fn password(root: &Path) -> VaultSecret {
    VaultSecret::from_file(&root.join(".vault-password")).unwrap()
}

fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&kayobe_automation_tests::example_repo(), dir.path());
    dir
}

/// The example with production's SSH key overridden by an inline `!vault`
/// value in a later extra-vars file.
fn example_with_inline_vaulted_key() -> tempfile::TempDir {
    let dir = example_copy();
    let key = vault::encrypt(
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nexample\n-----END OPENSSH PRIVATE KEY-----\n",
        &password(dir.path()),
        None,
    )
    .unwrap();
    let indented: String = key.lines().map(|line| format!("  {line}\n")).collect();
    std::fs::write(
        dir.path()
            .join("etc/kayobe/environments/production/ssh-key.yml"),
        format!("kayobe_automation_ssh_private_key: !vault |\n{indented}"),
    )
    .unwrap();
    dir
}

#[test]
fn secret_values_come_from_the_vaulted_configuration() {
    let dir = example_with_inline_vaulted_key();
    let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("production")).unwrap();
    let secret = password(dir.path());
    let secrets = EnvironmentSecrets::from_repo(&repo, &secret).unwrap();
    assert_eq!(secrets.environment(), "production");
    let values = secrets.values();
    let keys: Vec<&str> = values.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "kayobe_automation_ssh_private_key",
            "kayobe_public_openrc",
            "kayobe_tempest_openrc",
            "kayobe_vault_password",
            "registry_password",
            "registry_url",
            "registry_username",
        ]
    );
    let vault_password = std::fs::read_to_string(dir.path().join(".vault-password")).unwrap();
    assert_eq!(values["kayobe_vault_password"], vault_password.trim());
    assert!(values["kayobe_automation_ssh_private_key"].contains("\nexample\n"));
    let openrc = &values["kayobe_tempest_openrc"];
    assert!(
        openrc.starts_with("export OS_AUTH_URL=https://production.cloud.example.com:5000\n")
            && openrc.contains("\nexport OS_PASSWORD=BNHZDBrVO-zc8X6wXFEoJuh8JK4x_zh0\n"),
        "{openrc}"
    );
    assert_eq!(&values["kayobe_public_openrc"], openrc);
    // Production's own registry password wins over the shared one.
    assert_eq!(
        values["registry_password"],
        "97XQLcN0Ft37krK4Z8tN0xiID4QYophk"
    );
    assert_eq!(values["registry_url"], "192.168.33.5:4000");
    assert_eq!(values["registry_username"], "kolla");
    let debug = format!("{secrets:?}");
    assert!(
        !debug.contains("BNHZ") && !debug.contains("97XQ"),
        "{debug}"
    );
}

#[test]
fn missing_variables_are_named_together() {
    let dir = example_copy();
    std::fs::remove_file(
        dir.path()
            .join("etc/kayobe/environments/staging/secrets.yml"),
    )
    .unwrap();
    let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), Some("staging")).unwrap();
    let error = EnvironmentSecrets::from_repo(&repo, &password(dir.path())).unwrap_err();
    assert!(matches!(error, SecretsError::Missing { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "environment `staging` does not define `kayobe_automation_ssh_private_key`, \
         `kayobe_tempest_openrc`: define them (vaulted) in \
         etc/kayobe/environments/staging/secrets.yml or etc/kayobe/secrets.yml"
    );
}

#[test]
fn no_environment_is_an_error() {
    // The example has no `.environment` file, so none is selected.
    let dir = example_copy();
    let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), None).unwrap();
    assert_eq!(repo.environment(), None);
    let error = EnvironmentSecrets::from_repo(&repo, &password(dir.path())).unwrap_err();
    assert!(matches!(error, SecretsError::NoEnvironment), "{error}");
}
