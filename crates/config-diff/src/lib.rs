//! The configuration diff between two git revisions.
//!
//! [`diff_revisions`] reads both revisions from git objects with gix
//! ([`git`]; the working tree, index, refs and object database are never
//! touched), the target with the base merged into it first, as the merge
//! request would be merged (a conflict is an error naming the paths). It
//! opens each as a [`ConfigRepo`] with the same
//! environment, reads every host's variables as Ansible sees them
//! (inventory, `group_vars`/`host_vars`, extra vars; vaulted files decrypted)
//! and compares them host by host ([`ConfigDiff`]). Secrets are replaced by
//! stable keyed-hash masks first ([`mask`]; which values count as secret is
//! documented in [`side`]), so a changed secret shows as changed and its value
//! never appears. Beside the variables, the configuration files that are
//! not read as variables (kolla configuration, templates, certificates) are
//! compared as trees ([`tree`]; which files, in [`files`]) into
//! [`ConfigDiff::files`]. [`render`] writes the diff as unified text or JSON,
//! [`html`] as one self-contained page.
//!
//! [`diff_generated`] (generated mode) instead runs `kayobe overcloud
//! service configuration generate` for each revision in the Kayobe container
//! ([`generated`] documents the container contract) on a checkout whose
//! secrets were first replaced by the same masks ([`redact`]), and diffs the
//! two generated trees with the same [`tree::diff_dirs`].
//!
//! Secret files and other vaulted files show in the file diff only as masks
//! ([`files`]), with warnings about vaulted files the automation settings do
//! not list.
//!
//! The automation settings (`.automation.conf/config.sh`, which lists secret
//! and vaulted files) are read once, from the checkout `config_path` is in,
//! never from the revisions compared: reading config.sh means running it
//! with bash, and a revision under review is untrusted input. This is what
//! kayobe-automation's `config-diff.sh` does too (it sources the checkout's
//! config.sh once, before building either side).

pub mod diff;
pub mod files;
pub mod generated;
pub mod git;
pub mod group;
pub mod html;
pub mod mask;
pub mod redact;
pub mod render;
pub mod review;
pub mod side;
pub mod tree;

use std::path::{Path, PathBuf};

use kayobe_config::repo::{ConfigRepo, RepoError};
use kayobe_config::vault::{NoVaultPassword, VaultError, VaultSecret};

use gix::ObjectId;

use crate::files::{FileScope, Warning};
use crate::git::Git;
use crate::tree::{NoProgress, Progress};

pub use diff::{Change, ConfigDiff, Entry, HostDiff, KeyPath};
pub use generated::{GenerateOptions, diff_generated};
pub use git::Unread;
pub use group::{ChangeGroup, GroupedChange, GroupedDiff, HostSet, Membership};
pub use mask::Masker;
pub use review::Summary;
pub use side::Side;
pub use tree::{FileChange, FileDiff, Tree, TreeDiff, diff_dirs, diff_trees};

/// Why a diff could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Reading the git repository failed.
    #[error("{operation} failed in the git repository {}: {detail}", .repo.display())]
    Git {
        /// What was being done.
        operation: String,
        /// The repository.
        repo: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Merging the base into the target, as the merge request would be
    /// merged, conflicts.
    #[error(
        "merging `{revision}` into `{onto}` conflicts in {}; merge or rebase `{onto}` onto `{revision}` and resolve the conflicts, then diff again",
        .paths.join(", ")
    )]
    MergeConflict {
        /// The revision merged into (the target).
        onto: String,
        /// The revision merged (the base).
        revision: String,
        /// The conflicting paths, relative to the repository root, sorted.
        paths: Vec<String>,
    },
    /// A file of a revision could not be written out.
    #[error("could not write {} while extracting a revision: {source}", .path.display())]
    WriteTree {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A revision names no commit or tree.
    #[error(
        "revision `{revision}` not found in the git repository {}; pass a branch, tag or commit that exists there (fetch it first if it is remote)",
        .repo.display()
    )]
    UnknownRevision {
        /// The revision asked for.
        revision: String,
        /// The repository searched.
        repo: PathBuf,
    },
    /// The configuration directory is not inside the git repository.
    #[error(
        "{} is not inside the git repository {}; the configuration path must be the repository's etc/kayobe",
        .config_path.display(),
        .repo.display()
    )]
    OutsideRepository {
        /// The configuration directory.
        config_path: PathBuf,
        /// The repository's top level.
        repo: PathBuf,
    },
    /// A file or directory of a tree being diffed could not be read.
    #[error("could not read {} to compare it: {source}", .path.display())]
    ReadTree {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A temporary directory could not be made.
    #[error("could not create a temporary directory for a revision: {0}")]
    TempDir(#[source] std::io::Error),
    /// A revision's configuration could not be read.
    #[error("in revision `{revision}`: {source}")]
    Revision {
        /// The revision being read.
        revision: String,
        /// What went wrong.
        #[source]
        source: Box<DiffError>,
    },
    /// The configuration could not be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// An inline vault value could not be decrypted.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// An inline vault value needs a password and none was given.
    #[error("variable `{variable}` of host `{host}` holds a `!vault` value")]
    NoVaultPassword {
        /// The variable holding the value.
        variable: String,
        /// The host whose variables were read.
        host: String,
        /// The password that is missing.
        source: NoVaultPassword,
    },
    /// A vaulted file (or one holding inline `!vault` values) needs a
    /// password to be masked and none was given.
    #[error("{} is vaulted", .path.display())]
    NoVaultPasswordForFile {
        /// The file.
        path: PathBuf,
        /// The password that is missing.
        source: NoVaultPassword,
    },
    /// A vaulted file or value could not be opened to mask it.
    #[error("cannot mask the secret at {place}: {source}")]
    Redact {
        /// The file, or `file:line:col` of an inline value.
        place: String,
        /// Why.
        #[source]
        source: VaultError,
    },
    /// The Kayobe container could not be run.
    #[error(
        "{source}; check that Docker runs (DOCKER_HOST or /var/run/docker.sock) and that the image {image} is present (`kayobe-automation image build`)"
    )]
    Container {
        /// The Kayobe image.
        image: String,
        /// What failed.
        #[source]
        source: container_engine::RunError,
    },
    /// The diff was cancelled; its container was stopped and removed.
    #[error("the generated diff was cancelled; its container was stopped and removed")]
    Cancelled,
    /// Kayobe failed to generate the configuration.
    #[error(
        "`kayobe overcloud service configuration generate` exited with code {exit_code}; its output above says why"
    )]
    GenerateFailed {
        /// The container's exit code.
        exit_code: i64,
    },
    /// The generated configuration could not be copied out.
    #[error("cannot unpack the generated configuration into {}: {source}", .dir.display())]
    Unpack {
        /// Where it was going.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<kayobe_config::vars_file::VarsFileError> for DiffError {
    fn from(error: kayobe_config::vars_file::VarsFileError) -> Self {
        Self::Repo(RepoError::from(error))
    }
}

/// The git repository holding `config_path`, and `config_path` relative to
/// its top level.
fn locate(config_path: &Path) -> Result<(Git, PathBuf), DiffError> {
    let git = Git::discover(config_path)?;
    let absolute = config_path.canonicalize().map_err(|source| RepoError::Io {
        path: config_path.to_path_buf(),
        source,
    })?;
    let relative = absolute
        .strip_prefix(git.toplevel())
        .map_err(|_| DiffError::OutsideRepository {
            config_path: config_path.to_path_buf(),
            repo: git.toplevel().to_path_buf(),
        })?
        .to_path_buf();
    Ok((git, relative))
}

/// Diffs the configuration at `config_path` (a git repository's `etc/kayobe`)
/// between the revisions `base` and `target`, for `environment` (else each
/// revision's `.environment`), decrypting with `secret`.
pub fn diff_revisions(
    config_path: &Path,
    environment: Option<&str>,
    base: &str,
    target: &str,
    secret: Option<&VaultSecret>,
) -> Result<ConfigDiff, DiffError> {
    diff_revisions_with_progress(config_path, environment, base, target, secret, &NoProgress)
}

/// [`diff_revisions`], telling `progress` how the file diff goes.
pub fn diff_revisions_with_progress(
    config_path: &Path,
    environment: Option<&str>,
    base: &str,
    target: &str,
    secret: Option<&VaultSecret>,
    progress: &dyn Progress,
) -> Result<ConfigDiff, DiffError> {
    let scratch = std::env::temp_dir();
    let revisions = Revisions { base, target };
    diff_revisions_in(
        &scratch,
        config_path,
        environment,
        revisions,
        secret,
        progress,
    )
}

/// The two revisions a diff compares.
#[derive(Debug, Clone, Copy)]
pub struct Revisions<'a> {
    /// The revision merged into (what the change is measured from).
    pub base: &'a str,
    /// The revision with the change.
    pub target: &'a str,
}

/// [`diff_revisions_with_progress`], extracting each revision into a
/// directory (mode 0700) inside `scratch`, so a caller can remove them all
/// when interrupted.
pub fn diff_revisions_in(
    scratch: &Path,
    config_path: &Path,
    environment: Option<&str>,
    revisions: Revisions<'_>,
    secret: Option<&VaultSecret>,
    progress: &dyn Progress,
) -> Result<ConfigDiff, DiffError> {
    let Revisions { base, target } = revisions;
    let (git, relative) = locate(config_path)?;
    let masker = Masker::new(secret);
    // The automation settings come from the checkout this runs in, read once,
    // as kayobe-automation's config-diff sources config.sh once: sourcing a
    // revision's config.sh would run whatever a merge request put there.
    let settings = ConfigRepo::open(config_path, environment)?.automation_conf()?;
    // The target side is the target with the base merged in, as the merge
    // request would be merged: what landed on the base after the branch
    // point is not the target's change.
    let base_tree = git.tree_id(base)?;
    let target_tree = git.merged_tree(target, base)?;
    let read = |revision: &str, tree: ObjectId| -> Result<Revision, DiffError> {
        let in_revision = || -> Result<Revision, DiffError> {
            // 0700: a revision's decrypted secrets stay the runner user's.
            let dir = tempfile::Builder::new()
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .tempdir_in(scratch)
                .map_err(DiffError::TempDir)?;
            let unread = git.export(tree, dir.path())?;
            let side_repo = ConfigRepo::open(&dir.path().join(&relative), environment)?
                .with_automation_conf(settings.clone());
            let side = Side::load(&side_repo, secret, &masker)?;
            let scope = FileScope::of(&side_repo)?;
            let mut warnings = files::redact(&side_repo, &scope, secret, &masker)?;
            warnings.extend(unread.outside_links.iter().map(|(path, target)| {
                Warning::LinkOutOfRevision {
                    path: path.clone(),
                    target: target.clone(),
                }
            }));
            Ok(Revision {
                side,
                scope,
                warnings,
                shown: shown_in_config_dir(&unread, &relative),
                config_path: side_repo.config_path().to_path_buf(),
                _dir: dir,
            })
        };
        in_revision().map_err(|source| DiffError::Revision {
            revision: revision.to_owned(),
            source: Box::new(source),
        })
    };
    let base_side = read(base, base_tree)?;
    let target_side = read(target, target_tree)?;
    let mut diff = ConfigDiff::between(&base_side.side, &target_side.side);
    fn tree(side: &Revision) -> Tree<'_> {
        Tree {
            root: &side.config_path,
            shown: side.shown.clone(),
        }
    }
    diff.files = files::in_scope(
        diff_trees(&tree(&base_side), &tree(&target_side), progress)?,
        &[&base_side.scope, &target_side.scope],
    );
    diff.warnings = base_side.warnings;
    diff.warnings.extend(target_side.warnings);
    diff.warnings.sort();
    diff.warnings.dedup();
    Ok(diff)
}

/// The entries of `unread` under the configuration directory `relative`
/// (relative to the repository root), by path relative to it, with the
/// text each stands for in the file diff.
fn shown_in_config_dir(unread: &Unread, relative: &Path) -> Vec<(PathBuf, String)> {
    let links = unread
        .outside_links
        .iter()
        .map(|(path, target)| (path, tree::symlink_text(target)));
    let submodules = unread
        .submodules
        .iter()
        .map(|(path, commit)| (path, tree::submodule_text(commit)));
    links
        .chain(submodules)
        .filter_map(|(path, text)| Some((path.strip_prefix(relative).ok()?.to_path_buf(), text)))
        .collect()
}

/// One revision, read: its variables, its file scope, and where its files are.
struct Revision {
    side: Side,
    scope: FileScope,
    warnings: Vec<Warning>,
    /// Entries of the configuration directory shown, not read.
    shown: Vec<(PathBuf, String)>,
    config_path: PathBuf,
    /// Holds the extracted files until the diff is done.
    _dir: tempfile::TempDir,
}
