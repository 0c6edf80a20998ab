//! `kayobe-automation platform settings check|apply` against a wiremock
//! GitLab: the lines printed, the exit status, the one PUT; GitHub says it
//! has no such settings.

use std::process::Output;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECT: &str = "/api/v4/projects/group%2Fkayobe-config";
const TOKEN: &str = "glpat-cli";

async fn settings(command: &str, platform: &str, server: &MockServer) -> Output {
    let args = vec![
        "platform".to_owned(),
        "settings".into(),
        command.into(),
        "--platform".into(),
        platform.into(),
        "--api-url".into(),
        server.uri(),
        "--project".into(),
        "group/kayobe-config".into(),
        "--repo".into(),
        "example-org/kayobe-config".into(),
        "--timeout".into(),
        "5".into(),
    ];
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
            .env_remove("KAYOBE_AUTOMATION_API_URL")
            .env("GITLAB_TOKEN", TOKEN)
            .env("GITHUB_TOKEN", "ghp_cli")
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn project(public_jobs: bool, build_timeout: u64) -> Value {
    json!({
        "id": 17,
        "public_jobs": public_jobs,
        "auto_cancel_pending_pipelines": "disabled",
        "ci_forward_deployment_enabled": false,
        "build_timeout": build_timeout,
        "auto_devops_enabled": false,
    })
}

async fn mount_project(server: &MockServer, body: Value) {
    Mock::given(method("GET"))
        .and(path(PROJECT))
        .and(header("private-token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_prints_each_setting_and_exits_1_when_one_differs() {
    let server = MockServer::start().await;
    mount_project(&server, project(true, 3600)).await;
    let output = settings("check", "gitlab", &server).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "public_jobs: current true, wanted false (differs)
auto_cancel_pending_pipelines: current disabled, wanted disabled (ok)
ci_forward_deployment_enabled: current false, wanted false (ok)
build_timeout: current 3600, wanted 43200 (differs)
auto_devops_enabled: current false, wanted false (ok)
2 setting(s) differ; run `kayobe-automation platform settings apply`
"
    );

    let server = MockServer::start().await;
    mount_project(&server, project(false, 43200)).await;
    let output = settings("check", "gitlab", &server).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_prints_what_it_changed() {
    let server = MockServer::start().await;
    mount_project(&server, project(true, 3600)).await;
    Mock::given(method("PUT"))
        .and(path(PROJECT))
        .and(header("private-token", TOKEN))
        .and(body_json(
            json!({"public_builds": false, "build_timeout": 43200}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(project(false, 43200)))
        .expect(1)
        .mount(&server)
        .await;
    let output = settings("apply", "gitlab", &server).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "set public_jobs: true -> false\nset build_timeout: 3600 -> 43200\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_is_not_supported() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let output = settings("check", "github", &server).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("project settings are not supported on GitHub"),
        "{stderr}"
    );
}
