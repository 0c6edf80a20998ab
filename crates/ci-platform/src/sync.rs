//! Setting a list of secrets and variables on a platform, in order, saying
//! which were set when one fails. Values are never logged.

use crate::{Platform, PlatformError, Scope, Secret};

/// Whether an item is a secret or a plain variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A secret (GitHub sealed box; GitLab masked, protected variable).
    Secret,
    /// A plain variable.
    Variable,
}

/// One secret or variable to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItem {
    /// Secret or variable.
    pub kind: ItemKind,
    /// The name on the platform.
    pub name: String,
    /// The value (redacted in `Debug`).
    pub value: Secret,
}

/// Syncing stopped at an item.
#[derive(Debug, thiserror::Error)]
#[error(
    "setting `{failed}` failed after {} item(s) were set{}: {source}",
    done.len(),
    if done.is_empty() { String::new() } else { format!(" ({})", done.join(", ")) }
)]
pub struct SyncError {
    /// The names set before the failure.
    pub done: Vec<String>,
    /// The name that failed.
    pub failed: String,
    /// Why.
    pub source: PlatformError,
}

/// Sets every item in `scope`, in order; returns the names set.
pub async fn sync(
    platform: &dyn Platform,
    scope: &Scope,
    items: &[SyncItem],
) -> Result<Vec<String>, SyncError> {
    let mut done = Vec::new();
    for item in items {
        let result = match item.kind {
            ItemKind::Secret => platform.set_secret(scope, &item.name, &item.value).await,
            ItemKind::Variable => match item.value.expose_str() {
                Ok(value) => platform.set_variable(scope, &item.name, value).await,
                Err(_) => Err(PlatformError::NotText {
                    what: format!("value of `{}`", item.name),
                }),
            },
        };
        if let Err(source) = result {
            return Err(SyncError {
                done,
                failed: item.name.clone(),
                source,
            });
        }
        tracing::info!(name = item.name.as_str(), "set");
        done.push(item.name.clone());
    }
    Ok(done)
}
