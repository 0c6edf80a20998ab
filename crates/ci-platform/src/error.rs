//! What can go wrong talking to a platform. No variant carries a token.

use std::time::Duration;

/// An error from a platform call. Each names the platform, the method and
/// the API path (never the token) and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The platform answered with an error status.
    #[error(
        "{platform} {method} {path} failed with HTTP {status}: {message}; check the token's permissions and the repository/project name"
    )]
    Status {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The HTTP method.
        method: String,
        /// The API path called (without query).
        path: String,
        /// The HTTP status code.
        status: u16,
        /// The platform's message, shortened.
        message: String,
    },
    /// The platform kept answering 429 or 5xx until the attempts ran out, or
    /// asked to wait longer than the retry policy allows.
    #[error(
        "{platform} {method} {path} still failed with HTTP {status} after {attempts} attempt(s); the platform is rate limiting or unavailable, try again later"
    )]
    GaveUp {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The HTTP method.
        method: String,
        /// The API path called.
        path: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// No answer came in time.
    #[error(
        "{platform} {method} {path} got no answer within {timeout:?} ({attempts} attempt(s)); check the API URL and the network, or raise the timeout"
    )]
    Timeout {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The HTTP method.
        method: String,
        /// The API path called.
        path: String,
        /// The per-request timeout.
        timeout: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The request could not be sent (DNS, connection refused, TLS).
    #[error(
        "{platform} {method} {path} could not be sent: {reason}; check the API URL and the network"
    )]
    Transport {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The HTTP method.
        method: String,
        /// The API path called.
        path: String,
        /// The transport error's text (it holds no header, so no token).
        reason: String,
    },
    /// The answer was not the JSON the API documents.
    #[error(
        "{platform} {method} {path} answered with unexpected JSON: {reason}; check that the API URL points at the {platform} REST API"
    )]
    Decode {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The HTTP method.
        method: String,
        /// The API path called.
        path: String,
        /// What did not match.
        reason: String,
    },
    /// The repository's public key for secrets is not a base64 32-byte key.
    #[error(
        "GitHub's public key for secrets at {path} is not a base64 X25519 key; check the API URL points at GitHub"
    )]
    PublicKey {
        /// The key's API path.
        path: String,
    },
    /// The token may not do what was asked (HTTP 403).
    #[error("{platform} refused to {action} (HTTP 403): {needed}")]
    Permission {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// What was being done, e.g. `comment on #12`.
        action: String,
        /// The permission the token needs, and where it is given.
        needed: &'static str,
    },
    /// The platform has no such thing to call.
    #[error("{what} are not supported on {platform}: {advice}")]
    Unsupported {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// What was asked for.
        what: &'static str,
        /// What to do instead.
        advice: &'static str,
    },
    /// The platform accepted a change but still reports the old value.
    #[error(
        "{platform} accepted {path} but its `{setting}` is still {current}, not {wanted}; the {platform} version may not support changing it through the API: set it in the project's settings page"
    )]
    NotApplied {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The API path called.
        path: String,
        /// The setting's API name.
        setting: &'static str,
        /// The value reported after the change.
        current: String,
        /// The value asked for.
        wanted: String,
    },
    /// A reviewer or deployer named does not exist on the platform.
    #[error(
        "{platform} has no {principal} (named as a reviewer or deployer); check the name, and that the token may see it"
    )]
    NoSuchPrincipal {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The principal as given, e.g. `team:cloud-ops`.
        principal: String,
    },
    /// GitLab refused the protected environments API: the instance or
    /// project has no Premium licence, or the token's user is not a
    /// Maintainer.
    #[error(
        "GitLab refused to list the protected environments (HTTP {status}): protected environments need GitLab Premium or Ultimate, and a token with the `api` scope of a user with the Maintainer role. Without them the jobs that change the cloud still run only from the default branch, but nobody has to approve a deploy"
    )]
    ProtectedEnvironmentsUnavailable {
        /// The HTTP status (403 or 404).
        status: u16,
    },
    /// The platform accepted an environment's protection but still reports
    /// it otherwise.
    #[error(
        "{platform} accepted the protection of environment `{name}` but it is still: {differences}; the platform's plan or version may not offer it: check the environment's settings page"
    )]
    EnvironmentNotApplied {
        /// `GitHub` or `GitLab`.
        platform: &'static str,
        /// The environment.
        name: String,
        /// What still differs, as [`crate::EnvironmentDifference`] words it.
        differences: String,
    },
    /// A token or value is not UTF-8 and the platform takes only text.
    #[error("the {what} is not UTF-8 text; the platform takes only text")]
    NotText {
        /// What it is, e.g. `token` or `value of \`NAME\``.
        what: String,
    },
    /// The base URL cannot be used.
    #[error("the API URL `{url}` is not an http(s) URL: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
}
