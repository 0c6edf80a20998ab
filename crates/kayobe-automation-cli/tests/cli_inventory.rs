//! `kayobe-automation inventory list` against `ansible-inventory --list` on the
//! example repository, for each environment.

use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{example_repo, tool};
use pretty_assertions::assert_eq;

fn ours(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(example_repo())
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .args(args)
        .output()
        .expect("run kayobe-automation")
}

fn ansible_inventory(sources: &[&Path]) -> Option<serde_json::Value> {
    ansible_inventory_with(sources, &[])
}

fn ansible_inventory_with(sources: &[&Path], args: &[&str]) -> Option<serde_json::Value> {
    let program = tool("ansible-inventory")?;
    // Ansible also reads group_vars next to the playbook directory (the
    // working directory here): run it where there are none.
    let cwd = tempfile::tempdir().unwrap();
    let mut command = Command::new(program);
    command
        .current_dir(cwd.path())
        .env(
            "ANSIBLE_CONFIG",
            example_repo().join("etc/kayobe/ansible.cfg"),
        )
        .env("ANSIBLE_LOCALHOST_WARNING", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False");
    for source in sources {
        command.arg("-i").arg(source);
    }
    let output = command.args(args).arg("--list").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn each_environment_lists_as_ansible_inventory_does() {
    let config = example_repo().join("etc/kayobe");
    for environment in ["production", "staging"] {
        let ours = json(&ours(&[
            "--config-path",
            "etc/kayobe",
            "--environment",
            environment,
            "inventory",
            "list",
        ]));
        let environment_inventory = config
            .join("environments")
            .join(environment)
            .join("inventory");
        let Some(theirs) = ansible_inventory(&[&config.join("inventory"), &environment_inventory])
        else {
            return;
        };
        assert_eq!(ours, theirs, "environment {environment}");
    }
}

#[test]
fn explicit_inventories_replace_the_configured_ones() {
    let base = example_repo().join("etc/kayobe/inventory");
    let ours = json(&ours(&["inventory", "list", "-i", base.to_str().unwrap()]));
    let Some(theirs) = ansible_inventory(&[&base]) else {
        return;
    };
    assert_eq!(ours, theirs);
}

#[test]
fn an_unknown_environment_is_a_clear_error() {
    let output = ours(&[
        "--config-path",
        "etc/kayobe",
        "--environment",
        "qa",
        "inventory",
        "list",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("environment `qa` not found"), "{stderr}");
    assert!(stderr.contains("production, staging"), "{stderr}");
}

#[test]
fn vaulted_group_vars_are_decrypted_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory");
    std::fs::create_dir_all(inventory.join("group_vars")).unwrap();
    std::fs::write(inventory.join("hosts"), "[controllers]\nctl01\n").unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "s3cret\n").unwrap();
    let vars = inventory.join("group_vars/controllers.yml");
    std::fs::write(&vars, "db_password: hunter2\nport: 3306\n").unwrap();
    let password_arg = password.to_str().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .args(["--vault-password-file", password_arg, "vault", "encrypt"])
        .arg(&vars)
        .status()
        .unwrap();
    assert!(status.success());

    let source = inventory.to_str().unwrap();
    let without_password = ours(&["inventory", "list", "-i", source]);
    assert_eq!(without_password.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&without_password.stderr);
    assert!(stderr.contains("no vault password was given"), "{stderr}");

    let ours = json(&ours(&[
        "--vault-password-file",
        password_arg,
        "inventory",
        "list",
        "-i",
        source,
    ]));
    assert_eq!(ours["_meta"]["hostvars"]["ctl01"]["db_password"], "hunter2");
    let Some(theirs) =
        ansible_inventory_with(&[&inventory], &["--vault-password-file", password_arg])
    else {
        return;
    };
    assert_eq!(ours, theirs);
}
