//! GitLab project settings against a wiremock GitLab:
//! the calls check and apply make, what they report, and faults. GitHub has
//! no such settings and says so without calling anything.

mod gitlab_mock;

use std::time::Duration;

use ci_platform::{GitHub, Platform, PlatformError, ProjectSetting, RetryPolicy, Secret};
use gitlab_mock::{PROJECT, TOKEN, authenticated, gitlab};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A project as GitLab answers it, with the settings as the guide wants
/// them, except those `overrides` sets.
fn project(overrides: Value) -> Value {
    let mut project = json!({
        "id": 17,
        "path_with_namespace": "group/kayobe-config",
        "public_jobs": false,
        "auto_cancel_pending_pipelines": "disabled",
        "ci_forward_deployment_enabled": false,
        "build_timeout": 43200,
        "auto_devops_enabled": false,
    });
    for (key, value) in overrides.as_object().unwrap() {
        project[key] = value.clone();
    }
    project
}

/// A project that differs in every setting but Auto DevOps.
fn drifted() -> Value {
    project(json!({
        "public_jobs": true,
        "auto_cancel_pending_pipelines": "enabled",
        "ci_forward_deployment_enabled": true,
        "build_timeout": 3600,
    }))
}

fn setting(name: &'static str, current: Value, wanted: Value) -> ProjectSetting {
    ProjectSetting {
        name,
        current,
        wanted,
    }
}

async fn mount_get(server: &MockServer, answer: ResponseTemplate, times: u64) {
    authenticated(Mock::given(method("GET")))
        .and(path(PROJECT))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn check_reports_every_setting_current_and_wanted() {
    let (server, client) = gitlab().await;
    mount_get(&server, ok(drifted()), 1).await;
    let settings = client.project_settings().await.unwrap();
    assert_eq!(
        settings,
        [
            setting("public_jobs", json!(true), json!(false)),
            setting(
                "auto_cancel_pending_pipelines",
                json!("enabled"),
                json!("disabled")
            ),
            setting("ci_forward_deployment_enabled", json!(true), json!(false)),
            setting("build_timeout", json!(3600), json!(43200)),
            setting("auto_devops_enabled", json!(false), json!(false)),
        ]
    );
    let differing: Vec<_> = settings.iter().filter(|s| s.differs()).collect();
    assert_eq!(differing.len(), 4);
}

#[tokio::test]
async fn older_gitlab_names_public_pipelines_public_builds_and_may_omit_settings() {
    let (server, client) = gitlab().await;
    let mut old = project(json!({"public_builds": false}));
    let fields = old.as_object_mut().unwrap();
    fields.remove("public_jobs");
    fields.remove("ci_forward_deployment_enabled");
    mount_get(&server, ok(old), 1).await;
    let settings = client.project_settings().await.unwrap();
    assert!(!settings[0].differs(), "{settings:?}");
    // An absent setting is unknown, so it differs and apply will set it.
    assert_eq!(
        settings[2],
        setting("ci_forward_deployment_enabled", Value::Null, json!(false))
    );
}

#[tokio::test]
async fn apply_puts_only_the_differing_settings_once() {
    let (server, client) = gitlab().await;
    mount_get(&server, ok(drifted()), 1).await;
    authenticated(Mock::given(method("PUT")))
        .and(path(PROJECT))
        .and(header("content-type", "application/json"))
        // public_jobs is written under the name every GitLab v4 takes.
        .and(body_json(json!({
            "public_builds": false,
            "auto_cancel_pending_pipelines": "disabled",
            "ci_forward_deployment_enabled": false,
            "build_timeout": 43200,
        })))
        .respond_with(ok(project(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    let changed = client.apply_project_settings().await.unwrap();
    let names: Vec<_> = changed.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "public_jobs",
            "auto_cancel_pending_pipelines",
            "ci_forward_deployment_enabled",
            "build_timeout"
        ]
    );
    assert_eq!(changed[3].current, json!(3600), "the former value");
}

#[tokio::test]
async fn apply_on_a_project_as_wanted_changes_nothing() {
    let (server, client) = gitlab().await;
    mount_get(&server, ok(project(json!({}))), 1).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    assert_eq!(client.apply_project_settings().await.unwrap(), []);
}

#[tokio::test]
async fn a_setting_gitlab_ignores_is_an_error_not_a_success() {
    let (server, client) = gitlab().await;
    mount_get(&server, ok(drifted()), 1).await;
    // The PUT succeeds, but the project still skips outdated deployments.
    authenticated(Mock::given(method("PUT")))
        .and(path(PROJECT))
        .respond_with(ok(project(json!({"ci_forward_deployment_enabled": true}))))
        .expect(1)
        .mount(&server)
        .await;
    let error = client.apply_project_settings().await.unwrap_err();
    assert!(
        matches!(
            &error,
            PlatformError::NotApplied {
                setting: "ci_forward_deployment_enabled",
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("settings page"), "{text}");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("GET")))
        .and(path(PROJECT))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_get(&server, ok(drifted()), 1).await;
    authenticated(Mock::given(method("PUT")))
        .and(path(PROJECT))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("PUT")))
        .and(path(PROJECT))
        .respond_with(ok(project(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.apply_project_settings().await.unwrap().len(), 4);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let (server, client) = gitlab().await;
    mount_get(
        &server,
        ResponseTemplate::new(200).set_body_string("{\"public_jobs\": "),
        1,
    )
    .await;
    let error = client.project_settings().await.unwrap_err();
    assert!(matches!(error, PlatformError::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn a_refused_change_names_the_call_but_not_the_token() {
    let (server, client) = gitlab().await;
    mount_get(&server, ok(drifted()), 1).await;
    authenticated(Mock::given(method("PUT")))
        .and(path(PROJECT))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .expect(1)
        .mount(&server)
        .await;
    let error = client.apply_project_settings().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("PUT /projects/group%2Fkayobe-config") && text.contains("HTTP 403"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn github_has_no_project_settings_and_calls_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    let client = GitHub::new(&server.uri(), &Secret::new("ghp_x"), "o", "r", policy).unwrap();
    for error in [
        client.project_settings().await.unwrap_err(),
        client.apply_project_settings().await.unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                PlatformError::Unsupported {
                    platform: "GitHub",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("not supported on GitHub"));
    }
}
