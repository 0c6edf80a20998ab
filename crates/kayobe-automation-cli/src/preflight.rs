//! `kayobe-automation preflight`: everything a run needs, checked at once;
//! one line per problem, saying what to do.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::runtime::{PreflightOptions, preflight};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::image::ImageArgs;
use crate::image_push::{PASSWORD_VARIABLE, RegistryArgs};
use crate::platform_client::{Endpoint, PlatformArg, connect};

/// What a run will use.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    image: ImageArgs,
    /// The registry to reach (URL or `HOST[:PORT]`; default: the registry
    /// the image's tag names).
    #[arg(long, env = "REGISTRY_URL")]
    registry: Option<String>,
    #[command(flatten)]
    credentials: RegistryArgs,
    /// The SSH private key file the operations use.
    #[arg(long, env = "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE")]
    ssh_key_file: Option<PathBuf>,
    #[command(flatten)]
    head: HeadArgs,
}

/// A deploy's check that it runs the reviewed commit: the commit must still
/// be the head of its branch when the deploy starts, or a newer change
/// landed since and the deploy would roll out something else than what the
/// run was started for.
#[derive(Debug, clap::Args)]
struct HeadArgs {
    /// Check that `--commit` is still the head of this branch (through the
    /// platform's API; tokens from GITHUB_TOKEN or GITLAB_TOKEN).
    #[arg(long, value_name = "BRANCH", requires_all = ["platform", "commit"])]
    head_of: Option<String>,
    /// The commit the run deploys.
    #[arg(long, env = "CI_COMMIT_SHA", value_name = "SHA")]
    commit: Option<String>,
    /// The platform to ask.
    #[arg(long, value_enum)]
    platform: Option<PlatformArg>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Where `--head-of` finds the branch now: `None` when the commit is its
/// head, else the problem line.
fn head_problem(head: &HeadArgs) -> miette::Result<Option<String>> {
    let (Some(branch), Some(commit), Some(platform)) = (&head.head_of, &head.commit, head.platform)
    else {
        return Ok(None);
    };
    let now = crate::async_runtime::block_on(async {
        let client = connect(None, platform.kind(), &head.endpoint)?;
        client.branch_head(branch).await.into_diagnostic()
    })??;
    Ok((!now.eq_ignore_ascii_case(commit)).then(|| {
        format!(
            "{commit} is no longer the head of {branch} (now {now}): a newer change landed since this run started; deploy from the newer one's run"
        )
    }))
}

/// Runs every check; exits 1 when any fails.
pub fn run(global: &Global, args: Args) -> miette::Result<ExitCode> {
    let repo = global.repo()?;
    let vault = global.optional_vault_secret()?;
    let options = PreflightOptions {
        image: args.image.build_options(repo.root()).into_diagnostic()?,
        registry: args.registry,
        registry_username: args.credentials.registry_username,
        registry_password_file: args.credentials.registry_password_file,
        registry_password_variable: PASSWORD_VARIABLE,
        ssh_key: args.ssh_key_file,
    };
    let mut problems: Vec<String> =
        crate::async_runtime::block_on(preflight(&repo, vault.as_ref(), &options))?
            .iter()
            .map(ToString::to_string)
            .collect();
    problems.extend(head_problem(&args.head)?);
    let mut stdout = std::io::stdout().lock();
    let mut print = |line: String| writeln!(stdout, "{line}").into_diagnostic();
    for problem in &problems {
        print(format!("FAIL {problem}"))?;
    }
    if problems.is_empty() {
        print("preflight passed".to_owned())?;
        Ok(ExitCode::SUCCESS)
    } else {
        print(format!("{} check(s) failed", problems.len()))?;
        Ok(ExitCode::from(1))
    }
}
