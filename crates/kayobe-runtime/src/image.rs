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

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use container_engine::{
    BuildError, BuildKitBuild, Docker, EngineError, build_with_buildkit, inspect_image,
    remove_image_if_unused,
};

use crate::fingerprint::Fingerprint;

/// Where the Kayobe Dockerfile is by default, relative to the repository root.
pub const DEFAULT_DOCKERFILE: &str = ".automation/docker/kayobe/Dockerfile";

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
    #[error("the Dockerfile {path} does not exist; create it or name another with `--dockerfile`")]
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
/// The image the tag named before is removed once the tag moves (with its
/// layers no other image uses), so rebuilds on a runner host do not pile up
/// untagged images; it is kept if a container still uses it.
pub async fn build_image(
    docker: &Docker,
    options: &BuildOptions,
    mut on_line: impl FnMut(&str),
) -> Result<Fingerprint, ImageError> {
    let fingerprint = Fingerprint::of(options)?;
    let replaced = image_id(docker, &options.tag).await?;
    let mut build_args = options.all_build_args();
    // Layers of a pushed image can then serve as cache for the next build.
    build_args.insert("BUILDKIT_INLINE_CACHE".to_owned(), "1".to_owned());
    let build = BuildKitBuild {
        context: options.repo.clone(),
        dockerfile: options.dockerfile.to_string_lossy().into_owned(),
        tags: std::iter::once(options.tag.clone())
            .chain(options.extra_tags.iter().cloned())
            .collect(),
        build_args,
        labels: fingerprint.labels().into_iter().collect(),
        cache_from: options.cache_from.clone(),
    };
    build_with_buildkit(docker, &build, &mut on_line)
        .await
        .map_err(|error| match error {
            BuildError::Engine(error) => ImageError::Docker(error),
            BuildError::Failed { message, .. } => ImageError::Build {
                tag: options.tag.clone(),
                message,
            },
            BuildError::Context { source, .. } => ImageError::Read {
                path: options.repo.clone(),
                source,
            },
        })?;
    if let Some(old) = replaced {
        if image_id(docker, &options.tag).await?.as_ref() != Some(&old) {
            // A container using it or another tag keeps it: that is fine.
            remove_image_if_unused(docker, &old).await;
        }
    }
    Ok(fingerprint)
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
}
