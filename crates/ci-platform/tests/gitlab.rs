//! The GitLab backend against a wiremock server: every call's method, path,
//! headers and body.

mod gitlab_mock;

use std::collections::BTreeMap;

use ci_platform::{Platform, RunnerCredential, RunnerSpec, Scope, Secret, TriggerRequest};
use gitlab_mock::{PROJECT, authenticated, gitlab};
use pretty_assertions::assert_eq;
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn project_runner_is_created_with_its_tags() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("GET")))
        .and(path(PROJECT))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 17, "path": "kayobe-config"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")))
        .and(path("/api/v4/user/runners"))
        .and(body_json(json!({
            "runner_type": "project_type", "project_id": 17,
            "description": "kayobe-runner01", "tag_list": "kayobe,openstack",
            "run_untagged": false, "locked": true})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 9, "token": "glrt-abc123", "token_expires_at": null})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let spec = RunnerSpec {
        name: "kayobe-runner01".into(),
        tags: vec!["kayobe".into(), "openstack".into()],
        run_untagged: false,
        locked: true,
    };
    let expected = RunnerCredential::Authentication {
        id: 9,
        token: Secret::new("glrt-abc123"),
    };
    assert_eq!(client.runner_credential(&spec).await.unwrap(), expected);
    // The project id is looked up once.
    assert_eq!(client.runner_credential(&spec).await.unwrap(), expected);
}

#[tokio::test]
async fn runners_follow_next_page_and_are_deleted() {
    let (server, client) = gitlab().await;
    for (page, next, id) in [("1", "2", 1), ("2", "", 2)] {
        authenticated(Mock::given(method("GET")))
            .and(path(format!("{PROJECT}/runners")))
            .and(query_param("per_page", "100"))
            .and(query_param("page", page))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-next-page", next)
                    .set_body_json(json!([{"id": id, "description": format!("r{id}"),
                        "status": "online", "paused": false}])),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    authenticated(Mock::given(method("DELETE")))
        .and(path("/api/v4/runners/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let runners = client.list_runners().await.unwrap();
    let names: Vec<_> = runners.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["r1", "r2"]);
    client.delete_runner(2).await.unwrap();
}

#[tokio::test]
async fn secret_is_a_masked_protected_variable_created_when_missing() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("PUT")))
        .and(path(format!("{PROJECT}/variables/VAULT_PASSWORD")))
        .and(query_param("filter[environment_scope]", "production"))
        .and(body_json(
            json!({"value": "pw", "masked": true, "protected": true,
            "environment_scope": "production"}),
        ))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Variable Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/variables")))
        .and(body_json(
            json!({"key": "VAULT_PASSWORD", "value": "pw", "masked": true,
            "protected": true, "environment_scope": "production"}),
        ))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    client
        .set_secret(
            &Scope::Environment("production".into()),
            "VAULT_PASSWORD",
            &Secret::new("pw"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn plain_variable_is_updated_in_place() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("PUT")))
        .and(path(format!("{PROJECT}/variables/KAYOBE_ENVIRONMENT")))
        .and(body_json(
            json!({"value": "staging", "masked": false, "protected": false,
            "environment_scope": "*"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"key": "KAYOBE_ENVIRONMENT"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    client
        .set_variable(&Scope::Repository, "KAYOBE_ENVIRONMENT", "staging")
        .await
        .unwrap();
}

#[tokio::test]
async fn pipeline_is_triggered_and_read() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/pipeline")))
        .and(body_json(
            json!({"ref": "main", "inputs": {"operation": "overcloud-service-deploy"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 555, "status": "created", "web_url": "https://gitlab.example/p/555"})))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/pipelines/555")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 555, "status": "failed", "web_url": "https://gitlab.example/p/555"})))
        .expect(1)
        .mount(&server)
        .await;
    let triggered = client
        .trigger(&TriggerRequest {
            workflow: String::new(),
            git_ref: "main".into(),
            inputs: BTreeMap::from([("operation".into(), "overcloud-service-deploy".into())]),
        })
        .await
        .unwrap();
    assert_eq!(triggered.run_id, Some(555));
    let status = client.run_status(555).await.unwrap();
    assert_eq!(status.status, "failed");
    assert!(status.finished());
}
