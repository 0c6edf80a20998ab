//! The GitHub backend against a wiremock server: every call's method, path,
//! headers and body, and the sealed-box secret opened by us and by PyNaCl.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ci_platform::{
    GitHub, Platform, RetryPolicy, RunnerCredential, RunnerSpec, Scope, Secret, TriggerRequest,
};
use crypto_box::SecretKey;
use crypto_box::aead::OsRng;
use pretty_assertions::assert_eq;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghp_test_token_value";

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    }
}

/// A mock of the repository API under GitHub Enterprise's `/api/v3` prefix.
async fn github() -> (MockServer, GitHub) {
    let server = MockServer::start().await;
    let client = GitHub::new(
        &format!("{}/api/v3", server.uri()),
        &Secret::new(TOKEN),
        "example-org",
        "kayobe-config",
        policy(),
    )
    .unwrap();
    (server, client)
}

/// Every GitHub call carries these headers.
fn authenticated(m: wiremock::MockBuilder) -> wiremock::MockBuilder {
    m.and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/vnd.github+json"))
        .and(header("x-github-api-version", "2022-11-28"))
}

const REPO: &str = "/api/v3/repos/example-org/kayobe-config";

fn spec() -> RunnerSpec {
    RunnerSpec {
        name: "runner01-runner_01".into(),
        tags: vec!["kayobe".into()],
        run_untagged: false,
        locked: true,
    }
}

#[tokio::test]
async fn registration_token() {
    let (server, client) = github().await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{REPO}/actions/runners/registration-token")))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"token": "AABBCC", "expires_at": "2026-11-26T02:00:00Z"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let credential = client.runner_credential(&spec()).await.unwrap();
    assert_eq!(
        credential,
        RunnerCredential::Registration {
            token: Secret::new("AABBCC"),
            expires_at: Some("2026-11-26T02:00:00Z".into()),
        }
    );
    assert!(!format!("{credential:?}").contains("AABBCC"));
}

#[tokio::test]
async fn runners_are_listed_across_pages_and_deleted() {
    let (server, client) = github().await;
    let runner = |id: u64| {
        json!({"id": id, "name": format!("r{id}"), "os": "linux", "status": "online",
               "busy": false, "labels": [{"id": 1, "name": "kayobe", "type": "custom"}]})
    };
    let first: Vec<_> = (1..=100).map(runner).collect();
    for (page, runners) in [("1", first), ("2", vec![runner(101)])] {
        authenticated(Mock::given(method("GET")))
            .and(path(format!("{REPO}/actions/runners")))
            .and(query_param("per_page", "100"))
            .and(query_param("page", page))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": 101, "runners": runners})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    authenticated(Mock::given(method("DELETE")))
        .and(path(format!("{REPO}/actions/runners/101")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let runners = client.list_runners().await.unwrap();
    assert_eq!(runners.len(), 101);
    assert_eq!(runners[100].name, "r101");
    assert_eq!(runners[0].labels, vec!["kayobe".to_owned()]);
    client.delete_runner(101).await.unwrap();
}

/// Opens a GitHub secret payload with PyNaCl, as a second implementation.
fn pynacl_unseal(secret_key: &SecretKey, encrypted: &str) -> Option<Vec<u8>> {
    let python = kayobe_automation_tests::tool("python")?;
    let script = "import sys, base64\n\
        from nacl.public import PrivateKey, SealedBox\n\
        key = PrivateKey(bytes.fromhex(sys.argv[1]))\n\
        sys.stdout.buffer.write(SealedBox(key).decrypt(base64.b64decode(sys.argv[2])))\n";
    let output = std::process::Command::new(python)
        .args(["-c", script, &hex::encode(secret_key.to_bytes()), encrypted])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "PyNaCl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

async fn secret_round_trip(scope: Scope, prefix: &str) {
    let (server, client) = github().await;
    let secret_key = SecretKey::generate(&mut OsRng);
    let public = STANDARD.encode(secret_key.public_key().as_bytes());
    authenticated(Mock::given(method("GET")))
        .and(path(format!("{prefix}/secrets/public-key")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"key_id": "568250167242549743", "key": public})),
        )
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("PUT")))
        .and(path(format!("{prefix}/secrets/KAYOBE_VAULT_PASSWORD")))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    client
        .set_secret(
            &scope,
            "KAYOBE_VAULT_PASSWORD",
            &Secret::new("s3cr3t vault pw"),
        )
        .await
        .unwrap();
    let requests: Vec<Request> = server.received_requests().await.unwrap();
    let put = requests
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&put.body).unwrap();
    assert_eq!(body["key_id"], "568250167242549743");
    assert_eq!(body.as_object().unwrap().len(), 2);
    let encrypted = body["encrypted_value"].as_str().unwrap();
    assert!(!encrypted.contains("s3cr3t"));
    let sealed = STANDARD.decode(encrypted).unwrap();
    assert_eq!(secret_key.unseal(&sealed).unwrap(), b"s3cr3t vault pw");
    if let Some(opened) = pynacl_unseal(&secret_key, encrypted) {
        assert_eq!(opened, b"s3cr3t vault pw");
    }
}

#[tokio::test]
async fn repository_secret_is_a_sealed_box() {
    secret_round_trip(Scope::Repository, &format!("{REPO}/actions")).await;
}

#[tokio::test]
async fn environment_secret_uses_the_environment_key() {
    secret_round_trip(
        Scope::Environment("production".into()),
        &format!("{REPO}/environments/production"),
    )
    .await;
}

#[tokio::test]
async fn variable_is_updated_or_else_created() {
    let (server, client) = github().await;
    let body = json!({"name": "KAYOBE_ENVIRONMENT", "value": "production"});
    authenticated(Mock::given(method("PATCH")))
        .and(path(format!("{REPO}/actions/variables/KAYOBE_ENVIRONMENT")))
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{REPO}/actions/variables")))
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    client
        .set_variable(&Scope::Repository, "KAYOBE_ENVIRONMENT", "production")
        .await
        .unwrap();
}

#[tokio::test]
async fn workflow_dispatch_and_run_status() {
    let (server, client) = github().await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!(
            "{REPO}/actions/workflows/deploy.yml/dispatches"
        )))
        .and(body_json(
            json!({"ref": "main", "inputs": {"limit": "ctl01"}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")))
        .and(path(format!("{REPO}/actions/runs/42")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "status": "completed", "conclusion": "success",
            "html_url": "https://github.example/run/42"})))
        .expect(1)
        .mount(&server)
        .await;
    let triggered = client
        .trigger(&TriggerRequest {
            workflow: "deploy.yml".into(),
            git_ref: "main".into(),
            inputs: BTreeMap::from([("limit".into(), "ctl01".into())]),
        })
        .await
        .unwrap();
    assert_eq!(triggered.run_id, None);
    let status = client.run_status(42).await.unwrap();
    assert!(status.finished());
    assert_eq!(status.conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn refused_call_names_the_path_but_not_the_token() {
    let (server, client) = github().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client.delete_runner(7).await.unwrap_err().to_string();
    assert!(
        error.contains("DELETE /repos/example-org/kayobe-config/actions/runners/7"),
        "{error}"
    );
    assert!(
        error.contains("HTTP 403") && error.contains("Resource not accessible"),
        "{error}"
    );
    assert!(!error.contains(TOKEN));
    assert!(!format!("{client:?}").contains(TOKEN));
}
