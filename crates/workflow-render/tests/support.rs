//! Shared by the integration tests: the example's writer config, and the
//! validators run over rendered files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_automation_tests::{example_repo, tool};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::VaultSecret;
use workflow_render::{Platform, Rendered, WriterConfig};

/// The example's writer config for `platform`, as read from the repository.
pub fn example_config(platform: Platform) -> WriterConfig {
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), None).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    WriterConfig::from_repo(&repo, platform, Some(&secret)).unwrap()
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

/// Runs the validators of `platform` over `files` in as few processes as
/// possible; skips (with a note) a validator that is not installed.
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
        // The runner labels are ours (self-hosted); tell actionlint.
        let config = files[0].parent().unwrap().join("../actionlint-config.yml");
        std::fs::write(&config, ACTIONLINT_CONFIG).unwrap();
        run(
            Command::new(actionlint)
                .arg("-config-file")
                .arg(&config)
                .arg("-shellcheck=")
                .arg("-pyflakes=")
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

/// Any label is a self-hosted runner label here.
const ACTIONLINT_CONFIG: &str = "self-hosted-runner:\n  labels:\n    - '*'\n";

/// The directory a test's files go in, for messages.
pub fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
