//! The one async runtime the commands that call the engine or a platform
//! start: a current-thread runtime with I/O and timers, since a command
//! does one thing at a time and needs no pool of threads.

use std::future::Future;

/// The runtime could not start (or install its signal handlers).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot start the async runtime: {0}")]
#[diagnostic(help("the system is short of threads or file descriptors"))]
pub struct RuntimeError(#[from] pub std::io::Error);

/// A new runtime, for a command that keeps it (e.g. on a thread of its own).
pub fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Runs `future` to its end on a new runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, RuntimeError> {
    Ok(runtime()?.block_on(future))
}
