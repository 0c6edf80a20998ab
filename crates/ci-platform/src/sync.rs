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

/// One line of a sync list: set platform item `name` from configuration
/// variable `variable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncListEntry {
    /// Secret or variable.
    pub kind: ItemKind,
    /// The name on the platform.
    pub name: String,
    /// The configuration variable holding the value.
    pub variable: String,
    /// The line it is on (from 1).
    pub line: usize,
    /// The column its first word starts at (from 1).
    pub column: usize,
}

/// A sync list line that is not `secret NAME VARIABLE` or `variable NAME VARIABLE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line}, column {column}: {problem}; write each item as `secret NAME VARIABLE` or `variable NAME VARIABLE`"
)]
pub struct SyncListError {
    /// The line (from 1).
    pub line: usize,
    /// The column (from 1).
    pub column: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// Reads a sync list: one item a line, `secret NAME VARIABLE` or
/// `variable NAME VARIABLE`; `#` starts a comment, blank lines are skipped.
pub fn parse_sync_list(text: &str) -> Result<Vec<SyncListEntry>, SyncListError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let column = content.len() - content.trim_start().len() + 1;
        let error = |problem: String| SyncListError {
            line: index + 1,
            column,
            problem,
        };
        let words: Vec<&str> = content.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let [kind, name, variable] = words[..] else {
            return Err(error(format!("expected 3 words, found {}", words.len())));
        };
        let kind = match kind {
            "secret" => ItemKind::Secret,
            "variable" => ItemKind::Variable,
            other => {
                return Err(error(format!(
                    "`{other}` is neither `secret` nor `variable`"
                )));
            }
        };
        entries.push(SyncListEntry {
            kind,
            name: name.to_owned(),
            variable: variable.to_owned(),
            line: index + 1,
            column,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_list_has_three_words_a_line_and_comments() {
        let text = "# shared\nsecret KAYOBE_VAULT_PASSWORD kayobe_vault_password\n\n  variable REGION os_region  # inline\n";
        let entries = parse_sync_list(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[1],
            SyncListEntry {
                kind: ItemKind::Variable,
                name: "REGION".into(),
                variable: "os_region".into(),
                line: 4,
                column: 3,
            }
        );
        let error = parse_sync_list("secret ONLY_TWO\n").unwrap_err();
        assert_eq!((error.line, error.column), (1, 1));
        assert!(
            error.to_string().contains("expected 3 words, found 2"),
            "{error}"
        );
        let error = parse_sync_list("\nsecrte A b\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.problem.contains("`secrte`"), "{error}");
    }
}
