//! Bootstrap against a real OpenBao server (`bao server`, file storage, not
//! `-dev`): fresh, repeated, after a restart (sealed), after an interruption,
//! with KV version 2, adding secrets only, and a real JWT login.

mod support;

use std::collections::BTreeMap;

use bao_bootstrap::{
    BootstrapError, BootstrapOptions, Change, EnvironmentSecrets, JwtSettings, KeysFile, KvVersion,
    Mode, UnsealKeys, bootstrap,
};
use kayobe_config::vault::VaultSecret;
use support::{BaoServer, gitlab_id_token};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn secrets(environment: &str) -> EnvironmentSecrets {
    EnvironmentSecrets::new(
        environment,
        BTreeMap::from([
            (
                "kayobe_vault_password".to_owned(),
                format!("vault-pw-{environment}"),
            ),
            (
                "kayobe_automation_ssh_private_key".to_owned(),
                format!("-----BEGIN OPENSSH PRIVATE KEY-----\nkey-of-{environment}\n"),
            ),
            (
                "kayobe_tempest_openrc".to_owned(),
                format!("export OS_PASSWORD=rc-{environment}"),
            ),
            (
                "kayobe_public_openrc".to_owned(),
                format!("export OS_PASSWORD=rc-{environment}"),
            ),
        ]),
    )
    .unwrap()
}

/// A stand-in for GitLab's key endpoint: the JWKS of a test-only RSA key
/// (`tests/fixtures`, made with openssl for these tests). OpenBao fetches it
/// when `auth/jwt/config` is written, and at each login.
async fn gitlab() -> MockServer {
    let jwks: serde_json::Value = serde_json::from_str(include_str!("fixtures/jwks.json")).unwrap();
    let gitlab = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/discovery/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&gitlab)
        .await;
    gitlab
}

fn options(server: &BaoServer, gitlab: &MockServer) -> BootstrapOptions {
    let keys_file = KeysFile::new(
        server
            .dir()
            .join("config/vault/kayobe-automation-keys.json"),
        None,
    );
    let mut options = BootstrapOptions::new(server.addr(), keys_file);
    options.jwt = Some(JwtSettings::gitlab(&gitlab.uri(), "42", server.addr()));
    options
}

fn full_changes(environments: &[&str]) -> Vec<Change> {
    let mut changes = vec![
        Change::Initialised,
        Change::Unsealed,
        Change::MountedKv(KvVersion::V1),
    ];
    changes.extend(
        environments
            .iter()
            .map(|environment| Change::SecretWritten((*environment).to_owned())),
    );
    changes.extend([
        Change::PolicyWritten,
        Change::JwtAuthEnabled,
        Change::JwtConfigWritten,
        Change::JwtRoleWritten,
    ]);
    changes
}

fn root_token(options: &BootstrapOptions) -> String {
    options.keys_file.read().unwrap().unwrap().root_token
}

#[tokio::test]
async fn fresh_bootstrap_then_a_second_run_changes_nothing() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    let environments = [secrets("production"), secrets("staging")];

    let report = bootstrap(&options, &environments).await.unwrap();
    assert_eq!(report.changes, full_changes(&["production", "staging"]));

    let keys = options.keys_file.read().unwrap().unwrap();
    assert_eq!(keys.keys.len(), 5);
    assert_eq!(keys.keys_base64.len(), 5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(options.keys_file.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = seal_status(&server.addr()).await;
    assert_eq!(status["sealed"], false);
    assert_eq!(status["t"], 3);
    assert_eq!(status["n"], 5);

    let (code, secret) = get(
        &server.addr(),
        &keys.root_token,
        "kayobe-automation/staging",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(secret["data"]["kayobe_vault_password"], "vault-pw-staging");
    assert_eq!(
        secret["data"]["kayobe_public_openrc"],
        "export OS_PASSWORD=rc-staging"
    );
    let (_, policy) = get(
        &server.addr(),
        &keys.root_token,
        "sys/policy/kayobe-automation",
    )
    .await;
    assert_eq!(policy["rules"], bao_bootstrap::POLICY);
    let (_, role) = get(&server.addr(), &keys.root_token, "auth/jwt/role/gitlab").await;
    assert_eq!(role["data"]["role_type"], "jwt");
    assert_eq!(role["data"]["bound_claims"]["project_id"], "42");
    assert_eq!(role["data"]["token_policies"][0], "kayobe-automation");
    assert_eq!(role["data"]["token_explicit_max_ttl"], 900);
    let (_, config) = get(&server.addr(), &keys.root_token, "auth/jwt/config").await;
    assert_eq!(config["data"]["bound_issuer"], gitlab.uri());

    let again = bootstrap(&options, &environments).await.unwrap();
    assert_eq!(again.changes, vec![]);
    assert_eq!(
        options.keys_file.read().unwrap().unwrap(),
        keys,
        "keys never rewritten"
    );

    // A changed value is written again, and only that secret.
    let mut changed = secrets("staging").values().clone();
    changed.insert("registry_password".to_owned(), "new".to_owned());
    let changed = [
        secrets("production"),
        EnvironmentSecrets::new("staging", changed).unwrap(),
    ];
    let report = bootstrap(&options, &changed).await.unwrap();
    assert_eq!(
        report.changes,
        vec![Change::SecretWritten("staging".to_owned())]
    );
}

#[tokio::test]
async fn restarted_server_is_unsealed_without_reinitialising() {
    let Some(mut server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    bootstrap(&options, &[secrets("production")]).await.unwrap();
    let keys = options.keys_file.read().unwrap().unwrap();

    server.restart();
    assert_eq!(seal_status(&server.addr()).await["sealed"], true);
    let report = bootstrap(&options, &[secrets("production")]).await.unwrap();
    assert_eq!(report.changes, vec![Change::Unsealed]);
    assert_eq!(options.keys_file.read().unwrap().unwrap(), keys);
    let (code, secret) = get(
        &server.addr(),
        &keys.root_token,
        "kayobe-automation/production",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        secret["data"]["kayobe_vault_password"],
        "vault-pw-production"
    );

    // An unseal left half done (one key given) is reset and completed.
    server.restart();
    server.cli(&["operator", "unseal", &keys.keys_base64[4]]);
    assert_eq!(seal_status(&server.addr()).await["progress"], 1);
    let report = bootstrap(&options, &[secrets("production")]).await.unwrap();
    assert_eq!(report.changes, vec![Change::Unsealed]);
}

#[tokio::test]
async fn bootstrap_interrupted_after_init_completes_on_rerun() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    // What a run killed right after writing the keys file leaves: an
    // initialised, sealed server and the keys file, nothing else.
    let init: serde_json::Value = serde_json::from_str(&server.cli(&[
        "operator",
        "init",
        "-format=json",
        "-key-shares=5",
        "-key-threshold=3",
    ]))
    .unwrap();
    let keys = UnsealKeys {
        keys: serde_json::from_value(init["unseal_keys_hex"].clone()).unwrap(),
        keys_base64: serde_json::from_value(init["unseal_keys_b64"].clone()).unwrap(),
        root_token: init["root_token"].as_str().unwrap().to_owned(),
    };
    options.keys_file.write(&keys).unwrap();

    let report = bootstrap(&options, &[secrets("production")]).await.unwrap();
    let mut expected = full_changes(&["production"]);
    expected.remove(0);
    assert_eq!(report.changes, expected);
    assert_eq!(options.keys_file.read().unwrap().unwrap(), keys);
    assert_eq!(
        bootstrap(&options, &[secrets("production")])
            .await
            .unwrap()
            .changes,
        vec![]
    );
}

#[tokio::test]
async fn initialised_server_without_keys_file_is_an_error_and_never_reinitialised() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    server.cli(&["operator", "init", "-format=json"]);
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    let error = bootstrap(&options, &[]).await.unwrap_err();
    assert!(
        matches!(error, BootstrapError::InitialisedWithoutKeys { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("kayobe-automation-keys.json"), "{text}");
    assert!(text.contains("restore the keys file"), "{text}");
    assert!(!options.keys_file.exists());
}

#[tokio::test]
async fn existing_keys_file_is_never_overwritten_by_init() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    let other = UnsealKeys {
        keys: vec!["00".into()],
        keys_base64: vec!["AA==".into()],
        root_token: "other-server-token".into(),
    };
    options.keys_file.write(&other).unwrap();
    let error = bootstrap(&options, &[]).await.unwrap_err();
    assert!(
        matches!(error, BootstrapError::KeysFileOfAnotherServer { .. }),
        "{error}"
    );
    assert_eq!(options.keys_file.read().unwrap().unwrap(), other);
    assert_eq!(seal_status(&server.addr()).await["initialized"], false);
}

#[tokio::test]
async fn kv_version_2_and_adding_secrets_only() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let mut options = options(&server, &gitlab);
    options.kv_version = KvVersion::V2;
    options.keys_file = KeysFile::new(
        options.keys_file.path(),
        Some(VaultSecret::new("keys-file-password")),
    );
    // Adding secrets needs a bootstrapped server; nothing is initialised.
    options.mode = Mode::SecretsOnly;
    let error = bootstrap(&options, &[secrets("production")])
        .await
        .unwrap_err();
    assert!(
        matches!(error, BootstrapError::NotBootstrapped { .. }),
        "{error}"
    );
    assert_eq!(seal_status(&server.addr()).await["initialized"], false);

    options.mode = Mode::Full;
    let report = bootstrap(&options, &[secrets("production")]).await.unwrap();
    assert!(report.changes.contains(&Change::MountedKv(KvVersion::V2)));
    let text = std::fs::read(options.keys_file.path()).unwrap();
    assert!(
        kayobe_config::vault::is_vaulted(&text),
        "keys file is vaulted"
    );
    let token = root_token(&options);
    let (code, secret) = get(&server.addr(), &token, "kayobe-automation/data/production").await;
    assert_eq!(code, 200);
    assert_eq!(
        secret["data"]["data"]["kayobe_vault_password"],
        "vault-pw-production"
    );

    options.mode = Mode::SecretsOnly;
    let report = bootstrap(&options, &[secrets("production"), secrets("staging")])
        .await
        .unwrap();
    assert_eq!(
        report.changes,
        vec![Change::SecretWritten("staging".to_owned())]
    );

    // Asking for version 1 where version 2 is mounted is refused, not remounted.
    options.mode = Mode::Full;
    options.kv_version = KvVersion::V1;
    let error = bootstrap(&options, &[]).await.unwrap_err();
    assert!(
        matches!(error, BootstrapError::MountMismatch { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("ask for the KV version it has"),
        "{error}"
    );
}

#[tokio::test]
async fn pipelines_log_in_with_a_gitlab_jwt_and_read_their_secret() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let options = options(&server, &gitlab);
    bootstrap(&options, &[secrets("production")]).await.unwrap();

    let token_for = |project_id: &str| gitlab_id_token(&gitlab.uri(), &server.addr(), project_id);
    let login = |jwt: String| {
        let addr = server.addr();
        async move {
            let response = reqwest::Client::new()
                .post(format!("{addr}/v1/auth/jwt/login"))
                .json(&serde_json::json!({"role": "gitlab", "jwt": jwt}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };

    let (status, body) = login(token_for("42")).await;
    assert_eq!(status, 200, "{body}");
    let client_token = body["auth"]["client_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body["auth"]["policies"],
        serde_json::json!(["default", "kayobe-automation"])
    );
    let (code, secret) = get(
        &server.addr(),
        &client_token,
        "kayobe-automation/production",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        secret["data"]["kayobe_automation_ssh_private_key"],
        "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-of-production\n"
    );
    // The policy grants reading only.
    let (code, _) = get(
        &server.addr(),
        &client_token,
        "sys/policy/kayobe-automation",
    )
    .await;
    assert_eq!(code, 403);

    let (status, body) = login(token_for("43")).await;
    assert!(matches!(status, 400 | 403), "{status} {body}");
    assert!(body["auth"].is_null(), "{body}");
}

/// `GET /v1/<path>` with `token`: status and JSON body.
async fn get(addr: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{addr}/v1/{path}"))
        .header("X-Vault-Token", token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// `sys/seal-status` without a token.
async fn seal_status(addr: &str) -> serde_json::Value {
    get(addr, "", "sys/seal-status").await.1
}

#[tokio::test]
async fn unwritable_keys_file_stops_before_init() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let blocker = server.dir().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let options = BootstrapOptions::new(
        server.addr(),
        KeysFile::new(blocker.join("kayobe-automation-keys.json"), None),
    );
    let error = bootstrap(&options, &[]).await.unwrap_err();
    assert!(matches!(error, BootstrapError::KeysFile(_)), "{error}");
    assert_eq!(
        seal_status(&server.addr()).await["initialized"],
        false,
        "keys that cannot be written must not be made"
    );
}
