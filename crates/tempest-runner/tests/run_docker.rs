//! `run_tempest` on the real Docker engine, with a stand-in for the rally
//! image (which cannot be pulled here): `FROM scratch` with a static busybox,
//! a script following the container contract of `tempest_runner::run`, and a
//! subunit stream made beforehand by python-subunit.

use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;
use kayobe_automation_tests::{build_test_image, docker, tool};
use kayobe_config::automation_conf::TempestSettings;
use tempest_runner::TempestPlan;
use tempest_runner::run::{Openrc, RunError, RunOptions, STREAM_FILE, run_tempest};

const IMAGE: &str = "kayobe-automation/tempest-standin:test";
const PASSWORD: &str = "pa55-w0rd-not-for-logs";

/// The stand-in's command: checks the files and variables of the contract,
/// prints what it sees (the password too: the runner must mask it), and
/// writes the stream and a log into the artefact directory.
const SCRIPT: &str = r#"set -e
[ -f "$TEMPEST_OPENRC_FILE" ] || { echo "no openrc file"; exit 3; }
. "$TEMPEST_OPENRC_FILE"
echo "keystone: $OS_AUTH_URL"
echo "password seen by the container: $OS_PASSWORD"
echo "load list: $(/bin/busybox wc -l < "$TEMPEST_LOAD_LIST") lines"
echo "skip list: $(/bin/busybox cat "$TEMPEST_SKIP_LIST")"
echo "concurrency: $TEMPEST_CONCURRENCY"
/bin/busybox cp /stream.subunit "$TEMPEST_ARTIFACTS/tempest.subunit"
echo "tempest log" > "$TEMPEST_ARTIFACTS/tempest.log"
echo "done" >&2
"#;

/// Three tests written with python-subunit: a pass, a failure, a skip.
const WRITER: &str = r#"
import datetime, sys
import subunit.v2 as v
out = v.StreamResultToBytes(sys.stdout.buffer)
t0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
for i, (name, status) in enumerate([("ok", "success"), ("bad", "fail"), ("later", "skip")]):
    tid = "tempest.api.identity.TestX.test_" + name
    out.status(test_id=tid, test_status="inprogress", timestamp=t0)
    if status == "fail":
        out.status(test_id=tid, file_name="traceback", file_bytes=b"AssertionError: 401 != 200",
                   mime_type="text/plain;charset=utf8")
    out.status(test_id=tid, test_status=status, timestamp=t0 + datetime.timedelta(seconds=i + 1))
"#;

async fn build_image(docker: &Docker, busybox: &Path, stream: &[u8]) {
    let busybox = std::fs::read(busybox).unwrap();
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY run-tempest /run-tempest\nCOPY stream.subunit /stream.subunit\n";
    let context: &[(&str, &[u8], u32)] = &[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("busybox", &busybox, 0o755),
        ("run-tempest", SCRIPT.as_bytes(), 0o755),
        ("stream.subunit", stream, 0o644),
    ];
    build_test_image(docker, IMAGE, context).await;
}

fn plan(dir: &Path) -> TempestPlan {
    std::fs::create_dir_all(dir.join("load-lists")).unwrap();
    std::fs::create_dir_all(dir.join("skip-lists")).unwrap();
    std::fs::write(
        dir.join("load-lists/smoke"),
        "tempest.api.identity.TestX.test_ok\ntempest.api.identity.TestX.test_bad\n",
    )
    .unwrap();
    std::fs::write(dir.join("skip-lists/smoke"), "test_later # not ready\n").unwrap();
    TempestPlan::load(&TempestSettings {
        concurrency: Some(2),
        loadlist: "smoke".to_owned(),
        loadlist_path: dir.join("load-lists/smoke"),
        skiplist: "smoke".to_owned(),
        skiplist_path: dir.join("skip-lists/smoke"),
        accounts: None,
        accounts_path: None,
        conf_overrides: None,
        output_dir: dir.join("artifacts"),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_container_collects_the_stream_and_reports() {
    let (Some(busybox), Some(python)) = (tool("busybox"), tool("python")) else {
        return;
    };
    let Some(docker) = docker().await else { return };
    let output = Command::new(python).args(["-c", WRITER]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stream = output.stdout;
    build_image(&docker, &busybox, &stream).await;

    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let openrc = Openrc::new(format!(
        "export OS_AUTH_URL=http://keystone.example:5000\nexport OS_USERNAME=admin\nexport OS_PASSWORD={PASSWORD}\n"
    ));
    let output_dir: PathBuf = plan.output_dir.clone();
    let options = RunOptions {
        image: IMAGE.to_owned(),
        command: vec!["/bin/busybox".into(), "sh".into(), "/run-tempest".into()],
        output_dir: output_dir.clone(),
    };
    let mut logs = Vec::new();
    let outcome = run_tempest(&docker, &plan, &openrc, &options, |line| {
        logs.push(line.to_owned())
    })
    .await
    .unwrap();

    assert_eq!(outcome.exit_code, 0, "{logs:#?}");
    assert!(logs.iter().all(|line| !line.contains(PASSWORD)));
    // `done` goes to stderr: its order against stdout lines is the engine's.
    let stderr_line = logs.iter().position(|line| line == "done");
    logs.remove(stderr_line.expect("the stderr line is streamed too"));
    assert_eq!(
        logs,
        [
            "keystone: http://keystone.example:5000",
            "password seen by the container: ********",
            "load list: 2 lines",
            "skip list: test_later # not ready",
            "concurrency: 2",
        ]
    );
    assert!(!format!("{openrc:?} {options:?} {plan:?}").contains(PASSWORD));

    let counts = &outcome.report.summary.counts;
    assert_eq!((counts.success, counts.failure, counts.skip), (1, 1, 1));
    assert!(!outcome.is_success(), "a test failed");
    assert_eq!(outcome.stream, output_dir.join(STREAM_FILE));
    assert_eq!(std::fs::read(&outcome.stream).unwrap(), stream);
    assert_eq!(
        std::fs::read_to_string(output_dir.join("tempest.log")).unwrap(),
        "tempest log\n"
    );
    let junit = std::fs::read_to_string(output_dir.join("junit.xml")).unwrap();
    assert!(junit.contains("AssertionError: 401 != 200"), "{junit}");
    assert!(output_dir.join("report.html").is_file());

    // A container that writes no stream is an error with its exit code.
    let failing = RunOptions {
        command: vec![
            "/bin/busybox".into(),
            "sh".into(),
            "-c".into(),
            "echo cannot reach keystone; exit 4".into(),
        ],
        output_dir: dir.path().join("failing"),
        ..options
    };
    let mut logs = Vec::new();
    let error = run_tempest(&docker, &plan, &openrc, &failing, |line| {
        logs.push(line.to_owned())
    })
    .await
    .unwrap_err();
    assert!(
        matches!(error, RunError::NoStream { exit_code: 4 }),
        "{error}"
    );
    assert_eq!(logs, ["cannot reach keystone"]);

    // Both containers were removed.
    let left = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
        .await
        .unwrap();
    assert!(
        left.iter()
            .all(|container| container.image.as_deref() != Some(IMAGE)),
        "{left:?}"
    );
}
