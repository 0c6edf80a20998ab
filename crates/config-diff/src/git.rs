//! Reading revisions from git objects with gix: the working tree, the index
//! and the refs are never touched.
//!
//! [`Git::merged_tree`] merges one revision into another in memory, as the
//! shell tool's `git merge` did in a scratch checkout: the merged objects
//! live in an in-memory object store that is dropped with [`Git`], so even
//! the object database stays as it was.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::merge::tree::TreatAsUnresolved;
use gix::objs::tree::EntryKind;

use crate::DiffError;

/// An opened git repository.
pub struct Git {
    repo: gix::Repository,
    toplevel: PathBuf,
}

impl std::fmt::Debug for Git {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Git")
            .field("toplevel", &self.toplevel)
            .finish_non_exhaustive()
    }
}

impl Git {
    /// Opens the repository holding `path`.
    pub fn discover(path: &Path) -> Result<Self, DiffError> {
        let mut repo = gix::discover(path).map_err(|error| DiffError::Git {
            operation: "finding the git repository".into(),
            repo: path.to_path_buf(),
            detail: error.to_string(),
        })?;
        // Merges write their trees and blobs here rather than into `.git/objects`.
        repo.objects.enable_object_memory();
        let toplevel = repo
            .workdir()
            .ok_or_else(|| DiffError::Git {
                operation: "finding the working tree".into(),
                repo: path.to_path_buf(),
                detail: "the repository is bare; pass --config-path inside a checkout".into(),
            })?
            .canonicalize()
            .map_err(|error| DiffError::Git {
                operation: "finding the working tree".into(),
                repo: path.to_path_buf(),
                detail: error.to_string(),
            })?;
        Ok(Self { repo, toplevel })
    }

    /// The working tree's top-level directory.
    pub fn toplevel(&self) -> &Path {
        &self.toplevel
    }

    /// The commit `revision` names.
    pub fn commit_id(&self, revision: &str) -> Result<ObjectId, DiffError> {
        let unknown = || DiffError::UnknownRevision {
            revision: revision.to_owned(),
            repo: self.toplevel.clone(),
        };
        let object = self
            .repo
            .rev_parse_single(revision)
            .map_err(|_| unknown())?
            .object()
            .map_err(|_| unknown())?;
        Ok(object.peel_to_commit().map_err(|_| unknown())?.id)
    }

    /// The tree of the commit `revision` names.
    pub fn tree_id(&self, revision: &str) -> Result<ObjectId, DiffError> {
        let operation = || format!("reading the tree of `{revision}`");
        let commit = self
            .repo
            .find_commit(self.commit_id(revision)?)
            .map_err(|error| self.error(operation(), error))?;
        commit
            .tree_id()
            .map(gix::Id::detach)
            .map_err(|error| self.error(operation(), error))
    }

    /// The tree of `onto` with `revision` merged into it, as `git merge
    /// revision` on a checkout of `onto` would leave it; a conflict is an
    /// error naming the conflicting paths.
    pub fn merged_tree(&self, onto: &str, revision: &str) -> Result<ObjectId, DiffError> {
        let ours = self.commit_id(onto)?;
        let theirs = self.commit_id(revision)?;
        let operation = || format!("merging `{revision}` into `{onto}`");
        let options = self
            .repo
            .tree_merge_options()
            .map_err(|error| self.error(operation(), error))?;
        let labels = gix::merge::blob::builtin_driver::text::Labels {
            ancestor: None,
            current: Some(onto.into()),
            other: Some(revision.into()),
        };
        let mut outcome = self
            .repo
            .merge_commits(ours, theirs, labels, options.into())
            .map_err(|error| self.error(operation(), error))?;
        let how = TreatAsUnresolved::default();
        if outcome.tree_merge.has_unresolved_conflicts(how) {
            let mut paths: Vec<String> = outcome
                .tree_merge
                .conflicts
                .iter()
                .filter(|conflict| conflict.is_unresolved(how))
                .flat_map(|conflict| {
                    let (ours, theirs) = conflict.changes_in_resolution();
                    [ours.location(), theirs.location()]
                })
                .map(|path| path.to_str_lossy().into_owned())
                .collect();
            paths.sort();
            paths.dedup();
            return Err(DiffError::MergeConflict {
                onto: onto.to_owned(),
                revision: revision.to_owned(),
                paths,
            });
        }
        outcome
            .tree_merge
            .tree
            .write()
            .map(gix::Id::detach)
            .map_err(|error| self.error(operation(), error))
    }

    /// Writes the files of the tree `tree` into the directory `into`:
    /// executable bits kept, symbolic links as links, submodules left out
    /// (their commits are not in this repository).
    pub fn export(&self, tree: ObjectId, into: &Path) -> Result<(), DiffError> {
        let operation = || format!("reading the tree {tree}");
        let entries = self
            .repo
            .find_tree(tree)
            .map_err(|error| self.error(operation(), error))?
            .traverse()
            .breadthfirst
            .files()
            .map_err(|error| self.error(operation(), error))?;
        for entry in entries {
            let kind = entry.mode.kind();
            if matches!(kind, EntryKind::Tree | EntryKind::Commit) {
                continue;
            }
            let relative = gix::path::from_bstr(entry.filepath.as_bstr()).into_owned();
            let path = into.join(&relative);
            let data = self
                .repo
                .find_blob(entry.oid)
                .map_err(|error| self.error(format!("reading {}", relative.display()), error))?
                .take_data();
            write_entry(&path, kind, &data).map_err(|source| DiffError::WriteTree {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn error(&self, operation: String, error: impl std::fmt::Display) -> DiffError {
        DiffError::Git {
            operation,
            repo: self.toplevel.clone(),
            detail: error.to_string(),
        }
    }
}

/// Writes one tree entry's `data` at `path`.
fn write_entry(path: &Path, kind: EntryKind, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match kind {
        EntryKind::Link => {
            let target = gix::path::from_byte_slice(data);
            std::os::unix::fs::symlink(target, path)
        }
        EntryKind::BlobExecutable => {
            std::fs::write(path, data)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        }
        _ => std::fs::write(path, data),
    }
}
