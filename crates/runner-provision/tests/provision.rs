//! Runner provisioning of the example repository against wiremock
//! platforms: definitions, plan, apply twice, host files, a failing apply.

use std::path::Path;
use std::time::Duration;

use ci_platform::{GitHub, GitLab, PlatformKind, RetryPolicy, Secret};
use kayobe_automation_tests::{copy_dir, example_repo};
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::VaultSecret;
use pretty_assertions::assert_eq;
use runner_provision::{Fleet, HostRunners, Step, apply, host_path, load, load_from, plan};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fleet_of(etc_kayobe: &Path, platform: PlatformKind) -> Fleet {
    let repo = ConfigRepo::open(etc_kayobe, Some("production")).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    load(&repo, Some(&secret), platform).unwrap()
}

fn fleet(platform: PlatformKind) -> Fleet {
    fleet_of(&example_repo().join("etc/kayobe"), platform)
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    }
}

const REPO: &str = "/repos/example-org/kayobe-config/actions/runners";

fn github_runner(id: u64, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "os": "linux", "status": "online", "busy": false, "labels": []})
}

/// Every file under `out`, with its mode and (for the snapshot) contents.
fn layout(out: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mut stack = vec![out.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                let name = entry
                    .path()
                    .strip_prefix(out)
                    .unwrap()
                    .display()
                    .to_string();
                let mut text = std::fs::read_to_string(entry.path()).unwrap();
                // The registry password is the example vault's plaintext.
                if name.ends_with(".docker/config.json") {
                    let auth: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert!(auth["auths"]["192.168.33.5:4000"]["auth"].is_string());
                    text = "(registry credentials)\n".to_owned();
                }
                files.push(format!("== {name} ({mode:o})\n{text}"));
            }
        }
    }
    files.sort();
    files.join("\n")
}

#[test]
fn github_definitions_of_the_example() {
    let fleet = fleet(PlatformKind::GitHub);
    assert_eq!(fleet.warnings, Vec::<String>::new());
    assert_eq!(fleet.hosts.len(), 1);
    let HostRunners::GitHub(github) = &fleet.hosts[0].runners else {
        panic!("GitHub runners");
    };
    assert_eq!(
        github.repo_url,
        "https://github.com/example-org/kayobe-config"
    );
    let runners: Vec<_> = github
        .runners
        .iter()
        .map(|r| (r.key.as_str(), r.labels.join(","), r.present))
        .collect();
    assert_eq!(
        runners,
        [
            ("runner_01", "kayobe,openstack,production".to_owned(), true),
            ("runner_02", "kayobe,openstack,production".to_owned(), true),
            ("runner_03", "kayobe,openstack,tempest".to_owned(), true),
            ("runner_04", "kayobe,openstack,production".to_owned(), false),
        ]
    );
    assert!(github.access_token.is_some());
    assert!(
        !format!("{fleet:?}").contains(github.access_token.as_ref().unwrap().expose_str().unwrap())
    );
}

#[tokio::test]
async fn github_plan_apply_apply() {
    let fleet = fleet(PlatformKind::GitHub);
    let server = MockServer::start().await;
    let listed = |runners: Vec<serde_json::Value>| {
        ResponseTemplate::new(200)
            .set_body_json(json!({"total_count": runners.len(), "runners": runners}))
    };
    // runner_01 is registered; runner_04 (absent) and `gone` (no longer
    // defined) are to be deleted. After the apply they are gone.
    Mock::given(method("GET"))
        .and(path(REPO))
        .and(query_param("page", "1"))
        .respond_with(listed(vec![
            github_runner(1, "runner01-runner_01"),
            github_runner(4, "runner01-runner_04"),
            github_runner(5, "runner01-gone"),
            github_runner(6, "otherhost-runner_01"),
        ]))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(REPO))
        .respond_with(listed(vec![github_runner(1, "runner01-runner_01")]))
        .expect(1)
        .mount(&server)
        .await;
    for id in [4, 5] {
        Mock::given(method("DELETE"))
            .and(path(format!("{REPO}/{id}")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/registration-token")))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"token": "REGISTRATION-TOKEN", "expires_at": "2026-11-26T03:00:00Z"}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let github = GitHub::new(
        &server.uri(),
        &Secret::new("ghp_x"),
        "example-org",
        "kayobe-config",
        policy(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();

    let planned = plan(&fleet, &github, out.path()).await.unwrap();
    let text: Vec<String> = planned.steps.iter().map(Step::to_string).collect();
    insta::assert_snapshot!("github_plan", text.join("\n"));

    let done = apply(&fleet, &github, out.path()).await.unwrap();
    assert_eq!(done, planned.steps);
    insta::assert_snapshot!("github_host_layout", layout(out.path()));

    let again = apply(&fleet, &github, out.path()).await.unwrap();
    assert_eq!(again, Vec::<Step>::new());
}

#[tokio::test]
async fn gitlab_plan_apply_apply() {
    let fleet = fleet(PlatformKind::GitLab);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/group%2Fkayobe-config/runners"))
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
        .and(body_json(
            json!({"runner_type": "project_type", "project_id": 17,
            "description": "kayobe-runner01", "tag_list": "kayobe,openstack,production",
            "run_untagged": false, "locked": true}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": 31, "token": "glrt-NEWTOKEN"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gitlab = GitLab::new(
        &server.uri(),
        &Secret::new("glpat-x"),
        "group/kayobe-config",
        policy(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let planned = plan(&fleet, &gitlab, out.path()).await.unwrap();
    let text: Vec<String> = planned.steps.iter().map(Step::to_string).collect();
    assert_eq!(
        text,
        [
            "register runner kayobe-runner01 on runner01",
            "write runner01:/etc/gitlab-runner/config.toml",
            "write runner01:/opt/.docker/config.json",
        ]
    );
    apply(&fleet, &gitlab, out.path()).await.unwrap();
    let config = std::fs::read_to_string(host_path(
        out.path(),
        "runner01",
        "/etc/gitlab-runner/config.toml",
    ))
    .unwrap();
    let parsed: toml::Table = config.parse().expect("config.toml parses as TOML");
    let runner = &parsed["runners"].as_array().unwrap()[0];
    assert_eq!(runner["token"].as_str(), Some("glrt-NEWTOKEN"));
    assert_eq!(runner["docker"]["network_mode"].as_str(), Some("host"));
    insta::assert_snapshot!("gitlab_config_toml", config);
    let auth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(host_path(
            out.path(),
            "runner01",
            "/opt/.docker/config.json",
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(auth["auths"]["192.168.33.5:4000"]["auth"].is_string());

    assert_eq!(
        apply(&fleet, &gitlab, out.path()).await.unwrap(),
        Vec::<Step>::new()
    );
}

#[tokio::test]
async fn failed_apply_says_what_was_done() {
    let fleet = fleet(PlatformKind::GitHub);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(REPO))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1, "runners": [github_runner(4, "runner01-runner_04")]})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"message": "Must have admin rights"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let github = GitHub::new(
        &server.uri(),
        &Secret::new("ghp_x"),
        "example-org",
        "kayobe-config",
        policy(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = apply(&fleet, &github, out.path()).await.unwrap_err();
    assert_eq!(error.done.len(), 1);
    let text = error.to_string();
    assert!(
        text.contains("delete runner runner01-runner_04 (id 4) of runner01"),
        "{text}"
    );
    assert!(
        text.contains("stopped at `register runner runner01-runner_01 on runner01`"),
        "{text}"
    );
    assert!(text.contains("Must have admin rights"), "{text}");
}

#[test]
fn runner_host_in_a_kolla_group_is_warned_about() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), copy.path());
    let hosts = copy.path().join("etc/kayobe/inventory/hosts");
    let text = std::fs::read_to_string(&hosts).unwrap();
    std::fs::write(&hosts, text.replace("[compute]\n", "[compute]\nrunner01\n")).unwrap();
    let fleet = fleet_of(&copy.path().join("etc/kayobe"), PlatformKind::GitHub);
    assert_eq!(fleet.warnings.len(), 1, "{:?}", fleet.warnings);
    assert!(fleet.warnings[0].contains("runner host runner01"));
    assert!(fleet.warnings[0].contains("compute"));
}

#[tokio::test]
async fn unreachable_platform_fails_before_any_step() {
    let fleet = fleet(PlatformKind::GitHub);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let github = GitHub::new(
        &server.uri(),
        &Secret::new("ghp_x"),
        "example-org",
        "kayobe-config",
        policy(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = apply(&fleet, &github, out.path()).await.unwrap_err();
    assert_eq!(error.failed, None);
    let text = error.to_string();
    assert!(
        text.contains("stopped while reading the current state after 0 step(s)"),
        "{text}"
    );
    assert!(text.contains("HTTP 401: Bad credentials"), "{text}");
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
}

#[tokio::test]
async fn gitlab_given_token_and_removed_runner() {
    use runner_provision::{GitLabHost, GitLabRunner, RunnerHost};
    let fleet = Fleet {
        platform: PlatformKind::GitLab,
        hosts: vec![RunnerHost {
            name: "gl01".into(),
            runners: HostRunners::GitLab(GitLabHost {
                coordinator_url: "https://gitlab.example.com".into(),
                concurrent: 1,
                runners: vec![GitLabRunner {
                    name: "shell-runner".into(),
                    executor: "shell".into(),
                    docker_image: None,
                    token: Some(Secret::new("glrt-GIVEN")),
                    tags: vec![],
                    env_vars: vec![],
                    docker_volumes: vec![],
                    run_untagged: true,
                    locked: true,
                    extra_configs: Default::default(),
                }],
                registry: None,
            }),
        }],
        warnings: vec![],
    };
    let out = tempfile::tempdir().unwrap();
    // An earlier apply created `old`, which is no longer defined.
    let config = host_path(out.path(), "gl01", "/etc/gitlab-runner/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "concurrent = 1\n[[runners]]\nname = \"old\"\nid = 77\ntoken = \"glrt-OLD\"\n",
    )
    .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/5/runners"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 77, "description": "old"}])),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/5/runners"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v4/runners/77"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let gitlab = GitLab::new(&server.uri(), &Secret::new("glpat-x"), "5", policy()).unwrap();
    let done = apply(&fleet, &gitlab, out.path()).await.unwrap();
    let text: Vec<String> = done.iter().map(Step::to_string).collect();
    assert_eq!(
        text,
        [
            "delete runner old (id 77) of gl01",
            "write gl01:/etc/gitlab-runner/config.toml",
        ]
    );
    let written: toml::Table = std::fs::read_to_string(&config).unwrap().parse().unwrap();
    let runners = written["runners"].as_array().unwrap();
    assert_eq!(runners.len(), 1);
    assert_eq!(runners[0]["token"].as_str(), Some("glrt-GIVEN"));
    assert_eq!(runners[0]["executor"].as_str(), Some("shell"));
    assert!(runners[0].get("docker").is_none());
    assert_eq!(
        apply(&fleet, &gitlab, out.path()).await.unwrap(),
        Vec::<Step>::new()
    );
}

/// With no runner host there is nothing to read the extra vars for, so no
/// vault password is needed to say so.
#[test]
fn no_runner_hosts_needs_no_vault_password() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), copy.path());
    let hosts = copy.path().join("etc/kayobe/inventory/hosts");
    let text = std::fs::read_to_string(&hosts).unwrap();
    let emptied = text.replace("[github-runners]\nrunner01\n", "[github-runners]\n");
    assert_ne!(emptied, text, "the example has one GitHub runner host");
    std::fs::write(&hosts, emptied).unwrap();
    let repo = ConfigRepo::open(&copy.path().join("etc/kayobe"), Some("production")).unwrap();
    let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
    let inventory = repo.inventory(Some(&secret)).unwrap();
    let fleet = load_from(&repo, &inventory, None, PlatformKind::GitHub).unwrap();
    assert!(fleet.hosts.is_empty());
    // With a runner host, the vaulted extra vars do need the password.
    let repo = ConfigRepo::open(&example_repo().join("etc/kayobe"), Some("production")).unwrap();
    let inventory = repo.inventory(Some(&secret)).unwrap();
    assert!(load_from(&repo, &inventory, None, PlatformKind::GitHub).is_err());
}

/// A wrong or missing runner variable is an error naming the file and line
/// it is written at, or the runner group's file it belongs in.
#[test]
fn definition_errors_name_the_file_and_line() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), copy.path());
    let runners = copy
        .path()
        .join("etc/kayobe/inventory/group_vars/github-runners/runners.yml");
    let text = std::fs::read_to_string(&runners).unwrap();
    let load_error = |text: &str| {
        std::fs::write(&runners, text).unwrap();
        let repo = ConfigRepo::open(&copy.path().join("etc/kayobe"), Some("production")).unwrap();
        let secret = VaultSecret::from_file(&example_repo().join(".vault-password")).unwrap();
        load(&repo, Some(&secret), PlatformKind::GitHub)
            .unwrap_err()
            .to_string()
    };
    let wrong = text.replace("runner_user: stack", "runner_user: [stack]");
    let line = wrong
        .lines()
        .position(|line| line.starts_with("runner_user:"))
        .unwrap()
        + 1;
    assert_eq!(
        load_error(&wrong),
        format!(
            "{}:{line}:1: `runner_user` of runner host runner01 must be a string, not a list",
            runners.display()
        )
    );
    let missing = text.replace("github_repo: kayobe-config\n", "");
    assert_eq!(
        load_error(&missing),
        format!(
            "{}: `github_repo` of runner host runner01 is not defined",
            runners.display()
        )
    );
}
