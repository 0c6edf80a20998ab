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

/// A deploy checks that its commit is still the branch's head: a newer
/// change on the branch is a `FAIL` line naming both commits; the head
/// itself passes that check.
#[tokio::test(flavor = "multi_thread")]
async fn a_commit_that_is_no_longer_the_branch_head_fails() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/example-org/kayobe-config/branches/main"))
        .and(header("authorization", "Bearer ghp_preflight"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"name": "main", "commit": {"sha": "bbbb2222"}})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    let head_lines = |commit: &'static str| {
        let repo = dir.path().to_path_buf();
        let api = server.uri();
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
            let output = command
                .current_dir(&repo)
                .env_remove("KAYOBE_CONFIG_PATH")
                .env_remove("KAYOBE_VAULT_PASSWORD")
                .env_remove("CI_COMMIT_SHA")
                .env("KAYOBE_ENVIRONMENT", "production")
                .env("GITHUB_TOKEN", "ghp_preflight")
                .args(["preflight", "--head-of", "main", "--commit", commit])
                .args(["--platform", "github", "--api-url", &api])
                .args(["--repo", "example-org/kayobe-config"])
                .output()
                .unwrap();
            let stdout = String::from_utf8(output.stdout).unwrap();
            assert_eq!(
                output.status.code(),
                Some(1),
                "{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            stdout
                .lines()
                .filter(|line| line.contains("head of"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        head_lines("aaaa1111").await.unwrap(),
        [
            "FAIL aaaa1111 is no longer the head of main (now bbbb2222): a newer change landed since this run started; deploy from the newer one's run"
        ]
    );
    assert!(head_lines("bbbb2222").await.unwrap().is_empty());
}
