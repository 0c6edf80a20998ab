//! `run_tempest` on the real Docker engine, with a stand-in for the rally
//! image (which cannot be pulled here): `FROM scratch` with a static busybox,
//! a script following the container contract of `tempest_runner::run`, and a
//! subunit stream made beforehand by python-subunit.

use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, PushImageOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use kayobe_automation_tests::docker::{RemoveImages, build_test_image, engine, unique_tag};
use kayobe_automation_tests::registry::{PASSWORD as REGISTRY_PASSWORD, Registry, USER};
use kayobe_automation_tests::tool;
use kayobe_config::automation_conf::{RallySettings, TempestSettings};
use tempest_runner::TempestPlan;
use tempest_runner::image::{Pull, RallyImage};
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

async fn build_image(docker: &Docker, tag: &str, busybox: &Path, stream: &[u8]) {
    let busybox = std::fs::read(busybox).unwrap();
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY run-tempest /run-tempest\nCOPY stream.subunit /stream.subunit\n";
    let context: &[(&str, &[u8], u32)] = &[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("busybox", &busybox, 0o755),
        ("run-tempest", SCRIPT.as_bytes(), 0o755),
        ("stream.subunit", stream, 0o644),
    ];
    build_test_image(docker, tag, context).await;
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
    let Some(docker) = engine().await else { return };
    let output = Command::new(python).args(["-c", WRITER]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stream = output.stdout;
    build_image(&docker, IMAGE, &busybox, &stream).await;

    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let openrc = Openrc::new(format!(
        "export OS_AUTH_URL=http://keystone.example:5000\nexport OS_USERNAME=admin\nexport OS_PASSWORD={PASSWORD}\n"
    ));
    let output_dir: PathBuf = plan.output_dir.clone();
    let options = RunOptions {
        image: RallyImage::local(IMAGE),
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

/// A python-subunit stream of `passed` passing tests.
fn passing_stream(python: &Path, passed: usize) -> Vec<u8> {
    let script = format!(
        "import sys\nimport subunit.v2 as v\nout = v.StreamResultToBytes(sys.stdout.buffer)\nfor i in range({passed}):\n    out.status(test_id='t.T.test_%d' % i, test_status='success')\n"
    );
    let output = Command::new(python).args(["-c", &script]).output().unwrap();
    assert!(output.status.success());
    output.stdout
}

async fn push(docker: &Docker, reference: &str) {
    let (name, tag) = reference.rsplit_once(':').unwrap();
    let credentials = DockerCredentials {
        username: Some(USER.to_owned()),
        password: Some(REGISTRY_PASSWORD.to_owned()),
        ..Default::default()
    };
    let options = PushImageOptionsBuilder::new().tag(tag).build();
    let mut progress = docker.push_image(name, Some(options), Some(credentials));
    while let Some(info) = progress.next().await {
        let info = info.expect("the push goes through");
        assert!(info.error_detail.is_none(), "{:?}", info.error_detail);
    }
}

async fn remove(docker: &Docker, reference: &str) {
    let options = RemoveImageOptionsBuilder::new().force(true).build();
    docker
        .remove_image(reference, Some(options), None)
        .await
        .unwrap();
}

/// The rally image comes from a real registry on loopback: pulled with the
/// login when the engine lacks it, pulled again on every run with
/// FORCE_PULL, and a refused login is a pull error that never shows the
/// password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_the_image_with_the_registry_login() {
    let (Some(busybox), Some(python)) = (tool("busybox"), tool("python")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let Some(registry) = Registry::start() else {
        return;
    };
    let name = unique_tag("rally");
    let (name, tag) = name.rsplit_once(':').unwrap();
    let reference = format!("{}/{name}:{tag}", registry.host);
    let _cleanup = RemoveImages(vec![reference.clone()]);
    let one_test = passing_stream(&python, 1);
    build_image(&docker, &reference, &busybox, &one_test).await;
    push(&docker, &reference).await;
    remove(&docker, &reference).await;

    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let openrc = Openrc::new("export OS_AUTH_URL=http://keystone.example:5000\n");
    let settings = RallySettings {
        image: Some(name.to_owned()),
        tag: Some(tag.to_owned()),
        docker_registry: Some(registry.host.clone()),
        docker_registry_username: Some(USER.to_owned()),
        docker_registry_password: Some(REGISTRY_PASSWORD.to_owned()),
        ..RallySettings::default()
    };
    let mut options = RunOptions {
        image: RallyImage::from_settings(&settings, None).unwrap(),
        command: vec!["/bin/busybox".into(), "sh".into(), "/run-tempest".into()],
        output_dir: dir.path().join("pulled"),
    };
    assert_eq!(options.image.reference, reference);
    let mut logs = Vec::new();
    let outcome = run_tempest(&docker, &plan, &openrc, &options, |line| {
        logs.push(line.to_owned())
    })
    .await
    .unwrap();
    assert_eq!(outcome.report.summary.counts.success, 1, "{logs:#?}");
    assert!(logs.contains(&format!("pulling {reference}")), "{logs:#?}");

    // The registry now has a newer image under the same tag; the engine
    // keeps the old one. Only a forced pull runs the newer one.
    build_image(&docker, &reference, &busybox, &passing_stream(&python, 2)).await;
    push(&docker, &reference).await;
    build_image(&docker, &reference, &busybox, &one_test).await;
    options.output_dir = dir.path().join("local");
    let outcome = run_tempest(&docker, &plan, &openrc, &options, |_| {})
        .await
        .unwrap();
    assert_eq!(outcome.report.summary.counts.success, 1);
    options.image.pull = Pull::Always;
    options.output_dir = dir.path().join("forced");
    let outcome = run_tempest(&docker, &plan, &openrc, &options, |_| {})
        .await
        .unwrap();
    assert_eq!(outcome.report.summary.counts.success, 2);

    // A refused login.
    remove(&docker, &reference).await;
    let wrong = RallySettings {
        docker_registry_password: Some("not-the-registry-password".to_owned()),
        ..settings
    };
    options.image = RallyImage::from_settings(&wrong, None).unwrap();
    let error = run_tempest(&docker, &plan, &openrc, &options, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::Pull { .. }), "{error}");
    let text = format!("{error} {error:?} {options:?}");
    assert!(!text.contains("not-the-registry-password"), "{text}");
    assert!(text.contains(&reference), "{text}");
}
