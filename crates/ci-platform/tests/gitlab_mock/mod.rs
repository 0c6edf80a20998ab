//! A wiremock GitLab and a client for it, shared by the GitLab test files.

use std::time::Duration;

use ci_platform::{GitLab, RetryPolicy, Secret};
use wiremock::matchers::header;
use wiremock::{MockBuilder, MockServer};

/// The token the client sends.
pub const TOKEN: &str = "glpat-test-token";
/// The project's API path: `group/kayobe-config`, encoded as one path segment.
pub const PROJECT: &str = "/api/v4/projects/group%2Fkayobe-config";

/// A mock GitLab and a client for `group/kayobe-config` on it: three quick
/// attempts per call.
pub async fn gitlab() -> (MockServer, GitLab) {
    let server = MockServer::start().await;
    let policy = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    };
    let client = GitLab::new(
        &server.uri(),
        &Secret::new(TOKEN),
        "group/kayobe-config",
        policy,
    )
    .unwrap();
    (server, client)
}

/// A mock that answers only calls carrying the token.
pub fn authenticated(m: MockBuilder) -> MockBuilder {
    m.and(header("private-token", TOKEN))
}
