//! `kayobe-automation config-diff` on a git repository built from the example:
//! exit statuses, text and JSON output, and secrets that never show; with
//! `--publish`, against wiremock GitHub and GitLab: the comment added once,
//! then updated in place, the commit status carrying the summary, secrets
//! never reaching the platform, a missing permission named.

use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation::config::vault::{self, VaultSecret};
use kayobe_automation_tests::{commit, copy_dir, example_repo, git, git_init};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRETS: &str = "etc/kayobe/environments/production/secrets.yml";
const OLD_PASSWORD: &str = "97XQLcN0Ft37krK4Z8tN0xiID4QYophk";
const NEW_PASSWORD: &str = "cli-test-new-registry-password";
const MARKER: &str = "<!-- kayobe-automation:config-diff/production -->";
const REPORT: &str = "https://ci.example.com/jobs/9/artifacts/config-diff.html";

/// Tags `base`, then `changed`: a new production timezone and a changed
/// vaulted registry password.
fn history() -> tempfile::TempDir {
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
    dir
}

fn config_diff(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env("KAYOBE_ENVIRONMENT", "production")
        .args(["--vault-password-file", ".vault-password", "config-diff"])
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn exit_status_and_outputs() {
    let dir = history();
    let repo = dir.path();

    let same = config_diff(repo, &["--base", "base", "--target", "base"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(stdout(&same), "");

    let text = config_diff(repo, &["--base", "base", "--target", "changed"]);
    assert_eq!(
        text.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    // Not a terminal: progress is two plain lines, and no warning (every
    // vaulted file of production is listed).
    let stderr = String::from_utf8(text.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("config-diff: comparing "), "{stderr}");
    assert_eq!(lines[1], lines[0].replace("comparing", "compared"));
    let text = stdout(&text);
    // Grouped: both changes apply to every host, shown once for all.
    assert_eq!(text.matches("@@ ").count(), 1, "{text}");
    let all = text
        .split_once(" hosts) @@\n")
        .expect("a change on every host")
        .1;
    assert!(text.contains("\n@@ all hosts ("), "{text}");
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 4, "{all}");
    assert!(lines[0].starts_with("-secrets_registry_password: \"<secret sha256:"));
    assert!(lines[1].starts_with("+secrets_registry_password: \"<secret sha256:"));
    assert_ne!(lines[0][1..], lines[1][1..]);
    assert_eq!(
        lines[2..],
        [
            "-timezone: \"Europe/London\"",
            "+timezone: \"Europe/Paris\""
        ]
    );

    let out = repo.join("diff.json");
    let json = config_diff(
        repo,
        &[
            "--base", "base", "--target", "changed", "--format", "json", "--out",
        ],
    );
    // `--out` takes a value: missing, it is a usage error, not a diff.
    assert_eq!(json.status.code(), Some(2));
    let json = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env("KAYOBE_ENVIRONMENT", "production")
        .args(["--vault-password-file", ".vault-password", "config-diff"])
        .args([
            "--base", "base", "--target", "changed", "--format", "json", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    assert_eq!(stdout(&json), "");
    let written = std::fs::read_to_string(&out).unwrap();
    let value: Value = serde_json::from_str(&written).unwrap();
    let ctl01 = &value["hosts"]["ctl01"];
    assert_eq!(ctl01["added"], serde_json::json!({}));
    assert_eq!(ctl01["removed"], serde_json::json!({}));
    assert_eq!(
        ctl01["changed"]["timezone"],
        serde_json::json!({"base": "Europe/London", "target": "Europe/Paris"})
    );
    let password = &ctl01["changed"]["secrets_registry_password"];
    assert_ne!(password["base"], password["target"]);

    for output in [&text, &written] {
        assert!(!output.contains(OLD_PASSWORD) && !output.contains(NEW_PASSWORD));
    }
}

#[test]
fn an_unknown_revision_exits_2_naming_it() {
    let dir = history();
    let output = config_diff(dir.path(), &["--base", "base", "--target", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`nope` not found"), "{stderr}");
    assert!(!stderr.contains(OLD_PASSWORD));
}

#[test]
fn html_page_and_its_exit_status() {
    let dir = history();
    let repo = dir.path();
    let same = config_diff(
        repo,
        &["--base", "base", "--target", "base", "--format", "html"],
    );
    assert_eq!(same.status.code(), Some(0));
    let same = stdout(&same);
    assert!(same.starts_with("<!DOCTYPE html>"));
    assert!(same.contains("<h1>Configuration diff: no changes</h1>"));

    let changed = config_diff(
        repo,
        &["--base", "base", "--target", "changed", "--format", "html"],
    );
    assert_eq!(changed.status.code(), Some(1));
    let page = stdout(&changed);
    assert!(page.contains("<h1>Configuration diff: changes</h1>"));
    assert!(page.contains(
        "<tr><td class=\"k\">secrets_registry_password</td><td class=\"kind changed\">changed</td>"
    ));
    assert!(!page.contains(OLD_PASSWORD) && !page.contains(NEW_PASSWORD));
}

/// The stand-in `kayobe` of the generated-mode test: one file per run, the
/// production timezone, under `<node-config-dir>/ctl01`.
const KAYOBE: &str = r#"#!/bin/busybox sh
set -e
out="$6"
/bin/busybox mkdir -p "$out/ctl01"
/bin/busybox grep '^timezone' "$KAYOBE_CONFIG_PATH/environments/$KAYOBE_ENVIRONMENT/globals.yml" > "$out/ctl01/timezone"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_mode_exit_statuses() {
    let Some(busybox) = kayobe_automation_tests::tool("busybox") else {
        return;
    };
    let Some(docker) = kayobe_automation_tests::docker::engine().await else {
        return;
    };
    let image = kayobe_automation_tests::docker::unique_tag("cli-config-diff");
    let _cleanup = kayobe_automation_tests::docker::RemoveImages(vec![image.clone()]);
    let busybox = std::fs::read(busybox).unwrap();
    kayobe_automation_tests::docker::build_test_image(
        &docker,
        &image,
        &[
            (
                "Dockerfile",
                b"FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY kayobe /usr/local/bin/kayobe\n",
                0o644,
            ),
            ("busybox", &busybox, 0o755),
            ("kayobe", KAYOBE.as_bytes(), 0o755),
        ],
    )
    .await;
    let dir = history();
    let repo = dir.path();
    let generated = |target: &str, image: &str| {
        config_diff(
            repo,
            &[
                "--generated",
                "--image",
                image,
                "--base",
                "base",
                "--target",
                target,
            ],
        )
    };

    let same = generated("base", &image);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(stdout(&same), "");

    let changed = generated("changed", &image);
    assert_eq!(
        changed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert_eq!(
        stdout(&changed),
        "--- a/ctl01/timezone\n+++ b/ctl01/timezone\n@@ -1 +1 @@\n-timezone: Europe/London\n+timezone: Europe/Paris\n"
    );

    let missing = generated("changed", "kayobe-automation/no-such-image:test");
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("kayobe-automation/no-such-image:test")
            && stderr.contains("kayobe-automation image build"),
        "{stderr}"
    );
}

/// Ctrl-C during `config-diff --generated`: the Kayobe container is stopped
/// and removed, the command exits 130; and neither `docker inspect` nor
/// `docker export` of the running container holds the vault password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_generated_mode_removes_the_container_and_exits_130() {
    let Some(busybox) = kayobe_automation_tests::tool("busybox") else {
        return;
    };
    let Some(docker) = kayobe_automation_tests::docker::engine().await else {
        return;
    };
    let image = kayobe_automation_tests::docker::unique_tag("cli-config-diff-hang");
    let _cleanup = kayobe_automation_tests::docker::RemoveImages(vec![image.clone()]);
    let busybox = std::fs::read(busybox).unwrap();
    kayobe_automation_tests::docker::build_test_image(
        &docker,
        &image,
        &[
            (
                "Dockerfile",
                b"FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY kayobe /usr/local/bin/kayobe\n",
                0o644,
            ),
            ("busybox", &busybox, 0o755),
            ("kayobe", b"#!/bin/sh\necho hanging\nsleep 600\n", 0o755),
        ],
    )
    .await;
    let dir = history();
    let password = std::fs::read_to_string(dir.path().join(".vault-password")).unwrap();
    let password = password.trim();
    let child = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(dir.path())
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env("KAYOBE_ENVIRONMENT", "production")
        .args(["--vault-password-file", ".vault-password", "config-diff"])
        .args([
            "--generated",
            "--image",
            &image,
            "--base",
            "base",
            "--target",
            "changed",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let filters = std::collections::HashMap::from([("ancestor".to_owned(), vec![image.clone()])]);
    let list = || async {
        docker
            .list_containers(Some(
                bollard::query_parameters::ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await
            .unwrap()
    };
    let mut id = None;
    for _ in 0..600 {
        if let Some(found) = list().await.into_iter().find_map(|c| c.id) {
            id = Some(found);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let id = id.expect("the Kayobe container never ran");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let inspected =
        serde_json::to_string(&docker.inspect_container(&id, None).await.unwrap()).unwrap();
    let mut export = Vec::new();
    let mut stream = docker.export_container(&id);
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        export.extend_from_slice(&chunk.unwrap());
    }
    assert!(
        !inspected.contains(password),
        "docker inspect shows the vault password"
    );
    assert!(
        !export
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "docker export holds the vault password"
    );
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("hanging"), "{stderr}");
    assert!(list().await.is_empty(), "a container was left behind");
}

async fn publish(repo: &Path, platform: &str, server: &MockServer, head: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
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

fn stderr_text(output: &Output) -> String {
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
    let dir = history();
    let head = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_owned();
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
    assert_eq!(first.status.code(), Some(1), "{}", stderr_text(&first));
    assert!(
        stderr_text(&first).contains("added comment 42"),
        "{}",
        stderr_text(&first)
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
    assert_eq!(second.status.code(), Some(1), "{}", stderr_text(&second));
    assert!(
        stderr_text(&second).contains("updated comment 42"),
        "{}",
        stderr_text(&second)
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
    let dir = history();
    let head = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_owned();
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
    assert_eq!(output.status.code(), Some(1), "{}", stderr_text(&output));
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
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_text(&refused));
    let message = stderr_text(&refused);
    assert!(
        message.contains("cannot publish the result on the change"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("developer"), "{message}");
}
