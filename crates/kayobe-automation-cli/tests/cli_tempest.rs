//! `kayobe-automation tempest report`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use kayobe_automation::tempest::subunit::{FileChunk, Packet, Status, Timestamp, write_packet};

/// A stream of tests `pkg.T.test_<name>`, each started then ended with
/// `status` one second later (a traceback or reason attached when it has one).
fn stream(tests: &[(&str, Status, Option<&str>)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (index, (name, status, text)) in tests.iter().enumerate() {
        let id = format!("pkg.T.test_{name}");
        let seconds = 1_700_000_000 + index as u32;
        let packet = |status, seconds, file| Packet {
            status,
            test_id: Some(&id),
            timestamp: Some(Timestamp { seconds, nanos: 0 }),
            file,
            ..Packet::default()
        };
        write_packet(&mut bytes, &packet(Status::InProgress, seconds, None)).unwrap();
        let file = text.map(|text| FileChunk {
            name: if *status == Status::Skip {
                "reason"
            } else {
                "traceback"
            },
            content: text.as_bytes(),
        });
        write_packet(&mut bytes, &packet(*status, seconds + 1, file)).unwrap();
    }
    bytes
}

fn report(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(dir)
        .args(["tempest", "report"])
        .args(args);
    let Some(input) = stdin else {
        return command.stdin(Stdio::null()).output().unwrap();
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn a_passing_stream_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(&[
        ("a", Status::Success, None),
        ("b", Status::Skip, Some("no cinder")),
    ]);
    std::fs::write(dir.path().join("run.subunit"), &bytes).unwrap();
    let output = report(dir.path(), &["run.subunit"], None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "Slowest 2 tests:\n       1.000s  pkg.T.test_a\n       1.000s  pkg.T.test_b\n\n\
         Totals: 2 tests: 1 passed, 0 failed, 1 skipped (test time 2.000s)\n"
    );
    // The same from standard input.
    let output = report(dir.path(), &["-"], Some(&bytes));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).ends_with("1 skipped (test time 2.000s)\n"));
}

#[test]
fn failures_exit_one_and_write_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(&[
        ("ok", Status::Success, None),
        (
            "bad",
            Status::Fail,
            Some("Traceback:\n  AssertionError: 1 != 2"),
        ),
    ]);
    std::fs::write(dir.path().join("run.subunit"), bytes).unwrap();
    let output = report(
        dir.path(),
        &[
            "run.subunit",
            "--junit",
            "out/junit.xml",
            "--html",
            "out/report.html",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "Failures:\nFAIL: pkg.T.test_bad\n    Traceback:\n      AssertionError: 1 != 2\n\n"
        ),
        "{stdout}"
    );
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(junit.contains("tests=\"2\" failures=\"1\""), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("Tempest results: FAILED"));
}

#[test]
fn a_truncated_stream_reports_what_was_read_then_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(&[("a", Status::Success, None), ("b", Status::Success, None)]);
    let cut = bytes.len() - 3;
    std::fs::write(dir.path().join("cut.subunit"), &bytes[..cut]).unwrap();
    let output = report(dir.path(), &["cut.subunit"], None);
    assert_eq!(output.status.code(), Some(2));
    let stdout = text(&output.stdout);
    assert!(
        stdout.ends_with(
            "Totals: 2 tests: 1 passed, 0 failed, 0 skipped, 1 incomplete (test time 1.000s)\n"
        ),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "the subunit stream cut.subunit is damaged at byte offset {cut}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("truncated"), "{stderr}");
}

#[test]
fn a_missing_stream_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = report(dir.path(), &["nowhere.subunit"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot open the subunit stream nowhere.subunit"),
        "{stderr}"
    );
}

/// `--markdown -` prints the job summary instead of the text; with the
/// previous run's directory its failures are told apart from new ones.
#[test]
fn markdown_summary_tells_new_failures_from_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(&[
        ("a", Status::Success, None),
        ("b", Status::Fail, Some("Traceback: b")),
        ("c", Status::Fail, Some("Traceback: c")),
    ]);
    std::fs::write(dir.path().join("run.subunit"), &bytes).unwrap();
    std::fs::create_dir(dir.path().join("previous")).unwrap();
    std::fs::write(dir.path().join("previous/failed-tests"), "pkg.T.test_c\n").unwrap();
    let output = report(
        dir.path(),
        &["run.subunit", "--markdown", "-", "--previous", "previous"],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let markdown = text(&output.stdout);
    assert!(
        markdown.starts_with("### Tempest failed\n\n**3 tests: 1 passed, 2 failed, 0 skipped**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**New failures (1)**\n\n- fail ` pkg.T.test_b `\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Failed in the previous run too (1)\n\n- fail ` pkg.T.test_c `\n"),
        "{markdown}"
    );
}

/// `--publish` keeps one Tempest comment per environment and sets a failing
/// status when tests failed.
#[tokio::test(flavor = "multi_thread")]
async fn publish_comments_and_sets_a_failing_status() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let repo = "/repos/example-org/kayobe-config";
    Mock::given(method("GET"))
        .and(path(format!("{repo}/issues/3/comments")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let comment = Mock::given(method("POST"))
        .and(path(format!("{repo}/issues/3/comments")))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": 8})))
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let status = Mock::given(method("POST"))
        .and(path(format!("{repo}/statuses/c0ffee")))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": 1})))
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(&[
        ("a", Status::Success, None),
        ("b", Status::Fail, Some("boom")),
    ]);
    std::fs::write(dir.path().join("run.subunit"), &bytes).unwrap();
    let (root, api) = (dir.path().to_path_buf(), server.uri());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
            .current_dir(&root)
            .env("KAYOBE_ENVIRONMENT", "production")
            .env("GITHUB_TOKEN", "ghp_tempest")
            .env_remove("CI_MERGE_REQUEST_IID")
            .env_remove("CI_COMMIT_SHA")
            .args(["tempest", "report", "run.subunit", "--publish", "github"])
            .args(["--change", "3", "--commit", "c0ffee", "--api-url", &api])
            .args(["--repo", "example-org/kayobe-config"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let body: serde_json::Value =
        serde_json::from_slice(&comment.received_requests().await[0].body).unwrap();
    let body = body["body"].as_str().unwrap();
    assert!(
        body.starts_with("<!-- kayobe-automation:tempest/production -->\n### Tempest failed"),
        "{body}"
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&status.received_requests().await[0].body).unwrap();
    assert_eq!(sent["context"], "kayobe-automation/tempest/production");
    assert_eq!(sent["state"], "failure");
    assert_eq!(
        sent["description"],
        "2 tests: 1 passed, 1 failed, 0 skipped"
    );
}
