//! Shared by the integration tests: the example's writer config, and the
//! validators run over rendered files.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use kayobe_automation_tests::{example_repo, tool};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::VaultSecret;
use kayobe_config::{Map, Value};
use workflow_render::{Platform, Rendered, WriterConfig};

/// The example's writer host variables for `platform`, and the files they
/// come from (highest precedence first) and the repository's environments.
pub fn example_variables(platform: Platform) -> (Map, Vec<PathBuf>, Vec<String>) {
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), None).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    let inventory = repo.inventory(Some(&secret)).unwrap();
    let vars = repo
        .host_variables(&inventory, "localhost", Some(&secret))
        .unwrap();
    let group = example_repo()
        .join("etc/kayobe/inventory/group_vars")
        .join(platform.writer_group())
        .join("writer.yml");
    (vars, vec![group], repo.environments().unwrap())
}

/// The example's writer config for `platform`, as read from the repository.
pub fn example_config(platform: Platform) -> WriterConfig {
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), None).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    WriterConfig::from_repo(&repo, platform, Some(&secret)).unwrap()
}

/// The example's writer config with only `production` (one environment).
pub fn example_single_config(platform: Platform) -> WriterConfig {
    let (mut vars, files, environments) = example_variables(platform);
    vars.insert(
        format!("{}_kayobe_environments", platform.prefix()),
        Value::List(vec![Value::from("production")]),
    );
    if platform == Platform::Github {
        vars.insert("github_environment_selector".into(), Value::from("single"));
    }
    WriterConfig::from_variables(platform, &vars, &files, Some(&environments)).unwrap()
}

/// Every file of a render, one after another, for a snapshot.
pub fn concatenated(rendered: &Rendered) -> String {
    let mut text = String::new();
    for file in &rendered.files {
        text.push_str(&format!("### {}\n{}", file.path.display(), file.contents));
    }
    text
}

/// Writes every file of every render under a fresh directory, one
/// sub-directory per render, and returns the directory and the files.
pub fn write_all(renders: &[Rendered]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (index, rendered) in renders.iter().enumerate() {
        for file in &rendered.files {
            let path = dir.path().join(index.to_string()).join(&file.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &file.contents).unwrap();
            files.push(path);
        }
    }
    (dir, files)
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the validators of `platform` over `files`, one process per
/// validator; skips (with a note) a validator that is not installed.
pub fn validate(platform: Platform, files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let schema = match platform {
        Platform::Github => "vendor.github-workflows",
        Platform::Gitlab => "vendor.gitlab-ci",
    };
    if let Some(check) = tool("check-jsonschema") {
        run(
            Command::new(check)
                .args(["--builtin-schema", schema])
                .args(files),
            "check-jsonschema",
        );
    }
    if platform == Platform::Gitlab {
        return;
    }
    if let Some(actionlint) = tool("actionlint") {
        let config = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(config.path(), ACTIONLINT_CONFIG).unwrap();
        run(
            Command::new(actionlint)
                .arg("-config-file")
                .arg(config.path())
                .args(files),
            "actionlint",
        );
    }
    if let Some(zizmor) = tool("zizmor") {
        run(
            Command::new(zizmor)
                .args(["--offline", "--no-progress", "--min-severity", "medium"])
                .args(files)
                .env("NO_COLOR", "1"),
            "zizmor",
        );
    }
}

/// Runner labels are the operator's own (self-hosted runners); tell
/// actionlint which labels are ours so it checks the rest.
const ACTIONLINT_CONFIG: &str = "self-hosted-runner:\n  labels:\n    - kayobe\n    - openstack\n    - production\n    - staging\n    - 'env-*'\n    - 'label-*'\n";
