//! Putting rendered files on disk: all or nothing, or only checking.

use std::path::{Path, PathBuf};

use kayobe_stdx::{OutputError, OutputOptions, write_set};

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
    /// The changed files could not be written; none was.
    #[error("{0}; no file was changed")]
    Output(#[from] OutputError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes (or checks) `rendered` under `root`: the files that changed are
/// written all or nothing ([`write_set`]), so a full disk or a failure
/// midway leaves every file as it was.
///
/// # Errors
/// [`WriteError::Io`] naming the path that failed.
pub fn write(rendered: &Rendered, root: &Path, mode: Mode) -> Result<WriteReport, WriteError> {
    let mut report = WriteReport::default();
    let mut changed = Vec::new();
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
        changed.push((path, file.contents.as_bytes()));
        report.written.push(file.path.clone());
    }
    if mode != Mode::Check {
        write_set(&changed, &OutputOptions::public().creating_parents())?;
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
