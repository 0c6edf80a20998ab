//! The README's command-line walkthrough, run as written: every `sh` block
//! that runs the CLI is run by bash, in a copy of the example, with
//! `cargo run … --` standing for the built binary, a real OpenBao server at
//! `$BAO_ADDR` and a stand-in for GitLab's key endpoint at `$GITLAB_URL`.

#[path = "../../bao-bootstrap/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use kayobe_automation_tests::{copy_dir, example_repo, tool, workspace_root};
use support::BaoServer;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How the README runs the CLI.
const CARGO_RUN: [&str; 2] = [
    "cargo run -q -p kayobe-automation-cli --",
    "cargo run -p kayobe-automation-cli --",
];

/// The README's `sh` blocks that run the CLI, each as the lines bash runs:
/// `cd` and the CLI's commands (other tools, such as `cargo xtask`, are
/// tested elsewhere).
fn walkthrough_blocks(readme: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in readme.lines() {
        match (&mut block, line.trim_end()) {
            (None, "```sh") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                if lines.iter().any(|line| !line.starts_with("cd ")) {
                    blocks.push(std::mem::take(lines));
                }
                block = None;
            }
            (Some(lines), line) => {
                if line.starts_with("cd ") || CARGO_RUN.iter().any(|run| line.starts_with(run)) {
                    lines.push(line.to_owned());
                }
            }
            (None, _) => {}
        }
    }
    blocks
}

#[tokio::test(flavor = "multi_thread")]
async fn every_walkthrough_command_runs_on_the_example() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let Some(bao) = tool("bao") else {
        return;
    };
    let gitlab = MockServer::start().await;
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../../bao-bootstrap/tests/fixtures/jwks.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/oauth/discovery/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&gitlab)
        .await;

    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let blocks = walkthrough_blocks(&readme);
    let commands: usize = blocks
        .iter()
        .map(|block| block.iter().filter(|line| !line.starts_with("cd ")).count())
        .sum();
    assert!(
        commands >= 6,
        "the README's walkthrough lost commands: {blocks:?}"
    );

    // The README's paths are relative to the workspace root.
    let root = tempfile::tempdir().unwrap();
    let example = root.path().join("examples/kayobe-config");
    copy_dir(&example_repo(), &example);
    let home = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_kayobe-automation");
    for block in &blocks {
        let script: String = block
            .iter()
            .map(|line| {
                let line = CARGO_RUN.iter().fold(line.clone(), |line, run| {
                    line.replace(run, &format!("'{binary}'"))
                });
                format!("{line}\n")
            })
            .collect();
        let output = Command::new("bash")
            .args(["--noprofile", "--norc", "-euo", "pipefail", "-c", &script])
            .current_dir(root.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("BAO_ADDR", server.addr())
            .env("GITLAB_URL", gitlab.uri())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the README's block failed:\n{script}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.stdout.is_empty(), "{script} printed nothing");
    }

    // What the walkthrough's bootstrap stored: both environments' secrets,
    // read with the root token from the (vaulted) keys file.
    let keys_file = example.join("vault/kayobe-automation-keys.json");
    assert_mode_0600(&keys_file);
    let view = Command::new(binary)
        .current_dir(&example)
        .args(["--vault-password-file", ".vault-password", "vault", "view"])
        .arg(&keys_file)
        .output()
        .unwrap();
    assert!(view.status.success());
    let keys: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
    for environment in ["production", "staging"] {
        let read = Command::new(&bao)
            .args(["read", "-format=json"])
            .arg(format!("kayobe-automation/{environment}"))
            .env("BAO_ADDR", server.addr())
            .env("BAO_TOKEN", keys["root_token"].as_str().unwrap())
            .output()
            .unwrap();
        assert!(
            read.status.success(),
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        let secret: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        let key = secret["data"]["kayobe_automation_ssh_private_key"]
            .as_str()
            .unwrap();
        assert!(
            key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
            "{environment}"
        );
        let openrc = secret["data"]["kayobe_tempest_openrc"].as_str().unwrap();
        assert!(
            openrc.contains(&format!(
                "export OS_AUTH_URL=https://{environment}.cloud.example.com:5000\n"
            )) && !openrc.contains("{{"),
            "{environment}: {openrc}"
        );
    }
}

fn assert_mode_0600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

#[test]
fn blocks_are_found_as_bash_would_run_them() {
    let readme = "text\n```sh\ncd x\ncargo run -q -p kayobe-automation-cli -- a\ncargo xtask test\n```\n\
                  ```rust\ncargo run -p kayobe-automation-cli -- no\n```\n```sh\ncd only\n```\n";
    assert_eq!(
        walkthrough_blocks(readme),
        [["cd x", "cargo run -q -p kayobe-automation-cli -- a"]]
    );
}
