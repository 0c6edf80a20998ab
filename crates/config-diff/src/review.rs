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

use crate::diff::ConfigDiff;
use crate::render::{text, tree_text};

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
        let hosts = ConfigDiff {
            hosts: diff.hosts.clone(),
            ..ConfigDiff::default()
        };
        push_folded(
            &mut out,
            &format!("Variables of {} host(s)", summary.hosts),
            "diff",
            &text(&hosts),
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

/// `<details>` with a summary line of ours and `body` fenced.
fn push_folded(out: &mut String, title: &str, language: &str, body: &str) {
    let fence = fence_for(body);
    out.push_str(&format!(
        "<details><summary>{title}</summary>\n\n{fence}{language}\n{}\n{fence}\n\n</details>\n\n",
        body.trim_end_matches('\n')
    ));
}

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A backtick fence longer than any run of backticks in `body` (at least
/// three), so nothing in it ends the fence.
fn fence_for(body: &str) -> String {
    "`".repeat((longest_backtick_run(body) + 1).max(3))
}

/// `text` as an inline code span that nothing in it can end: delimited by
/// one backtick more than its longest run.
fn code_span(text: &str) -> String {
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    format!("{ticks} {} {ticks}", text.replace(['\n', '\r'], " "))
}

/// Whether `url` can go into a Markdown link as it is: http(s), and none of
/// the characters that end a link or open markup.
fn is_plain_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]\"'`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outlast_the_backticks_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("`````"), "``````");
        assert_eq!(code_span("prod"), "` prod `");
        assert_eq!(code_span("a`b"), "`` a`b ``");
    }

    #[test]
    fn only_plain_web_links_are_linked() {
        assert!(is_plain_url("https://ci.example.com/job/1/artifacts"));
        assert!(!is_plain_url("javascript:alert(1)"));
        assert!(!is_plain_url("https://x.example/a) [y](z"));
    }
}
