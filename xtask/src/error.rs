//! The one error type of xtask: every failure says what failed and what to do.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;

/// Why a task failed.
#[derive(Debug)]
pub enum Error {
    /// The command line could not be understood.
    Usage(String),
    /// A filesystem operation failed.
    Io {
        /// What was being done, e.g. `writing target/tools/venv/requirements.txt`.
        action: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A program could not be started at all (not installed, not executable).
    Spawn {
        /// The command line, as printed before running it.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A program ran and exited unsuccessfully.
    Failed {
        /// The command line, as printed before running it.
        command: String,
        /// How it exited.
        status: ExitStatus,
    },
    /// `cargo xtask setup` installed the tools but some executables are missing.
    MissingTools {
        /// The venv bin directory that was searched.
        bin_dir: PathBuf,
        /// The executables not found there.
        missing: Vec<&'static str>,
    },
    /// A fuzz target named on the command line does not exist.
    UnknownFuzzTarget {
        /// The name given.
        name: String,
        /// The targets `cargo fuzz list` reported.
        available: Vec<String>,
    },
    /// `cargo metadata` printed something this task cannot read.
    Metadata(String),
    /// `cargo xtask tidy` found rules broken.
    Tidy(Vec<String>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => write!(f, "{message}\n\n{}", crate::USAGE),
            Error::Io { action, source } => write!(f, "{action}: {source}"),
            Error::Spawn { command, source } => write!(
                f,
                "could not start `{command}`: {source}; is the program installed and on PATH?"
            ),
            Error::Failed { command, status } => write!(f, "`{command}` failed ({status})"),
            Error::MissingTools { bin_dir, missing } => write!(
                f,
                "after installing the reference tools, these executables are missing from {}: {}; \
                 delete target/tools/venv and run `cargo xtask setup` again",
                bin_dir.display(),
                missing.join(", ")
            ),
            Error::UnknownFuzzTarget { name, available } => write!(
                f,
                "no fuzz target `{name}`; the targets in fuzz/ are: {}",
                available.join(", ")
            ),
            Error::Metadata(what) => write!(f, "cannot read `cargo metadata` output: {what}"),
            Error::Tidy(problems) => {
                writeln!(f, "tidy found {} problem(s):", problems.len())?;
                for problem in problems {
                    writeln!(f, "  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The result of every task.
pub type Result<T, E = Error> = std::result::Result<T, E>;
