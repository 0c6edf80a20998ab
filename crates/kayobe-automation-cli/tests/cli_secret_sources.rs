//! Every command reads a secret from a file or an environment variable by
//! the same rules (`kayobe_stdx::read_secret`): surrounding newlines dropped,
//! an empty variable not given, an empty file an error naming it, a token
//! that is not text an error naming its variable. Each test is a behaviour
//! the commands used to disagree on.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{copy_dir, example_repo};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The variables a caller's environment may hold for these commands.
const SECRET_ENV: [&str; 9] = [
    "KAYOBE_VAULT_PASSWORD",
    "KAYOBE_VAULT_PASSWORD_FILE",
    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
    "REGISTRY_PASSWORD",
    "REGISTRY_PASSWORD_FILE",
    "REGISTRY_USERNAME",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "KAYOBE_AUTOMATION_API_URL",
];

/// The command in `dir`, production environment, with none of the caller's
/// secrets and `env` set.
fn ours(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(dir)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env("KAYOBE_ENVIRONMENT", "production")
        .env("NO_COLOR", "1");
    for name in SECRET_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).args(args);
    command.output().unwrap()
}

fn failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

/// `KAYOBE_VAULT_PASSWORD=""` was "is empty" while an empty token or SSH
/// key variable was not given: now every empty variable is not given, as a
/// CI platform passes a secret that is not defined.
#[test]
fn an_empty_variable_is_not_given() {
    let empty = OsStr::new("\n");
    let stderr = failure(&ours(
        &example_repo(),
        &["vault", "view", "etc/kayobe/secrets.yml"],
        &[("KAYOBE_VAULT_PASSWORD", empty)],
    ));
    assert!(stderr.contains("no vault password was given"), "{stderr}");
    let stderr = failure(&ours(
        &example_repo(),
        &["image", "push", "--registry-username", "ci"],
        &[("REGISTRY_PASSWORD", empty)],
    ));
    assert!(
        stderr.contains("no registry password was given: set REGISTRY_PASSWORD"),
        "{stderr}"
    );
}

/// An empty SSH key file was used as the key, an empty registry password
/// file was an error: now every empty file is an error naming it.
#[test]
fn an_empty_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    let pipeline = dir.path().join(".automation/pipeline");
    std::fs::create_dir_all(&pipeline).unwrap();
    std::fs::write(
        pipeline.join("seed-host-package-update.sh"),
        "#!/bin/bash\n",
    )
    .unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\r\n").unwrap();
    let file = empty.to_str().unwrap();
    let stderr = failure(&ours(
        dir.path(),
        &["run", "seed-host-package-update", "--ssh-key", file],
        &[],
    ));
    assert!(
        stderr.contains(&format!("SSH private key: {file} is empty")),
        "{stderr}"
    );
    let stderr = failure(&ours(
        dir.path(),
        &[
            "image",
            "push",
            "--registry-username",
            "ci",
            "--registry-password-file",
            file,
        ],
        &[],
    ));
    assert!(
        stderr.contains(&format!("registry password: {file} is empty")),
        "{stderr}"
    );
}

/// A token that was not UTF-8 was taken as no token at all; now it is an
/// error naming its variable.
#[test]
fn a_token_that_is_not_text_is_named() {
    let stderr = failure(&ours(
        &example_repo(),
        &[
            "--vault-password-file",
            ".vault-password",
            "platform",
            "settings",
            "check",
            "--platform",
            "gitlab",
            "--api-url",
            "http://127.0.0.1:9",
            "--project",
            "group/kayobe-config",
        ],
        &[("GITLAB_TOKEN", OsStr::from_bytes(b"glpat-\xff"))],
    ));
    assert!(
        stderr.contains("GITLAB_TOKEN is not UTF-8 text"),
        "{stderr}"
    );
}

/// Surrounding newlines were dropped from a vault password variable and a
/// registry password file but kept in a token: now they are dropped from
/// every secret, so a token set from `$(cat file)` or with `echo` works.
#[tokio::test(flavor = "multi_thread")]
async fn surrounding_newlines_are_dropped_from_a_token() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let uri = server.uri();
    tokio::task::spawn_blocking(move || {
        ours(
            &example_repo(),
            &[
                "--vault-password-file",
                ".vault-password",
                "platform",
                "settings",
                "check",
                "--platform",
                "gitlab",
                "--api-url",
                &uri,
                "--project",
                "group/kayobe-config",
            ],
            &[("GITLAB_TOKEN", OsStr::new("\nglpat-cli\r\n"))],
        )
    })
    .await
    .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request.headers["private-token"], "glpat-cli");
    }
}
