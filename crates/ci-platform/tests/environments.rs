//! Deployment environments and their protection against wiremock GitHub and
//! GitLab servers: every call check and apply make (method, path, body),
//! reviewers looked up once, create against update against already as
//! wanted, refusals that name a permission or GitLab Premium, and retried
//! rate limits. A catch-all answers any call not expected and fails the test.

mod gitlab_mock;

use std::num::NonZeroU32;
use std::time::Duration;

use ci_platform::{
    EnvironmentDifference, EnvironmentProtection, EnvironmentState, GitHub, Platform,
    PlatformError, Principal, RetryPolicy, Role, Secret,
};
use gitlab_mock::{PROJECT, authenticated as gitlab_authenticated, gitlab};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use EnvironmentDifference::{
    BranchPolicy, Deployers, Missing, Reviewers, SelfReview, Tier, Unprotected,
};

const GITHUB_TOKEN: &str = "ghp_environment_tests";
const REPO: &str = "/api/v3/repos/example-org/kayobe-config";

/// Fails the test (when the server is dropped) if any call reaches no
/// mounted mock: the lowest priority, so every expected mock comes first.
async fn refuse_unexpected(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("an unexpected call")
        .mount(server)
        .await;
}

async fn github() -> (MockServer, GitHub) {
    let server = MockServer::start().await;
    refuse_unexpected(&server).await;
    let policy = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    };
    let client = GitHub::new(
        &format!("{}/api/v3", server.uri()),
        &Secret::new(GITHUB_TOKEN),
        "example-org",
        "kayobe-config",
        policy,
    )
    .unwrap();
    (server, client)
}

fn github_authenticated(m: MockBuilder) -> MockBuilder {
    m.and(header(
        "authorization",
        format!("Bearer {GITHUB_TOKEN}").as_str(),
    ))
    .and(header("accept", "application/vnd.github+json"))
}

fn wanted(name: &str, reviewers: &[Principal]) -> EnvironmentProtection {
    EnvironmentProtection {
        name: name.into(),
        reviewers: reviewers.to_vec(),
        approvals: NonZeroU32::MIN,
        deployers: Vec::new(),
    }
}

fn state(name: &str, differences: Vec<EnvironmentDifference>, reviewed: bool) -> EnvironmentState {
    EnvironmentState {
        name: name.into(),
        differences,
        reviewed,
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn alice_and_ops() -> Vec<Principal> {
    vec![
        Principal::User("alice".into()),
        Principal::Team("cloud-ops".into()),
    ]
}

/// Alice is user 11 and cloud-ops team 22, each looked up once.
async fn mount_github_reviewers(server: &MockServer) {
    github_authenticated(Mock::given(method("GET")))
        .and(path("/api/v3/users/alice"))
        .respond_with(ok(json!({"login": "alice", "id": 11, "type": "User"})))
        .expect(1)
        .mount(server)
        .await;
    github_authenticated(Mock::given(method("GET")))
        .and(path("/api/v3/orgs/example-org/teams/cloud-ops"))
        .respond_with(ok(json!({"slug": "cloud-ops", "id": 22})))
        .expect(1)
        .mount(server)
        .await;
}

/// A GitHub environment as the API gives it.
fn github_environment(
    name: &str,
    reviewers: &[(&str, u64)],
    prevent_self_review: bool,
    branch_policy: Value,
    wait_timer: Option<u64>,
) -> Value {
    let mut rules = Vec::new();
    if let Some(wait) = wait_timer {
        rules.push(json!({"id": 1, "node_id": "n1", "type": "wait_timer", "wait_timer": wait}));
    }
    if !reviewers.is_empty() {
        let reviewers: Vec<Value> = reviewers
            .iter()
            .map(|(kind, id)| json!({"type": kind, "reviewer": {"id": id}}))
            .collect();
        rules.push(
            json!({"id": 2, "node_id": "n2", "type": "required_reviewers",
                          "prevent_self_review": prevent_self_review, "reviewers": reviewers}),
        );
    }
    json!({"id": 7, "name": name, "protection_rules": rules,
           "deployment_branch_policy": branch_policy})
}

fn protected_branches() -> Value {
    json!({"protected_branches": true, "custom_branch_policies": false})
}

async fn mount_github_environment(server: &MockServer, name: &str, answer: ResponseTemplate) {
    github_authenticated(Mock::given(method("GET")))
        .and(path(format!("{REPO}/environments/{name}")))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_github_put(server: &MockServer, name: &str, body: Value, answer: ResponseTemplate) {
    github_authenticated(Mock::given(method("PUT")))
        .and(path(format!("{REPO}/environments/{name}")))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn github_check_reports_missing_and_drifted_environments() {
    let (server, client) = github().await;
    mount_github_reviewers(&server).await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    mount_github_environment(
        &server,
        "staging",
        ok(github_environment(
            "staging",
            &[("User", 11)],
            false,
            Value::Null,
            None,
        )),
    )
    .await;
    let reviewers = alice_and_ops();
    let states = client
        .deployment_environments(&[
            wanted("production", &reviewers),
            wanted("staging", &reviewers),
        ])
        .await
        .unwrap();
    assert_eq!(
        states,
        [
            state("production", vec![Missing], true),
            state("staging", vec![BranchPolicy, Reviewers, SelfReview], true),
        ]
    );
}

#[tokio::test]
async fn github_apply_creates_and_updates_keeping_the_wait_timer() {
    let (server, client) = github().await;
    mount_github_reviewers(&server).await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    let drifted = github_environment(
        "staging",
        &[("User", 5)],
        true,
        json!({"protected_branches": false, "custom_branch_policies": true}),
        Some(30),
    );
    mount_github_environment(&server, "staging", ok(drifted)).await;
    let reviewers = json!([{"type": "Team", "id": 22}, {"type": "User", "id": 11}]);
    let as_wanted = |name: &str, wait| {
        ok(github_environment(
            name,
            &[("User", 11), ("Team", 22)],
            true,
            protected_branches(),
            wait,
        ))
    };
    mount_github_put(
        &server,
        "production",
        json!({
            "deployment_branch_policy": protected_branches(),
            "reviewers": reviewers,
            "prevent_self_review": true,
        }),
        as_wanted("production", None),
    )
    .await;
    mount_github_put(
        &server,
        "staging",
        json!({
            "deployment_branch_policy": protected_branches(),
            "reviewers": reviewers,
            "prevent_self_review": true,
            "wait_timer": 30,
        }),
        as_wanted("staging", Some(30)),
    )
    .await;
    let reviewers = alice_and_ops();
    let changed = client
        .apply_deployment_environments(&[
            wanted("production", &reviewers),
            wanted("staging", &reviewers),
        ])
        .await
        .unwrap();
    assert_eq!(
        changed,
        [
            state("production", vec![Missing], true),
            state("staging", vec![BranchPolicy, Reviewers], true),
        ]
    );
}

#[tokio::test]
async fn github_apply_on_environments_as_wanted_changes_nothing() {
    let (server, client) = github().await;
    mount_github_reviewers(&server).await;
    let as_wanted = github_environment(
        "production",
        &[("Team", 22), ("User", 11)],
        true,
        protected_branches(),
        None,
    );
    mount_github_environment(&server, "production", ok(as_wanted)).await;
    let changed = client
        .apply_deployment_environments(&[wanted("production", &alice_and_ops())])
        .await
        .unwrap();
    assert_eq!(changed, []);
}

#[tokio::test]
async fn github_without_reviewers_keeps_those_it_has_and_says_who_has_none() {
    let (server, client) = github().await;
    // Reviewed by hand, but any branch may deploy.
    mount_github_environment(
        &server,
        "production",
        ok(github_environment(
            "production",
            &[("User", 5)],
            false,
            Value::Null,
            None,
        )),
    )
    .await;
    mount_github_environment(&server, "staging", ResponseTemplate::new(404)).await;
    mount_github_put(
        &server,
        "production",
        json!({
            "deployment_branch_policy": protected_branches(),
            "reviewers": [{"type": "User", "id": 5}],
            "prevent_self_review": false,
        }),
        ok(github_environment(
            "production",
            &[("User", 5)],
            false,
            protected_branches(),
            None,
        )),
    )
    .await;
    mount_github_put(
        &server,
        "staging",
        json!({"deployment_branch_policy": protected_branches()}),
        ok(github_environment(
            "staging",
            &[],
            false,
            protected_branches(),
            None,
        )),
    )
    .await;
    let changed = client
        .apply_deployment_environments(&[wanted("production", &[]), wanted("staging", &[])])
        .await
        .unwrap();
    assert_eq!(
        changed,
        [
            state("production", vec![BranchPolicy], true),
            state("staging", vec![Missing], false),
        ]
    );
}

#[tokio::test]
async fn github_refused_environment_names_the_administration_permission() {
    let (server, client) = github().await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    github_authenticated(Mock::given(method("PUT")))
        .and(path(format!("{REPO}/environments/production")))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client
        .apply_deployment_environments(&[wanted("production", &[])])
        .await
        .unwrap_err();
    assert!(
        matches!(error, PlatformError::Permission { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("create or update environment `production`")
            && text.contains("Administration"),
        "{text}"
    );
    assert!(!text.contains(GITHUB_TOKEN));
}

#[tokio::test]
async fn github_unknown_reviewer_is_named() {
    let (server, client) = github().await;
    github_authenticated(Mock::given(method("GET")))
        .and(path("/api/v3/orgs/example-org/teams/nobody"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    let error = client
        .deployment_environments(&[wanted("production", &[Principal::Team("nobody".into())])])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PlatformError::NoSuchPrincipal { principal, .. } if principal == "team:nobody"),
        "{error:?}"
    );
}

#[tokio::test]
async fn github_refuses_gitlab_only_protection_without_a_call() {
    let (_server, client) = github().await;
    let with_group = wanted("production", &[Principal::Group("infra".into())]);
    let mut with_deployers = wanted("production", &[]);
    with_deployers.deployers = vec![Principal::User("alice".into())];
    let mut with_approvals = wanted("production", &[]);
    with_approvals.approvals = NonZeroU32::new(2).unwrap();
    for protection in [with_group, with_deployers, with_approvals] {
        let error = client
            .apply_deployment_environments(std::slice::from_ref(&protection))
            .await
            .unwrap_err();
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
    }
}

#[tokio::test]
async fn github_protection_the_platform_drops_is_an_error() {
    let (server, client) = github().await;
    github_authenticated(Mock::given(method("GET")))
        .and(path("/api/v3/users/alice"))
        .respond_with(ok(json!({"login": "alice", "id": 11})))
        .expect(1)
        .mount(&server)
        .await;
    mount_github_environment(&server, "production", ResponseTemplate::new(404)).await;
    // Taken, but without the reviewers.
    mount_github_put(
        &server,
        "production",
        json!({
            "deployment_branch_policy": protected_branches(),
            "reviewers": [{"type": "User", "id": 11}],
            "prevent_self_review": true,
        }),
        ok(github_environment(
            "production",
            &[],
            false,
            protected_branches(),
            None,
        )),
    )
    .await;
    let error = client
        .apply_deployment_environments(&[wanted("production", &[Principal::User("alice".into())])])
        .await
        .unwrap_err();
    assert!(
        matches!(error, PlatformError::EnvironmentNotApplied { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("other reviewers"), "{error}");
}

// GitLab.

/// Alice is user 11 and `infra/ops` group 33, each looked up once.
async fn mount_gitlab_principals(server: &MockServer) {
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path("/api/v4/users"))
        .and(query_param("username", "alice"))
        .respond_with(ok(json!([{"id": 11, "username": "alice"}])))
        .expect(1)
        .mount(server)
        .await;
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path("/api/v4/groups/infra%2Fops"))
        .respond_with(ok(json!({"id": 33, "full_path": "infra/ops"})))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_gitlab_environment(server: &MockServer, name: &str, listed: Value) {
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/environments")))
        .and(query_param("name", name))
        .respond_with(ok(listed))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_protected_list(server: &MockServer, answer: ResponseTemplate) {
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/protected_environments")))
        .and(query_param("per_page", "100"))
        .and(query_param("page", "1"))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_gitlab_change(
    server: &MockServer,
    verb: &str,
    route: &str,
    body: Value,
    answer: ResponseTemplate,
) {
    gitlab_authenticated(Mock::given(method(verb)))
        .and(path(format!("{PROJECT}{route}")))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

/// Alice, the `infra/ops` group with two approvals, and maintainers deploy.
fn gitlab_wanted(name: &str) -> EnvironmentProtection {
    EnvironmentProtection {
        name: name.into(),
        reviewers: vec![
            Principal::Group("infra/ops".into()),
            Principal::User("alice".into()),
        ],
        approvals: NonZeroU32::new(2).unwrap(),
        deployers: Vec::new(),
    }
}

fn gitlab_environment(id: u64, name: &str, tier: &str) -> Value {
    json!({"id": id, "name": name, "slug": name, "tier": tier, "state": "available"})
}

/// The protected environment `gitlab_wanted` asks for, entries numbered.
fn protected_as_wanted(name: &str) -> Value {
    json!({
        "name": name,
        "deploy_access_levels": [
            {"id": 1, "access_level": 40, "access_level_description": "Maintainers",
             "user_id": null, "group_id": null, "group_inheritance_type": 0},
        ],
        "approval_rules": [
            {"id": 2, "user_id": 11, "group_id": null, "access_level": null,
             "access_level_description": "Alice", "required_approvals": 1, "group_inheritance_type": 0},
            {"id": 3, "user_id": null, "group_id": 33, "access_level": null,
             "access_level_description": "ops", "required_approvals": 2, "group_inheritance_type": 0},
        ],
    })
}

/// Developers deploy, and the group need give one approval only.
fn protected_drifted(name: &str) -> Value {
    json!({
        "name": name,
        "deploy_access_levels": [
            {"id": 4, "access_level": 30, "user_id": null, "group_id": null},
        ],
        "approval_rules": [
            {"id": 5, "user_id": 11, "group_id": null, "access_level": null, "required_approvals": 1},
            {"id": 6, "user_id": null, "group_id": 33, "access_level": null, "required_approvals": 1},
        ],
    })
}

#[tokio::test]
async fn gitlab_check_reports_each_difference() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    mount_gitlab_principals(&server).await;
    mount_gitlab_environment(&server, "production", json!([])).await;
    mount_gitlab_environment(
        &server,
        "staging",
        // `name=` may match more than the one environment on older GitLab.
        json!([
            gitlab_environment(8, "staging-old", "production"),
            gitlab_environment(7, "staging", "staging")
        ]),
    )
    .await;
    mount_protected_list(&server, ok(json!([protected_drifted("staging")]))).await;
    let states = client
        .deployment_environments(&[gitlab_wanted("production"), gitlab_wanted("staging")])
        .await
        .unwrap();
    assert_eq!(
        states,
        [
            state("production", vec![Missing, Unprotected], true),
            state(
                "staging",
                vec![Tier("staging".into()), Deployers, Reviewers],
                true
            ),
        ]
    );
}

#[tokio::test]
async fn gitlab_apply_creates_and_updates_entry_by_entry() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    mount_gitlab_principals(&server).await;
    mount_gitlab_environment(&server, "production", json!([])).await;
    mount_gitlab_environment(
        &server,
        "staging",
        json!([gitlab_environment(7, "staging", "staging")]),
    )
    .await;
    mount_protected_list(&server, ok(json!([protected_drifted("staging")]))).await;
    let created = ResponseTemplate::new(201);
    mount_gitlab_change(
        &server,
        "POST",
        "/environments",
        json!({"name": "production", "tier": "production"}),
        created
            .clone()
            .set_body_json(gitlab_environment(9, "production", "production")),
    )
    .await;
    mount_gitlab_change(
        &server,
        "POST",
        "/protected_environments",
        json!({
            "name": "production",
            "deploy_access_levels": [{"access_level": 40}],
            "approval_rules": [
                {"user_id": 11, "required_approvals": 1},
                {"group_id": 33, "required_approvals": 2},
            ],
        }),
        created.set_body_json(protected_as_wanted("production")),
    )
    .await;
    mount_gitlab_change(
        &server,
        "PUT",
        "/environments/7",
        json!({"tier": "production"}),
        ok(gitlab_environment(7, "staging", "production")),
    )
    .await;
    mount_gitlab_change(
        &server,
        "PUT",
        "/protected_environments/staging",
        json!({
            "deploy_access_levels": [{"access_level": 40}, {"id": 4, "_destroy": true}],
            "approval_rules": [
                {"group_id": 33, "required_approvals": 2},
                {"id": 6, "_destroy": true},
            ],
        }),
        ok(protected_as_wanted("staging")),
    )
    .await;
    let changed = client
        .apply_deployment_environments(&[gitlab_wanted("production"), gitlab_wanted("staging")])
        .await
        .unwrap();
    assert_eq!(
        changed,
        [
            state("production", vec![Missing, Unprotected], true),
            state(
                "staging",
                vec![Tier("staging".into()), Deployers, Reviewers],
                true
            ),
        ]
    );
}

#[tokio::test]
async fn gitlab_apply_on_environments_as_wanted_changes_nothing() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    mount_gitlab_principals(&server).await;
    mount_gitlab_environment(
        &server,
        "production",
        json!([gitlab_environment(9, "production", "production")]),
    )
    .await;
    mount_protected_list(&server, ok(json!([protected_as_wanted("production")]))).await;
    let changed = client
        .apply_deployment_environments(&[gitlab_wanted("production")])
        .await
        .unwrap();
    assert_eq!(changed, []);
}

#[tokio::test]
async fn gitlab_without_reviewers_keeps_approval_rules_and_says_who_has_none() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    for name in ["production", "staging"] {
        mount_gitlab_environment(
            &server,
            name,
            json!([gitlab_environment(9, name, "production")]),
        )
        .await;
    }
    let mut unreviewed = protected_as_wanted("staging");
    unreviewed["approval_rules"] = json!([]);
    mount_protected_list(
        &server,
        ok(json!([protected_as_wanted("production"), unreviewed])),
    )
    .await;
    let none = |name: &str| EnvironmentProtection {
        name: name.into(),
        reviewers: Vec::new(),
        approvals: NonZeroU32::MIN,
        deployers: vec![Principal::Role(Role::Maintainer)],
    };
    let states = client
        .deployment_environments(&[none("production"), none("staging")])
        .await
        .unwrap();
    assert_eq!(
        states,
        [
            state("production", vec![], true),
            state("staging", vec![], false),
        ]
    );
}

#[tokio::test]
async fn gitlab_without_premium_says_what_the_jobs_still_get() {
    for status in [403, 404] {
        let (server, client) = gitlab().await;
        refuse_unexpected(&server).await;
        mount_gitlab_environment(&server, "production", json!([])).await;
        mount_protected_list(
            &server,
            ResponseTemplate::new(status).set_body_json(json!({"message": "403 Forbidden"})),
        )
        .await;
        // Apply finds out before it changes anything.
        let error = client
            .apply_deployment_environments(&[wanted("production", &[])])
            .await
            .unwrap_err();
        assert!(
            matches!(error, PlatformError::ProtectedEnvironmentsUnavailable { status: s } if s == status),
            "{error:?}"
        );
        let text = error.to_string();
        for needed in [
            "GitLab Premium",
            "Maintainer",
            "only from the default branch",
        ] {
            assert!(text.contains(needed), "{text}");
        }
    }
}

#[tokio::test]
async fn gitlab_refused_environment_names_the_maintainer_role() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    mount_gitlab_environment(&server, "production", json!([])).await;
    mount_protected_list(&server, ok(json!([]))).await;
    gitlab_authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/environments")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .expect(1)
        .mount(&server)
        .await;
    let error = client
        .apply_deployment_environments(&[wanted("production", &[])])
        .await
        .unwrap_err();
    assert!(
        matches!(error, PlatformError::Permission { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("environment `production`") && text.contains("Maintainer role"),
        "{text}"
    );
}

#[tokio::test]
async fn gitlab_unknown_principals_are_named_and_teams_refused() {
    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path("/api/v4/groups/nobody"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "404 Group Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path("/api/v4/users"))
        .and(query_param("username", "ghost"))
        .respond_with(ok(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    for (principal, named) in [
        (Principal::Group("nobody".into()), "group:nobody"),
        (Principal::User("ghost".into()), "user:ghost"),
    ] {
        let error = client
            .deployment_environments(&[wanted("production", &[principal])])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, PlatformError::NoSuchPrincipal { principal, .. } if principal == named),
            "{error:?}"
        );
    }
    let error = client
        .deployment_environments(&[wanted("production", &[Principal::Team("ops".into())])])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PlatformError::Unsupported {
                platform: "GitLab",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn rate_limited_environment_calls_are_retried() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");

    let (server, client) = github().await;
    github_authenticated(Mock::given(method("GET")))
        .and(path(format!("{REPO}/environments/production")))
        .respond_with(limited.clone())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_github_environment(
        &server,
        "production",
        ok(github_environment(
            "production",
            &[],
            false,
            protected_branches(),
            None,
        )),
    )
    .await;
    let states = client
        .deployment_environments(&[wanted("production", &[])])
        .await
        .unwrap();
    assert_eq!(states, [state("production", vec![], false)]);

    let (server, client) = gitlab().await;
    refuse_unexpected(&server).await;
    mount_gitlab_environment(
        &server,
        "production",
        json!([gitlab_environment(9, "production", "production")]),
    )
    .await;
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/protected_environments")))
        .respond_with(limited)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    // A 5xx is retried too, not taken for a missing licence.
    gitlab_authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/protected_environments")))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_protected_list(
        &server,
        ok(json!([{
            "name": "production",
            "deploy_access_levels": [{"id": 1, "access_level": 40}],
            "approval_rules": [],
        }])),
    )
    .await;
    let states = client
        .deployment_environments(&[wanted("production", &[])])
        .await
        .unwrap();
    assert_eq!(states, [state("production", vec![], false)]);
}
