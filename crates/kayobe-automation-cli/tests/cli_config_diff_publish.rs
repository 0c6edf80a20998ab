//! `config-diff --publish` against wiremock GitHub and GitLab: the comment
//! is added once, then updated in place; the commit status carries the
//! summary; secrets never reach the platform; a missing permission is named.

use std::path::Path;
use std::process::Output;

use kayobe_automation::config::vault::{self, VaultSecret};
use kayobe_automation_tests::{commit, copy_dir, example_repo, git, git_init};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRETS: &str = "etc/kayobe/environments/production/secrets.yml";
const OLD_PASSWORD: &str = "97XQLcN0Ft37krK4Z8tN0xiID4QYophk";
const NEW_PASSWORD: &str = "publish-test-new-registry-password";
const MARKER: &str = "<!-- kayobe-automation:config-diff/production -->";
const REPORT: &str = "https://ci.example.com/jobs/9/artifacts/config-diff.html";

/// Tags `base`, then `changed`: a new production timezone and a changed
/// vaulted registry password. Returns the checkout and the head commit.
fn history() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&example_repo(), repo);
    git_init(repo);
    commit(repo, "base");
    let globals = repo.join("etc/kayobe/environments/production/globals.yml");
    let text = std::fs::read_to_string(&globals).unwrap();
    std::fs::write(&globals, text.replace("Europe/London", "Europe/Paris")).unwrap();
    let secret = VaultSecret::from_file(&repo.join(".vault-password")).unwrap();
    let secrets = repo.join(SECRETS);
    let plain = vault::decrypt(&std::fs::read(&secrets).unwrap(), &secret)
        .unwrap()
        .plaintext;
    let plain = String::from_utf8(plain)
        .unwrap()
        .replace(OLD_PASSWORD, NEW_PASSWORD);
    std::fs::write(
        &secrets,
        vault::encrypt(plain.as_bytes(), &secret, None).unwrap(),
    )
    .unwrap();
    commit(repo, "changed");
    let head = git(repo, &["rev-parse", "HEAD"]).trim().to_owned();
    (dir, head)
}

async fn publish(repo: &Path, platform: &str, server: &MockServer, head: &str) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("KAYOBE_AUTOMATION_API_URL")
        .env_remove("CI_MERGE_REQUEST_IID")
        .env_remove("CI_COMMIT_SHA")
        .env("KAYOBE_ENVIRONMENT", "production")
        .env("GITHUB_TOKEN", "ghp_publish")
        .env("GITLAB_TOKEN", "glpat-publish")
        .args(["--vault-password-file", ".vault-password", "config-diff"])
        .args(["--base", "base", "--target", "changed"])
        .args(["--publish", platform, "--change", "7", "--commit", head])
        .args(["--report-url", REPORT, "--api-url", &server.uri()])
        .args(["--repo", "example-org/kayobe-config"])
        .args(["--project", "group/kayobe-config"]);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn sent(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What every published comment says, whatever the platform.
fn check_comment(body: &str) {
    assert!(body.starts_with(MARKER), "{body}");
    assert!(
        body.contains("### Configuration diff: ` production `"),
        "{body}"
    );
    assert!(body.contains(&format!("[full report]({REPORT})")), "{body}");
    assert!(body.contains("Europe/Paris"), "{body}");
    assert!(body.contains("secret"), "{body}");
    assert!(!body.contains(NEW_PASSWORD) && !body.contains(OLD_PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn github_comment_added_then_updated_and_status_set() {
    let (dir, head) = history();
    let server = MockServer::start().await;
    let comments = "/repos/example-org/kayobe-config/issues/7/comments";
    let statuses = format!("/repos/example-org/kayobe-config/statuses/{head}");
    // First push: only somebody else's comment.
    let listed = Mock::given(method("GET"))
        .and(path(comments))
        .and(header("authorization", "Bearer ghp_publish"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "body": "LGTM"}])))
        .expect(1)
        .named("list comments")
        .mount_as_scoped(&server)
        .await;
    let created = Mock::given(method("POST"))
        .and(path(comments))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 42})))
        .expect(1)
        .named("add the comment")
        .mount_as_scoped(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(statuses.as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(2)
        .named("set the status")
        .mount(&server)
        .await;

    let first = publish(dir.path(), "github", &server, &head).await;
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("added comment 42"),
        "{}",
        stderr(&first)
    );
    let body = sent(&created.received_requests().await[0]);
    check_comment(body["body"].as_str().unwrap());
    drop((listed, created));

    // Second push: the comment is found by its marker and edited.
    Mock::given(method("GET"))
        .and(path(comments))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1, "body": "LGTM"},
            {"id": 42, "body": format!("{MARKER}\nthe first push's diff")},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let edited = Mock::given(method("PATCH"))
        .and(path("/repos/example-org/kayobe-config/issues/comments/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 42})))
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let second = publish(dir.path(), "github", &server, &head).await;
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("updated comment 42"),
        "{}",
        stderr(&second)
    );
    check_comment(
        sent(&edited.received_requests().await[0])["body"]
            .as_str()
            .unwrap(),
    );

    let requests = server.received_requests().await.unwrap();
    let status: Vec<Value> = requests
        .iter()
        .filter(|request| request.url.path() == statuses)
        .map(sent)
        .collect();
    assert_eq!(status.len(), 2);
    assert_eq!(status[0], status[1]);
    assert_eq!(
        status[0]["context"],
        "kayobe-automation/config-diff/production"
    );
    assert_eq!(status[0]["state"], "success");
    assert_eq!(status[0]["target_url"], REPORT);
    // Every production host: the timezone and the vaulted password.
    assert_eq!(
        status[0]["description"],
        "16 hosts (0 added, 0 removed, 32 changed variables; 16 secrets) changed"
    );
    for request in &requests {
        let text = String::from_utf8_lossy(&request.body);
        assert!(!text.contains(NEW_PASSWORD) && !text.contains(OLD_PASSWORD));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_note_and_status_and_a_missing_permission_named() {
    let (dir, head) = history();
    let server = MockServer::start().await;
    let project = "/api/v4/projects/group%2Fkayobe-config";
    Mock::given(method("GET"))
        .and(path(format!("{project}/merge_requests/7/notes")))
        .and(header("private-token", "glpat-publish"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let created = Mock::given(method("POST"))
        .and(path(format!("{project}/merge_requests/7/notes")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
        .expect(2)
        .mount_as_scoped(&server)
        .await;
    let status = Mock::given(method("POST"))
        .and(path(format!("{project}/statuses/{head}")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let output = publish(dir.path(), "gitlab", &server, &head).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    check_comment(
        sent(&created.received_requests().await[0])["body"]
            .as_str()
            .unwrap(),
    );
    let sent_status = sent(&status.received_requests().await[0]);
    assert_eq!(
        sent_status["name"],
        "kayobe-automation/config-diff/production"
    );
    assert_eq!(sent_status["state"], "success");
    drop(status);

    // A token that may comment but not set statuses: exit 2, naming it.
    Mock::given(method("POST"))
        .and(path(format!("{project}/statuses/{head}")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .mount(&server)
        .await;
    let refused = publish(dir.path(), "gitlab", &server, &head).await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("cannot publish the result on the change"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("developer"), "{message}");
}
