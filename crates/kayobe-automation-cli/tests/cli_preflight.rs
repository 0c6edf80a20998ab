//! `kayobe-automation preflight` and `image push` from the command line:
//! every failing check is one `FAIL` line and the exit status is 1; a
//! registry user without a password stops `image push` before Docker.

use std::path::Path;
use std::process::Output;

use kayobe_automation_tests::{copy_dir, example_repo};

fn kayobe_automation(repo: &Path, args: &[&str], vault_password: &str) -> Output {
    // Beside the repository, never in it: the example is shared.
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("vault-password");
    std::fs::write(&password_file, vault_password).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("REGISTRY_URL")
        .env_remove("REGISTRY_USERNAME")
        .env_remove("REGISTRY_PASSWORD")
        .env_remove("REGISTRY_PASSWORD_FILE")
        .env_remove("KAYOBE_IMAGE")
        .env("KAYOBE_ENVIRONMENT", "production")
        .env("KAYOBE_VAULT_PASSWORD_FILE", &password_file)
        .args(args)
        .output()
        .unwrap()
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn each_failing_check_is_one_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    let registry = format!("127.0.0.1:{}", closed_port());
    let output = kayobe_automation(
        dir.path(),
        &[
            "preflight",
            "--registry",
            &registry,
            "--registry-username",
            "ci",
        ],
        "not-the-vault-password",
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let fails: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(fails[0].contains("Dockerfile"), "{stdout}");
    assert!(fails[1].contains(&registry), "{stdout}");
    assert!(
        fails
            .iter()
            .any(|l| l.contains("secrets.yml") && l.contains("vault rekey")),
        "{stdout}"
    );
    assert!(
        fails.last().unwrap().contains("REGISTRY_PASSWORD"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("{} check(s) failed\n", fails.len())),
        "{stdout}"
    );
}

#[test]
fn image_push_without_a_password_says_where_to_put_it() {
    let output = kayobe_automation(
        &example_repo(),
        &[
            "image",
            "push",
            "--tag",
            &format!("127.0.0.1:{}/kayobe:1", closed_port()),
            "--registry-username",
            "ci",
        ],
        "unused",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no registry password") && stderr.contains("REGISTRY_PASSWORD"),
        "{stderr}"
    );
}
