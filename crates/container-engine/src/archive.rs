//! Tar archives in and out of containers.
//!
//! [`extract`] is the one way an archive from a container reaches the host:
//! the engine answers a copy-out with `<top directory>/…`; the top directory
//! is dropped and the rest lands in the target directory. The archive comes
//! from a container that ran whatever the configuration said, so it is
//! treated as hostile: an entry whose path leaves the target (`..`, an
//! absolute path), a symbolic link whose target leaves it, or a hard link to
//! anything outside it is refused, and the whole extraction fails naming the
//! entry. Nothing is written through a link: each parent directory, links
//! resolved, must still be inside the target, and a link an earlier entry
//! left where a file goes is replaced, not followed. Devices, FIFOs and other special files are skipped.

use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A file or directory put into a container (or a build context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Where it goes, relative to the archive's root (a leading `/` is dropped).
    pub path: String,
    /// The file's content (empty for a directory).
    pub content: Vec<u8>,
    /// The permission bits.
    pub mode: u32,
    /// Whether it is a directory.
    pub directory: bool,
    /// Its owner's uid and gid (root's when `None`).
    pub owner: Option<(u64, u64)>,
}

impl FileEntry {
    /// A regular file.
    pub fn file(path: impl Into<String>, content: impl Into<Vec<u8>>, mode: u32) -> Self {
        Self {
            path: path.into(),
            content: content.into(),
            mode,
            directory: false,
            owner: None,
        }
    }

    /// A directory.
    pub fn directory(path: impl Into<String>, mode: u32) -> Self {
        Self {
            path: path.into(),
            content: Vec::new(),
            mode,
            directory: true,
            owner: None,
        }
    }

    /// The same entry owned by `uid:gid`.
    #[must_use]
    pub fn owned_by(mut self, uid: u64, gid: u64) -> Self {
        self.owner = Some((uid, gid));
        self
    }
}

/// A tar archive of `entries`, in order (parent directories implied).
pub fn tar_of(entries: &[FileEntry]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    // Now rather than 0: GNU tar warns about implausibly old times.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let mut path = entry.path.trim_start_matches('/').to_owned();
        if entry.directory {
            header.set_entry_type(tar::EntryType::Directory);
            if !path.ends_with('/') {
                path.push('/');
            }
        }
        header.set_size(entry.content.len() as u64);
        header.set_mode(entry.mode);
        header.set_mtime(now);
        let (uid, gid) = entry.owner.unwrap_or((0, 0));
        header.set_uid(uid);
        header.set_gid(gid);
        builder.append_data(&mut header, path, entry.content.as_slice())?;
    }
    builder.into_inner()
}

/// Why an archive could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// An entry would land outside the target directory.
    #[error(
        "the archive's entry {} would leave {}; nothing from this archive is trusted, check what wrote it",
        entry.display(),
        target.display()
    )]
    Escapes {
        /// The entry's path in the archive.
        entry: PathBuf,
        /// The target directory.
        target: PathBuf,
    },
    /// A link points outside the target directory.
    #[error(
        "the archive's link {} points to {}, outside {}; nothing from this archive is trusted, check what wrote it",
        entry.display(),
        link.display(),
        target.display()
    )]
    LinkEscapes {
        /// The link's path in the archive.
        entry: PathBuf,
        /// Where it points.
        link: PathBuf,
        /// The target directory.
        target: PathBuf,
    },
    /// Reading the archive or writing a file failed.
    #[error("cannot extract the archive into {}: {source}", target.display())]
    Io {
        /// The target directory.
        target: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The relative path below the archive's top directory, or `None` for the
/// top directory itself; `Err` for a path that would leave.
fn below_top(path: &Path) -> Result<Option<PathBuf>, ()> {
    let mut parts = path.components();
    match parts.next() {
        Some(Component::Normal(_)) => {}
        Some(Component::CurDir) => return below_top(parts.as_path()),
        None => return Ok(None),
        _ => return Err(()),
    }
    let rest: Vec<Component<'_>> = parts.filter(|p| *p != Component::CurDir).collect();
    if rest
        .iter()
        .any(|part| !matches!(part, Component::Normal(_)))
    {
        return Err(());
    }
    let rest: PathBuf = rest.iter().collect();
    Ok((!rest.as_os_str().is_empty()).then_some(rest))
}

/// Whether `link`, a link target read at `entry` (relative to the target
/// directory), stays inside the target directory.
fn link_stays_inside(entry: &Path, link: &Path) -> bool {
    if link.is_absolute() {
        return false;
    }
    // Depth below the target of the directory the link sits in.
    let mut depth = entry.components().count() as isize - 1;
    for part in link.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Extracts `archive` (as the engine answers a copy-out of a directory:
/// `<top>/…`) into `target`, created if missing, the top directory dropped.
/// Returns how many regular files were written.
pub fn extract(archive: &[u8], target: &Path) -> Result<usize, ExtractError> {
    let io = |source| ExtractError::Io {
        target: target.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(target).map_err(io)?;
    let mut files = 0;
    let mut reader = tar::Archive::new(archive);
    for entry in reader.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let path = entry.path().map_err(io)?.into_owned();
        let Ok(relative) = below_top(&path) else {
            return Err(ExtractError::Escapes {
                entry: path,
                target: target.to_path_buf(),
            });
        };
        let Some(relative) = relative else { continue };
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink() || kind.is_hard_link()) {
            continue;
        }
        let link = entry.link_name().map_err(io)?.map(|link| link.into_owned());
        // A hard link names an archive path (with the top directory).
        let hard_source = match (&link, kind.is_hard_link()) {
            (Some(link), true) => match below_top(link) {
                Ok(Some(source)) => Some(source),
                _ => None,
            },
            _ => None,
        };
        if let Some(link) = link.filter(|_| kind.is_symlink() || kind.is_hard_link()) {
            let inside = if kind.is_hard_link() {
                hard_source.is_some()
            } else {
                link_stays_inside(&relative, &link)
            };
            if !inside {
                return Err(ExtractError::LinkEscapes {
                    entry: path,
                    link,
                    target: target.to_path_buf(),
                });
            }
        }
        let escapes = || ExtractError::Escapes {
            entry: path.clone(),
            target: target.to_path_buf(),
        };
        let at = target.join(&relative);
        if !make_parents_inside(target, &relative).map_err(io)? {
            return Err(escapes());
        }
        // A link already at that path (from an earlier entry) is replaced,
        // never written through.
        if at
            .symlink_metadata()
            .is_ok_and(|meta| meta.file_type().is_symlink())
        {
            std::fs::remove_file(&at).map_err(io)?;
        }
        match hard_source {
            Some(source) => std::fs::hard_link(target.join(source), &at).map_err(io)?,
            None => {
                entry.unpack(&at).map_err(io)?;
            }
        }
        files += usize::from(kind.is_file());
    }
    Ok(files)
}

/// Creates the parent directories of `target/relative` one by one, checking
/// that each, links resolved, is inside `target`; `false` when one is not
/// (nothing is created beyond it).
fn make_parents_inside(target: &Path, relative: &Path) -> std::io::Result<bool> {
    let inside = target.canonicalize()?;
    let mut at = target.to_path_buf();
    for part in relative.parent().into_iter().flat_map(Path::components) {
        at.push(part);
        match at.symlink_metadata() {
            Ok(_) => {
                if !at.canonicalize()?.starts_with(&inside) {
                    return Ok(false);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&at)?;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            if kind.is_symlink() || kind.is_hard_link() {
                header.set_size(0);
                builder.append_link(&mut header, path, data).unwrap();
            } else {
                header.set_size(data.len() as u64);
                // `append_data` refuses `..`; write the raw name as a hostile tool would.
                let name = header.as_old_mut();
                name.name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_cksum();
                builder.append(&header, data.as_bytes()).unwrap();
            }
        }
        builder.into_inner().unwrap()
    }

    use tar::EntryType::{Directory, Link, Regular, Symlink};

    #[test]
    fn extracts_below_the_top_directory() {
        let dir = tempfile::tempdir().unwrap();
        let files = extract(
            &archive(&[
                ("out/", Directory, ""),
                ("out/a/b.txt", Regular, "hello"),
                ("out/link", Symlink, "a/b.txt"),
                ("out/a/up", Symlink, "../a/b.txt"),
                ("out/hard", Link, "out/a/b.txt"),
            ]),
            dir.path(),
        )
        .unwrap();
        assert_eq!(files, 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/b.txt")).unwrap(),
            "hello"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("link")).unwrap(),
            "hello"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/up")).unwrap(),
            "hello"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("hard")).unwrap(),
            "hello"
        );
    }

    #[test]
    fn refuses_paths_and_links_that_leave() {
        let outside = tempfile::tempdir().unwrap();
        for hostile in [
            vec![("out/../escaped", Regular, "x")],
            vec![("../escaped", Regular, "x")],
            vec![("out/a/../../escaped", Regular, "x")],
            vec![("out/link", Symlink, "/etc")],
            vec![("out/link", Symlink, "../..")],
            vec![("out/a/link", Symlink, "../../x")],
            vec![("out/hard", Link, "/etc/passwd")],
            vec![("out/hard", Link, "out/../../etc/passwd")],
        ] {
            let dir = outside.path().join("target");
            let error = extract(&archive(&hostile), &dir).unwrap_err();
            assert!(
                matches!(
                    error,
                    ExtractError::Escapes { .. } | ExtractError::LinkEscapes { .. }
                ),
                "{hostile:?}: {error}"
            );
            assert!(!outside.path().join("escaped").exists());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn never_writes_through_a_link_already_there() {
        let outside = tempfile::tempdir().unwrap();
        let dir = outside.path().join("target");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.join("sneaky")).unwrap();
        let error = extract(&archive(&[("out/sneaky/owned", Regular, "x")]), &dir).unwrap_err();
        assert!(matches!(error, ExtractError::Escapes { .. }), "{error}");
        assert!(!outside.path().join("owned").exists());
        let error = extract(&archive(&[("out/sneaky/new/owned", Regular, "x")]), &dir).unwrap_err();
        assert!(matches!(error, ExtractError::Escapes { .. }), "{error}");
        assert!(!outside.path().join("new").exists());
    }

    #[test]
    fn tar_of_keeps_modes_owners_and_directories() {
        let bytes = tar_of(&[
            FileEntry::directory("/home/rally/artifacts", 0o777),
            FileEntry::file("/home/rally/list", "a\n", 0o644).owned_by(65500, 1000),
        ])
        .unwrap();
        let mut reader = tar::Archive::new(bytes.as_slice());
        let got: Vec<(String, u32, u64)> = reader
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.path().unwrap().display().to_string(),
                    entry.header().mode().unwrap(),
                    entry.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("home/rally/artifacts/".to_owned(), 0o777, 0),
                ("home/rally/list".to_owned(), 0o644, 65500),
            ]
        );
    }
}
