//! `kayobe-automation image …`: build the Kayobe image and say whether it
//! is stale, through `kayobe_runtime`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kayobe_automation::engine::registry::split_tag;
use kayobe_automation::runtime::image::{CLI_PATH, DEFAULT_DOCKERFILE, head_commit, release_tags};
use kayobe_automation::runtime::{
    BuildOptions, ImageError, build_image, connect_docker, image_status,
};

use crate::global::Global;

/// The `image` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build and tag the Kayobe image from the repository's Dockerfile,
    /// labelled with the fingerprint of what it bakes in, plus a layer with
    /// this kayobe-automation binary at /usr/local/bin/kayobe-automation for
    /// CI jobs to call (tried in the image before it is tagged; `--no-cli`
    /// leaves it out); the build log goes to standard error.
    Build(ImageArgs),
    /// Say whether the engine's image is fresh, missing or stale (and which
    /// inputs changed, the kayobe-automation binary one of them). Exits 0
    /// when it is fresh, 1 otherwise.
    Status(ImageArgs),
    /// Push the image to the registry its tag names; the password comes
    /// from REGISTRY_PASSWORD or `--registry-password-file`.
    Push(crate::image_push::PushArgs),
}

/// Which image, built how.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The image's tag.
    #[arg(long, env = "KAYOBE_IMAGE", default_value = "kayobe:latest")]
    tag: String,
    /// The Dockerfile, relative to the repository root (the repository is the
    /// build context, `.dockerignore` honoured).
    #[arg(long, default_value = DEFAULT_DOCKERFILE)]
    dockerfile: PathBuf,
    /// A build argument (`NAME=VALUE`), e.g. the base image or the kayobe
    /// version; repeatable. Never a secret: build arguments stay in the image.
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse_build_arg)]
    build_args: Vec<(String, String)>,
    /// The image user's uid (`KAYOBE_USER_UID`; default: the checkout's owner).
    #[arg(long)]
    uid: Option<u32>,
    /// The image user's gid (`KAYOBE_USER_GID`; default: the checkout's group).
    #[arg(long)]
    gid: Option<u32>,
    /// The OpenStack release: the image is also tagged
    /// `<repository>:<release>-latest` and `<repository>:<commit of HEAD>`,
    /// and the `<release>-latest` image already there serves as cache.
    #[arg(long, env = "OPENSTACK_RELEASE")]
    release: Option<String>,
    /// An image whose layers the build may reuse (repeatable).
    #[arg(long = "cache-from", value_name = "IMAGE")]
    cache_from: Vec<String>,
    /// The kayobe-automation binary the image carries at
    /// /usr/local/bin/kayobe-automation (default: the one running). It is
    /// linked against glibc: one built on a newer glibc than the image's
    /// does not run there, and the build fails saying so.
    #[arg(long, value_name = "PATH", conflicts_with = "no_cli")]
    cli_binary: Option<PathBuf>,
    /// No kayobe-automation binary in the image: the build leaves it out,
    /// and an image without it counts as fresh (CI jobs then cannot call
    /// kayobe-automation, e.g. to publish config diffs on pull requests).
    #[arg(long)]
    no_cli: bool,
}

impl ImageArgs {
    /// The build options these arguments give for the checkout at `repo`.
    pub fn build_options(&self, repo: &Path) -> Result<BuildOptions, ImageError> {
        let mut options = BuildOptions::new(repo, &self.tag)?;
        options.dockerfile.clone_from(&self.dockerfile);
        options.user = (
            self.uid.unwrap_or(options.user.0),
            self.gid.unwrap_or(options.user.1),
        );
        options.build_args = self.build_args.iter().cloned().collect::<BTreeMap<_, _>>();
        options.cache_from.clone_from(&self.cache_from);
        options.cli = match &self.cli_binary {
            _ if self.no_cli => None,
            Some(path) => Some(path.clone()),
            None => Some(std::env::current_exe().map_err(|source| ImageError::Read {
                // Where the running executable is found on Linux.
                path: PathBuf::from("/proc/self/exe"),
                source,
            })?),
        };
        if let Some(release) = self
            .release
            .as_deref()
            .filter(|release| !release.is_empty())
        {
            let repository = split_tag(&self.tag).0;
            let commit = head_commit(repo);
            let [latest, at_commit] =
                release_tags(repository, release, commit.as_deref().unwrap_or_default());
            options.cache_from.push(latest.clone());
            options.extra_tags.push(latest);
            if commit.is_some() {
                options.extra_tags.push(at_commit);
            }
        }
        Ok(options)
    }
}

fn parse_build_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!(
            "`{text}` is not NAME=VALUE; write e.g. `--build-arg BASE_IMAGE=rockylinux:9`"
        )),
    }
}

/// An `image` command failed.
#[derive(Debug, thiserror::Error)]
enum ImageCommandError {
    /// The library failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The async runtime could not start.
    #[error(transparent)]
    Runtime(#[from] crate::async_runtime::RuntimeError),
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
}

impl miette::Diagnostic for ImageCommandError {
    /// The library's errors speak of files and binaries; these are the flags that name them.
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help: &str = match self {
            ImageCommandError::Image(ImageError::NoDockerfile { .. }) => {
                "name another Dockerfile with `--dockerfile PATH`"
            }
            ImageCommandError::Image(ImageError::CliDoesNotRun { .. }) => {
                "pass a kayobe-automation binary built for the image with `--cli-binary PATH`, or build without it with `--no-cli`"
            }
            ImageCommandError::Image(_) => return None,
            ImageCommandError::Runtime(error) => return error.help(),
            ImageCommandError::Stdout(_) => {
                "check where standard output goes (a closed pipe or a full disk)"
            }
        };
        Some(Box::new(help))
    }
}

/// Runs an `image` subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    let (args, building) = match &command {
        Command::Build(args) => (args, true),
        Command::Status(args) => (args, false),
        Command::Push(args) => return crate::image_push::run(args),
    };
    let repo = global.repo()?;
    let options = args
        .build_options(repo.root())
        .map_err(ImageCommandError::from)?;
    let runtime = crate::async_runtime::runtime()?;
    let mut stdout = std::io::stdout().lock();
    let code = if building {
        let fingerprint = runtime
            .block_on(async {
                let docker = connect_docker().await?;
                build_image(&docker, &options, |line| eprintln!("{line}")).await
            })
            .map_err(ImageCommandError::from)?;
        let cli = if options.cli.is_some() {
            format!("with kayobe-automation at {CLI_PATH}")
        } else {
            "without the kayobe-automation binary (--no-cli)".to_owned()
        };
        writeln!(
            stdout,
            "built {} (fingerprint {}) {cli}",
            options.tag,
            fingerprint.digest()
        )
        .map_err(ImageCommandError::Stdout)?;
        ExitCode::SUCCESS
    } else {
        let status = runtime
            .block_on(async {
                let docker = connect_docker().await?;
                image_status(&docker, &options).await
            })
            .map_err(ImageCommandError::from)?;
        let line = format!("{}: {status}", options.tag);
        writeln!(stdout, "{line}").map_err(ImageCommandError::Stdout)?;
        if status.is_fresh() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    };
    stdout.flush().map_err(ImageCommandError::Stdout)?;
    Ok(code)
}
