//! `config-diff --publish`: the result on the pull (GitHub) or merge
//! (GitLab) request it ran for. One comment per environment, found again by
//! its marker and updated in place on every push, and a commit status
//! `kayobe-automation/config-diff/<environment>` on the change's head
//! (success when the diff ran, its summary as the description).

use kayobe_automation::diff::{ConfigDiff, Summary, review};
use kayobe_automation::platform::{Comment, CommentOutcome, CommitStatus, StatusState};

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
    #[error("cannot publish the config diff: {0}")]
    Platform(#[from] kayobe_automation::platform::PlatformError),
    /// No runtime.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Publishes `diff` for `environment` (`default` without one) when
/// `--publish` asks for it; what was done, for the log.
pub fn publish(
    args: &PublishArgs,
    environment: Option<&str>,
    diff: &ConfigDiff,
) -> Result<Option<String>, PublishError> {
    let (Some(platform), Some(change), Some(commit)) = (args.publish, args.change, &args.commit)
    else {
        return Ok(None);
    };
    let environment = environment.unwrap_or("default");
    let report_url = args.report_url.as_deref();
    let comment = Comment {
        marker: format!("config-diff/{environment}"),
        body: review::markdown(diff, environment, report_url),
        overflow_note: match report_url {
            Some(url) => format!("The rest is in the full report: {url}"),
            None => "The rest is in the config-diff job's output.".to_owned(),
        },
    };
    let summary = Summary::of(diff);
    let status = CommitStatus {
        context: format!("kayobe-automation/config-diff/{environment}"),
        state: StatusState::Success,
        description: summary.to_string(),
        target_url: report_url.map(str::to_owned),
    };
    let outcome = block_on(async {
        let client = connect(None, platform.kind(), &args.endpoint)?;
        let outcome = client.upsert_comment(change, &comment).await?;
        client.set_commit_status(commit, &status).await?;
        Ok::<_, PublishError>(outcome)
    })??;
    let comment = match outcome {
        CommentOutcome::Created { id } => format!("added comment {id}"),
        CommentOutcome::Updated { id } => format!("updated comment {id}"),
    };
    Ok(Some(format!(
        "published the config diff of {environment} on change {change}: {comment}, status {} ({summary})",
        status.context
    )))
}
