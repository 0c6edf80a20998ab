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
