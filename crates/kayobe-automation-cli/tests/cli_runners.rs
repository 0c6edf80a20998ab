//! `kayobe-automation runners plan|apply` end to end on the example
//! repository against wiremock GitHub and GitLab servers: plan, apply, and
//! a second apply that changes nothing.

use std::path::Path;
use std::process::Output;

use kayobe_automation_tests::example_repo;
use pretty_assertions::assert_eq;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn ours(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
        command
            .current_dir(example_repo())
            .env_remove("KAYOBE_CONFIG_PATH")
            .env_remove("KAYOBE_VAULT_PASSWORD")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITLAB_TOKEN")
            .env_remove("GITHUB_REPOSITORY")
            .env_remove("CI_PROJECT_PATH")
            .env_remove("KAYOBE_AUTOMATION_API_URL")
            .env("KAYOBE_ENVIRONMENT", "production")
            .env(
                "KAYOBE_VAULT_PASSWORD_FILE",
                example_repo().join(".vault-password"),
            )
            .args(args);
        for (name, value) in envs {
            command.env(name, value);
        }
        command.output().expect("run kayobe-automation")
    })
    .await
    .unwrap()
}

fn args(command: &str, platform: &str, server: &MockServer, out: &Path) -> Vec<String> {
    vec![
        "runners".into(),
        command.into(),
        "--platform".into(),
        platform.into(),
        "--api-url".into(),
        server.uri(),
        "--out".into(),
        out.display().to_string(),
        "--timeout".into(),
        "5".into(),
    ]
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

const RUNNERS: &str = "/repos/example-org/kayobe-config/actions/runners";

#[tokio::test(flavor = "multi_thread")]
async fn github_plan_apply_apply() {
    let server = MockServer::start().await;
    let runner =
        |id: u64, name: &str| json!({"id": id, "name": name, "status": "online", "labels": []});
    Mock::given(method("GET"))
        .and(path(RUNNERS))
        .and(header("authorization", "Bearer ghp_cli_token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 2,
            "runners": [runner(1, "runner01-runner_01"), runner(4, "runner01-runner_04")]})),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RUNNERS))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 1,
            "runners": [runner(1, "runner01-runner_01")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{RUNNERS}/4")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{RUNNERS}/registration-token")))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"token": "REG-CLI", "expires_at": null})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let env = || vec![("GITHUB_TOKEN", "ghp_cli_token".to_owned())];

    let plan = stdout(&ours(args("plan", "github", &server, out.path()), env()).await);
    assert!(
        plan.contains("delete runner runner01-runner_04 (id 4) of runner01\n"),
        "{plan}"
    );
    assert!(
        plan.contains("register runner runner01-runner_02 on runner01\n"),
        "{plan}"
    );
    assert!(plan.ends_with("9 step(s) to do\n"), "{plan}");
    assert!(!out.path().join("runner01").exists(), "plan writes nothing");

    let applied = stdout(&ours(args("apply", "github", &server, out.path()), env()).await);
    assert_eq!(
        applied.replace(" to do", " applied"),
        plan.replace(" to do", " applied")
    );
    let registration = out
        .path()
        .join("runner01/opt/actions-runner/runner_02/registration.env");
    assert!(
        std::fs::read_to_string(registration)
            .unwrap()
            .contains("RUNNER_TOKEN=REG-CLI\n")
    );

    let again = stdout(&ours(args("apply", "github", &server, out.path()), env()).await);
    assert_eq!(again, "nothing to change\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_plan_apply_apply() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/group%2Fkayobe-config/runners"))
        .and(header("private-token", "glpat-cli"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/group%2Fkayobe-config"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 17})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/user/runners"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": 31, "token": "glrt-CLI"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let env = || {
        vec![
            ("GITLAB_TOKEN", "glpat-cli".to_owned()),
            ("CI_PROJECT_PATH", "group/kayobe-config".to_owned()),
        ]
    };
    let plan = stdout(&ours(args("plan", "gitlab", &server, out.path()), env()).await);
    assert_eq!(
        plan,
        "register runner kayobe-runner01 on runner01\n\
         write runner01:/etc/gitlab-runner/config.toml\n\
         write runner01:/opt/.docker/config.json\n\
         3 step(s) to do\n"
    );
    let applied = stdout(&ours(args("apply", "gitlab", &server, out.path()), env()).await);
    assert!(applied.ends_with("3 step(s) applied\n"), "{applied}");
    let config =
        std::fs::read_to_string(out.path().join("runner01/etc/gitlab-runner/config.toml")).unwrap();
    assert!(config.contains("token = \"glrt-CLI\""));
    let again = stdout(&ours(args("apply", "gitlab", &server, out.path()), env()).await);
    assert_eq!(again, "nothing to change\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_without_token_says_what_to_set() {
    let out = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let output = ours(args("plan", "gitlab", &server, out.path()), vec![]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no GitLab token was given") && stderr.contains("GITLAB_TOKEN"),
        "{stderr}"
    );
}
