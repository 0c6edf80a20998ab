//! Streams written by the real tools — `stestr run`, `python -m subunit.run`
//! and python-subunit's `StreamResultToBytes` — read to the same per-test
//! outcomes `subunit2junitxml` gives, and our JUnit XML says the same.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kayobe_automation_tests::tool;
use pretty_assertions::assert_eq;
use tempest_runner::{Outcome, ReportPaths, ResultReader, report_stream};

/// A Python test suite with every outcome unittest has.
const SUITE: &str = r#"
import sys
import unittest


class Sample(unittest.TestCase):
    def test_pass(self):
        pass

    def test_fail(self):
        self.assertEqual(1, 2, "one is not two <&> ]]>")

    def test_error(self):
        raise RuntimeError("boom \u00fcnicode")

    @unittest.skip("not today")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        self.fail("expected")

    @unittest.expectedFailure
    def test_uxsuccess(self):
        pass

    def test_output(self):
        print("hello stdout")
        sys.stderr.write("to stderr\n")


class Many(unittest.TestCase):
    pass


def _make(i):
    def test(self):
        if i % 7 == 3:
            self.fail("failure %d" % i)
        if i % 11 == 5:
            self.skipTest("skip %d" % i)
    return test


for _i in range(40):
    setattr(Many, "test_many_%02d" % _i, _make(_i))
"#;

/// Writes a stream with python-subunit's writer: route codes, tags, file
/// chunks, listed-only tests, tests that never end, stream-level files,
/// non-ASCII ids and a traceback spread over several large packets.
const WRITER: &str = r#"
import datetime, random, sys
import subunit.v2 as v

out = v.StreamResultToBytes(sys.stdout.buffer)
base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
def t(s):
    return base + datetime.timedelta(seconds=s)
rng = random.Random(7)
out.status(file_name="stdout", file_bytes=b"stream-level output", timestamp=t(0))
out.status(test_id="x.Listed.test_only_listed", test_status="exists", runnable=False)
statuses = ["success", "fail", "skip", "xfail", "uxsuccess"]
for i in range(300):
    tid = "x.Gen%d.test_\u00e9_%03d[id-%d,smoke]" % (i % 5, i, i)
    route = str(i % 3) if i % 4 else None
    tags = {"worker-%d" % (i % 3)}
    out.status(test_id=tid, test_status="inprogress", timestamp=t(i), route_code=route, test_tags=tags)
    status = statuses[rng.randrange(len(statuses))]
    if status in ("fail", "xfail"):
        out.status(test_id=tid, file_name="traceback", file_bytes=("Traceback %d\n" % i).encode(),
                   mime_type="text/x-traceback;charset=utf8", route_code=route, timestamp=t(i + 1))
        out.status(test_id=tid, file_name="traceback", file_bytes=b"more\n", eof=True, route_code=route)
    if status == "skip":
        # subunit2junitxml crashes on a reason without a text MIME type.
        out.status(test_id=tid, file_name="reason", file_bytes=b"skipped here",
                   mime_type="text/plain;charset=utf8", route_code=route)
    out.status(test_id=tid, test_status=status, timestamp=t(i + rng.random() * 3), route_code=route)
big = b"line of a long traceback\n" * 40000
out.status(test_id="x.Big.test_big", test_status="inprogress", timestamp=t(1000))
for start in range(0, len(big), 1 << 20):
    out.status(test_id="x.Big.test_big", file_name="traceback", file_bytes=big[start:start + (1 << 20)])
out.status(test_id="x.Big.test_big", test_status="fail", timestamp=t(1001))
out.status(test_id="x.Hung.test_never_ends", test_status="inprogress", timestamp=t(2000))
out.status(test_id="x.Files.test_only_files", file_name="stdout", file_bytes=b"no status")
out.status(test_id="x.Retry.test_again", test_status="fail", timestamp=t(3000))
out.status(test_id="x.Retry.test_again", test_status="success", timestamp=t(3001))
"#;

/// Reads JUnit XML files, printing per file the sorted `[id, category]`
/// pairs: `fail`, `uxsuccess`, `skip` or `pass`.
const JUNIT_OUTCOMES: &str = r#"
import json, sys, xml.etree.ElementTree as ET
result = []
for path in sys.argv[1:]:
    rows = []
    for case in ET.parse(path).iter("testcase"):
        classname, name = case.get("classname"), case.get("name")
        category = "pass"
        for child in case:
            if child.tag in ("failure", "error"):
                kind = child.get("type") or ""
                category = "uxsuccess" if "UnexpectedSuccess" in kind else "fail"
            elif child.tag == "skipped":
                category = "skip"
        rows.append([classname + "." + name if classname else name, category])
    result.append(sorted(rows))
print(json.dumps(result))
"#;

struct Tools {
    bin: PathBuf,
}

impl Tools {
    fn find() -> Option<Self> {
        let python = tool("python")?;
        tool("stestr")?;
        tool("subunit2junitxml")?;
        Some(Tools {
            bin: python.parent().unwrap().to_path_buf(),
        })
    }

    fn command(&self, name: &str, dir: &Path) -> Command {
        let mut command = Command::new(self.bin.join(name));
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.bin.clone()];
        paths.extend(std::env::split_paths(&path));
        command
            .current_dir(dir)
            .env("PATH", std::env::join_paths(paths).unwrap());
        command
    }

    /// Runs `command`, feeding `stdin`, and returns its standard output.
    fn output(mut command: Command, stdin: Option<&Path>) -> Vec<u8> {
        if let Some(path) = stdin {
            command.stdin(std::fs::File::open(path).unwrap());
        } else {
            command.stdin(Stdio::null());
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success() || !output.stdout.is_empty(),
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }
}

/// The category the JUnit script gives each of our outcomes.
fn category(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success | Outcome::ExpectedFailure => "pass",
        Outcome::Failure | Outcome::Incomplete => "fail",
        Outcome::UnexpectedSuccess => "uxsuccess",
        Outcome::Skip => "skip",
    }
}

fn our_outcomes(stream: &[u8]) -> (Vec<(String, String)>, BTreeMap<&'static str, usize>) {
    let mut pairs = Vec::new();
    let mut counts = BTreeMap::new();
    for result in ResultReader::new(stream) {
        let result = result.expect("the stream is well formed");
        *counts.entry(result.outcome.name()).or_default() += 1;
        pairs.push((result.id, category(result.outcome).to_owned()));
    }
    pairs.sort();
    (pairs, counts)
}

#[test]
fn real_streams_read_as_subunit2junitxml_reads_them() {
    let Some(tools) = Tools::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("tests")).unwrap();
    std::fs::write(root.join("tests/__init__.py"), "").unwrap();
    std::fs::write(root.join("tests/test_sample.py"), SUITE).unwrap();
    std::fs::write(
        root.join(".stestr.conf"),
        "[DEFAULT]\ntest_path=./tests\ntop_dir=./\n",
    )
    .unwrap();
    std::fs::write(root.join("writer.py"), WRITER).unwrap();
    std::fs::write(root.join("junit_outcomes.py"), JUNIT_OUTCOMES).unwrap();

    // stestr runs the suite on two workers; its stream is what Tempest gives.
    let mut run = tools.command("stestr", root);
    run.args(["run", "--concurrency", "2"]);
    let run_output = run.output().unwrap();
    assert!(
        !run_output.status.success(),
        "the suite has failures, so stestr run fails"
    );
    let mut last = tools.command("stestr", root);
    last.args(["last", "--subunit"]);
    let stestr = Tools::output(last, None);

    let mut subunit_run = tools.command("python", root);
    subunit_run.args(["-m", "subunit.run", "discover", "-s", "tests", "-t", "."]);
    let subunit_run = Tools::output(subunit_run, None);

    let mut writer = tools.command("python", root);
    writer.arg("writer.py");
    let written = Tools::output(writer, None);

    let streams = [
        ("stestr", stestr),
        ("subunit.run", subunit_run),
        ("StreamResultToBytes", written),
    ];
    let mut junit_files = Vec::new();
    for (name, bytes) in &streams {
        let stream_path = root.join(format!("{name}.subunit"));
        std::fs::write(&stream_path, bytes).unwrap();
        let reference = root.join(format!("{name}.reference.xml"));
        // Without --no-passthrough it prints the tests' own output (the
        // text between packets) before the XML.
        let mut reference_command = tools.command("subunit2junitxml", root);
        reference_command.arg("--no-passthrough");
        let xml = Tools::output(reference_command, Some(&stream_path));
        std::fs::write(&reference, xml).unwrap();
        let ours = root.join(format!("{name}.ours.xml"));
        let outcome = report_stream(
            std::fs::File::open(&stream_path).unwrap(),
            &ReportPaths {
                junit: Some(ours.clone()),
                html: None,
            },
        )
        .unwrap();
        assert!(
            outcome.stream_error.is_none(),
            "{name}: {:?}",
            outcome.stream_error
        );
        junit_files.push(reference);
        junit_files.push(ours);
    }
    let mut script = tools.command("python", root);
    script.arg("junit_outcomes.py").args(&junit_files);
    let parsed: Vec<Vec<(String, String)>> =
        serde_json::from_slice(&Tools::output(script, None)).unwrap();

    for (index, (name, bytes)) in streams.iter().enumerate() {
        let (ours, counts) = our_outcomes(bytes);
        let reference = &parsed[2 * index];
        let our_junit = &parsed[2 * index + 1];
        assert_eq!(&ours, reference, "{name}: per-test outcomes");
        assert_eq!(our_junit, reference, "{name}: our JUnit XML");
        eprintln!("{name}: {} tests {counts:?}", ours.len());
        match *name {
            "stestr" | "subunit.run" => {
                assert_eq!(ours.len(), 47, "{name}");
                for outcome in ["success", "fail", "skip", "xfail", "uxsuccess"] {
                    assert!(
                        counts.contains_key(outcome),
                        "{name} lacks {outcome}: {counts:?}"
                    );
                }
            }
            _ => {
                // 300 generated, the big one, the hung one, the file-only one,
                // and the retried test twice; the listed-only one is not a run.
                assert_eq!(ours.len(), 305);
                assert_eq!(counts["incomplete"], 2);
            }
        }
    }

    // The stestr stream's tracebacks and skip reasons come through.
    let stestr = &streams[0].1;
    let results: Vec<_> = ResultReader::new(&stestr[..]).map(Result::unwrap).collect();
    let failed = results
        .iter()
        .find(|r| r.id == "tests.test_sample.Sample.test_fail")
        .unwrap();
    assert!(
        failed.details().contains("one is not two <&> ]]>"),
        "{}",
        failed.details()
    );
    let errored = results
        .iter()
        .find(|r| r.id == "tests.test_sample.Sample.test_error")
        .unwrap();
    assert_eq!(errored.outcome, Outcome::Failure);
    assert!(errored.details().contains("RuntimeError: boom ünicode"));
    let skipped = results
        .iter()
        .find(|r| r.id == "tests.test_sample.Sample.test_skip")
        .unwrap();
    assert_eq!(skipped.details(), "not today");
    assert!(results.iter().all(|r| r.duration().is_some()));
    assert!(
        results
            .iter()
            .any(|r| r.tags.iter().any(|tag| tag.starts_with("worker-")))
    );

    cut_and_corrupted_real_streams_keep_what_was_read(stestr);
}

/// A real stream cut anywhere, or with a byte changed, reports the byte
/// offset and keeps every result completed before it.
fn cut_and_corrupted_real_streams_keep_what_was_read(stream: &[u8]) {
    let whole: Vec<_> = ResultReader::new(stream).map(Result::unwrap).collect();
    for cut in (1..stream.len()).step_by(stream.len() / 37 + 1) {
        let mut results = Vec::new();
        let mut error = None;
        for item in ResultReader::new(&stream[..cut]) {
            match item {
                Ok(result) => results.push(result),
                Err(e) => error = Some(e),
            }
        }
        let completed: Vec<_> = results
            .iter()
            .filter(|r| r.outcome != Outcome::Incomplete)
            .collect();
        assert!(
            completed.iter().zip(&whole).all(|(a, b)| *a == b),
            "cut at {cut}: completed results are a prefix of the whole stream's"
        );
        if let Some(error) = error {
            assert_eq!(error.offset, cut as u64, "{error}");
            assert!(error.to_string().contains("truncated"), "{error}");
        }
    }
    let mut corrupt = stream.to_vec();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x55;
    let items: Vec<_> = ResultReader::new(&corrupt[..]).collect();
    let error = items
        .iter()
        .find_map(|item| item.as_ref().err())
        .expect("a changed byte is detected");
    assert!(
        error.packet_offset <= middle as u64
            && middle as u64 <= error.offset.max(error.packet_offset + 8192)
    );
    let read_before = items.iter().filter(|item| item.is_ok()).count();
    assert!(
        read_before > 0,
        "results before the corrupt packet are kept"
    );
}
