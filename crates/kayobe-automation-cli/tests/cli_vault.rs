//! `kayobe-automation vault …` run as a process on temporary copies.

use std::path::Path;
use std::process::{Command, Output};

const PLAINTEXT: &str = "---\nsecret_key: hunter2-value\n";
const PASSWORD: &str = "cli-test-password";

/// The binary with no vault password in its environment.
fn cli(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(dir)
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("KAYOBE_VAULT_PASSWORD_FILE")
        .env("NO_COLOR", "1");
    command
}

fn success(output: Output) -> Output {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn failure(output: Output) -> String {
    assert!(!output.status.success(), "unexpectedly succeeded");
    String::from_utf8(output.stderr).unwrap()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), format!("{PASSWORD}\n")).unwrap();
    std::fs::write(dir.path().join("secrets.yml"), PLAINTEXT).unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn encrypt_view_decrypt_round_trip_with_a_password_file() {
    let dir = setup();
    let dir = dir.path();
    let args = ["--vault-password-file", "password", "vault"];
    success(
        cli(dir)
            .args(args)
            .args(["encrypt", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert!(read(dir, "secrets.yml").starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));

    let viewed = success(
        cli(dir)
            .args(args)
            .args(["view", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert_eq!(String::from_utf8(viewed.stdout).unwrap(), PLAINTEXT);

    success(
        cli(dir)
            .args(args)
            .args(["decrypt", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert_eq!(read(dir, "secrets.yml"), PLAINTEXT);
}

#[test]
fn the_password_comes_from_the_environment_too() {
    let dir = setup();
    let dir = dir.path();
    success(
        cli(dir)
            .env("KAYOBE_VAULT_PASSWORD_FILE", "password")
            .args(["vault", "encrypt", "--vault-id", "prod", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert!(read(dir, "secrets.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
    let viewed = success(
        cli(dir)
            .env("KAYOBE_VAULT_PASSWORD", format!("{PASSWORD}\n"))
            .args(["vault", "view", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert_eq!(String::from_utf8(viewed.stdout).unwrap(), PLAINTEXT);
}

#[test]
fn a_missing_password_says_how_to_give_one() {
    let dir = setup();
    let stderr = failure(
        cli(dir.path())
            .args(["vault", "view", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert!(stderr.contains("no vault password"), "{stderr}");
    assert!(stderr.contains("--vault-password-file"), "{stderr}");
    assert!(stderr.contains("KAYOBE_VAULT_PASSWORD"), "{stderr}");
}

#[test]
fn a_wrong_password_is_reported_without_secrets_and_leaves_the_file() {
    let dir = setup();
    let dir = dir.path();
    success(
        cli(dir)
            .args([
                "--vault-password-file",
                "password",
                "vault",
                "encrypt",
                "secrets.yml",
            ])
            .output()
            .unwrap(),
    );
    let before = read(dir, "secrets.yml");
    let stderr = failure(
        cli(dir)
            .env("KAYOBE_VAULT_PASSWORD", "not-the-password")
            .args(["vault", "decrypt", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert!(stderr.contains("wrong vault password"), "{stderr}");
    assert!(stderr.contains("secrets.yml"), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("not-the-password"),
        "{stderr}"
    );
    assert_eq!(read(dir, "secrets.yml"), before);
}

#[test]
fn output_goes_to_a_file_or_standard_output_for_one_input_only() {
    let dir = setup();
    let dir = dir.path();
    std::fs::write(dir.join("other.yml"), "x: 1\n").unwrap();
    let args = ["--vault-password-file", "password", "vault"];
    let stderr = failure(
        cli(dir)
            .args(args)
            .args(["encrypt", "--output", "out.yml", "secrets.yml", "other.yml"])
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("`--output` takes one input file"),
        "{stderr}"
    );

    success(
        cli(dir)
            .args(args)
            .args(["encrypt", "--output", "out.yml", "secrets.yml"])
            .output()
            .unwrap(),
    );
    assert_eq!(read(dir, "secrets.yml"), PLAINTEXT, "input untouched");
    let decrypted = success(
        cli(dir)
            .args(args)
            .args(["decrypt", "--output", "-", "out.yml"])
            .output()
            .unwrap(),
    );
    assert_eq!(String::from_utf8(decrypted.stdout).unwrap(), PLAINTEXT);
    let encrypted = success(
        cli(dir)
            .args(args)
            .args(["encrypt", "--output", "-", "other.yml"])
            .output()
            .unwrap(),
    );
    assert!(encrypted.stdout.starts_with(b"$ANSIBLE_VAULT;1.1;AES256\n"));
}

#[test]
fn rekey_changes_the_password_of_every_file() {
    let dir = setup();
    let dir = dir.path();
    std::fs::write(dir.join("other.yml"), "x: 1\n").unwrap();
    std::fs::write(dir.join("new-password"), "brand new\n").unwrap();
    let args = ["--vault-password-file", "password", "vault"];
    success(
        cli(dir)
            .args(args)
            .args(["encrypt", "secrets.yml", "other.yml"])
            .output()
            .unwrap(),
    );
    success(
        cli(dir)
            .args(args)
            .args([
                "rekey",
                "--new-vault-password-file",
                "new-password",
                "--new-vault-id",
                "next",
            ])
            .args(["secrets.yml", "other.yml"])
            .output()
            .unwrap(),
    );
    assert!(read(dir, "other.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;next\n"));
    let viewed = success(
        cli(dir)
            .args([
                "--vault-password-file",
                "new-password",
                "vault",
                "view",
                "secrets.yml",
                "other.yml",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(
        String::from_utf8(viewed.stdout).unwrap(),
        format!("{PLAINTEXT}x: 1\n")
    );
    failure(
        cli(dir)
            .args(args)
            .args(["view", "secrets.yml"])
            .output()
            .unwrap(),
    );
}

#[test]
fn view_of_a_plain_file_says_it_is_not_vaulted() {
    let dir = setup();
    let stderr = failure(
        cli(dir.path())
            .args([
                "--vault-password-file",
                "password",
                "vault",
                "view",
                "secrets.yml",
            ])
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("secrets.yml: not ansible-vault data"),
        "{stderr}"
    );
}

#[test]
fn the_example_repository_views_as_ansible_vault_views_it() {
    let Some(tool) = kayobe_automation_tests::tool("ansible-vault") else {
        return;
    };
    let repo = kayobe_automation_tests::example_repo();
    let file = repo.join("etc/kayobe/secrets.yml");
    let password = repo.join(".vault-password");
    let ours = success(
        cli(&repo)
            .arg("--vault-password-file")
            .arg(&password)
            .args(["vault", "view"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    let theirs = success(
        Command::new(tool)
            .arg("view")
            .arg("--vault-password-file")
            .arg(&password)
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert_eq!(ours.stdout, theirs.stdout);
}
