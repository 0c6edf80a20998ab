//! The two sides of the GitLab secrets agree: every OpenBao key a rendered
//! pipeline reads is one `bao bootstrap` writes for that environment.

use kayobe_automation::bao::EnvironmentSecrets;
use kayobe_automation::config::repo::ConfigRepo;
use kayobe_automation::config::vault::VaultSecret;
use kayobe_automation::workflows::{Platform, ReferenceKind, Templates, WriterConfig, render};
use kayobe_automation_tests::{copy_dir, example_repo};

#[test]
fn the_pipeline_reads_the_keys_bao_bootstrap_writes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    let config = dir.path().join("etc/kayobe");
    // The variables `bao bootstrap` requires of each environment.
    std::fs::write(
        config.join("environments/production/automation-secrets.yml"),
        "kayobe_automation_ssh_private_key: a-key\nkayobe_tempest_openrc: an-openrc\n",
    )
    .unwrap();
    let secret = VaultSecret::from_file(&dir.path().join(".vault-password")).unwrap();
    let repo = ConfigRepo::open(&config, Some("production")).unwrap();
    let written = EnvironmentSecrets::from_repo(&repo, &secret).unwrap();
    let writer = WriterConfig::from_repo(&repo, Platform::Gitlab, Some(&secret)).unwrap();
    let rendered = render(&writer, &Templates::embedded()).unwrap();
    let read: Vec<&str> = rendered
        .references
        .iter()
        .filter(|reference| {
            reference.kind == ReferenceKind::OpenBaoKey
                && reference.environment.as_deref() == Some("production")
        })
        .map(|reference| reference.name.as_str())
        .collect();
    assert_eq!(
        read,
        [
            "kayobe_automation_ssh_private_key",
            "kayobe_tempest_openrc",
            "kayobe_vault_password"
        ]
    );
    for key in read {
        assert!(written.values().contains_key(key), "{key} is not written");
    }
    // And each is exported under the name kayobe-automation reads.
    let pipeline = &rendered.files[0].contents;
    for pair in [
        "KAYOBE_VAULT_PASSWORD=kayobe_vault_password",
        "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY=kayobe_automation_ssh_private_key",
        "TEMPEST_OPENRC=kayobe_tempest_openrc",
    ] {
        assert!(pipeline.contains(pair), "{pair}");
    }
}
