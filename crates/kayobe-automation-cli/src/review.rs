//! `--publish` of `config-diff` and `tempest report|run`: the result on the
//! pull (GitHub) or merge (GitLab) request it ran for. One comment per
//! command and environment, found again by its marker and updated in place
//! on every push, and a commit status `kayobe-automation/<command>/<environment>`
//! on the change's head.

use kayobe_automation::diff::{ConfigDiff, Summary, review};
use kayobe_automation::platform::{Comment, CommentOutcome, CommitStatus, StatusState};
use kayobe_automation::tempest::Summary as TempestSummary;

use crate::async_runtime::{RuntimeError, block_on};
use crate::platform_client::{ConnectError, Endpoint, PlatformArg, connect};

/// Where to publish a result.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Publish the result on the pull or merge request under review: a
    /// comment per environment, updated in place, and a commit status.
    /// Tokens come from GITHUB_TOKEN or GITLAB_TOKEN.
    #[arg(long, value_enum, value_name = "PLATFORM", requires_all = ["change", "commit"])]
    pub publish: Option<PlatformArg>,
    /// The pull request's number, or the merge request's IID.
    #[arg(long, env = "CI_MERGE_REQUEST_IID", value_name = "NUMBER")]
    pub change: Option<u64>,
    /// The commit the status goes on: the change's head.
    #[arg(long, env = "CI_COMMIT_SHA", value_name = "SHA")]
    pub commit: Option<String>,
    /// Where the full report is (e.g. the job's artefact), linked from the
    /// comment and the status.
    #[arg(long, value_name = "URL")]
    pub report_url: Option<String>,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Why a result could not be published.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PublishError {
    /// No client for the platform.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connect(#[from] ConnectError),
    /// The platform refused or failed (a missing permission is named).
    #[error("cannot publish the result on the change")]
    Platform(#[from] kayobe_automation::platform::PlatformError),
    /// No runtime.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] RuntimeError),
}

/// What goes on the change: one comment per marker, and a commit status.
#[derive(Debug)]
pub struct Review {
    /// What the comment is for, e.g. `config-diff/production`.
    pub marker: String,
    /// The comment's Markdown.
    pub body: String,
    /// The status on the change's head.
    pub status: CommitStatus,
}

impl Review {
    /// The review of a config diff of `environment`: success when it ran,
    /// its summary as the description.
    pub fn config_diff(environment: &str, diff: &ConfigDiff, report_url: Option<&str>) -> Self {
        Self {
            marker: format!("config-diff/{environment}"),
            body: review::markdown(diff, environment, report_url),
            status: CommitStatus {
                context: format!("kayobe-automation/config-diff/{environment}"),
                state: StatusState::Success,
                description: Summary::of(diff).to_string(),
                target_url: report_url.map(str::to_owned),
            },
        }
    }

    /// The review of a Tempest run against `environment`: its verdict as the
    /// status, the counts as the description.
    pub fn tempest(
        environment: &str,
        summary: &TempestSummary,
        markdown: String,
        report_url: Option<&str>,
    ) -> Self {
        Self {
            marker: format!("tempest/{environment}"),
            body: markdown,
            status: CommitStatus {
                context: format!("kayobe-automation/tempest/{environment}"),
                state: if summary.is_success() {
                    StatusState::Success
                } else {
                    StatusState::Failure
                },
                description: summary.totals_line(),
                target_url: report_url.map(str::to_owned),
            },
        }
    }
}

impl PublishArgs {
    /// The environment a review is named after (`default` without one).
    pub fn environment(global: Option<&str>) -> &str {
        global.unwrap_or("default")
    }

    /// Publishes `review` when `--publish` asks for it; what was done, for
    /// the log.
    pub fn publish(&self, review: &Review) -> Result<Option<String>, PublishError> {
        let (Some(platform), Some(change), Some(commit)) =
            (self.publish, self.change, &self.commit)
        else {
            return Ok(None);
        };
        let comment = Comment {
            marker: review.marker.clone(),
            body: review.body.clone(),
            overflow_note: match &self.report_url {
                Some(url) => format!("The rest is in the full report: {url}"),
                None => "The rest is in the job's output.".to_owned(),
            },
        };
        let outcome = block_on(async {
            let client = connect(None, platform.kind(), &self.endpoint)?;
            let outcome = client.upsert_comment(change, &comment).await?;
            client.set_commit_status(commit, &review.status).await?;
            Ok::<_, PublishError>(outcome)
        })??;
        let comment = match outcome {
            CommentOutcome::Created { id } => format!("added comment {id}"),
            CommentOutcome::Updated { id } => format!("updated comment {id}"),
        };
        Ok(Some(format!(
            "published {} on change {change}: {comment}, status {} ({})",
            review.marker, review.status.context, review.status.description
        )))
    }
}
