//! `kayobe-automation tempest run` on the example repository's production
//! environment, against a stand-in rally image built here (`FROM scratch`,
//! static busybox, a script following the container contract, a stream made
//! with python-subunit), on the real Docker engine.

use std::path::Path;
use std::process::Command;

use kayobe_automation_tests::{example_repo, tool};

const IMAGE: &str = "kayobe-automation/tempest-standin-cli:test";
const PASSWORD: &str = "cli-pa55-not-for-logs";

/// Prints what the contract gives it, then writes the stream.
const SCRIPT: &str = r#"set -e
. "$TEMPEST_OPENRC_FILE"
echo "password: $OS_PASSWORD"
echo "concurrency: $TEMPEST_CONCURRENCY"
echo "load list: $(/bin/busybox cat "$TEMPEST_LOAD_LIST")"
echo "skip list lines: $(/bin/busybox wc -l < "$TEMPEST_SKIP_LIST")"
[ -f "$TEMPEST_CONF_OVERRIDES" ] && echo "overrides: yes"
/bin/busybox cp /stream.subunit "$TEMPEST_ARTIFACTS/tempest.subunit"
"#;

const WRITER: &str = r#"
import sys
import subunit.v2 as v
out = v.StreamResultToBytes(sys.stdout.buffer)
tid = "tempest.scenario.test_server_basic_ops.TestServerBasicOps.test_server_basic_ops"
out.status(test_id=tid, test_status="inprogress")
out.status(test_id=tid, test_status="success")
"#;

fn build_image(dir: &Path) -> bool {
    let (Some(busybox), Some(python)) = (tool("busybox"), tool("python")) else {
        return false;
    };
    let docker_ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|output| output.status.success());
    if !docker_ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the docker command or engine is not available"
        );
        eprintln!("skipping: the docker command or engine is not available");
        return false;
    }
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    std::fs::write(context.join("run-tempest"), SCRIPT).unwrap();
    let stream = Command::new(python).args(["-c", WRITER]).output().unwrap();
    assert!(stream.status.success());
    std::fs::write(context.join("stream.subunit"), stream.stdout).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY run-tempest /run-tempest\nCOPY stream.subunit /stream.subunit\n",
    )
    .unwrap();
    let built = Command::new("docker")
        .args(["build", "-q", "-t", IMAGE])
        .arg(&context)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    true
}

/// `tempest run` for production in `repo`, with the test image and no
/// openrc from this process's environment.
fn tempest_run(repo: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("TEMPEST_OPENRC")
        .args([
            "--environment",
            "production",
            "tempest",
            "run",
            "--image",
            IMAGE,
        ]);
    command
}

fn openrc_text() -> String {
    format!("export OS_AUTH_URL=http://keystone:5000\nexport OS_PASSWORD={PASSWORD}\n")
}

#[test]
fn runs_tempest_with_the_environments_settings() {
    let dir = tempfile::tempdir().unwrap();
    if !build_image(dir.path()) {
        return;
    }
    let openrc = dir.path().join("openrc");
    std::fs::write(&openrc, openrc_text()).unwrap();
    let out = dir.path().join("artefacts");
    let output = tempest_run(&example_repo())
        .arg("--openrc-file")
        .arg(&openrc)
        .arg("--output-dir")
        .arg(&out)
        .args(["--", "/bin/busybox", "sh", "/run-tempest"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{stdout}");
    assert_eq!(
        stderr,
        "password: ********\nconcurrency: 8\nload list: tempest.scenario.test_server_basic_ops.TestServerBasicOps.test_server_basic_ops[compute,id-7fff3fb3-91d8-4fd0-bd7d-0204f1f180ba,network,smoke]\nskip list lines: 2\noverrides: yes\n"
    );
    assert!(
        stdout.contains("Totals: 1 tests: 1 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD));
    for file in ["tempest.subunit", "junit.xml", "report.html"] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

/// The openrc as real configurations give it: config.sh reads it from a file
/// of the repository with `$(< …)` inside `if [[ -f … ]]`; its secrets are
/// masked like any other openrc's.
#[test]
fn the_openrc_config_sh_reads_from_a_file_is_used_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    if !build_image(dir.path()) {
        return;
    }
    let repo = dir.path().join("repo");
    kayobe_automation_tests::copy_dir(&example_repo(), &repo);
    std::fs::create_dir_all(repo.join("etc/kolla")).unwrap();
    std::fs::write(repo.join("etc/kolla/public-openrc.sh"), openrc_text()).unwrap();
    let config_sh = repo.join(".automation.conf/config.sh");
    let mut text = std::fs::read_to_string(&config_sh).unwrap();
    text.push_str(
        "if [[ -f ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh ]]; then\n  export TEMPEST_OPENRC=\"$(< ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh)\"\nfi\n",
    );
    std::fs::write(&config_sh, text).unwrap();
    let output = tempest_run(&repo)
        .arg("--output-dir")
        .arg(dir.path().join("artefacts"))
        .args(["--", "/bin/busybox", "sh", "/run-tempest"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stderr.starts_with("password: ********\n"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !stdout.contains(PASSWORD));
}

#[test]
fn a_missing_openrc_is_an_error_saying_what_to_do() {
    let output = tempest_run(&example_repo()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no openrc was given"), "{stderr}");
    assert!(stderr.contains("TEMPEST_OPENRC"), "{stderr}");
}
