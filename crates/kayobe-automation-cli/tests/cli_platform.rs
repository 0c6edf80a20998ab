//! `kayobe-automation platform settings check|apply` on the example
//! repository against wiremock GitLab and GitHub servers: the lines printed,
//! the exit status, every call made, and the deployment environments named
//! by the example's writer config (`production` and `staging`). A call no
//! mock expects fails the test.

use std::process::Output;

use kayobe_automation_tests::example_repo;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECT: &str = "/api/v4/projects/group%2Fkayobe-config";
const REPO: &str = "/repos/example-org/kayobe-config";
const TOKEN: &str = "glpat-cli";
const GITHUB_TOKEN: &str = "ghp_cli";

/// The example's deployment environments, from its writer configs.
const ENVIRONMENTS: [&str; 2] = ["production", "staging"];

/// A mock server that fails the test, when dropped, if any call reached no
/// expected mock.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("an unexpected call")
        .mount(&server)
        .await;
    server
}

/// Runs `platform settings COMMAND --platform PLATFORM` in the example
/// repository against `server`, with `extra` arguments.
async fn settings(command: &str, platform: &str, server: &MockServer, extra: &[&str]) -> Output {
    let repo = example_repo();
    let mut args = vec![
        "--vault-password-file".to_owned(),
        repo.join(".vault-password").display().to_string(),
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
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
            .current_dir(&repo)
            .env_remove("KAYOBE_AUTOMATION_API_URL")
            .env_remove("KAYOBE_CONFIG_PATH")
            .env_remove("KAYOBE_ENVIRONMENT")
            .env_remove("KAYOBE_VAULT_PASSWORD")
            .env("GITLAB_TOKEN", TOKEN)
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
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

/// The example's GitLab environments: present, production tier, protected
/// for maintainers; `approvals` rules on each.
async fn mount_gitlab_environments(server: &MockServer, approval_rules: Value) {
    for (id, name) in ENVIRONMENTS.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(format!("{PROJECT}/environments")))
            .and(query_param("name", *name))
            .and(header("private-token", TOKEN))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!([{"id": id, "name": name, "tier": "production"}])),
            )
            .expect(1)
            .mount(server)
            .await;
    }
    let protected: Vec<Value> = ENVIRONMENTS
        .iter()
        .map(|name| {
            json!({"name": name,
                   "deploy_access_levels": [{"id": 1, "access_level": 40}],
                   "approval_rules": approval_rules})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/protected_environments")))
        .and(header("private-token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(protected))
        .expect(1)
        .mount(server)
        .await;
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_prints_each_setting_and_environment_and_exits_1_when_one_differs() {
    let server = server().await;
    mount_project(&server, project(true, 3600)).await;
    mount_gitlab_environments(&server, json!([])).await;
    let output = settings("check", "gitlab", &server, &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "public_jobs: current true, wanted false (differs)
auto_cancel_pending_pipelines: current disabled, wanted disabled (ok)
ci_forward_deployment_enabled: current false, wanted false (ok)
build_timeout: current 3600, wanted 43200 (differs)
auto_devops_enabled: current false, wanted false (ok)
environment production: ok
environment staging: ok
2 setting(s) differ; run `kayobe-automation platform settings apply`
"
    );
    // Protected, but nobody approves.
    let stderr = text(&output.stderr);
    for name in ENVIRONMENTS {
        assert!(
            stderr.contains(&format!(
                "warning: environment {name}: nobody reviews its deploys"
            )),
            "{stderr}"
        );
    }

    let server = self::server().await;
    mount_project(&server, project(false, 43200)).await;
    mount_gitlab_environments(
        &server,
        json!([{"id": 2, "access_level": 40, "required_approvals": 1}]),
    )
    .await;
    let output = settings(
        "check",
        "gitlab",
        &server,
        &["--reviewer", "role:maintainer"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("nobody reviews"));
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_prints_what_it_changed() {
    let server = server().await;
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
    mount_gitlab_environments(&server, json!([])).await;
    let output = settings("apply", "gitlab", &server, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "set public_jobs: true -> false\nset build_timeout: 3600 -> 43200\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_apply_protects_the_writer_configs_environments() {
    let server = server().await;
    mount_project(&server, project(false, 43200)).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/groups/infra%2Fops"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 33})))
        .expect(1)
        .mount(&server)
        .await;
    for name in ENVIRONMENTS {
        Mock::given(method("GET"))
            .and(path(format!("{PROJECT}/environments")))
            .and(query_param("name", name))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("{PROJECT}/environments")))
            .and(body_json(json!({"name": name, "tier": "production"})))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"id": 1, "name": name, "tier": "production"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let rules = json!([{"group_id": 33, "required_approvals": 2}]);
        Mock::given(method("POST"))
            .and(path(format!("{PROJECT}/protected_environments")))
            .and(body_json(json!({
                "name": name,
                "deploy_access_levels": [{"access_level": 30}],
                "approval_rules": rules,
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "name": name,
                "deploy_access_levels": [{"id": 1, "access_level": 30}],
                "approval_rules": [{"id": 2, "group_id": 33, "required_approvals": 2}],
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/protected_environments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let output = settings(
        "apply",
        "gitlab",
        &server,
        &[
            "--reviewer",
            "group:infra/ops",
            "--approvals",
            "2",
            "--deployer",
            "role:developer",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "set environment production: missing, not protected -> as wanted
set environment staging: missing, not protected -> as wanted
"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_without_premium_is_a_clear_error() {
    let server = server().await;
    mount_project(&server, project(false, 43200)).await;
    for name in ENVIRONMENTS {
        Mock::given(method("GET"))
            .and(path(format!("{PROJECT}/environments")))
            .and(query_param("name", name))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/protected_environments")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "404 Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    let output = settings("check", "gitlab", &server, &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("protected environments need GitLab Premium")
            && stderr.contains("only from the default branch"),
        "{stderr}"
    );
}

/// A GitHub environment: protected branches only, reviewed by user 11 when
/// `reviewed`.
fn github_environment(name: &str, reviewed: bool) -> Value {
    let rules = if reviewed {
        json!([{"id": 2, "type": "required_reviewers", "prevent_self_review": true,
                "reviewers": [{"type": "User", "reviewer": {"id": 11, "login": "alice"}}]}])
    } else {
        json!([])
    };
    json!({"id": 7, "name": name, "protection_rules": rules,
           "deployment_branch_policy": {"protected_branches": true, "custom_branch_policies": false}})
}

async fn mount_alice(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/users/alice"))
        .and(header(
            "authorization",
            format!("Bearer {GITHUB_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"login": "alice", "id": 11})))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_github_environment(server: &MockServer, name: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/environments/{name}")))
        .and(header(
            "authorization",
            format!("Bearer {GITHUB_TOKEN}").as_str(),
        ))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn github_check_then_apply_twice_the_writer_configs_environments() {
    let reviewer = ["--reviewer", "user:alice"];
    let as_wanted = |name| ResponseTemplate::new(200).set_body_json(github_environment(name, true));

    // GitHub has no project settings: only the environments are checked.
    let server = server().await;
    mount_alice(&server).await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    mount_github_environment(&server, "staging", as_wanted("staging")).await;
    let output = settings("check", "github", &server, &reviewer).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "environment production: missing (differs)
environment staging: ok
1 environment(s) differ; run `kayobe-automation platform settings apply`
"
    );

    let server = self::server().await;
    mount_alice(&server).await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    mount_github_environment(&server, "staging", as_wanted("staging")).await;
    Mock::given(method("PUT"))
        .and(path(format!("{REPO}/environments/production")))
        .and(body_json(json!({
            "deployment_branch_policy": {"protected_branches": true, "custom_branch_policies": false},
            "reviewers": [{"type": "User", "id": 11}],
            "prevent_self_review": true,
        })))
        .respond_with(as_wanted("production"))
        .expect(1)
        .mount(&server)
        .await;
    let output = settings("apply", "github", &server, &reviewer).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "set environment production: missing -> as wanted\n"
    );

    // A second apply finds both as wanted and changes nothing.
    let server = self::server().await;
    mount_alice(&server).await;
    for name in ENVIRONMENTS {
        mount_github_environment(&server, name, as_wanted(name)).await;
    }
    let output = settings("apply", "github", &server, &reviewer).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "nothing to change\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn github_without_reviewers_warns_and_refused_tokens_name_the_permission() {
    let server = server().await;
    for name in ENVIRONMENTS {
        mount_github_environment(
            &server,
            name,
            ResponseTemplate::new(200).set_body_json(github_environment(name, false)),
        )
        .await;
    }
    let output = settings("check", "github", &server, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(
            "warning: environment staging: nobody reviews its deploys; pass `--reviewer`"
        ),
        "{}",
        text(&output.stderr)
    );

    let server = self::server().await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    mount_github_environment(
        &server,
        "staging",
        ResponseTemplate::new(200).set_body_json(github_environment("staging", false)),
    )
    .await;
    Mock::given(method("PUT"))
        .and(path(format!("{REPO}/environments/production")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "Forbidden"})))
        .expect(1)
        .mount(&server)
        .await;
    let output = settings("apply", "github", &server, &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Administration"), "{stderr}");
    assert!(!stderr.contains(GITHUB_TOKEN), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_reviewer_is_refused_before_any_call() {
    let server = server().await;
    let output = settings("check", "github", &server, &["--reviewer", "alice"]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`alice` is not `user:NAME`"), "{stderr}");
}
