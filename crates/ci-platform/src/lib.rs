//! The `Platform` trait and its GitHub and GitLab backends.
//!
//! Every call kayobe-automation makes to a CI platform's API goes through
//! [`Platform`]: runner registration credentials, listing and deleting
//! runners, secrets (GitHub: a libsodium sealed box against the repository's
//! or environment's public key; GitLab: a masked, protected variable), plain
//! variables, triggering a workflow or pipeline and reading a run's status.
//!
//! Both backends take a base URL (GitHub Enterprise, self-managed GitLab) and
//! a [`RetryPolicy`]: 429 and 5xx answers are retried with exponential
//! backoff, waiting what `Retry-After` asks when it says so; every attempt
//! has a timeout; a timed-out POST is not repeated, since it may have done
//! its work. Tokens are held as [`Secret`], whose `Debug` is redacted, and
//! sent only in headers, so they appear in no URL, log line or error. The
//! platforms take tokens and variables as text: a token that is not UTF-8 is
//! refused when the client is made, a value when it is sent
//! ([`PlatformError::NotText`]); GitHub's sealed secrets take any bytes.
//!
//! Review feedback ([`Comment`], [`CommitStatus`]) goes on the change and
//! the commit under review: one comment per purpose, updated in place on
//! every push; [`Platform::branch_head`] lets a deploy check that it still
//! runs the reviewed head of its branch.
//!
//! [`sync`] sets a list of secrets and variables in order and, when one
//! fails, says which were set.
//!
//! Deployment environments ([`EnvironmentProtection`]) are checked and
//! created or updated with their protection: GitHub required reviewers and
//! a protected-branches-only policy, GitLab protected environments with
//! deployers and approval rules.
//!
//! [`GitHub`] sends its requests through octocrab's HTTP client (rustls);
//! [`GitLab`] through reqwest (rustls) against the few REST endpoints needed.

mod environment;
mod error;
mod github;
mod gitlab;
mod retry;
mod review;
mod seal;
mod sync;

use std::collections::BTreeMap;

pub use environment::{
    EnvironmentDifference, EnvironmentProtection, EnvironmentState, Principal, PrincipalParseError,
    Role,
};
pub use error::PlatformError;
pub use github::GitHub;
pub use gitlab::GitLab;
pub use retry::RetryPolicy;
pub use review::{Comment, CommentOutcome, CommitStatus, STATUS_DESCRIPTION_LIMIT, StatusState};
pub use seal::seal;
// Tokens and values are passed as it, so callers name it here.
pub use kayobe_stdx::Secret;
pub use sync::{
    ItemKind, SyncError, SyncItem, SyncListEntry, SyncListError, parse_sync_list, sync,
};

/// Which platform a backend talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformKind {
    /// GitHub or GitHub Enterprise.
    GitHub,
    /// GitLab.com or a self-managed GitLab.
    GitLab,
}

/// Where a secret or variable is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The repository (GitHub) or project (GitLab) as a whole.
    Repository,
    /// One deployment environment (GitHub environment; GitLab
    /// `environment_scope`).
    Environment(String),
}

/// What a new runner should be: used by GitLab, which creates the runner
/// with these settings; GitHub's registration token carries none of them
/// (the runner's own `config.sh` sets its name and labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSpec {
    /// The runner's name (GitLab: description).
    pub name: String,
    /// Labels (GitHub) or tags (GitLab).
    pub tags: Vec<String>,
    /// Whether the runner also picks up jobs without tags.
    pub run_untagged: bool,
    /// Whether the runner is locked to this project.
    pub locked: bool,
}

/// The credential a runner host needs to join the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerCredential {
    /// GitHub: a short-lived registration token for `config.sh --token`.
    Registration {
        /// The token.
        token: Secret,
        /// When it expires (as the API says it).
        expires_at: Option<String>,
    },
    /// GitLab: a runner already created, with its `glrt-` authentication
    /// token for `config.toml`.
    Authentication {
        /// The runner's id.
        id: u64,
        /// The `glrt-` token.
        token: Secret,
    },
}

/// A runner the platform knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    /// The platform's id, for [`Platform::delete_runner`].
    pub id: u64,
    /// GitHub: the name; GitLab: the description.
    pub name: String,
    /// Online/offline etc., as the platform words it.
    pub status: String,
    /// Labels (GitHub); GitLab's list does not give tags, so empty there.
    pub labels: Vec<String>,
}

/// A request to start a workflow (GitHub) or pipeline (GitLab).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRequest {
    /// GitHub: the workflow file name or id (e.g. `deploy.yml`); GitLab: unused.
    pub workflow: String,
    /// The branch or tag to run on.
    pub git_ref: String,
    /// Inputs (GitHub `workflow_dispatch` inputs; GitLab pipeline `inputs`).
    pub inputs: BTreeMap<String, String>,
}

/// A started run, as far as the platform says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triggered {
    /// The run's id when the platform returns it (GitLab does; GitHub's
    /// dispatch answers 204 without one).
    pub run_id: Option<u64>,
    /// A link to the run, when known.
    pub url: Option<String>,
}

/// A run's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// The run's id.
    pub id: u64,
    /// GitHub `status` (`queued`, `in_progress`, `completed`) or GitLab
    /// pipeline `status` (`running`, `success`, `failed`, …).
    pub status: String,
    /// GitHub `conclusion` once completed (`success`, `failure`, …); GitLab: none.
    pub conclusion: Option<String>,
    /// A link to the run.
    pub url: Option<String>,
}

impl RunStatus {
    /// Whether the run has ended, on either platform.
    pub fn finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "success" | "failed" | "canceled" | "skipped"
        )
    }
}

/// One project setting the setup guide asks for: its value now and the
/// value wanted (GitLab; GitHub has no such settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSetting {
    /// The API's name for it (e.g. `build_timeout`).
    pub name: &'static str,
    /// The value the project has, as the API's JSON (`null` when the API
    /// does not say).
    pub current: serde_json::Value,
    /// The value kayobe automation wants.
    pub wanted: serde_json::Value,
}

impl ProjectSetting {
    /// Whether the project's value is not the wanted one.
    pub fn differs(&self) -> bool {
        self.current != self.wanted
    }
}

/// One CI platform's API, for one repository (GitHub) or project (GitLab).
///
/// Object safe (`dyn Platform`), so callers and tests can pick a backend
/// at run time.
#[async_trait::async_trait]
pub trait Platform: Send + Sync {
    /// Which platform this is.
    fn kind(&self) -> PlatformKind;

    /// A credential for a new runner described by `spec` (GitHub: a
    /// registration token; GitLab: creates a project runner).
    async fn runner_credential(&self, spec: &RunnerSpec)
    -> Result<RunnerCredential, PlatformError>;

    /// Every runner of the repository or project, all pages.
    async fn list_runners(&self) -> Result<Vec<Runner>, PlatformError>;

    /// Deletes a runner by id.
    async fn delete_runner(&self, id: u64) -> Result<(), PlatformError>;

    /// Creates or updates a secret.
    async fn set_secret(
        &self,
        scope: &Scope,
        name: &str,
        value: &Secret,
    ) -> Result<(), PlatformError>;

    /// Creates or updates a plain variable.
    async fn set_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
    ) -> Result<(), PlatformError>;

    /// Starts a workflow or pipeline.
    async fn trigger(&self, request: &TriggerRequest) -> Result<Triggered, PlatformError>;

    /// A run's current state.
    async fn run_status(&self, run_id: u64) -> Result<RunStatus, PlatformError>;

    /// The project settings the setup guide asks for (no public pipelines,
    /// no auto-cancel of redundant pipelines, no "prevent outdated
    /// deployment jobs", a 12 h job timeout, Auto DevOps off), each with its
    /// current value. [`PlatformError::Unsupported`] on GitHub.
    async fn project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError>;

    /// Keeps one comment per [`Comment::marker`] on pull request (GitHub)
    /// or merge request (GitLab) `number`: the newest one carrying the
    /// marker that the token may edit gets the new text, else one is added.
    /// A 403 names the permission the token lacks.
    async fn upsert_comment(
        &self,
        number: u64,
        comment: &Comment,
    ) -> Result<CommentOutcome, PlatformError>;

    /// Sets a status on commit `sha`; one of the same context replaces it.
    async fn set_commit_status(
        &self,
        sha: &str,
        status: &CommitStatus,
    ) -> Result<(), PlatformError>;

    /// The commit at the head of `branch` now.
    async fn branch_head(&self, branch: &str) -> Result<String, PlatformError>;

    /// Sets the settings of [`Platform::project_settings`] that differ, in
    /// one call, and returns those it changed (with their former value as
    /// `current`); none when all are as wanted. [`PlatformError::Unsupported`]
    /// on GitHub.
    async fn apply_project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError>;

    /// Each environment of `wanted` as the platform has it: missing, or how
    /// its protection differs. Reviewers and deployers are looked up once
    /// (an unknown one is [`PlatformError::NoSuchPrincipal`]); one the
    /// platform has no such thing for is [`PlatformError::Unsupported`].
    /// GitLab without protected environments (no Premium, or no Maintainer
    /// role) is [`PlatformError::ProtectedEnvironmentsUnavailable`].
    async fn deployment_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError>;

    /// Creates or updates the environments of `wanted` that differ, each as
    /// a whole, and returns them as they were (what it changed); none when
    /// all are as wanted. Settings it does not manage (a GitHub wait timer,
    /// reviewers when none are wanted) are kept. A 403 names the permission
    /// the token lacks.
    async fn apply_deployment_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError>;
}

/// Checks and normalises an API base URL (no trailing slash).
fn base_url(url: &str) -> Result<String, PlatformError> {
    let trimmed = url.trim_end_matches('/');
    let refuse = |reason: &str| PlatformError::BaseUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| refuse("it must start with https:// or http://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(refuse("it has no host"));
    }
    if rest.contains('@') {
        return Err(refuse("credentials belong in the token, not the URL"));
    }
    Ok(trimmed.to_owned())
}

/// Percent-encodes one path segment (GitLab project paths, names).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            base_url("https://ghe.example/api/v3/").unwrap(),
            "https://ghe.example/api/v3"
        );
        assert!(base_url("ghe.example").is_err());
        assert!(base_url("https://").is_err());
        assert!(base_url("https://user:pw@host").is_err());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("group/sub proj"), "group%2Fsub%20proj");
    }

    #[test]
    fn finished_runs() {
        let status = |s: &str| RunStatus {
            id: 1,
            status: s.into(),
            conclusion: None,
            url: None,
        };
        assert!(status("completed").finished());
        assert!(status("failed").finished());
        assert!(!status("running").finished());
    }
}
