//! Fault injection on both backends: 429 with `Retry-After`, a 502 then
//! success, a hung server, malformed JSON. Each is a retry or a clear error.

use std::time::{Duration, Instant};

use ci_platform::{
    GitHub, GitLab, ItemKind, Platform, PlatformError, RetryPolicy, Scope, Secret, SyncItem, sync,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok-fault-tests";

fn policy(timeout: Duration) -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(5),
        timeout,
    }
}

fn github(server: &MockServer, timeout: Duration) -> GitHub {
    GitHub::new(
        &server.uri(),
        &Secret::new(TOKEN),
        "o",
        "r",
        policy(timeout),
    )
    .unwrap()
}

fn gitlab(server: &MockServer, timeout: Duration) -> GitLab {
    GitLab::new(&server.uri(), &Secret::new(TOKEN), "5", policy(timeout)).unwrap()
}

const GITHUB_RUN: &str = "/repos/o/r/actions/runs/1";
const GITLAB_RUN: &str = "/api/v4/projects/5/pipelines/1";

fn github_run() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"id": 1, "status": "queued", "conclusion": null, "html_url": null}))
}

fn gitlab_run() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": 1, "status": "running", "web_url": null}))
}

/// Mounts `first` for one call, then `then` for the rest.
async fn mount_sequence(
    server: &MockServer,
    route: &str,
    first: ResponseTemplate,
    then: ResponseTemplate,
) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(then)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    let server = MockServer::start().await;
    mount_sequence(&server, GITHUB_RUN, limited.clone(), github_run()).await;
    let started = Instant::now();
    let status = github(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap();
    assert_eq!(status.status, "queued");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );

    let server = MockServer::start().await;
    mount_sequence(&server, GITLAB_RUN, limited, gitlab_run()).await;
    let started = Instant::now();
    let status = gitlab(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap();
    assert_eq!(status.status, "running");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_beyond_the_policy_gives_up_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let error = github(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PlatformError::GaveUp {
                status: 429,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("try again later"));
}

#[tokio::test]
async fn bad_gateway_then_success() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        GITHUB_RUN,
        ResponseTemplate::new(502),
        github_run(),
    )
    .await;
    github(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap();

    let server = MockServer::start().await;
    mount_sequence(
        &server,
        GITLAB_RUN,
        ResponseTemplate::new(502),
        gitlab_run(),
    )
    .await;
    gitlab(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap();
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_the_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let error = gitlab(&server, Duration::from_secs(5))
        .run_status(1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PlatformError::GaveUp {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn hung_server_times_out() {
    let hung = || ResponseTemplate::new(200).set_delay(Duration::from_secs(30));
    let timeout = Duration::from_millis(200);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(hung())
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = github(&server, timeout).run_status(1).await.unwrap_err();
    assert!(
        matches!(error, PlatformError::Timeout { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = gitlab(&server, timeout).run_status(1).await.unwrap_err();
    assert!(
        matches!(error, PlatformError::Timeout { attempts: 3, .. }),
        "{error:?}"
    );

    // A POST is not repeated after a timeout: it may have done its work.
    Mock::given(method("POST"))
        .respond_with(hung())
        .mount(&server)
        .await;
    let error = github(&server, timeout)
        .runner_credential(&ci_platform::RunnerSpec {
            name: "x".into(),
            tags: vec![],
            run_untagged: false,
            locked: true,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, PlatformError::Timeout { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 1, \"status\": "))
        .expect(2)
        .mount(&server)
        .await;
    for error in [
        github(&server, Duration::from_secs(5))
            .run_status(1)
            .await
            .unwrap_err(),
        gitlab(&server, Duration::from_secs(5))
            .run_status(1)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(error, PlatformError::Decode { .. }), "{error:?}");
        assert!(error.to_string().contains("unexpected JSON"), "{error}");
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // A port that was free a moment ago and has no listener now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = GitLab::new(
        &uri,
        &Secret::new(TOKEN),
        "5",
        policy(Duration::from_secs(2)),
    )
    .unwrap();
    let error = client.run_status(1).await.unwrap_err();
    assert!(
        matches!(error, PlatformError::Transport { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(TOKEN));
}

/// The platforms take text: a token that is not UTF-8 is refused when the
/// client is made, a value when it is sent, before any request.
#[tokio::test]
async fn text_that_is_not_utf8_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let not_text = Secret::new(b"tok\xff".to_vec());
    let timeout = Duration::from_secs(5);
    let refused = |result: Result<_, PlatformError>| matches!(result, Err(PlatformError::NotText { what }) if what == "token");
    assert!(refused(
        GitHub::new(&server.uri(), &not_text, "o", "r", policy(timeout)).map(drop)
    ));
    assert!(refused(
        GitLab::new(&server.uri(), &not_text, "5", policy(timeout)).map(drop)
    ));
    let gitlab = gitlab(&server, timeout);
    for kind in [ItemKind::Secret, ItemKind::Variable] {
        let item = SyncItem {
            kind,
            name: "NAME".to_owned(),
            value: not_text.clone(),
        };
        let error = sync(&gitlab, &Scope::Repository, &[item])
            .await
            .unwrap_err();
        assert_eq!(
            error.source.to_string(),
            "the value of `NAME` is not UTF-8 text; the platform takes only text"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
