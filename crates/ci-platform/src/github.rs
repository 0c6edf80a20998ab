//! The GitHub backend: REST calls sent through octocrab's HTTP client.
//!
//! Octocrab gives the authenticated, rustls-backed client and the base URL
//! handling (GitHub Enterprise's `/api/v3` prefix is kept); the calls are
//! made raw so that one retry loop (`retry.rs`) sees every status and
//! `Retry-After` header. Octocrab itself sends `X-GitHub-Api-Version`.

use async_trait::async_trait;
use http::header::ACCEPT;
use octocrab::Octocrab;
use serde::Deserialize;
use serde_json::json;

use crate::environment::Environments;
use crate::retry::{Answer, Api, Method, error_chain, expect_permitted};
use crate::review::{self, CommentApi, ListedComment};
use crate::{
    Comment, CommentOutcome, CommitStatus, EnvironmentProtection, EnvironmentState, Platform,
    PlatformError, PlatformKind, ProjectSetting, RetryPolicy, RunStatus, Runner, RunnerCredential,
    RunnerSpec, Scope, Secret, StatusState, TriggerRequest, Triggered, base_url, encode_segment,
};

mod environments;

/// Runners and comments per page: the API's maximum, so few pages are needed.
const PAGE_SIZE: usize = 100;

/// Pages of comments read at most: a server that never ends a listing must
/// not keep us forever.
const MAX_PAGES: usize = 100;

/// What the token needs for each review call, and where it is given.
const NEEDS_PULL_REQUESTS: &str = "the workflow needs `permissions: pull-requests: write` \
     (a fine-grained token: Pull requests, read and write)";
const NEEDS_STATUSES: &str = "the workflow needs `permissions: statuses: write` \
     (a fine-grained token: Commit statuses, read and write)";
const NEEDS_CONTENTS: &str =
    "the workflow needs `permissions: contents: read` (a fine-grained token: Contents, read)";

/// One GitHub repository's API.
pub struct GitHub {
    client: Octocrab,
    owner: String,
    repo: String,
    policy: RetryPolicy,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A client for `owner/repo` at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` for GitHub Enterprise), authenticated by `token`.
    /// Must be called inside a Tokio runtime.
    pub fn new(
        api_url: &str,
        token: &Secret,
        owner: &str,
        repo: &str,
        policy: RetryPolicy,
    ) -> Result<Self, PlatformError> {
        let base = base_url(api_url)?;
        let token_text = token.expose_str().map_err(|_| PlatformError::NotText {
            what: "token".to_owned(),
        })?;
        let refuse = |reason: String| PlatformError::BaseUrl {
            url: api_url.to_owned(),
            reason,
        };
        let client = Octocrab::builder()
            .base_uri(base.as_str())
            .map_err(|error| refuse(error.to_string()))?
            .personal_token(token_text.to_owned())
            .add_header(ACCEPT, "application/vnd.github+json".to_owned())
            .build()
            .map_err(|error| refuse(error.to_string()))?;
        Ok(Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            policy,
        })
    }

    fn repo_path(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{rest}",
            encode_segment(&self.owner),
            encode_segment(&self.repo)
        )
    }

    fn scoped(&self, scope: &Scope, kind: &str) -> String {
        match scope {
            Scope::Repository => self.repo_path(&format!("/actions/{kind}")),
            Scope::Environment(name) => {
                self.repo_path(&format!("/environments/{}/{kind}", encode_segment(name)))
            }
        }
    }
}

impl Api for GitHub {
    const PLATFORM: &'static str = "GitHub";

    fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        // Octocrab puts the base URL in front of the path when it executes.
        let request = http::Request::builder().method(method.as_http()).uri(path);
        let request = self
            .client
            .build_request(request, body)
            .map_err(|error| error_chain(&error))?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|error| error_chain(&error))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = self
            .client
            .body_to_string(response)
            .await
            .map_err(|error| error_chain(&error))?;
        Ok(Answer::new(status, &headers, body.into_bytes()))
    }
}

/// GitHub has none of the project settings GitLab's setup guide asks for:
/// Actions logs are visible to who can read the repository, workflows are
/// not auto-cancelled unless a workflow asks for `concurrency`, and the job
/// timeout is each job's `timeout-minutes`, which the rendered workflows set.
fn settings_unsupported() -> PlatformError {
    PlatformError::Unsupported {
        platform: "GitHub",
        what: "project settings",
        advice: "GitHub has no such settings; the rendered workflows carry their own timeouts, so there is nothing to check or apply",
    }
}

#[derive(Deserialize)]
struct RegistrationToken {
    token: String,
    expires_at: Option<String>,
}

#[derive(Deserialize)]
struct RunnerPage {
    total_count: usize,
    runners: Vec<RunnerJson>,
}

#[derive(Deserialize)]
struct RunnerJson {
    id: u64,
    name: String,
    status: String,
    #[serde(default)]
    labels: Vec<LabelJson>,
}

#[derive(Deserialize)]
struct LabelJson {
    name: String,
}

#[derive(Deserialize)]
struct PublicKeyJson {
    key_id: String,
    key: String,
}

#[derive(Deserialize)]
struct CommentJson {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct BranchJson {
    commit: BranchCommitJson,
}

#[derive(Deserialize)]
struct BranchCommitJson {
    sha: String,
}

impl CommentApi for GitHub {
    const COMMENT_LIMIT: usize = 65_536;
    const CHANGE_MARK: char = '#';
    const NEEDS_COMMENTS: &'static str = NEEDS_PULL_REQUESTS;

    async fn comments(&self, number: u64) -> Result<Vec<ListedComment>, PlatformError> {
        let mut comments = Vec::new();
        for page in 1..=MAX_PAGES {
            let path = self.repo_path(&format!(
                "/issues/{number}/comments?per_page={PAGE_SIZE}&page={page}"
            ));
            let (call, answer) = expect_permitted(
                self,
                (Method::Get, &path, None),
                &[200],
                || format!("read the comments of #{number}"),
                NEEDS_PULL_REQUESTS,
            )
            .await?;
            let listed: Vec<CommentJson> = answer.json(&call)?;
            let last = listed.len() < PAGE_SIZE;
            comments.extend(listed.into_iter().map(|c| ListedComment {
                id: c.id,
                body: c.body.unwrap_or_default(),
            }));
            if last {
                break;
            }
        }
        Ok(comments)
    }

    fn comments_path(&self, number: u64) -> String {
        self.repo_path(&format!("/issues/{number}/comments"))
    }

    fn comment_edit(&self, _number: u64, id: u64) -> (Method, String) {
        (
            Method::Patch,
            self.repo_path(&format!("/issues/comments/{id}")),
        )
    }
}

#[derive(Deserialize)]
struct RunJson {
    id: u64,
    status: String,
    conclusion: Option<String>,
    html_url: Option<String>,
}

#[async_trait]
impl Platform for GitHub {
    fn kind(&self) -> PlatformKind {
        PlatformKind::GitHub
    }

    async fn runner_credential(
        &self,
        _spec: &RunnerSpec,
    ) -> Result<RunnerCredential, PlatformError> {
        let path = self.repo_path("/actions/runners/registration-token");
        let (call, answer) = self.expect(Method::Post, &path, None, &[201]).await?;
        let token: RegistrationToken = answer.json(&call)?;
        Ok(RunnerCredential::Registration {
            token: Secret::new(token.token),
            expires_at: token.expires_at,
        })
    }

    async fn list_runners(&self) -> Result<Vec<Runner>, PlatformError> {
        let mut runners = Vec::new();
        for page in 1.. {
            let path = self.repo_path(&format!(
                "/actions/runners?per_page={PAGE_SIZE}&page={page}"
            ));
            let (call, answer) = self.expect(Method::Get, &path, None, &[200]).await?;
            let listed: RunnerPage = answer.json(&call)?;
            let empty = listed.runners.is_empty();
            runners.extend(listed.runners.into_iter().map(|r| Runner {
                id: r.id,
                name: r.name,
                status: r.status,
                labels: r.labels.into_iter().map(|l| l.name).collect(),
            }));
            if empty || runners.len() >= listed.total_count {
                break;
            }
        }
        Ok(runners)
    }

    async fn delete_runner(&self, id: u64) -> Result<(), PlatformError> {
        let path = self.repo_path(&format!("/actions/runners/{id}"));
        self.expect(Method::Delete, &path, None, &[204]).await?;
        Ok(())
    }

    async fn set_secret(
        &self,
        scope: &Scope,
        name: &str,
        value: &Secret,
    ) -> Result<(), PlatformError> {
        let key_path = format!("{}/public-key", self.scoped(scope, "secrets"));
        let (call, answer) = self.expect(Method::Get, &key_path, None, &[200]).await?;
        let key: PublicKeyJson = answer.json(&call)?;
        let encrypted =
            crate::seal(&key.key, value.expose()).ok_or_else(|| PlatformError::PublicKey {
                path: call.path.clone(),
            })?;
        let path = format!("{}/{}", self.scoped(scope, "secrets"), encode_segment(name));
        let body = json!({"encrypted_value": encrypted, "key_id": key.key_id});
        self.expect(Method::Put, &path, Some(&body), &[201, 204])
            .await?;
        Ok(())
    }

    async fn set_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
    ) -> Result<(), PlatformError> {
        let collection = self.scoped(scope, "variables");
        let path = format!("{collection}/{}", encode_segment(name));
        let body = json!({"name": name, "value": value});
        let (call, answer) = self.send(Method::Patch, &path, Some(&body)).await?;
        match answer.status {
            204 => Ok(()),
            // Not there yet: create it.
            404 => {
                self.expect(Method::Post, &collection, Some(&body), &[201])
                    .await?;
                Ok(())
            }
            _ => Err(call.status_error(&answer)),
        }
    }

    async fn trigger(&self, request: &TriggerRequest) -> Result<Triggered, PlatformError> {
        let path = self.repo_path(&format!(
            "/actions/workflows/{}/dispatches",
            encode_segment(&request.workflow)
        ));
        let body = json!({"ref": request.git_ref, "inputs": request.inputs});
        self.expect(Method::Post, &path, Some(&body), &[204])
            .await?;
        Ok(Triggered {
            run_id: None,
            url: None,
        })
    }

    async fn upsert_comment(
        &self,
        number: u64,
        comment: &Comment,
    ) -> Result<CommentOutcome, PlatformError> {
        review::upsert(self, number, comment).await
    }

    async fn set_commit_status(
        &self,
        sha: &str,
        status: &CommitStatus,
    ) -> Result<(), PlatformError> {
        let state = match status.state {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Error => "error",
        };
        let mut body = json!({
            "state": state,
            "context": status.context,
            "description": review::status_description(&status.description),
        });
        if let Some(url) = &status.target_url {
            body["target_url"] = json!(url);
        }
        let path = self.repo_path(&format!("/statuses/{}", encode_segment(sha)));
        expect_permitted(
            self,
            (Method::Post, &path, Some(&body)),
            &[201],
            || format!("set the status `{}` on {sha}", status.context),
            NEEDS_STATUSES,
        )
        .await?;
        Ok(())
    }

    async fn branch_head(&self, branch: &str) -> Result<String, PlatformError> {
        let path = self.repo_path(&format!("/branches/{}", encode_segment(branch)));
        let (call, answer) = expect_permitted(
            self,
            (Method::Get, &path, None),
            &[200],
            || format!("read branch `{branch}`"),
            NEEDS_CONTENTS,
        )
        .await?;
        Ok(answer.json::<BranchJson>(&call)?.commit.sha)
    }

    async fn project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError> {
        Err(settings_unsupported())
    }

    async fn apply_project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError> {
        Err(settings_unsupported())
    }

    async fn deployment_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError> {
        self.check_environments(wanted).await
    }

    async fn apply_deployment_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError> {
        self.apply_environments(wanted).await
    }

    async fn run_status(&self, run_id: u64) -> Result<RunStatus, PlatformError> {
        let path = self.repo_path(&format!("/actions/runs/{run_id}"));
        let (call, answer) = self.expect(Method::Get, &path, None, &[200]).await?;
        let run: RunJson = answer.json(&call)?;
        Ok(RunStatus {
            id: run.id,
            status: run.status,
            conclusion: run.conclusion,
            url: run.html_url,
        })
    }
}
