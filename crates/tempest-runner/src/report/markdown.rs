//! The summary as Markdown, for a GitHub job summary or a review comment:
//! the verdict and counts first, then the failures (the new ones when the
//! previous run's failures are known), their tracebacks folded, and the
//! slowest tests. Test ids and tracebacks come from the tests, so they go
//! only into code (`kayobe_stdx::markdown`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use kayobe_stdx::markdown::{code_block, code_span};

use super::summary::Summary;

/// How many of the slowest tests the Markdown lists.
const SLOWEST_LISTED: usize = 10;

/// The Markdown of `summary`. With `previous_failures` (the ids that failed
/// in the run before, e.g. its `failed-tests`), the failures are split into
/// new ones and those that failed before too.
pub fn summary_markdown(summary: &Summary, previous_failures: Option<&BTreeSet<String>>) -> String {
    let verdict = if summary.is_success() {
        "passed"
    } else {
        "failed"
    };
    let mut out = format!(
        "### Tempest {verdict}\n\n**{}** in {:.1} s\n\n",
        summary.totals_line(),
        summary.total_time.as_secs_f64()
    );
    let listed = &summary.failures;
    let (new, again): (Vec<_>, Vec<_>) = match previous_failures {
        Some(previous) => listed.iter().partition(|f| !previous.contains(&f.id)),
        None => (listed.iter().collect(), Vec::new()),
    };
    let mut list = |title: String, failures: &[&super::FailureDetail]| {
        if failures.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}\n");
        for failure in failures {
            let _ = writeln!(
                out,
                "- {} {}",
                failure.outcome.name(),
                code_span(&failure.id)
            );
        }
        out.push('\n');
    };
    match previous_failures {
        Some(_) => {
            list(format!("**New failures ({})**", new.len()), &new);
            list(
                format!("Failed in the previous run too ({})", again.len()),
                &again,
            );
        }
        None => list(format!("**Failures ({})**", new.len()), &new),
    }
    if summary.unlisted_failures > 0 {
        let _ = writeln!(
            out,
            "{} more failures are in the JUnit and HTML reports.\n",
            summary.unlisted_failures
        );
    }
    if !listed.is_empty() {
        out.push_str("<details><summary>Tracebacks</summary>\n\n");
        for failure in listed {
            let _ = writeln!(out, "{}\n", code_span(&failure.id));
            out.push_str(&code_block("text", &failure.details));
            out.push('\n');
        }
        out.push_str("</details>\n\n");
    }
    let slowest = summary.slowest();
    if !slowest.is_empty() {
        out.push_str("<details><summary>Slowest tests</summary>\n\n");
        for (id, duration) in slowest.into_iter().take(SLOWEST_LISTED) {
            let _ = writeln!(out, "- {:.1} s {}", duration.as_secs_f64(), code_span(id));
        }
        out.push_str("\n</details>\n");
    }
    out
}
