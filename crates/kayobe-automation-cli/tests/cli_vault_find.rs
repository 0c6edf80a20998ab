//! `kayobe-automation vault find` on the example repository.

use std::process::Command;

use kayobe_automation_tests::example_repo;
use pretty_assertions::assert_eq;

/// Runs `vault find` with `args` after it (global options may go anywhere).
fn find(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(example_repo())
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .args(["vault", "find"])
        .args(args)
        .output()
        .expect("run kayobe-automation");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn lists_secrets_first_then_the_other_vaulted_files() {
    assert_eq!(
        find(&["--environment", "production"]),
        "etc/kayobe/environments/production/kolla/passwords.yml
etc/kayobe/environments/production/monitoring-secrets.yml
etc/kayobe/environments/production/secrets.yml
etc/kayobe/environments/staging/kolla/passwords.yml
etc/kayobe/environments/staging/secrets.yml
etc/kayobe/secrets.yml
etc/kayobe/environments/production/kolla/config/glance/ceph.client.glance.keyring
etc/kayobe/kolla/config/octavia/client.cert-and-key.pem
"
    );
}

#[test]
fn json_keeps_the_groups_apart() {
    let json: serde_json::Value = serde_json::from_str(&find(&["--json"])).unwrap();
    // Without an environment, production's extra secret path is not a secret.
    assert_eq!(
        json["others"],
        serde_json::json!([
            "etc/kayobe/environments/production/kolla/config/glance/ceph.client.glance.keyring",
            "etc/kayobe/environments/production/monitoring-secrets.yml",
            "etc/kayobe/kolla/config/octavia/client.cert-and-key.pem",
        ])
    );
    assert_eq!(json["secrets"].as_array().unwrap().len(), 5);
}
