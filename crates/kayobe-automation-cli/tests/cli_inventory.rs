//! `kayobe-automation inventory list` against `ansible-inventory --list` on the
//! example repository, for each environment.

use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{example_repo, tool};
use pretty_assertions::assert_eq;

fn ours(args: &[&str]) -> Output {
    // The same ansible.cfg the oracle runs with (`--inventory` alone does
    // not find the example's, as ansible-inventory would not).
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(example_repo())
        .env(
            "ANSIBLE_CONFIG",
            example_repo().join("etc/kayobe/ansible.cfg"),
        )
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

/// `ansible-inventory --list` of `sources`, run in `cwd` with exactly the
/// environment `env` (plus PATH), so it finds the ansible.cfg Ansible would.
fn ansible_inventory_in(
    cwd: &Path,
    sources: &[&Path],
    env: &[(&str, &str)],
) -> Option<serde_json::Value> {
    let program = tool("ansible-inventory")?;
    let mut command = Command::new(program);
    command
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .envs(env.iter().copied());
    for source in sources {
        command.arg("-i").arg(source);
    }
    let output = command.arg("--list").output().unwrap();
    Some(json(&output))
}

fn ours_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    json(
        &Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", cwd)
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A case: its name, the ansible.cfg file to write, the environment.
type Case<'a> = (&'a str, Option<&'a str>, Vec<(&'a str, &'a str)>);

/// Without a Kayobe ansible.cfg, `inventory list --inventory DIR` uses the
/// ansible.cfg ansible-inventory finds (none, the working directory's,
/// `~/.ansible.cfg`, `ANSIBLE_CONFIG`) and its `inject_facts_as_vars`, as
/// ansible-inventory does; so does the environment variable.
#[test]
fn inventory_list_reads_the_ansible_cfg_ansible_would() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let inventory = example_repo().join("etc/kayobe/inventory");
    let args = [
        "inventory",
        "list",
        "--inventory",
        inventory.to_str().unwrap(),
    ];
    let no_facts = "[defaults]\ninject_facts_as_vars = False ; as Kayobe\n";
    let other = cwd.join("other.cfg");
    std::fs::write(&other, no_facts).unwrap();
    let other = other.to_str().unwrap().to_owned();
    let cases: [Case<'_>; 5] = [
        ("no ansible.cfg anywhere", None, vec![]),
        ("the working directory's", Some("ansible.cfg"), vec![]),
        ("the home directory's", Some(".ansible.cfg"), vec![]),
        (
            "ANSIBLE_CONFIG",
            None,
            vec![("ANSIBLE_CONFIG", other.as_str())],
        ),
        (
            "the environment variable",
            None,
            vec![("ANSIBLE_INJECT_FACT_VARS", "false")],
        ),
    ];
    for (case, file, env) in cases {
        for name in ["ansible.cfg", ".ansible.cfg"] {
            let _ = std::fs::remove_file(cwd.join(name));
        }
        if let Some(name) = file {
            std::fs::write(cwd.join(name), no_facts).unwrap();
        }
        let Some(theirs) = ansible_inventory_in(cwd, &[&inventory], &env) else {
            return;
        };
        let ours = ours_in(cwd, &args, &env);
        assert_eq!(ours, theirs, "{case}");
        let has_local = ours["_meta"]["hostvars"]
            .as_object()
            .unwrap()
            .values()
            .any(|vars| vars.get("ansible_local").is_some());
        assert_eq!(has_local, case != "no ansible.cfg anywhere", "{case}");
    }
}

/// Kayobe exports ANSIBLE_CONFIG as the environment's ansible.cfg, else the
/// configuration's: an environment's own file wins.
#[test]
fn an_environments_ansible_cfg_wins_over_the_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    kayobe_automation_tests::copy_dir(&example_repo(), &repo);
    let config = repo.join("etc/kayobe");
    std::fs::write(
        config.join("environments/staging/ansible.cfg"),
        "[defaults]\ninject_facts_as_vars = True\n",
    )
    .unwrap();
    let sources = |env: &str| {
        [
            config.join("inventory"),
            config.join("environments").join(env).join("inventory"),
        ]
    };
    for (environment, cfg) in [
        ("staging", config.join("environments/staging/ansible.cfg")),
        ("production", config.join("ansible.cfg")),
    ] {
        let [base, overlay] = sources(environment);
        let Some(theirs) = ansible_inventory_in(
            dir.path(),
            &[&base, &overlay],
            &[("ANSIBLE_CONFIG", cfg.to_str().unwrap())],
        ) else {
            return;
        };
        let ours = ours_in(
            &repo,
            &["--environment", environment, "inventory", "list"],
            &[],
        );
        assert_eq!(ours, theirs, "{environment}");
    }
    // A setting whose effect is not reproduced is an error naming the file.
    std::fs::write(
        config.join("ansible.cfg"),
        "[defaults]\nhash_behaviour = merge\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(&repo)
        .env_remove("ANSIBLE_CONFIG")
        .env_remove("ANSIBLE_HASH_BEHAVIOUR")
        .args(["--environment", "production", "inventory", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("hash_behaviour = merge"), "{stderr}");
    assert!(stderr.contains("ansible.cfg"), "{stderr}");
}
