//! The HTML report in headless Chromium: its script runs, failures come
//! first, the search filters, hostile test ids stay text; a screenshot is
//! kept in `target/test-artifacts/tempest-report.png`.

use kayobe_automation_tests::{chromium, chromium_dom, chromium_screenshot};
use tempest_runner::subunit::{FileChunk, Packet, Status, Timestamp, write_packet};
use tempest_runner::{ReportPaths, report_stream};

fn stream() -> Vec<u8> {
    let tests = [
        ("tempest.api.T.test_ok", Status::Success, None),
        (
            "tempest.api.T.test_<script>document.title='pwned'</script>",
            Status::Fail,
            Some(("traceback", "AssertionError: <b>500</b> != 200")),
        ),
        (
            "tempest.api.T.test_skipped",
            Status::Skip,
            Some(("reason", "no cinder")),
        ),
        (
            "tempest.api.T.test_bad",
            Status::Fail,
            Some(("traceback", "Timeout")),
        ),
    ];
    let mut bytes = Vec::new();
    for (index, (id, status, file)) in tests.into_iter().enumerate() {
        let at = |offset| {
            Some(Timestamp {
                seconds: 1_700_000_000 + index as u32 + offset,
                nanos: 0,
            })
        };
        write_packet(
            &mut bytes,
            &Packet {
                status: Status::InProgress,
                test_id: Some(id),
                timestamp: at(0),
                ..Packet::default()
            },
        )
        .unwrap();
        write_packet(
            &mut bytes,
            &Packet {
                status,
                test_id: Some(id),
                timestamp: at(1),
                file: file.map(|(name, text)| FileChunk {
                    name,
                    content: text.as_bytes(),
                }),
                ..Packet::default()
            },
        )
        .unwrap();
    }
    bytes
}

#[test]
fn the_report_works_in_a_browser() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let paths = ReportPaths {
        junit: None,
        html: Some(html.clone()),
    };
    report_stream(&stream()[..], &paths).unwrap();
    let url = format!("file://{}", html.display());

    let profile = dir.path().join("profile");
    let dom = chromium_dom(&chromium, &profile, &url);
    assert!(
        dom.contains("<title>Tempest results</title>"),
        "the hostile id did not run: {dom}"
    );
    assert!(dom.contains("Tempest results: FAILED"));
    assert!(dom.contains("4 tests: 1 passed, 2 failed, 1 skipped"));
    assert!(
        dom.contains("<span id=\"shown\">4 shown</span>"),
        "the script ran: {dom}"
    );
    assert!(dom.contains("AssertionError: &lt;b&gt;500&lt;/b&gt; != 200"));
    let first_failure = dom.find("data-outcome=\"fail\"").unwrap();
    let first_pass = dom.find("data-outcome=\"success\"").unwrap();
    assert!(first_failure < first_pass, "failures first");

    // The search (preset through the URL) hides what does not match.
    let searched = chromium_dom(&chromium, &profile, &format!("{url}#q=test_bad"));
    assert!(
        searched.contains("<span id=\"shown\">1 shown</span>"),
        "{searched}"
    );
    assert_eq!(searched.matches(" hidden=\"\"").count(), 3, "{searched}");

    chromium_screenshot(&chromium, &profile, &url, "tempest-report.png");
}
