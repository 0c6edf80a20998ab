//! Putting rendered files on disk: atomically, or only checking.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::render::Rendered;

/// What [`write()`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write files that differ; report stale files of disabled operations.
    Write,
    /// Write files that differ and remove stale files.
    WriteAndPrune,
    /// Write nothing; report what differs.
    Check,
}

/// What [`write()`] found and did. Paths are relative to the repository root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written (in `Check` mode: files that would be).
    pub written: Vec<PathBuf>,
    /// Files already as rendered.
    pub unchanged: Vec<PathBuf>,
    /// Files of disabled operations that exist (in `WriteAndPrune` mode:
    /// that were removed).
    pub stale: Vec<PathBuf>,
}

impl WriteReport {
    /// Whether the files on disk are exactly what was rendered.
    pub fn is_up_to_date(&self) -> bool {
        self.written.is_empty() && self.stale.is_empty()
    }
}

/// Why files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file or directory could not be read, written or removed.
    #[error("{}: {source}; check the output directory exists and is writable", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes (or checks) `rendered` under `root`. Each file is written to a
/// temporary file in its directory and renamed over the old one, so a reader
/// never sees half a file.
///
/// # Errors
/// [`WriteError::Io`] naming the path that failed.
pub fn write(rendered: &Rendered, root: &Path, mode: Mode) -> Result<WriteReport, WriteError> {
    let mut report = WriteReport::default();
    for file in &rendered.files {
        let path = root.join(&file.path);
        let current = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io(&path)(error)),
        };
        if current.as_deref() == Some(file.contents.as_bytes()) {
            report.unchanged.push(file.path.clone());
            continue;
        }
        if mode != Mode::Check {
            write_atomically(&path, file.contents.as_bytes())?;
        }
        report.written.push(file.path.clone());
    }
    for stale in &rendered.disabled {
        let path = root.join(stale);
        if path.is_file() {
            if mode == Mode::WriteAndPrune {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
            report.stale.push(stale.clone());
        }
    }
    Ok(report)
}

fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    temporary.write_all(contents).map_err(io(path))?;
    // A temporary file is private (0600); a workflow is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io(path))?;
    }
    temporary.as_file().sync_all().map_err(io(path))?;
    temporary
        .persist(path)
        .map_err(|error| io(path)(error.error))?;
    Ok(())
}
