//! Ctrl-C during a command that runs a container: the container is stopped
//! and removed (by `container_engine::run_container`) and the command exits
//! [`INTERRUPTED`], as a shell reports a process ended by SIGINT.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

use crate::async_runtime::RuntimeError;

/// The exit code after Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

/// A future that completes at the first SIGINT. Install it before the
/// container exists, so a Ctrl-C at any point is seen and the container
/// cleaned up. Must be called inside the async runtime.
pub fn on_interrupt() -> Result<impl Future<Output = ()>, RuntimeError> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        interrupt.recv().await;
    })
}
