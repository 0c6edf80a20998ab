//! The text summary: counts, failures with their tracebacks, slowest tests.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::time::Duration;

use crate::results::{Outcome, TestResult};

/// How many slowest tests the summary lists.
pub const SLOWEST: usize = 20;
/// How many failures the summary keeps with their details; the rest are
/// counted (the JUnit and HTML reports have them all).
pub const MAX_LISTED_FAILURES: usize = 100;
/// The most bytes of one failure's details the summary keeps.
const MAX_DETAIL_BYTES: usize = 16 * 1024;

/// Test runs per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub success: u64,
    /// Failed.
    pub failure: u64,
    /// Skipped.
    pub skip: u64,
    /// Failed as expected.
    pub expected_failure: u64,
    /// Passed although expected to fail.
    pub unexpected_success: u64,
    /// Started but never ended.
    pub incomplete: u64,
}

impl Counts {
    /// All test runs.
    pub fn total(&self) -> u64 {
        self.success
            + self.failure
            + self.skip
            + self.expected_failure
            + self.unexpected_success
            + self.incomplete
    }

    /// The runs with this outcome.
    pub fn of(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Success => self.success,
            Outcome::Failure => self.failure,
            Outcome::Skip => self.skip,
            Outcome::ExpectedFailure => self.expected_failure,
            Outcome::UnexpectedSuccess => self.unexpected_success,
            Outcome::Incomplete => self.incomplete,
        }
    }

    fn count(&mut self, outcome: Outcome) {
        *match outcome {
            Outcome::Success => &mut self.success,
            Outcome::Failure => &mut self.failure,
            Outcome::Skip => &mut self.skip,
            Outcome::ExpectedFailure => &mut self.expected_failure,
            Outcome::UnexpectedSuccess => &mut self.unexpected_success,
            Outcome::Incomplete => &mut self.incomplete,
        } += 1;
    }
}

/// A failed test run as the summary lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureDetail {
    /// The test id.
    pub id: String,
    /// Failure, unexpected success or incomplete.
    pub outcome: Outcome,
    /// Its traceback (or other attachments), cut at 16 KiB.
    pub details: String,
}

/// Counts, failures and the slowest tests of a stream.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Test runs per outcome.
    pub counts: Counts,
    /// The sum of the runs' durations.
    pub total_time: Duration,
    /// The first [`MAX_LISTED_FAILURES`] failures, in stream order.
    pub failures: Vec<FailureDetail>,
    /// Failures beyond those listed.
    pub unlisted_failures: u64,
    /// Min-heap of the slowest runs: (duration, order seen reversed so the
    /// earlier of equals stays, id).
    slowest: BinaryHeap<Reverse<(Duration, Reverse<u64>, String)>>,
}

impl Summary {
    /// Adds one result.
    pub fn add(&mut self, result: &TestResult) {
        let seen = self.counts.total();
        self.counts.count(result.outcome);
        if let Some(duration) = result.duration() {
            self.total_time += duration;
            let entry_beats_min = match self.slowest.peek() {
                Some(Reverse((min, _, _))) => duration > *min,
                None => true,
            };
            if self.slowest.len() < SLOWEST || entry_beats_min {
                self.slowest
                    .push(Reverse((duration, Reverse(seen), result.id.clone())));
                if self.slowest.len() > SLOWEST {
                    self.slowest.pop();
                }
            }
        }
        if result.outcome.is_failure() {
            if self.failures.len() < MAX_LISTED_FAILURES {
                let mut details = result.details();
                if details.len() > MAX_DETAIL_BYTES {
                    let mut cut = MAX_DETAIL_BYTES;
                    while !details.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    details.truncate(cut);
                    details.push_str("\n[… cut; the HTML and JUnit reports have it all]");
                }
                self.failures.push(FailureDetail {
                    id: result.id.clone(),
                    outcome: result.outcome,
                    details,
                });
            } else {
                self.unlisted_failures += 1;
            }
        }
    }

    /// Whether the run passed: no failure, unexpected success or incomplete test.
    pub fn is_success(&self) -> bool {
        // No test at all is not a pass: an empty or foreign stream must not
        // look green.
        self.counts.total() > 0
            && self.counts.failure + self.counts.unexpected_success + self.counts.incomplete == 0
    }

    /// The slowest runs (at most [`SLOWEST`]), slowest first.
    pub fn slowest(&self) -> Vec<(&str, Duration)> {
        let mut slowest: Vec<_> = self
            .slowest
            .iter()
            .map(|Reverse((duration, seen, id))| (*duration, *seen, id.as_str()))
            .collect();
        slowest.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        slowest
            .into_iter()
            .map(|(duration, _, id)| (id, duration))
            .collect()
    }

    /// One line of counts, e.g. `12 tests: 10 passed, 1 failed, 1 skipped`.
    pub fn totals_line(&self) -> String {
        let counts = &self.counts;
        let mut line = format!(
            "{} tests: {} passed, {} failed, {} skipped",
            counts.total(),
            counts.success,
            counts.failure,
            counts.skip
        );
        for (count, what) in [
            (counts.expected_failure, "expected failures"),
            (counts.unexpected_success, "unexpected successes"),
            (counts.incomplete, "incomplete"),
        ] {
            if count > 0 {
                line.push_str(&format!(", {count} {what}"));
            }
        }
        line
    }
}

/// The text summary printed by `tempest report`.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.failures.is_empty() {
            writeln!(f, "Failures:")?;
            for failure in &self.failures {
                writeln!(
                    f,
                    "{}: {}",
                    failure.outcome.name().to_uppercase(),
                    failure.id
                )?;
                for line in failure.details.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            if self.unlisted_failures > 0 {
                writeln!(
                    f,
                    "… and {} more failures (see the JUnit or HTML report)",
                    self.unlisted_failures
                )?;
            }
            writeln!(f)?;
        }
        let slowest = self.slowest();
        if !slowest.is_empty() {
            writeln!(f, "Slowest {} tests:", slowest.len())?;
            for (id, duration) in slowest {
                writeln!(f, "  {:>10.3}s  {id}", duration.as_secs_f64())?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "Totals: {} (test time {:.3}s)",
            self.totals_line(),
            self.total_time.as_secs_f64()
        )
    }
}
