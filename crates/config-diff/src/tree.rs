//! The recursive diff of two directory trees, as `diff -Naur` would show it:
//! new and deleted files in full, changed text files as unified diffs,
//! binary files by digest, symbolic links by target.
//!
//! Directories themselves are not compared (git does not track them): a
//! file appears under its path relative to the tree's root. The walk of both
//! trees, the comparison of each path and each unified diff run in parallel
//! (rayon); a [`Progress`] hears about each compared path, so a caller can
//! show a progress bar on large trees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use similar::TextDiff;

use crate::DiffError;

/// How many unchanged lines a unified diff shows around each change (as `diff -u`).
const CONTEXT_LINES: usize = 3;

/// The environment variable setting how many lines (old and new together,
/// after the common head and tail) one file's unified diff may compare.
pub const MAX_DIFF_LINES_VAR: &str = "KAYOBE_AUTOMATION_DIFF_MAX_LINES";

/// The diff budget unless [`MAX_DIFF_LINES_VAR`] says otherwise. Myers'
/// diff takes time proportional to the lines compared times the lines
/// changed: a reversed 160 000-line file took minutes. Past this, a file is
/// [`FileChange::Summarised`]; within it, a diff takes seconds at worst.
pub const DEFAULT_MAX_DIFF_LINES: usize = 40_000;

/// The diff budget, in lines (see [`MAX_DIFF_LINES_VAR`]).
pub fn max_diff_lines() -> usize {
    std::env::var(MAX_DIFF_LINES_VAR)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_DIFF_LINES)
}

/// How many lines of `old` and `new` a diff must compare: all but the
/// common leading and trailing lines.
fn lines_to_compare(old: &str, new: &str) -> usize {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let head = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let tail = old_lines[head..]
        .iter()
        .rev()
        .zip(new_lines[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    old_lines.len() + new_lines.len() - 2 * (head + tail)
}

/// How one file differs between the old and the new tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// A text file (or a symbolic link, as `symlink to TARGET`) only the new tree has.
    Added {
        /// Its whole content.
        text: String,
    },
    /// A text file (or a symbolic link) only the old tree has.
    Removed {
        /// Its whole content.
        text: String,
    },
    /// A text file (or a symbolic link) whose content differs.
    Changed {
        /// The unified diff, headers `--- a/PATH` and `+++ b/PATH` first.
        unified: String,
    },
    /// A text file whose changed region is too large to diff within the
    /// budget ([`MAX_DIFF_LINES_VAR`]): shown by line counts and digests.
    Summarised {
        /// The old file's line count.
        old_lines: usize,
        /// The new file's line count.
        new_lines: usize,
        /// The old file's digest (`sha256:HEX`).
        old: String,
        /// The new file's digest.
        new: String,
    },
    /// A binary file that was added, removed or changed, by digest
    /// (`sha256:HEX`); `None` on the side that does not have it.
    Binary {
        /// The old file's digest.
        old: Option<String>,
        /// The new file's digest.
        new: Option<String>,
    },
}

/// One file that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// Its path relative to the trees' roots.
    pub path: PathBuf,
    /// How it differs.
    pub change: FileChange,
}

/// Every file that differs between two trees, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    /// The files that differ, sorted by path.
    pub files: Vec<FileDiff>,
}

impl TreeDiff {
    /// Whether any file differs.
    pub fn has_changes(&self) -> bool {
        !self.files.is_empty()
    }
}

/// Hears how far a tree diff is: a progress bar, or nothing.
pub trait Progress: Sync {
    /// Both trees are walked: `paths` paths will be compared.
    fn start(&self, paths: u64);
    /// One more path was compared.
    fn compared(&self);
}

/// A [`Progress`] that reports nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _paths: u64) {}
    fn compared(&self) {}
}

/// Diffs the tree at `old` against the tree at `new`.
pub fn diff_dirs(old: &Path, new: &Path) -> Result<TreeDiff, DiffError> {
    diff_dirs_with_progress(old, new, &NoProgress)
}

/// [`diff_dirs`], telling `progress` about each compared path.
pub fn diff_dirs_with_progress(
    old: &Path,
    new: &Path,
    progress: &dyn Progress,
) -> Result<TreeDiff, DiffError> {
    diff_trees(&Tree::at(old), &Tree::at(new), progress)
}

/// A tree to diff: the files under `root`, plus entries that are shown by
/// a text standing for them rather than read (a link out of a revision, a
/// submodule's commit), by path relative to `root`.
#[derive(Debug, Clone)]
pub struct Tree<'a> {
    /// Where the files are.
    pub root: &'a Path,
    /// (path, the text standing for it) of entries not on disk.
    pub shown: Vec<(PathBuf, String)>,
}

impl<'a> Tree<'a> {
    /// The files under `root`, nothing more.
    pub fn at(root: &'a Path) -> Self {
        Self {
            root,
            shown: Vec::new(),
        }
    }
}

/// Diffs `old` against `new`, telling `progress` about each compared path.
pub fn diff_trees(old: &Tree, new: &Tree, progress: &dyn Progress) -> Result<TreeDiff, DiffError> {
    let (old_entries, new_entries) = rayon::join(|| walk(old.root), || walk(new.root));
    let (mut old_entries, mut new_entries) = (old_entries?, new_entries?);
    let shown = |tree: &Tree| {
        tree.shown
            .iter()
            .map(|(path, text)| (path.clone(), Entry::Shown { text: text.clone() }))
            .collect::<Vec<_>>()
    };
    old_entries.extend(shown(old));
    new_entries.extend(shown(new));
    let (old, new) = (old.root, new.root);
    let mut paths: BTreeMap<&Path, (Option<&Entry>, Option<&Entry>)> = BTreeMap::new();
    for (path, entry) in &old_entries {
        paths.entry(path).or_default().0 = Some(entry);
    }
    for (path, entry) in &new_entries {
        paths.entry(path).or_default().1 = Some(entry);
    }
    progress.start(paths.len() as u64);
    let paths: Vec<_> = paths.into_iter().collect();
    let changes = paths
        .par_iter()
        .map(|(path, (old_entry, new_entry))| {
            let change = compare(
                path,
                old_entry.map(|entry| (old, entry)),
                new_entry.map(|entry| (new, entry)),
            );
            progress.compared();
            change.map(|change| {
                change.map(|change| FileDiff {
                    path: path.to_path_buf(),
                    change,
                })
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // `paths` was sorted and `collect` keeps the order.
    Ok(TreeDiff {
        files: changes.into_iter().flatten().collect(),
    })
}

/// What sits at a path of a tree.
#[derive(Debug)]
enum Entry {
    /// A regular file.
    File,
    /// A symbolic link, by target (never followed).
    Symlink { target: PathBuf },
    /// Something shown by a text standing for it, never read: an entry not
    /// on disk, or a FIFO, socket or device (reading one could block or
    /// never end).
    Shown { text: String },
}

/// Every file and symbolic link under `root`, by path relative to it.
fn walk(root: &Path) -> Result<Vec<(PathBuf, Entry)>, DiffError> {
    let found = Mutex::new(Vec::new());
    let first_error = Mutex::new(None);
    rayon::scope(|scope| walk_dir(scope, root, PathBuf::new(), &found, &first_error));
    if let Some(error) = first_error.into_inner().expect("no walker panicked") {
        return Err(error);
    }
    Ok(found.into_inner().expect("no walker panicked"))
}

/// Lists `root/relative`, spawning one task per subdirectory.
fn walk_dir<'scope>(
    scope: &rayon::Scope<'scope>,
    root: &'scope Path,
    relative: PathBuf,
    found: &'scope Mutex<Vec<(PathBuf, Entry)>>,
    first_error: &'scope Mutex<Option<DiffError>>,
) {
    let dir = root.join(&relative);
    let fail = |source: std::io::Error, path: &Path| {
        first_error
            .lock()
            .expect("no walker panicked")
            .get_or_insert(DiffError::ReadTree {
                path: path.to_path_buf(),
                source,
            });
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(source) => return fail(source, &dir),
    };
    let mut here = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => return fail(source, &dir),
        };
        let path = relative.join(entry.file_name());
        let kind = match entry.file_type() {
            Ok(kind) => kind,
            Err(source) => return fail(source, &entry.path()),
        };
        if kind.is_dir() {
            scope.spawn(move |scope| walk_dir(scope, root, path, found, first_error));
        } else if kind.is_symlink() {
            match std::fs::read_link(entry.path()) {
                Ok(target) => here.push((path, Entry::Symlink { target })),
                Err(source) => return fail(source, &entry.path()),
            }
        } else if kind.is_file() {
            here.push((path, Entry::File));
        } else {
            here.push((
                path,
                Entry::Shown {
                    text: special_text(kind),
                },
            ));
        }
    }
    found.lock().expect("no walker panicked").extend(here);
}

/// A side's content: text, or bytes that are not (UTF-8 without NUL is text,
/// as `diff` and git decide it, near enough).
enum Content {
    Text(String),
    Binary(Vec<u8>),
}

impl Content {
    fn from_bytes(bytes: Vec<u8>) -> Self {
        if bytes.contains(&0) {
            return Self::Binary(bytes);
        }
        match String::from_utf8(bytes) {
            Ok(text) => Self::Text(text),
            Err(error) => Self::Binary(error.into_bytes()),
        }
    }

    fn digest(&self) -> String {
        let bytes = match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        };
        digest(bytes)
    }
}

/// The bytes at `root/path`: a file's content, or a symbolic link's text.
fn read(root: &Path, path: &Path, entry: &Entry) -> Result<Vec<u8>, DiffError> {
    match entry {
        Entry::Symlink { target } => Ok(symlink_text(target).into_bytes()),
        Entry::Shown { text } => Ok(text.clone().into_bytes()),
        Entry::File => {
            let full = root.join(path);
            std::fs::read(&full).map_err(|source| DiffError::ReadTree { path: full, source })
        }
    }
}

/// The text a symbolic link stands for in a diff.
pub fn symlink_text(target: &Path) -> String {
    format!("symlink to {}\n", target.display())
}

/// The text a submodule stands for in a diff, as `git diff` shows one.
pub fn submodule_text(commit: &str) -> String {
    format!("Subproject commit {commit}\n")
}

/// The text a FIFO, socket or device stands for in a diff.
fn special_text(kind: std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() {
        "character device"
    } else {
        "block device"
    };
    format!("special file ({what}), not read\n")
}

/// `sha256:HEX` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// How `path` differs between the sides that have it (`None`: the same).
fn compare(
    path: &Path,
    old: Option<(&Path, &Entry)>,
    new: Option<(&Path, &Entry)>,
) -> Result<Option<FileChange>, DiffError> {
    let read = |side: Option<(&Path, &Entry)>| {
        side.map(|(root, entry)| read(root, path, entry))
            .transpose()
    };
    let (old_bytes, new_bytes) = (read(old)?, read(new)?);
    if old_bytes == new_bytes {
        return Ok(None);
    }
    let old_content = old_bytes.map(Content::from_bytes);
    let new_content = new_bytes.map(Content::from_bytes);
    Ok(match (old_content, new_content) {
        (None, None) => None,
        (None, Some(Content::Text(text))) => Some(FileChange::Added { text }),
        (Some(Content::Text(text)), None) => Some(FileChange::Removed { text }),
        (Some(Content::Text(a)), Some(Content::Text(b))) => Some(text_change(path, &a, &b)),
        (old_content, new_content) => Some(FileChange::Binary {
            old: old_content.as_ref().map(Content::digest),
            new: new_content.as_ref().map(Content::digest),
        }),
    })
}

/// How the text file at `path` changed from `old` to `new`: its unified
/// diff, or past the budget ([`max_diff_lines`]) line counts and digests.
pub fn text_change(path: &Path, old: &str, new: &str) -> FileChange {
    if lines_to_compare(old, new) > max_diff_lines() {
        FileChange::Summarised {
            old_lines: old.lines().count(),
            new_lines: new.lines().count(),
            old: digest(old.as_bytes()),
            new: digest(new.as_bytes()),
        }
    } else {
        FileChange::Changed {
            unified: unified(path, old, new),
        }
    }
}

/// The unified diff of `old` and `new`, as `diff -u a/PATH b/PATH` without timestamps.
pub fn unified(path: &Path, old: &str, new: &str) -> String {
    let shown = kayobe_stdx::escape_line(&path.to_string_lossy()).into_owned();
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
        for (path, content) in files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
    }

    fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write_tree(
            dir.path(),
            &files
                .iter()
                .map(|(path, content)| ((*path).to_owned(), content.to_vec()))
                .collect(),
        );
        dir
    }

    #[test]
    fn added_removed_changed_binary_and_symlinks() {
        let old = tree(&[
            ("same.yml", b"a: 1\n"),
            ("gone.yml", b"x: 1\n"),
            ("nested/dir/changed.conf", b"1\n2\n3\n4\n5\n6\n7\n8\n9\n"),
            ("key.bin", b"\0\x01"),
        ]);
        let new = tree(&[
            ("same.yml", b"a: 1\n"),
            ("nested/dir/changed.conf", b"1\n2\n3\n4\nfive\n6\n7\n8\n9\n"),
            ("nested/new.yml", b"y: 2"),
            ("key.bin", b"\0\x02"),
        ]);
        std::os::unix::fs::symlink("same.yml", old.path().join("link")).unwrap();
        std::os::unix::fs::symlink("nested/new.yml", new.path().join("link")).unwrap();
        std::os::unix::fs::symlink("same.yml", old.path().join("same-link")).unwrap();
        std::os::unix::fs::symlink("same.yml", new.path().join("same-link")).unwrap();

        let diff = diff_dirs(old.path(), new.path()).unwrap();
        assert_eq!(
            diff.files,
            vec![
                FileDiff {
                    path: "gone.yml".into(),
                    change: FileChange::Removed {
                        text: "x: 1\n".into()
                    },
                },
                FileDiff {
                    path: "key.bin".into(),
                    change: FileChange::Binary {
                        old: Some(digest(b"\0\x01")),
                        new: Some(digest(b"\0\x02")),
                    },
                },
                FileDiff {
                    path: "link".into(),
                    change: FileChange::Changed {
                        unified: "--- a/link\n+++ b/link\n@@ -1 +1 @@\n\
                                  -symlink to same.yml\n+symlink to nested/new.yml\n"
                            .into()
                    },
                },
                FileDiff {
                    path: "nested/dir/changed.conf".into(),
                    change: FileChange::Changed {
                        unified: "--- a/nested/dir/changed.conf\n+++ b/nested/dir/changed.conf\n\
                                  @@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
                            .into()
                    },
                },
                FileDiff {
                    path: "nested/new.yml".into(),
                    change: FileChange::Added {
                        text: "y: 2".into()
                    },
                },
            ]
        );
        assert!(diff.has_changes());
    }

    #[test]
    fn a_change_past_the_budget_is_summarised() {
        let old: String = (0..DEFAULT_MAX_DIFF_LINES)
            .map(|n| format!("{n}\n"))
            .collect();
        let new: String = (0..DEFAULT_MAX_DIFF_LINES)
            .rev()
            .map(|n| format!("{n}\n"))
            .collect();
        assert!(lines_to_compare(&old, &new) > DEFAULT_MAX_DIFF_LINES);
        assert_eq!(lines_to_compare("a\nb\nc\n", "a\nx\nc\n"), 2);
        let (old_dir, new_dir) = (
            tree(&[("f", old.as_bytes())]),
            tree(&[("f", new.as_bytes())]),
        );
        let diff = diff_dirs(old_dir.path(), new_dir.path()).unwrap();
        assert!(matches!(
            &diff.files[0].change,
            FileChange::Summarised { old_lines, new_lines, .. }
                if *old_lines == DEFAULT_MAX_DIFF_LINES && *new_lines == DEFAULT_MAX_DIFF_LINES
        ));
    }

    #[test]
    fn a_missing_tree_is_an_error_naming_it() {
        let new = tree(&[]);
        let missing = new.path().join("nope");
        let error = diff_dirs(&missing, new.path()).unwrap_err();
        assert!(error.to_string().contains(&missing.display().to_string()));
    }

    #[test]
    fn progress_hears_of_every_path() {
        use std::sync::atomic::{AtomicU64, Ordering};
        #[derive(Default)]
        struct Count(AtomicU64, AtomicU64);
        impl Progress for Count {
            fn start(&self, paths: u64) {
                self.0.store(paths, Ordering::SeqCst);
            }
            fn compared(&self) {
                self.1.fetch_add(1, Ordering::SeqCst);
            }
        }
        let old = tree(&[("a", b"1"), ("b/c", b"2")]);
        let new = tree(&[("a", b"1"), ("d", b"3")]);
        let count = Count::default();
        diff_dirs_with_progress(old.path(), new.path(), &count).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
        assert_eq!(count.1.load(Ordering::SeqCst), 3);
    }

    /// `old` with the unified diff `unified` applied: a minimal `patch` for
    /// the diffs [`unified`] writes, so the property checks their content.
    fn patch(old: &str, unified: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut next_old = 0;
        // Whether the last diff line put a line into `out`.
        let mut last_kept = false;
        for line in unified.split_inclusive('\n').skip(2) {
            if let Some(header) = line.strip_prefix("@@ -") {
                let range = header.split(' ').next().unwrap();
                let mut numbers = range.split(',').map(|n| n.parse::<usize>().unwrap());
                let start = numbers.next().unwrap();
                let len = numbers.next().unwrap_or(1);
                let first = if len == 0 { start } else { start - 1 };
                out.extend(old_lines[next_old..first].iter().copied());
                next_old = first;
                continue;
            }
            if line.starts_with('\\') {
                if last_kept {
                    out.pop();
                }
                continue;
            }
            let (marker, text) = line.split_at(1);
            match marker {
                " " => {
                    out.push_str(text);
                    next_old += 1;
                }
                "+" => out.push_str(text),
                _ => next_old += 1,
            }
            last_kept = marker != "-";
        }
        out.extend(old_lines[next_old..].iter().copied());
        out
    }

    /// Trees of a few nested files, text or binary. Directory names end in a
    /// digit and file names do not, so no path is both a file and a directory.
    fn files() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
        let path = ("(|d1/|d1/d2/|e3/)", "[a-e]{1,2}(\\.yml)?").prop_map(|(dir, name)| dir + &name);
        let content = prop_oneof![
            "([a-c: ]{0,6}\n){0,6}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::btree_map(path, content, 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn a_tree_against_itself_is_empty(files in files()) {
            let dir = tempfile::tempdir().unwrap();
            write_tree(dir.path(), &files);
            prop_assert_eq!(diff_dirs(dir.path(), dir.path()).unwrap(), TreeDiff::default());
        }

        #[test]
        fn the_new_side_of_the_changes_is_the_new_tree(old in files(), new in files()) {
            let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            write_tree(old_dir.path(), &old);
            write_tree(new_dir.path(), &new);
            let diff = diff_dirs(old_dir.path(), new_dir.path()).unwrap();
            let paths: Vec<_> = diff.files.iter().map(|f| f.path.clone()).collect();
            let mut sorted = paths.clone();
            sorted.sort();
            prop_assert_eq!(&paths, &sorted);
            // Apply the changes' new side to the old tree's files (by digest).
            let mut applied: BTreeMap<String, String> = old
                .iter()
                .map(|(path, content)| (path.clone(), digest(content)))
                .collect();
            for file in &diff.files {
                let path = file.path.to_str().unwrap().to_owned();
                match &file.change {
                    FileChange::Added { text } => {
                        prop_assert!(applied.insert(path, digest(text.as_bytes())).is_none());
                    }
                    FileChange::Removed { text } => {
                        prop_assert_eq!(applied.remove(&path), Some(digest(text.as_bytes())));
                    }
                    FileChange::Changed { unified } => {
                        let header = format!("--- a/{path}\n+++ b/{path}\n");
                        prop_assert!(unified.starts_with(&header));
                        let old_text = std::str::from_utf8(&old[&path]).unwrap();
                        let patched = patch(old_text, unified);
                        applied.insert(path, digest(patched.as_bytes()));
                    }
                    FileChange::Summarised { old: before, new: after, .. } => {
                        prop_assert_eq!(Some(before), applied.get(&path));
                        applied.insert(path, after.clone());
                    }
                    FileChange::Binary { old: before, new: after } => {
                        prop_assert_eq!(before, &applied.get(&path).cloned());
                        match after {
                            Some(after) => applied.insert(path, after.clone()),
                            None => applied.remove(&path),
                        };
                    }
                }
            }
            let expected: BTreeMap<String, String> = new
                .iter()
                .map(|(path, content)| (path.clone(), digest(content)))
                .collect();
            prop_assert_eq!(applied, expected);
        }
    }
}
