//! The GitLab backend: the handful of REST v4 endpoints needed, through
//! reqwest (rustls).
//!
//! Why not the `gitlab` crate (0.1905, read before choosing): its async
//! client calls the API while it is being built, to check the token, so it
//! fails before any operation and every mock must serve that call; it takes a
//! host, not a base URL, so a GitLab under a sub-path cannot be reached; it
//! has no 429/`Retry-After` handling to combine with ours; and it needs
//! reqwest 0.13 with `blocking` plus graphql_client, a second HTTP stack
//! version for seven REST calls.

use async_trait::async_trait;
use reqwest::Client;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OnceCell;

use crate::environment::Environments;
use crate::retry::{Answer, Api, Method, error_chain, expect_permitted};
use crate::review::{self, CommentApi, ListedComment};
use crate::{
    Comment, CommentOutcome, CommitStatus, EnvironmentProtection, EnvironmentState, Platform,
    PlatformError, PlatformKind, ProjectSetting, RetryPolicy, RunStatus, Runner, RunnerCredential,
    RunnerSpec, Scope, Secret, StatusState, TriggerRequest, Triggered, base_url, encode_segment,
};

mod environments;

const PAGE_SIZE: usize = 100;

/// What the token needs for each review call.
const NEEDS_NOTES: &str = "use a token with the `api` scope of a user with at least the \
     Reporter role (the job token cannot write merge request notes)";
const NEEDS_STATUSES: &str =
    "use a token with the `api` scope of a user with at least the Developer role";
const NEEDS_READ: &str = "use a token with the `read_api` scope";

/// One GitLab project's API.
pub struct GitLab {
    client: Client,
    api: String,
    token: Secret,
    project: String,
    project_id: OnceCell<u64>,
    policy: RetryPolicy,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab")
            .field("api", &self.api)
            .field("project", &self.project)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl GitLab {
    /// A client for `project` (a numeric id or a `group/name` path) on the
    /// GitLab instance at `instance_url` (e.g. `https://gitlab.com`; the API
    /// is under `/api/v4`), authenticated by `token`.
    pub fn new(
        instance_url: &str,
        token: &Secret,
        project: &str,
        policy: RetryPolicy,
    ) -> Result<Self, PlatformError> {
        let api = format!("{}/api/v4", base_url(instance_url)?);
        // Checked here so every request can send the bytes as they are.
        token.expose_str().map_err(|_| PlatformError::NotText {
            what: "token".to_owned(),
        })?;
        let client = Client::builder()
            .user_agent(concat!("kayobe-automation/", env!("CARGO_PKG_VERSION")))
            // The whole attempt is timed in `retry.rs`; a second, equal
            // timer here would race it and turn timeouts into transport errors.
            .connect_timeout(policy.timeout)
            .build()
            .map_err(|error| PlatformError::BaseUrl {
                url: instance_url.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            client,
            api,
            token: token.clone(),
            project: project.to_owned(),
            project_id: OnceCell::new(),
            policy,
        })
    }

    fn project_path(&self, rest: &str) -> String {
        format!("/projects/{}{rest}", encode_segment(&self.project))
    }

    /// The project's numeric id (runner creation needs it), looked up once.
    async fn project_id(&self) -> Result<u64, PlatformError> {
        if let Ok(id) = self.project.parse::<u64>() {
            return Ok(id);
        }
        self.project_id
            .get_or_try_init(|| async {
                #[derive(Deserialize)]
                struct Project {
                    id: u64,
                }
                let (call, answer) = self
                    .expect(Method::Get, &self.project_path(""), None, &[200])
                    .await?;
                Ok(answer.json::<Project>(&call)?.id)
            })
            .await
            .copied()
    }

    /// Creates or updates a project variable.
    async fn put_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
        secret: bool,
    ) -> Result<(), PlatformError> {
        let environment = match scope {
            Scope::Repository => "*",
            Scope::Environment(name) => name.as_str(),
        };
        let mut body = json!({
            "value": value,
            "masked": secret,
            "protected": secret,
            "environment_scope": environment,
        });
        let mut path = self.project_path(&format!("/variables/{}", encode_segment(name)));
        if let Scope::Environment(env) = scope {
            path.push_str(&format!(
                "?filter%5Benvironment_scope%5D={}",
                encode_segment(env)
            ));
        }
        let (call, answer) = self.send(Method::Put, &path, Some(&body)).await?;
        match answer.status {
            200 => Ok(()),
            404 => {
                body["key"] = json!(name);
                self.expect(
                    Method::Post,
                    &self.project_path("/variables"),
                    Some(&body),
                    &[201],
                )
                .await?;
                Ok(())
            }
            _ => Err(call.status_error(&answer)),
        }
    }
}

impl Api for GitLab {
    const PLATFORM: &'static str = "GitLab";

    fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        let mut request = self
            .client
            .request(method.as_http(), format!("{}{path}", self.api))
            .header("PRIVATE-TOKEN", self.token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        // reqwest's error text names the URL (no token: it is a header).
        let response = request.send().await.map_err(|e| error_chain(&e))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.map_err(|e| error_chain(&e))?;
        Ok(Answer::new(status, &headers, body.to_vec()))
    }
}

/// The job timeout the setup guide asks for: 12 hours, in seconds (a
/// whole-cloud upgrade runs for hours).
const JOB_TIMEOUT_SECONDS: u64 = 12 * 60 * 60;

/// The project settings the setup guide asks for: the name a project's JSON
/// gives it, the name a PUT takes, and the value wanted.
///
/// Public pipelines are read as `public_jobs` (what GET has answered since
/// GitLab 9.0) but written as `public_builds`: PUT took only `public_builds`
/// until GitLab 16.9 and still takes it, so that one name works on every
/// GitLab with API v4.
fn wanted_settings() -> [(&'static str, &'static str, serde_json::Value); 5] {
    [
        ("public_jobs", "public_builds", json!(false)),
        (
            "auto_cancel_pending_pipelines",
            "auto_cancel_pending_pipelines",
            json!("disabled"),
        ),
        (
            "ci_forward_deployment_enabled",
            "ci_forward_deployment_enabled",
            json!(false),
        ),
        ("build_timeout", "build_timeout", json!(JOB_TIMEOUT_SECONDS)),
        ("auto_devops_enabled", "auto_devops_enabled", json!(false)),
    ]
}

/// A setting's value in a project's JSON (`null` when absent); a GitLab
/// older than 9.0 names public pipelines `public_builds`.
fn project_value(
    project: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> serde_json::Value {
    project
        .get(name)
        .or_else(|| {
            (name == "public_jobs")
                .then(|| project.get("public_builds"))
                .flatten()
        })
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[derive(Deserialize)]
struct CreatedRunner {
    id: u64,
    token: String,
}

#[derive(Deserialize)]
struct RunnerJson {
    id: u64,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct NoteJson {
    id: u64,
    #[serde(default)]
    body: String,
    #[serde(default)]
    system: bool,
}

#[derive(Deserialize)]
struct BranchJson {
    commit: BranchCommitJson,
}

#[derive(Deserialize)]
struct BranchCommitJson {
    id: String,
}

impl CommentApi for GitLab {
    const COMMENT_LIMIT: usize = 1_000_000;
    const CHANGE_MARK: char = '!';
    const NEEDS_COMMENTS: &'static str = NEEDS_NOTES;

    async fn comments(&self, number: u64) -> Result<Vec<ListedComment>, PlatformError> {
        let mut notes = Vec::new();
        let mut page: u64 = 1;
        loop {
            let path = self.project_path(&format!(
                "/merge_requests/{number}/notes?sort=asc&order_by=created_at&per_page={PAGE_SIZE}&page={page}"
            ));
            let (call, answer) = expect_permitted(
                self,
                (Method::Get, &path, None),
                &[200],
                || format!("read the notes of !{number}"),
                NEEDS_NOTES,
            )
            .await?;
            let listed: Vec<NoteJson> = answer.json(&call)?;
            notes.extend(listed.into_iter().filter(|note| !note.system).map(|note| {
                ListedComment {
                    id: note.id,
                    body: note.body,
                }
            }));
            match answer.next_page.and_then(|next| next.parse::<u64>().ok()) {
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        Ok(notes)
    }

    fn comments_path(&self, number: u64) -> String {
        self.project_path(&format!("/merge_requests/{number}/notes"))
    }

    fn comment_edit(&self, number: u64, id: u64) -> (Method, String) {
        (
            Method::Put,
            self.project_path(&format!("/merge_requests/{number}/notes/{id}")),
        )
    }
}

#[derive(Deserialize)]
struct PipelineJson {
    id: u64,
    status: String,
    web_url: Option<String>,
}

#[async_trait]
impl Platform for GitLab {
    fn kind(&self) -> PlatformKind {
        PlatformKind::GitLab
    }

    async fn runner_credential(
        &self,
        spec: &RunnerSpec,
    ) -> Result<RunnerCredential, PlatformError> {
        let project_id = self.project_id().await?;
        let body = json!({
            "runner_type": "project_type",
            "project_id": project_id,
            "description": spec.name,
            "tag_list": spec.tags.join(","),
            "run_untagged": spec.run_untagged,
            "locked": spec.locked,
        });
        let (call, answer) = self
            .expect(Method::Post, "/user/runners", Some(&body), &[201])
            .await?;
        let created: CreatedRunner = answer.json(&call)?;
        Ok(RunnerCredential::Authentication {
            id: created.id,
            token: Secret::new(created.token),
        })
    }

    async fn list_runners(&self) -> Result<Vec<Runner>, PlatformError> {
        let mut runners = Vec::new();
        let mut page: u64 = 1;
        loop {
            let path = self.project_path(&format!("/runners?per_page={PAGE_SIZE}&page={page}"));
            let (call, answer) = self.expect(Method::Get, &path, None, &[200]).await?;
            let listed: Vec<RunnerJson> = answer.json(&call)?;
            runners.extend(listed.into_iter().map(|r| Runner {
                id: r.id,
                name: r.description.unwrap_or_default(),
                status: r.status.unwrap_or_default(),
                labels: Vec::new(),
            }));
            // Only forward: a server repeating a page must not loop us forever.
            match answer.next_page.and_then(|next| next.parse::<u64>().ok()) {
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        Ok(runners)
    }

    async fn delete_runner(&self, id: u64) -> Result<(), PlatformError> {
        self.expect(Method::Delete, &format!("/runners/{id}"), None, &[204])
            .await?;
        Ok(())
    }

    async fn set_secret(
        &self,
        scope: &Scope,
        name: &str,
        value: &Secret,
    ) -> Result<(), PlatformError> {
        let value = value.expose_str().map_err(|_| PlatformError::NotText {
            what: format!("value of `{name}`"),
        })?;
        self.put_variable(scope, name, value, true).await
    }

    async fn set_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
    ) -> Result<(), PlatformError> {
        self.put_variable(scope, name, value, false).await
    }

    async fn trigger(&self, request: &TriggerRequest) -> Result<Triggered, PlatformError> {
        let body = json!({"ref": request.git_ref, "inputs": request.inputs});
        let (call, answer) = self
            .expect(
                Method::Post,
                &self.project_path("/pipeline"),
                Some(&body),
                &[201],
            )
            .await?;
        let pipeline: PipelineJson = answer.json(&call)?;
        Ok(Triggered {
            run_id: Some(pipeline.id),
            url: pipeline.web_url,
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
            StatusState::Failure | StatusState::Error => "failed",
        };
        let mut body = json!({
            "state": state,
            "name": status.context,
            "description": review::status_description(&status.description),
        });
        if let Some(url) = &status.target_url {
            body["target_url"] = json!(url);
        }
        let path = self.project_path(&format!("/statuses/{}", encode_segment(sha)));
        let (call, answer) = self.send(Method::Post, &path, Some(&body)).await?;
        match answer.status {
            200 | 201 => Ok(()),
            // Setting the state a status already has is refused as a
            // transition; the status is as wanted.
            400 if String::from_utf8_lossy(&answer.body).contains("Cannot transition status") => {
                Ok(())
            }
            403 => Err(PlatformError::Permission {
                platform: Self::PLATFORM,
                action: format!("set the status `{}` on {sha}", status.context),
                needed: NEEDS_STATUSES,
            }),
            _ => Err(call.status_error(&answer)),
        }
    }

    async fn branch_head(&self, branch: &str) -> Result<String, PlatformError> {
        let path = self.project_path(&format!("/repository/branches/{}", encode_segment(branch)));
        let (call, answer) = expect_permitted(
            self,
            (Method::Get, &path, None),
            &[200],
            || format!("read branch `{branch}`"),
            NEEDS_READ,
        )
        .await?;
        Ok(answer.json::<BranchJson>(&call)?.commit.id)
    }

    async fn project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError> {
        let (call, answer) = self
            .expect(Method::Get, &self.project_path(""), None, &[200])
            .await?;
        let project: serde_json::Map<String, serde_json::Value> = answer.json(&call)?;
        Ok(wanted_settings()
            .into_iter()
            .map(|(name, _, wanted)| ProjectSetting {
                name,
                current: project_value(&project, name),
                wanted,
            })
            .collect())
    }

    async fn apply_project_settings(&self) -> Result<Vec<ProjectSetting>, PlatformError> {
        let differing: Vec<ProjectSetting> = self
            .project_settings()
            .await?
            .into_iter()
            .filter(ProjectSetting::differs)
            .collect();
        if differing.is_empty() {
            return Ok(differing);
        }
        let body: serde_json::Map<String, serde_json::Value> = wanted_settings()
            .into_iter()
            .filter(|(name, _, _)| differing.iter().any(|s| s.name == *name))
            .map(|(_, put_as, wanted)| (put_as.to_owned(), wanted))
            .collect();
        let (call, answer) = self
            .expect(
                Method::Put,
                &self.project_path(""),
                Some(&serde_json::Value::Object(body)),
                &[200],
            )
            .await?;
        // GitLab ignores a parameter it does not know: check the answer.
        let project: serde_json::Map<String, serde_json::Value> = answer.json(&call)?;
        for setting in &differing {
            let now = project_value(&project, setting.name);
            if now != setting.wanted {
                return Err(PlatformError::NotApplied {
                    platform: Self::PLATFORM,
                    path: call.path,
                    setting: setting.name,
                    current: now.to_string(),
                    wanted: setting.wanted.to_string(),
                });
            }
        }
        Ok(differing)
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
        let path = self.project_path(&format!("/pipelines/{run_id}"));
        let (call, answer) = self.expect(Method::Get, &path, None, &[200]).await?;
        let pipeline: PipelineJson = answer.json(&call)?;
        Ok(RunStatus {
            id: pipeline.id,
            status: pipeline.status,
            conclusion: None,
            url: pipeline.web_url,
        })
    }
}
