//! Reading revisions from git objects with gix: the working tree, the index
//! and the refs are never touched.
//!
//! [`Git::merged_tree`] merges one revision into another in memory, as the
//! shell tool's `git merge` did in a scratch checkout: the merged objects
//! live in an in-memory object store that is dropped with [`Git`], so even
//! the object database stays as it was.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
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
                detail: "the repository is bare; the configuration must be read from a checkout"
                    .into(),
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

    /// Writes the files of the tree `tree` into the directory `into`, as
    /// data: executable bits kept, symbolic links that resolve within the
    /// tree written as links, and nothing that would lead a reader out of
    /// it. A link whose target leaves the tree (absolute, `..` past the
    /// root, through another such link, or a loop) is not written: a
    /// revision is untrusted, and reading it must never read the host's
    /// files. Those links and the submodules (whose commits are not in
    /// this repository) are returned, to be shown rather than read.
    pub fn export(&self, tree: ObjectId, into: &Path) -> Result<Unread, DiffError> {
        let operation = || format!("reading the tree {tree}");
        let entries = self
            .repo
            .find_tree(tree)
            .map_err(|error| self.error(operation(), error))?
            .traverse()
            .breadthfirst
            .files()
            .map_err(|error| self.error(operation(), error))?;
        let blob = |path: &BStr, oid: ObjectId| -> Result<Vec<u8>, DiffError> {
            Ok(self
                .repo
                .find_blob(oid)
                .map_err(|error| self.error(format!("reading {path}"), error))?
                .take_data())
        };
        let mut kinds: HashMap<BString, EntryKind> = HashMap::new();
        let mut links: HashMap<BString, BString> = HashMap::new();
        for entry in &entries {
            let kind = entry.mode.kind();
            kinds.insert(entry.filepath.clone(), kind);
            if kind == EntryKind::Link {
                links.insert(
                    entry.filepath.clone(),
                    blob(entry.filepath.as_bstr(), entry.oid)?.into(),
                );
            }
        }
        let mut unread = Unread::default();
        for entry in entries {
            let kind = entry.mode.kind();
            let relative = gix::path::from_bstr(entry.filepath.as_bstr()).into_owned();
            let data = match kind {
                EntryKind::Tree => continue,
                EntryKind::Commit => {
                    unread.submodules.push((relative, entry.oid.to_string()));
                    continue;
                }
                EntryKind::Link => {
                    let target = &links[&entry.filepath];
                    if resolve_in_tree(entry.filepath.as_bstr(), &kinds, &links).is_none() {
                        unread.outside_links.push((
                            relative,
                            gix::path::from_bstr(target.as_bstr()).into_owned(),
                        ));
                        continue;
                    }
                    target.to_vec()
                }
                _ => blob(entry.filepath.as_bstr(), entry.oid)?,
            };
            let path = into.join(&relative);
            write_entry(into, &relative, kind, &data).map_err(|source| DiffError::WriteTree {
                path: path.clone(),
                source,
            })?;
        }
        unread.outside_links.sort();
        unread.submodules.sort();
        Ok(unread)
    }

    fn error(&self, operation: String, error: impl std::fmt::Display) -> DiffError {
        DiffError::Git {
            operation,
            repo: self.toplevel.clone(),
            detail: error.to_string(),
        }
    }
}

/// The entries of a revision's tree that [`Git::export`] did not write, by
/// path relative to the tree's root, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    /// Symbolic links leaving the tree: (link, its target).
    pub outside_links: Vec<(PathBuf, PathBuf)>,
    /// Submodules: (path, the commit recorded, in hex).
    pub submodules: Vec<(PathBuf, String)>,
}

/// Linux's limit on links followed in one lookup.
const MAX_LINKS_FOLLOWED: usize = 40;

/// Where the link at `link` leads within the tree (`kinds`: every entry's
/// kind; `links`: every link's target), resolved as the kernel resolves it
/// once the tree is on disk: component by component, each link met
/// replaced by its target relative to the link's directory, `..` taken
/// from the path so far. `None` when it leaves the tree: an absolute
/// target, `..` past the root, or more links than the kernel follows. A
/// path that stops existing inside the tree stays inside (the kernel would
/// stop there too), and is returned as far as it got.
fn resolve_in_tree(
    link: &BStr,
    kinds: &HashMap<BString, EntryKind>,
    links: &HashMap<BString, BString>,
) -> Option<Vec<BString>> {
    let split =
        |path: &[u8]| -> Vec<BString> { path.split(|&b| b == b'/').map(BString::from).collect() };
    let mut resolved: Vec<BString> = Vec::new();
    let mut rest: std::collections::VecDeque<BString> = split(link).into();
    let mut followed = 0;
    while let Some(component) = rest.pop_front() {
        match component.as_slice() {
            b"" | b"." => continue,
            b".." => {
                resolved.pop()?;
                continue;
            }
            _ => {}
        }
        resolved.push(component);
        let path = BString::from(
            resolved
                .iter()
                .map(|c| c.as_slice())
                .collect::<Vec<_>>()
                .join(&b'/'),
        );
        if let Some(target) = links.get(&path) {
            followed += 1;
            if followed > MAX_LINKS_FOLLOWED || target.starts_with(b"/") {
                return None;
            }
            resolved.pop();
            for component in split(target).into_iter().rev() {
                rest.push_front(component);
            }
        } else if !kinds.contains_key(&path) {
            return Some(resolved);
        }
    }
    Some(resolved)
}

/// Writes one tree entry's `data` at `relative` under `root`. The
/// directories on the way are made one by one below `root`, never `root`
/// itself: once `root` is removed (an interrupted run clearing its
/// decrypted checkout), writing fails rather than making it again.
fn write_entry(root: &Path, relative: &Path, kind: EntryKind, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut dir = root.to_path_buf();
    if let Some(parent) = relative.parent() {
        for component in parent.components() {
            dir.push(component);
            match std::fs::create_dir(&dir) {
                Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(error);
                }
                _ => {}
            }
        }
    }
    let path = root.join(relative);
    let path = path.as_path();
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
