//! Unit tests of the reports: summary, JUnit XML and HTML from result
//! events, including timing and escaping.

use std::time::Duration;

use super::*;
use crate::results::{Outcome, ResultReader};
use crate::subunit::{FileChunk, Packet, Status, Timestamp, write_packet};

fn at(seconds: u32) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

/// One packet: test id, route code, status, time, file (name, content).
type Event<'a> = (
    &'a str,
    Option<&'a str>,
    Status,
    u32,
    Option<(&'a str, &'a str)>,
);

/// A stream of these packets.
fn stream(events: &[Event<'_>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (id, route, status, time, file) in events {
        write_packet(
            &mut bytes,
            &Packet {
                status: *status,
                test_id: Some(id),
                route_code: *route,
                timestamp: at(*time),
                file: file.map(|(name, content)| FileChunk {
                    name,
                    content: content.as_bytes(),
                }),
                ..Packet::default()
            },
        )
        .unwrap();
    }
    bytes
}

#[test]
fn folds_events_per_test_as_testtools_does() {
    use Status::*;
    let bytes = stream(&[
        ("listed.only", None, Exists, 1, None),
        ("a.T.ok", None, InProgress, 10, None),
        ("a.T.bad", Some("0"), InProgress, 10, None),
        (
            "a.T.bad",
            Some("0"),
            Undefined,
            11,
            Some(("traceback", "Trace")),
        ),
        (
            "a.T.bad",
            Some("0"),
            Undefined,
            11,
            Some(("traceback", "back\n")),
        ),
        // Same id, other route: another run.
        ("a.T.bad", Some("1"), InProgress, 10, None),
        ("a.T.ok", None, Success, 13, Some(("stdout", ""))),
        ("a.T.bad", Some("0"), Fail, 12, None),
        ("a.T.bad", Some("1"), Success, 10, None),
        ("a.T.skipped", None, Skip, 20, Some(("reason", "no cinder"))),
        ("a.T.xf", None, ExpectedFailure, 20, None),
        ("a.T.ux", None, UnexpectedSuccess, 20, None),
        ("a.T.hung", None, InProgress, 20, None),
    ]);
    let results: Vec<_> = ResultReader::new(&bytes[..]).map(Result::unwrap).collect();
    let summary: Vec<_> = results
        .iter()
        .map(|r| (r.id.as_str(), r.outcome, r.duration()))
        .collect();
    assert_eq!(
        summary,
        [
            ("a.T.ok", Outcome::Success, Some(Duration::from_secs(3))),
            ("a.T.bad", Outcome::Failure, Some(Duration::from_secs(2))),
            ("a.T.bad", Outcome::Success, Some(Duration::ZERO)),
            ("a.T.skipped", Outcome::Skip, Some(Duration::ZERO)),
            ("a.T.xf", Outcome::ExpectedFailure, Some(Duration::ZERO)),
            ("a.T.ux", Outcome::UnexpectedSuccess, Some(Duration::ZERO)),
            ("a.T.hung", Outcome::Incomplete, Some(Duration::ZERO)),
        ]
    );
    assert_eq!(results[1].details(), "Traceback\n");
    assert!(results[0].attachments.is_empty(), "empty files are dropped");
    assert_eq!(results[3].details(), "no cinder");
}

#[test]
fn reports_counts_failures_slowest_and_files() {
    use Status::*;
    let mut events = Vec::new();
    let ids: Vec<String> = (0..30).map(|i| format!("pkg.Case.test_{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        events.push((id.as_str(), None, InProgress, 100, None));
        events.push((id.as_str(), None, Success, 100 + i as u32, None));
    }
    events.push((
        "pkg.Case.test_<b>&\"x\"",
        None,
        Fail,
        100,
        Some((
            "traceback",
            "AssertionError: <script>alert(1)</script>\u{1}",
        )),
    ));
    events.push((
        "pkg.Case.test_skip",
        None,
        Skip,
        100,
        Some(("reason", "later")),
    ));
    let bytes = stream(&events);
    let dir = tempfile::tempdir().unwrap();
    let paths = ReportPaths {
        junit: Some(dir.path().join("out/junit.xml")),
        html: Some(dir.path().join("report.html")),
    };
    let outcome = report_stream(&bytes[..], &paths).unwrap();
    assert!(outcome.stream_error.is_none());
    let summary = outcome.summary;
    assert_eq!(summary.counts.total(), 32);
    assert_eq!(summary.counts.success, 30);
    assert_eq!(summary.counts.failure, 1);
    assert_eq!(summary.counts.skip, 1);
    assert!(!summary.is_success());
    let slowest = summary.slowest();
    assert_eq!(slowest.len(), SLOWEST);
    assert_eq!(slowest[0], ("pkg.Case.test_29", Duration::from_secs(29)));
    assert_eq!(slowest[19], ("pkg.Case.test_10", Duration::from_secs(10)));
    let text = summary.to_string();
    assert!(
        text.starts_with("Failures:\nFAIL: pkg.Case.test_<b>&\"x\"\n    AssertionError"),
        "{text}"
    );
    assert!(
        text.ends_with("Totals: 32 tests: 30 passed, 1 failed, 1 skipped (test time 435.000s)\n"),
        "{text}"
    );

    let junit = std::fs::read_to_string(paths.junit.unwrap()).unwrap();
    assert!(
        junit.contains(
            "<testsuite name=\"tempest\" tests=\"32\" failures=\"1\" errors=\"0\" skipped=\"1\""
        ),
        "{junit}"
    );
    assert!(junit.contains("<testcase classname=\"pkg.Case\" name=\"test_&lt;b&gt;&amp;&quot;x&quot;\" time=\"0.000\">\n<failure type=\"testtools.testresult.real._StringException\">AssertionError: &lt;script&gt;alert(1)&lt;/script&gt;</failure>"), "{junit}");
    assert!(junit.contains("<testcase classname=\"pkg.Case\" name=\"test_29\" time=\"29.000\"/>"));
    assert!(junit.contains("<skipped>later</skipped>"));

    let html = std::fs::read_to_string(paths.html.unwrap()).unwrap();
    assert!(!html.contains("<script>alert"), "stream text is escaped");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network assets"
    );
    let failure = html.find("data-outcome=\"fail\" data-id=").unwrap();
    let success = html.find("data-outcome=\"success\" data-id=").unwrap();
    assert!(failure < success, "failures come first");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("type=\"search\""));
}

#[test]
fn a_truncated_stream_reports_what_was_read_and_where_it_stopped() {
    use Status::*;
    let bytes = stream(&[
        ("a.ok", None, InProgress, 1, None),
        ("a.ok", None, Success, 2, None),
        ("a.cut", None, InProgress, 2, None),
        ("a.cut", None, Fail, 3, Some(("traceback", "boom"))),
    ]);
    let cut = bytes.len() - 5;
    let dir = tempfile::tempdir().unwrap();
    let paths = ReportPaths {
        junit: Some(dir.path().join("junit.xml")),
        html: Some(dir.path().join("report.html")),
    };
    let outcome = report_stream(&bytes[..cut], &paths).unwrap();
    let error = outcome.stream_error.expect("truncated");
    assert_eq!(error.offset, cut as u64);
    assert!(
        error
            .to_string()
            .starts_with(&format!("byte offset {cut} ")),
        "{error}"
    );
    assert!(error.to_string().contains("truncated"), "{error}");
    assert_eq!(outcome.summary.counts.success, 1);
    assert_eq!(outcome.summary.counts.incomplete, 1, "a.cut never ended");
    let html = std::fs::read_to_string(paths.html.unwrap()).unwrap();
    assert!(html.contains("could not be read to its end"));
    let junit = std::fs::read_to_string(paths.junit.unwrap()).unwrap();
    assert!(junit.contains("<error type=\"incomplete\">"), "{junit}");
}

#[test]
fn markdown_puts_the_verdict_first_and_new_failures_apart() {
    use Status::*;
    let events = [
        ("pkg.Case.test_ok", None, InProgress, 100, None),
        ("pkg.Case.test_ok", None, Success, 103, None),
        ("pkg.Case.test_new", None, InProgress, 100, None),
        (
            "pkg.Case.test_new",
            None,
            Fail,
            101,
            Some(("traceback", "boom ``` </details>")),
        ),
        ("pkg.Case.test_`old`", None, InProgress, 100, None),
        (
            "pkg.Case.test_`old`",
            None,
            Fail,
            102,
            Some(("traceback", "again")),
        ),
    ];
    let summary = report_stream(stream(&events).as_slice(), &ReportPaths::default())
        .unwrap()
        .summary;
    let previous = std::collections::BTreeSet::from(["pkg.Case.test_`old`".to_owned()]);
    let text = summary_markdown(&summary, Some(&previous));
    assert_eq!(
        text.lines().take(3).collect::<Vec<_>>(),
        [
            "### Tempest failed",
            "",
            "**3 tests: 1 passed, 2 failed, 0 skipped** in 6.0 s"
        ]
    );
    assert!(
        text.contains("**New failures (1)**\n\n- fail ` pkg.Case.test_new `\n"),
        "{text}"
    );
    assert!(
        text.contains("Failed in the previous run too (1)\n\n- fail `` pkg.Case.test_`old` ``\n"),
        "{text}"
    );
    // The traceback cannot close its fence or the folded block.
    assert!(
        text.contains("````text\nboom ``` </details>\n````"),
        "{text}"
    );
    assert_eq!(text.matches("</details>").count(), 3, "{text}");
    assert!(text.contains("- 3.0 s ` pkg.Case.test_ok `"), "{text}");

    // Without the previous run, all are failures.
    assert!(summary_markdown(&summary, None).contains("**Failures (2)**"));
}
