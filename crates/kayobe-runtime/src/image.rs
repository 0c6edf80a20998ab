//! Building the Kayobe image and telling whether an image is up to date.
//!
//! [`build_image`] builds kayobe-automation's `docker/kayobe/Dockerfile` as
//! it needs: with BuildKit (`RUN --mount=type=ssh|tmpfs|bind`), the whole
//! configuration repository as the build context (`.dockerignore`
//! honoured: the Dockerfile copies `.automation/utils/…` and bootstraps the
//! control host from the checkout), the build arguments it declares
//! (`KAYOBE_USER_UID`/`GID` always, `KAYOBE_ENVIRONMENT` when one is
//! selected, the rest given), several tags (e.g. `<release>-latest` and the
//! commit, [`release_tags`]) and the layers of earlier images as cache
//! (pushed with BuildKit's inline cache). The image is labelled with the
//! fingerprint of what it bakes in (see [`crate::fingerprint`]);
//! [`image_status`] compares those labels with the checkout's current inputs.
//!
//! CI jobs run inside the image and call kayobe-automation itself
//! (`config-diff --publish`, `tempest report`, `preflight`), so the build
//! adds one layer of its own on top of the Dockerfile's, left unchanged: the
//! binary [`BuildOptions::cli`] names at [`CLI_PATH`] (0755, root's). The
//! binary is dynamically linked against glibc, so before the image gets its
//! tags the binary is run there (`--version`, in a throwaway container): an
//! image it does not run in is removed and never tagged.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use container_engine::{
    BuildError, BuildKitBuild, ContainerSpec, ContextBuild, Docker, EngineError, FileEntry,
    RunError, build_context, build_with_buildkit, inspect_image, remove_image_if_unused,
    run_container, tag_image, tar_of,
};

use crate::fingerprint::{CLI_INPUT, Fingerprint};

/// Where the Kayobe Dockerfile is by default, relative to the repository root.
pub const DEFAULT_DOCKERFILE: &str = ".automation/docker/kayobe/Dockerfile";
/// Where the image carries the `kayobe-automation` binary (on the `PATH` of
/// every common base image).
pub const CLI_PATH: &str = "/usr/local/bin/kayobe-automation";

/// What to build, from which checkout, and under which tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// The root of the Kayobe configuration repository.
    pub repo: PathBuf,
    /// The Dockerfile, relative to `repo` (the build's context).
    pub dockerfile: PathBuf,
    /// The tag to give the image (`name:tag`).
    pub tag: String,
    /// More tags for the same image (e.g. [`release_tags`]).
    pub extra_tags: Vec<String>,
    /// Images whose layers the build may reuse (e.g. the previous build).
    pub cache_from: Vec<String>,
    /// The user and group ids (`KAYOBE_USER_UID`, `KAYOBE_USER_GID`) the
    /// image's user gets, so files it writes into the mounted checkout
    /// belong to the runner's user.
    pub user: (u32, u32),
    /// Further build arguments: the base image, kayobe and kolla-ansible
    /// versions. They are visible in the image's history: never secrets.
    pub build_args: BTreeMap<String, String>,
    /// The `kayobe-automation` binary to add at [`CLI_PATH`], or `None` for
    /// an image without it ([`BuildOptions::new`] adds none: the caller
    /// knows which binary suits the image).
    pub cli: Option<PathBuf>,
}

impl BuildOptions {
    /// Options for the default Dockerfile, with the user and group ids of the
    /// checkout's owner.
    pub fn new(repo: &Path, tag: &str) -> Result<Self, ImageError> {
        let metadata = std::fs::metadata(repo).map_err(|source| ImageError::Read {
            path: repo.to_path_buf(),
            source,
        })?;
        Ok(Self {
            repo: repo.to_path_buf(),
            dockerfile: PathBuf::from(DEFAULT_DOCKERFILE),
            tag: tag.to_owned(),
            extra_tags: Vec::new(),
            cache_from: Vec::new(),
            user: (metadata.uid(), metadata.gid()),
            build_args: BTreeMap::new(),
            cli: None,
        })
    }

    /// Every build argument the build gets, the user ids included.
    pub fn all_build_args(&self) -> BTreeMap<String, String> {
        let mut args = self.build_args.clone();
        args.insert("KAYOBE_USER_UID".to_owned(), self.user.0.to_string());
        args.insert("KAYOBE_USER_GID".to_owned(), self.user.1.to_string());
        args
    }
}

/// Whether an image matches the checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageStatus {
    /// The image exists and was built from the current inputs.
    Fresh,
    /// The engine has no image with this tag.
    Missing,
    /// The image carries no (whole) fingerprint: it was not built by kayobe-automation.
    Unfingerprinted,
    /// The image was built from the current inputs but without the
    /// `kayobe-automation` binary the options want in it.
    WithoutCli,
    /// The image was built from other inputs.
    Stale {
        /// The inputs that changed, were added or were removed, in name order.
        changed: Vec<String>,
    },
}

impl ImageStatus {
    /// Whether the image can be used as it is.
    pub fn is_fresh(&self) -> bool {
        *self == Self::Fresh
    }
}

/// What the status means and what to do about it.
impl std::fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REBUILD: &str = "rebuild it with `kayobe-automation image build`";
        match self {
            Self::Fresh => f.write_str("fresh"),
            Self::Missing => f.write_str("missing; build it with `kayobe-automation image build`"),
            Self::Unfingerprinted => write!(
                f,
                "no fingerprint label (not built by kayobe-automation); {REBUILD}"
            ),
            Self::WithoutCli => write!(
                f,
                "lacks the kayobe-automation binary CI jobs call (built without it); {REBUILD}"
            ),
            Self::Stale { changed } => write!(
                f,
                "stale; changed since it was built: {}; {REBUILD}",
                changed.join(", ")
            ),
        }
    }
}

/// Why an image could not be built or inspected.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A file of the build could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Dockerfile does not exist.
    #[error("the Dockerfile {path} does not exist; create it or name another Dockerfile")]
    NoDockerfile {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The Dockerfile is not in a directory of its own inside the repository.
    #[error(
        "the Dockerfile {path} must be in a directory below the repository root (the fingerprint covers that directory), e.g. {DEFAULT_DOCKERFILE}"
    )]
    DockerfilePlace {
        /// The Dockerfile as given.
        path: PathBuf,
    },
    /// A call to the Docker engine failed.
    #[error("{0}; check that the Docker engine runs and this user may use its socket")]
    Docker(#[from] EngineError),
    /// The build itself failed (a Dockerfile step).
    #[error("building image {tag} failed: {message}; the build log above shows the failing step")]
    Build {
        /// The tag being built.
        tag: String,
        /// The engine's message.
        message: String,
    },
    /// The `kayobe-automation` binary added to the image does not run there.
    #[error(
        "the kayobe-automation binary {} does not run in image {tag} (exit code {exit_code}): {output}; {}; the image was not tagged",
        .binary.display(),
        cli_advice(.output)
    )]
    CliDoesNotRun {
        /// The binary.
        binary: PathBuf,
        /// The tag being built.
        tag: String,
        /// The exit code of its `--version` there.
        exit_code: i64,
        /// What it (or the dynamic loader, or the shell) printed.
        output: String,
    },
    /// The binary could not be tried in the image.
    #[error("cannot try the kayobe-automation binary in image {tag}: {source}")]
    CliCheck {
        /// The tag being built.
        tag: String,
        /// Why.
        #[source]
        source: RunError,
    },
}

/// What to do about a binary that does not run in the image, from what it
/// printed there.
fn cli_advice(output: &str) -> &'static str {
    if output.contains("GLIBC_") {
        "the image's glibc is older than the one kayobe-automation was built against: build kayobe-automation on a system whose glibc is no newer than the image's (e.g. the image's base distribution) and build with that binary, or build the image without the binary"
    } else {
        "kayobe-automation is dynamically linked against glibc, so the image needs the dynamic loader and the libraries `ldd` lists for it: build the image from a glibc-based distribution, or build with a kayobe-automation binary built for the image, or build without the binary"
    }
}

/// Connects to the local Docker engine (`DOCKER_HOST`, else the default
/// socket) at the API version both sides speak.
pub async fn connect_docker() -> Result<Docker, ImageError> {
    Ok(container_engine::connect().await?)
}

/// The tags a release's build gets, as kayobe-automation's pipelines name
/// them: `<repository>:<release>-latest` (what runs use) and
/// `<repository>:<commit>` (what was built from which commit).
pub fn release_tags(repository: &str, release: &str, commit: &str) -> [String; 2] {
    [
        format!("{repository}:{release}-latest"),
        format!("{repository}:{commit}"),
    ]
}

/// The commit `HEAD` of the repository at `repo` names (a detached `HEAD`,
/// a loose ref or a packed one), or `None`.
pub fn head_commit(repo: &Path) -> Option<String> {
    let git = repo.join(".git");
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return Some(head.to_owned());
    };
    if let Ok(commit) = std::fs::read_to_string(git.join(reference)) {
        return Some(commit.trim().to_owned());
    }
    std::fs::read_to_string(git.join("packed-refs"))
        .ok()?
        .lines()
        .find_map(|line| {
            let (commit, name) = line.split_once(' ')?;
            (name == reference).then(|| commit.to_owned())
        })
}

/// The id of the image `tag` names, if the engine has one.
async fn image_id(docker: &Docker, tag: &str) -> Result<Option<String>, ImageError> {
    Ok(inspect_image(docker, tag).await?.map(|image| image.id))
}

/// Builds and tags the image, labelled with its fingerprint; each line of
/// the build log goes to `on_line` as it comes. Returns the fingerprint.
///
/// With [`BuildOptions::cli`], the Dockerfile's image gets a temporary tag,
/// the binary's layer goes on top (the classic builder, whose cache makes an
/// unchanged rebuild reuse it), and the result gets the tags only once the
/// binary ran there; the temporary tag is removed however the build ends,
/// and with it an image the binary did not run in. The Dockerfile's image
/// stays only as the parent of the tagged one, never as a dangling image.
///
/// The image the tag named before is removed once the tag moves (with its
/// layers no other image uses), so rebuilds on a runner host do not pile up
/// untagged images; it is kept if a container still uses it.
pub async fn build_image(
    docker: &Docker,
    options: &BuildOptions,
    mut on_line: impl FnMut(&str),
) -> Result<Fingerprint, ImageError> {
    let dockerfile = Fingerprint::of_dockerfile(options)?;
    let replaced = image_id(docker, &options.tag).await?;
    let tags: Vec<String> = std::iter::once(options.tag.clone())
        .chain(options.extra_tags.iter().cloned())
        .collect();
    let fingerprint = match &options.cli {
        None => {
            build_dockerfile(docker, options, &dockerfile, tags, &mut on_line).await?;
            dockerfile
        }
        Some(cli) => {
            let binary = std::fs::read(cli).map_err(|source| ImageError::Read {
                path: cli.clone(),
                source,
            })?;
            let fingerprint = dockerfile.clone().with_cli(&binary);
            let (repository, _) = container_engine::registry::split_tag(&options.tag);
            // Unique, so concurrent builds of one tag keep apart.
            let unfinished = format!(
                "{repository}:kayobe-automation-build-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_nanos())
            );
            let layers = CliLayers {
                path: cli,
                dockerfile: &dockerfile,
                fingerprint: &fingerprint,
                binary,
                unfinished: &unfinished,
            };
            let built = layers.build(docker, options, &tags, &mut on_line).await;
            // Only untags the image when it got its tags; else removes it,
            // and with it the Dockerfile's image unless another image uses it.
            remove_image_if_unused(docker, &unfinished).await;
            built?;
            fingerprint
        }
    };
    if let Some(old) = replaced {
        if image_id(docker, &options.tag).await?.as_ref() != Some(&old) {
            // A container using it or another tag keeps it: that is fine.
            remove_image_if_unused(docker, &old).await;
        }
    }
    Ok(fingerprint)
}

/// Builds the Dockerfile with BuildKit, labelled with `fingerprint`, tagged `tags`.
async fn build_dockerfile(
    docker: &Docker,
    options: &BuildOptions,
    fingerprint: &Fingerprint,
    tags: Vec<String>,
    on_line: &mut impl FnMut(&str),
) -> Result<(), ImageError> {
    let mut build_args = options.all_build_args();
    // Layers of a pushed image can then serve as cache for the next build.
    build_args.insert("BUILDKIT_INLINE_CACHE".to_owned(), "1".to_owned());
    let build = BuildKitBuild {
        context: options.repo.clone(),
        dockerfile: options.dockerfile.to_string_lossy().into_owned(),
        tags,
        build_args,
        labels: fingerprint.labels().into_iter().collect(),
        cache_from: options.cache_from.clone(),
    };
    build_with_buildkit(docker, &build, on_line)
        .await
        .map_err(|error| build_error(error, options))
}

/// The image error for a failed build of `options`.
fn build_error(error: BuildError, options: &BuildOptions) -> ImageError {
    match error {
        BuildError::Engine(error) => ImageError::Docker(error),
        BuildError::Failed { message, .. } => ImageError::Build {
            tag: options.tag.clone(),
            message,
        },
        BuildError::Context { source, .. } => ImageError::Read {
            path: options.repo.clone(),
            source,
        },
    }
}

/// A build that adds the `kayobe-automation` binary to the Dockerfile's image.
struct CliLayers<'a> {
    /// Where the binary was read from.
    path: &'a Path,
    /// The fingerprint of the Dockerfile's image (no binary).
    dockerfile: &'a Fingerprint,
    /// The fingerprint of the whole image.
    fingerprint: &'a Fingerprint,
    /// The binary's content.
    binary: Vec<u8>,
    /// The temporary tag of the image until it is finished.
    unfinished: &'a str,
}

impl CliLayers<'_> {
    /// Builds the Dockerfile's image and the binary's layer under the
    /// temporary tag, runs the binary there, then tags the image `tags`.
    async fn build(
        self,
        docker: &Docker,
        options: &BuildOptions,
        tags: &[String],
        on_line: &mut impl FnMut(&str),
    ) -> Result<(), ImageError> {
        let unfinished = self.unfinished.to_owned();
        build_dockerfile(
            docker,
            options,
            self.dockerfile,
            vec![unfinished.clone()],
            on_line,
        )
        .await?;
        let base = image_id(docker, &unfinished)
            .await?
            .ok_or_else(|| ImageError::Build {
                tag: options.tag.clone(),
                message: format!("the engine has no image {unfinished} after building it"),
            })?;
        on_line(&format!(
            "adding the kayobe-automation binary ({} KiB) at {CLI_PATH}",
            self.binary.len() / 1024
        ));
        // COPY gives root the file whatever the image's USER; the mode
        // comes from the context.
        let dockerfile = format!("FROM {base}\nCOPY kayobe-automation {CLI_PATH}\n");
        let context = tar_of(&[
            FileEntry::file("Dockerfile", dockerfile, 0o644),
            FileEntry::file("kayobe-automation", self.binary, 0o755),
        ])
        .map_err(|source| ImageError::Read {
            path: self.path.to_path_buf(),
            source,
        })?;
        let build = ContextBuild {
            tag: unfinished.clone(),
            context,
            dockerfile: "Dockerfile".to_owned(),
            labels: self.fingerprint.labels().into_iter().collect(),
            ..ContextBuild::default()
        };
        // The classic builder's step-by-step log says nothing the lines
        // around it do not.
        build_context(docker, build, |_| {})
            .await
            .map_err(|error| build_error(error, options))?;
        let version = check_cli(docker, self.path, &options.tag, &unfinished).await?;
        on_line(&format!("{version} runs in the image"));
        for tag in tags {
            tag_image(docker, &unfinished, tag).await?;
        }
        on_line(&format!("built {}", tags.join(", ")));
        Ok(())
    }
}

/// Runs `kayobe-automation --version` (read from `binary`) in a throwaway
/// container of `image`, the unfinished `tag`, as the image's user; what it
/// printed when it runs.
async fn check_cli(
    docker: &Docker,
    binary: &Path,
    tag: &str,
    image: &str,
) -> Result<String, ImageError> {
    let spec = ContainerSpec {
        image: image.to_owned(),
        command: vec![CLI_PATH.to_owned(), "--version".to_owned()],
        ..ContainerSpec::default()
    };
    let mut output = Vec::new();
    let outcome = run_container(
        docker,
        &spec,
        |line| output.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .map_err(|source| ImageError::CliCheck {
        tag: tag.to_owned(),
        source,
    })?;
    let output = output.join("\n");
    if outcome.exit_code == 0 {
        return Ok(output.trim().to_owned());
    }
    Err(ImageError::CliDoesNotRun {
        binary: binary.to_path_buf(),
        tag: tag.to_owned(),
        exit_code: outcome.exit_code,
        output: output.trim().to_owned(),
    })
}

/// Whether the engine's image with the options' tag matches the checkout.
pub async fn image_status(
    docker: &Docker,
    options: &BuildOptions,
) -> Result<ImageStatus, ImageError> {
    let current = Fingerprint::of(options)?;
    let Some(image) = inspect_image(docker, &options.tag).await? else {
        return Ok(ImageStatus::Missing);
    };
    let labels = image.labels;
    let Some(built) = Fingerprint::from_labels(&labels) else {
        return Ok(ImageStatus::Unfingerprinted);
    };
    let changed = current.changed_since(&built);
    Ok(if changed.is_empty() {
        ImageStatus::Fresh
    } else if changed == [CLI_INPUT] && !built.has_cli() {
        ImageStatus::WithoutCli
    } else {
        ImageStatus::Stale { changed }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_is_tagged_latest_and_by_commit() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        assert_eq!(head_commit(dir.path()), None);
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            git.join("packed-refs"),
            "# pack-refs\nabc123 refs/heads/main\n",
        )
        .unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some("abc123"));
        std::fs::write(git.join("refs/heads/main"), "def456\n").unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some("def456"));
        std::fs::write(git.join("HEAD"), "0123abcd\n").unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some("0123abcd"));
        assert_eq!(
            release_tags("registry.example/kayobe", "2024.1", "0123abcd"),
            [
                "registry.example/kayobe:2024.1-latest",
                "registry.example/kayobe:0123abcd"
            ]
        );
    }

    #[test]
    fn a_cli_that_does_not_run_says_why_and_what_to_do() {
        let message = |output: &str| {
            ImageError::CliDoesNotRun {
                binary: PathBuf::from("/opt/kayobe-automation"),
                tag: "kayobe:1".to_owned(),
                exit_code: 1,
                output: output.to_owned(),
            }
            .to_string()
        };
        let old_glibc = message(
            "/usr/local/bin/kayobe-automation: /lib64/libc.so.6: version `GLIBC_2.39' not found (required by /usr/local/bin/kayobe-automation)",
        );
        assert!(
            old_glibc.starts_with("the kayobe-automation binary /opt/kayobe-automation does not run in image kayobe:1 (exit code 1): ")
                && old_glibc.contains("`GLIBC_2.39' not found")
                && old_glibc.contains("the image's glibc is older")
                && old_glibc.contains("build with that binary")
                && old_glibc.contains("without the binary")
                && old_glibc.ends_with("the image was not tagged"),
            "{old_glibc}"
        );
        let no_loader = message("exec: line 1: /usr/local/bin/kayobe-automation: not found");
        assert!(
            no_loader.contains("needs the dynamic loader")
                && no_loader.contains("build without the binary")
                && !no_loader.contains("older"),
            "{no_loader}"
        );
    }
}
