//! `kayobe-automation secrets sync` against a wiremock GitHub: the sealed
//! secret opens to the vaulted value; list errors name file:line:col.

use std::process::Output;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_box::SecretKey;
use crypto_box::aead::OsRng;
use kayobe_automation::config::Value;
use kayobe_automation::config::repo::ConfigRepo;
use kayobe_automation::config::template::Templar;
use kayobe_automation::config::vault::VaultSecret;
use kayobe_automation_tests::example_repo;
use pretty_assertions::assert_eq;
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn sync(list: &std::path::Path, server: &MockServer) -> Output {
    sync_in("production", list, server).await
}

async fn sync_in(environment: &str, list: &std::path::Path, server: &MockServer) -> Output {
    let environment = environment.to_owned();
    let args = vec![
        "secrets".to_owned(),
        "sync".into(),
        "--platform".into(),
        "github".into(),
        "--api-url".into(),
        server.uri(),
        "--repo".into(),
        "example-org/kayobe-config".into(),
        "--list".into(),
        list.display().to_string(),
    ];
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
            .current_dir(example_repo())
            .env_remove("KAYOBE_CONFIG_PATH")
            .env_remove("KAYOBE_VAULT_PASSWORD")
            .env_remove("KAYOBE_AUTOMATION_API_URL")
            .env("KAYOBE_ENVIRONMENT", environment)
            .env(
                "KAYOBE_VAULT_PASSWORD_FILE",
                example_repo().join(".vault-password"),
            )
            .env("GITHUB_TOKEN", "ghp_sync")
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn registry_password() -> String {
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), Some("production")).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    let vars = repo.extra_vars(Some(&secret)).unwrap();
    match Templar::new(&vars)
        .variable("secrets_registry_password")
        .unwrap()
    {
        Some(Value::String(text)) => text,
        other => panic!("unexpected {other:?}"),
    }
}

const REPO: &str = "/repos/example-org/kayobe-config/actions";

/// An inline `!vault` value (staging's registry password) is decrypted
/// with the vault password and set like any other.
#[tokio::test(flavor = "multi_thread")]
async fn an_inline_vault_value_is_decrypted_and_set() {
    let server = MockServer::start().await;
    let key = SecretKey::generate(&mut OsRng);
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/secrets/public-key")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"key_id": "k1", "key": STANDARD.encode(key.public_key().as_bytes())}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{REPO}/secrets/STAGING_REGISTRY_PASSWORD")))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("secrets.list");
    std::fs::write(
        &list,
        "secret STAGING_REGISTRY_PASSWORD kolla_docker_registry_password\n",
    )
    .unwrap();
    let output = sync_in("staging", &list, &server).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "set STAGING_REGISTRY_PASSWORD\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_variables_are_set_from_the_vaulted_config() {
    let server = MockServer::start().await;
    let key = SecretKey::generate(&mut OsRng);
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/secrets/public-key")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"key_id": "k1", "key": STANDARD.encode(key.public_key().as_bytes())}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{REPO}/secrets/REGISTRY_PASSWORD")))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{REPO}/variables/KOLLA_REGISTRY")))
        .and(body_json(
            json!({"name": "KOLLA_REGISTRY", "value": "192.168.33.5:4000"}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("secrets.list");
    std::fs::write(
        &list,
        "# what the workflows need\nsecret REGISTRY_PASSWORD secrets_registry_password\n\nvariable KOLLA_REGISTRY kolla_docker_registry # the seed\n",
    )
    .unwrap();
    let output = sync(&list, &server).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "set REGISTRY_PASSWORD\nset KOLLA_REGISTRY\n"
    );
    let password = registry_password();
    assert!(!String::from_utf8_lossy(&output.stderr).contains(&password));
    let requests = server.received_requests().await.unwrap();
    let put = requests
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&put.body).unwrap();
    assert_eq!(body["key_id"], "k1");
    let sealed = STANDARD
        .decode(body["encrypted_value"].as_str().unwrap())
        .unwrap();
    assert_eq!(key.unseal(&sealed).unwrap(), password.as_bytes());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_list_line_names_file_line_and_column() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("secrets.list");
    std::fs::write(&list, "secret A secrets_registry_password\n  sekret B x\n").unwrap();
    let output = sync(&list, &server).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:2:3", list.display())),
        "{stderr}"
    );
    assert!(stderr.contains("`sekret` is neither"), "{stderr}");

    std::fs::write(&list, "secret A no_such_variable\n").unwrap();
    let output = sync(&list, &server).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(":1:1: variable `no_such_variable` is not defined"),
        "{stderr}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
