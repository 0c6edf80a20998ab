//! The diff for a reviewer: how big it is ([`Summary`]), and the Markdown
//! of the comment kept on the pull or merge request ([`markdown`]), summary
//! first and the detail folded.
//!
//! A merge request's content is untrusted and the comment is rendered by
//! the platform, so nothing from the diff reaches the Markdown outside a
//! code fence longer than any run of backticks in what it holds: a value
//! cannot close the fence, open HTML or add links.

use std::fmt;

use kayobe_config::value::Value;
use kayobe_stdx::markdown::{code_block, code_span, is_plain_url};

use crate::diff::ConfigDiff;
use crate::group::GroupedDiff;
use crate::render::{tree_text, variables_text};

/// How big a diff is, counted for a summary line or a commit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Hosts whose variables differ.
    pub hosts: usize,
    /// Keys only the target has, over all hosts.
    pub added: usize,
    /// Keys only the base has, over all hosts.
    pub removed: usize,
    /// Keys whose values differ, over all hosts.
    pub changed: usize,
    /// Of those, the ones holding a masked secret: counted, never shown.
    pub secrets: usize,
    /// Configuration files that differ.
    pub files: usize,
    /// Warnings about the revisions.
    pub warnings: usize,
}

impl Summary {
    /// Counts `diff`.
    pub fn of(diff: &ConfigDiff) -> Self {
        let mut summary = Self {
            hosts: diff.hosts.len(),
            files: diff.files.files.len(),
            warnings: diff.warnings.len(),
            ..Self::default()
        };
        for host in &diff.hosts {
            summary.added += host.added.len();
            summary.removed += host.removed.len();
            summary.changed += host.changed.len();
            summary.secrets += host
                .added
                .iter()
                .chain(&host.removed)
                .filter(|entry| holds_mask(&entry.value))
                .count();
            summary.secrets += host
                .changed
                .iter()
                .filter(|change| holds_mask(&change.base) || holds_mask(&change.target))
                .count();
        }
        summary
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.hosts == 0 && self.files == 0
    }
}

/// One line, e.g. `3 hosts (2 added, 1 removed, 5 changed variables; 1
/// secret), 2 files changed`, or `no changes`.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        let plural = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        let mut parts = Vec::new();
        if self.hosts > 0 {
            let mut detail = format!(
                "{} added, {} removed, {} changed variables",
                self.added, self.removed, self.changed
            );
            if self.secrets > 0 {
                detail.push_str(&format!("; {}", plural(self.secrets, "secret", "secrets")));
            }
            parts.push(format!(
                "{} ({detail})",
                plural(self.hosts, "host", "hosts")
            ));
        }
        if self.files > 0 {
            parts.push(plural(self.files, "file", "files"));
        }
        write!(f, "{} changed", parts.join(", "))
    }
}

/// Whether `value` is, or holds, a secret's mask.
fn holds_mask(value: &Value) -> bool {
    match value {
        Value::String(text) => text.starts_with(crate::mask::MASK_PREFIX),
        Value::List(items) => items.iter().any(holds_mask),
        Value::Map(map) => map.values().any(holds_mask),
        _ => false,
    }
}

/// The Markdown of the review comment for `environment`'s diff: a heading,
/// the summary, a link to the full report when there is one, the warnings,
/// then the variables per host and the files, each folded in a
/// `<details>` block as unified text. Too long for the platform, it is cut
/// by the platform client, which closes the open blocks and adds where
/// the full report is.
pub fn markdown(diff: &ConfigDiff, environment: &str, report_url: Option<&str>) -> String {
    let summary = Summary::of(diff);
    let mut out = format!(
        "### Configuration diff: {}\n\n**{summary}**",
        code_span(environment)
    );
    if let Some(url) = report_url.filter(|url| is_plain_url(url)) {
        out.push_str(&format!(" · [full report]({url})"));
    }
    out.push_str("\n\n");
    if summary.is_empty() {
        out.push_str("The variables Ansible sees and the configuration files are the same in both revisions.\n");
    }
    if !diff.warnings.is_empty() {
        let warnings: Vec<String> = diff.warnings.iter().map(ToString::to_string).collect();
        push_folded(
            &mut out,
            &format!("{} warning(s)", warnings.len()),
            "text",
            &warnings.join("\n"),
        );
    }
    if summary.hosts > 0 {
        push_folded(
            &mut out,
            &format!("Variables of {} host(s)", summary.hosts),
            "diff",
            &variables_text(&GroupedDiff::of(diff)),
        );
    }
    if summary.files > 0 {
        push_folded(
            &mut out,
            &format!("{} file(s)", summary.files),
            "diff",
            &tree_text(&diff.files),
        );
    }
    out
}

/// `<details>` with a summary line of ours and `body` as a code block.
fn push_folded(out: &mut String, title: &str, language: &str, body: &str) {
    out.push_str(&format!(
        "<details><summary>{title}</summary>\n\n{}\n</details>\n\n",
        code_block(language, body)
    ));
}
