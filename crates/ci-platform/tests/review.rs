//! Review feedback against wiremock GitHub and GitLab servers: the comment
//! created once and then updated in place, a comment deleted by hand or
//! written by somebody else, a body too long for one comment, a rate limit,
//! a missing permission named, commit statuses and branch heads.

mod gitlab_mock;

use std::time::Duration;

use ci_platform::{
    Comment, CommentOutcome, CommitStatus, GitHub, Platform, PlatformError, RetryPolicy, Secret,
    StatusState,
};
use gitlab_mock::{PROJECT, authenticated, gitlab};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const GITHUB_TOKEN: &str = "ghs_review_token";
const REPO: &str = "/repos/example-org/kayobe-config";
const MARKER: &str = "<!-- kayobe-automation:config-diff/production -->";

async fn github() -> (MockServer, GitHub) {
    let server = MockServer::start().await;
    let policy = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    };
    let client = GitHub::new(
        &server.uri(),
        &Secret::new(GITHUB_TOKEN),
        "example-org",
        "kayobe-config",
        policy,
    )
    .unwrap();
    (server, client)
}

fn gh(m: wiremock::MockBuilder) -> wiremock::MockBuilder {
    m.and(header(
        "authorization",
        format!("Bearer {GITHUB_TOKEN}").as_str(),
    ))
}

fn comment(body: &str) -> Comment {
    Comment {
        marker: "config-diff/production".into(),
        body: body.into(),
        overflow_note: "Truncated: the full report is in the job's artefacts.".into(),
    }
}

fn sent_body(request: &Request) -> String {
    let json: Value = serde_json::from_slice(&request.body).unwrap();
    json["body"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn github_creates_the_comment_once_then_updates_it_in_place() {
    let (server, client) = github().await;
    // Somebody else's comment quotes the marker further down: not ours.
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .and(query_param("per_page", "100"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1, "body": "looks good"},
            {"id": 2, "body": format!("{MARKER}\nold summary")},
            {"id": 3, "body": format!("why does it say\n{MARKER}")},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    gh(Mock::given(method("PATCH")))
        .and(path(format!("{REPO}/issues/comments/2")))
        .and(body_json(
            json!({"body": format!("{MARKER}\n## 3 changes")}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 2})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client
        .upsert_comment(12, &comment("## 3 changes"))
        .await
        .unwrap();
    assert_eq!(outcome, CommentOutcome::Updated { id: 2 });
}

#[tokio::test]
async fn github_adds_a_comment_when_none_carries_the_marker() {
    let (server, client) = github().await;
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "body": null}])))
        .expect(1)
        .mount(&server)
        .await;
    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .and(body_json(json!({"body": format!("{MARKER}\nNo changes.")})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 77})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client
        .upsert_comment(12, &comment("No changes."))
        .await
        .unwrap();
    assert_eq!(outcome, CommentOutcome::Created { id: 77 });
}

#[tokio::test]
async fn github_comment_deleted_by_hand_or_not_ours_leads_to_a_new_one() {
    let (server, client) = github().await;
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 5, "body": format!("{MARKER}\nforged by another user")},
            {"id": 6, "body": format!("{MARKER}\nours, deleted since")},
        ])))
        .mount(&server)
        .await;
    gh(Mock::given(method("PATCH")))
        .and(path(format!("{REPO}/issues/comments/6")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    gh(Mock::given(method("PATCH")))
        .and(path(format!("{REPO}/issues/comments/5")))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 8})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client.upsert_comment(12, &comment("new")).await.unwrap();
    assert_eq!(outcome, CommentOutcome::Created { id: 8 });
}

#[tokio::test]
async fn github_reads_every_page_of_comments_and_waits_out_a_rate_limit() {
    let (server, client) = github().await;
    let page_one: Vec<Value> = (1..=100)
        .map(|id| json!({"id": id, "body": "chatter"}))
        .collect();
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_one))
        .mount(&server)
        .await;
    // The second page is rate limited once, then served.
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 150, "body": format!("{MARKER}\nold")}])),
        )
        .mount(&server)
        .await;
    gh(Mock::given(method("PATCH")))
        .and(path(format!("{REPO}/issues/comments/150")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 150})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client.upsert_comment(12, &comment("new")).await.unwrap();
    assert_eq!(outcome, CommentOutcome::Updated { id: 150 });
}

#[tokio::test]
async fn github_body_too_long_is_truncated_with_the_pointer() {
    let (server, client) = github().await;
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 9})))
        .expect(1)
        .mount(&server)
        .await;
    let mut body = String::from("<details><summary>10 000 hosts</summary>\n\n```diff\n");
    for host in 0..10_000 {
        body.push_str(&format!(
            "+compute{host:05}: nova_cpu_allocation_ratio: 4.0\n"
        ));
    }
    body.push_str("```\n</details>\n");
    client.upsert_comment(12, &comment(&body)).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let sent = sent_body(requests.last().unwrap());
    assert!(sent.chars().count() <= 65_536, "{}", sent.len());
    assert!(sent.starts_with(MARKER));
    assert!(sent.ends_with("Truncated: the full report is in the job's artefacts."));
    assert!(sent.contains("```\n</details>\n"), "blocks closed");
}

#[tokio::test]
async fn github_missing_permission_is_named() {
    let (server, client) = github().await;
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/issues/12/comments")))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&server)
        .await;
    let error = client.upsert_comment(12, &comment("x")).await.unwrap_err();
    assert!(matches!(error, PlatformError::Permission { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("comment on #12"), "{text}");
    assert!(text.contains("pull-requests: write"), "{text}");
    assert!(!text.contains(GITHUB_TOKEN));

    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/statuses/abc123")))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let error = client
        .set_commit_status("abc123", &status(StatusState::Success))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("statuses: write"), "{error}");
}

fn status(state: StatusState) -> CommitStatus {
    CommitStatus {
        context: "kayobe-automation/config-diff/production".into(),
        state,
        description: "3 changes".into(),
        target_url: Some("https://ci.example/job/1".into()),
    }
}

#[tokio::test]
async fn github_commit_status_and_branch_head() {
    let (server, client) = github().await;
    gh(Mock::given(method("POST")))
        .and(path(format!("{REPO}/statuses/abc123")))
        .and(body_json(json!({
            "state": "success",
            "context": "kayobe-automation/config-diff/production",
            "description": "3 changes",
            "target_url": "https://ci.example/job/1",
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount(&server)
        .await;
    client
        .set_commit_status("abc123", &status(StatusState::Success))
        .await
        .unwrap();
    gh(Mock::given(method("GET")))
        .and(path(format!("{REPO}/branches/main")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"name": "main", "commit": {"sha": "f00d"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.branch_head("main").await.unwrap(), "f00d");
}

#[tokio::test]
async fn gitlab_updates_its_note_in_place_and_skips_system_notes() {
    let (server, client) = gitlab().await;
    for (page, next, notes) in [
        (
            "1",
            "2",
            json!([{"id": 1, "body": format!("{MARKER}\nsystem"), "system": true}]),
        ),
        (
            "2",
            "",
            json!([{"id": 4, "body": format!("{MARKER}\nold"), "system": false}]),
        ),
    ] {
        authenticated(Mock::given(method("GET")))
            .and(path(format!("{PROJECT}/merge_requests/7/notes")))
            .and(query_param("page", page))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-next-page", next)
                    .set_body_json(notes),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    authenticated(Mock::given(method("PUT")))
        .and(path(format!("{PROJECT}/merge_requests/7/notes/4")))
        .and(body_json(json!({"body": format!("{MARKER}\nnew")})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 4})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client.upsert_comment(7, &comment("new")).await.unwrap();
    assert_eq!(outcome, CommentOutcome::Updated { id: 4 });
}

#[tokio::test]
async fn gitlab_note_deleted_by_hand_is_recreated() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/merge_requests/7/notes")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 4, "body": format!("{MARKER}\nold")}])),
        )
        .mount(&server)
        .await;
    authenticated(Mock::given(method("PUT")))
        .and(path(format!("{PROJECT}/merge_requests/7/notes/4")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/merge_requests/7/notes")))
        .and(body_json(json!({"body": format!("{MARKER}\nnew")})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client.upsert_comment(7, &comment("new")).await.unwrap();
    assert_eq!(outcome, CommentOutcome::Created { id: 5 });
}

#[tokio::test]
async fn gitlab_status_is_idempotent_and_permissions_are_named() {
    let (server, client) = gitlab().await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/statuses/abc123")))
        .and(body_json(json!({
            "state": "failed",
            "name": "kayobe-automation/config-diff/production",
            "description": "3 changes",
            "target_url": "https://ci.example/job/1",
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("POST")))
        .and(path(format!("{PROJECT}/statuses/abc123")))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"message": "Cannot transition status via :drop from :failed"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let failed = status(StatusState::Failure);
    client.set_commit_status("abc123", &failed).await.unwrap();
    // The same state again is no error.
    client.set_commit_status("abc123", &failed).await.unwrap();

    authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/repository/branches/main")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"commit": {"id": "beef"}})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.branch_head("main").await.unwrap(), "beef");

    authenticated(Mock::given(method("GET")))
        .and(path(format!("{PROJECT}/merge_requests/9/notes")))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let error = client.upsert_comment(9, &comment("x")).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("read the notes of !9"), "{text}");
    assert!(text.contains("Reporter role"), "{text}");
}
