//! `kayobe-automation workflows render` on a copy of the example repository:
//! writing, `--check`, `--prune`, `--list-secrets`, and a bad writer config.

use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{copy_dir, example_repo};

/// A copy of the example repository to write into.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    dir
}

fn ours(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .arg("--vault-password-file")
        .arg(repo.join(".vault-password"))
        .args(["workflows", "render"])
        .args(args)
        .output()
        .expect("run kayobe-automation")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn render_check_and_prune_github() {
    let repo = example_copy();
    let workflows = repo.path().join(".github/workflows");

    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(!workflows.exists(), "--check writes nothing");

    let first = ours(repo.path(), &["--platform", "github"]);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        stdout(&first)
            .lines()
            .filter(|l| l.starts_with("wrote: "))
            .count(),
        23
    );
    assert!(workflows.join("run-overcloud-service-deploy.yml").is_file());

    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // Disable an operation in the writer config: its file goes stale.
    let writer = repo
        .path()
        .join("etc/kayobe/inventory/group_vars/github-writer/writer.yml");
    let mut text = std::fs::read_to_string(&writer).unwrap();
    text.push_str("github_operations:\n  seed-vm-provision: false\n");
    std::fs::write(&writer, text).unwrap();
    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("stale (its operation is disabled; --prune removes it): .github/workflows/run-seed-vm-provision.yml"));
    let prune = ours(repo.path(), &["--platform", "github", "--prune"]);
    assert!(prune.status.success());
    assert!(!workflows.join("run-seed-vm-provision.yml").exists());
    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn gitlab_pipeline_goes_to_the_repository_root() {
    let repo = example_copy();
    let output = ours(repo.path(), &["--platform", "gitlab"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "wrote: .gitlab-ci.yml\n");
    assert!(repo.path().join(".gitlab-ci.yml").is_file());
}

#[test]
fn out_directory_replaces_the_configured_one() {
    let repo = example_copy();
    let out = tempfile::tempdir().unwrap();
    let output = ours(
        repo.path(),
        &[
            "--platform",
            "github",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(out.path().join("run-tempest.yml").is_file());
    assert!(!repo.path().join(".github").exists());
}

#[test]
fn list_secrets_prints_names_not_values() {
    let repo = example_copy();
    let output = ours(repo.path(), &["--platform", "github", "--list-secrets"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains("secret\tPRODUCTION_KAYOBE_VAULT_PASSWORD\tproduction\n"),
        "{text}"
    );
    assert!(
        text.contains("secret\tSTAGING_TEMPEST_OPENRC\tstaging\n"),
        "{text}"
    );
    // The shared registry is the writer config's (URL and user written in
    // the workflows); only its password is a secret.
    assert!(!text.contains("REGISTRY_URL"), "{text}");
    assert!(text.contains("secret\tREGISTRY_PASSWORD\t-\n"), "{text}");
    assert!(!repo.path().join(".github").exists());
}

#[test]
fn bad_writer_config_is_located_and_nothing_is_written() {
    let repo = example_copy();
    let writer = repo
        .path()
        .join("etc/kayobe/inventory/group_vars/github-writer/writer.yml");
    let mut text = std::fs::read_to_string(&writer).unwrap();
    let line = text.lines().count() + 2;
    text.push_str("github_operations:\n  overcloud-deploy: false\n");
    std::fs::write(&writer, text).unwrap();
    let output = ours(repo.path(), &["--platform", "github"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "writer.yml:{line}:3: unknown operation `overcloud-deploy`"
        )),
        "{stderr}"
    );
    assert!(!repo.path().join(".github").exists());
}

#[test]
fn a_typo_in_the_writer_config_is_a_located_warning_and_an_error_with_check() {
    let repo = example_copy();
    let writer = repo
        .path()
        .join("etc/kayobe/inventory/group_vars/github-writer/writer.yml");
    let mut text = std::fs::read_to_string(&writer).unwrap();
    text.push_str("github_timeoutt: 30\n");
    std::fs::write(&writer, &text).unwrap();
    let line = text.lines().count();
    let output = ours(repo.path(), &["--platform", "github"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {}:{line}:1: `github_timeoutt` is not a variable of the collection or of kayobe-automation",
            writer.display()
        )),
        "{stderr}"
    );
    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(2), "{check:?}");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("the writer config has 1 warning(s)"),
        "{stderr}"
    );
}

#[test]
fn an_unreviewed_deploy_is_a_located_warning_that_check_accepts() {
    let repo = example_copy();
    let writer = repo
        .path()
        .join("etc/kayobe/inventory/group_vars/github-writer/writer.yml");
    let mut text = std::fs::read_to_string(&writer).unwrap();
    text.push_str("github_operations:\n  overcloud-service-deploy:\n    reviewed_only: false\n");
    std::fs::write(&writer, &text).unwrap();
    let line = text.lines().count();
    let warning = format!(
        "warning: {}:{line}:5: `github_operations.overcloud-service-deploy.reviewed_only` lets `overcloud-service-deploy` change the cloud from any branch, without the deployment environment's reviewers",
        writer.display()
    );
    let output = ours(repo.path(), &["--platform", "github"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains(&warning));
    let deploy = std::fs::read_to_string(
        repo.path()
            .join(".github/workflows/run-overcloud-service-deploy.yml"),
    )
    .unwrap();
    assert!(!deploy.contains("environment: "), "{deploy}");
    let check = ours(repo.path(), &["--platform", "github", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stderr).contains(&warning));
}
