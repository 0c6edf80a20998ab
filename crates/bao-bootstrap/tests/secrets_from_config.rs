//! The per-environment secret, read from (a copy of) the example repository.

use kayobe_automation_tests::copy_dir;
use std::path::Path;

use bao_bootstrap::{EnvironmentSecrets, SecretsError};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::{self, VaultSecret};

fn password(root: &Path) -> VaultSecret {
    VaultSecret::from_file(&root.join(".vault-password")).unwrap()
}

/// The example plus the two variables it lacks: the SSH key as an inline
/// `!vault` value, the openrc as a template over a vaulted secret.
fn example_with_automation_secrets() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&kayobe_automation_tests::example_repo(), dir.path());
    let secret = password(dir.path());
    let key = vault::encrypt(
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nexample\n-----END OPENSSH PRIVATE KEY-----\n",
        &secret,
        None,
    )
    .unwrap();
    let indented: String = key.lines().map(|line| format!("  {line}\n")).collect();
    std::fs::write(
        dir.path()
            .join("etc/kayobe/environments/production/automation.yml"),
        format!(
            "kayobe_automation_ssh_private_key: !vault |\n{indented}\
             kayobe_tempest_openrc: |\n  export OS_USERNAME=admin\n  export OS_PASSWORD={{{{ secrets_os_admin_password }}}}\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn secret_values_come_from_the_vaulted_configuration() {
    let dir = example_with_automation_secrets();
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
    let openrc = "export OS_USERNAME=admin\nexport OS_PASSWORD=BNHZDBrVO-zc8X6wXFEoJuh8JK4x_zh0\n";
    assert_eq!(values["kayobe_tempest_openrc"], openrc);
    assert_eq!(values["kayobe_public_openrc"], openrc);
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
    let example = kayobe_automation_tests::example_repo();
    let repo = ConfigRepo::open(&example.join("etc/kayobe"), Some("staging")).unwrap();
    let error = EnvironmentSecrets::from_repo(&repo, &password(&example)).unwrap_err();
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
    let dir = example_with_automation_secrets();
    let repo = ConfigRepo::open(&dir.path().join("etc/kayobe"), None).unwrap();
    assert_eq!(repo.environment(), None);
    let error = EnvironmentSecrets::from_repo(&repo, &password(dir.path())).unwrap_err();
    assert!(matches!(error, SecretsError::NoEnvironment), "{error}");
}
