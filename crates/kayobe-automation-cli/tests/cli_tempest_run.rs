//! `kayobe-automation tempest run` on the example repository's production
//! environment, against a stand-in rally image built here (`FROM scratch`,
//! static busybox, a command in docker-rally's contract that writes rally's
//! JSON report), on the real Docker engine; and Ctrl-C during a run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kayobe_automation_tests::docker::unique_tag;
use kayobe_automation_tests::{example_repo, tool};

const PASSWORD: &str = "cli-pa55-not-for-logs";

/// Prints what docker-rally's contract gives it, then writes rally's JSON
/// report (one passing test) where the wrapper would.
const SCRIPT: &str = r#"set -e
eval "$TEMPEST_OPENRC"
echo "password: $OS_PASSWORD"
echo "concurrency: $TEMPEST_CONCURRENCY"
echo "pattern: ${TEMPEST_PATTERN:-none}"
echo "load list: $(cat ~/tempest-load-list)"
echo "skip list lines: $(wc -l < ~/tempest-skip-list)"
[ -f ~/tempest-overrides.conf ] && echo "overrides: yes"
printf '{"verifications": {"u": {"started_at": "2024-01-01T00:00:00"}}, "tests": {"tempest.scenario.test_server_basic_ops.TestServerBasicOps.test_server_basic_ops[smoke]": {"by_verification": {"u": {"status": "success", "duration": "2.5"}}}}}' > /home/rally/artifacts/rally-verify-report.json
"#;

/// Builds the stand-in image under a tag of its own; `None` (after saying
/// so) without the tools or the engine.
fn build_image(dir: &Path) -> Option<String> {
    let busybox = tool("busybox")?;
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
        return None;
    }
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    std::fs::write(context.join("run-tempest"), SCRIPT).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY run-tempest /run-tempest\nRUN mkdir -p /home/rally /tmp && chmod 1777 /tmp && chown 65500 /home/rally\nUSER 65500\nENV HOME=/home/rally\n",
    )
    .unwrap();
    let image = unique_tag("tempest-cli");
    // A label of its own gives each test its own image id: identical builds
    // would share one, and `ancestor=` would then see other tests' containers.
    let built = Command::new("docker")
        .args(["build", "-q", "--label"])
        .arg(format!("kayobe-automation.test-image={image}"))
        .args(["-t", &image])
        .arg(&context)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    Some(image)
}

/// Removes the image when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn tempest_run(image: &str, openrc: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    command
        .current_dir(example_repo())
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("TEMPEST_OPENRC")
        .env_remove("TEMPEST_PATTERN")
        .args([
            "--environment",
            "production",
            "tempest",
            "run",
            "--image",
            image,
        ])
        .arg("--openrc-file")
        .arg(openrc)
        .arg("--output-dir")
        .arg(out);
    command
}

fn write_openrc(dir: &Path) -> std::path::PathBuf {
    let openrc = dir.join("openrc");
    std::fs::write(
        &openrc,
        format!("export OS_AUTH_URL=http://keystone:5000\nexport OS_PASSWORD={PASSWORD}\n"),
    )
    .unwrap();
    openrc
}

#[test]
fn runs_tempest_with_the_environments_settings() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = build_image(dir.path()) else {
        return;
    };
    let image = Image(image);
    let openrc = write_openrc(dir.path());
    let out = dir.path().join("artefacts");
    let output = tempest_run(&image.0, &openrc, &out)
        .args(["--", "/bin/sh", "/run-tempest"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{stdout}");
    assert_eq!(
        stderr,
        "password: ********\nconcurrency: 8\npattern: none\nload list: tempest.scenario.test_server_basic_ops.TestServerBasicOps.test_server_basic_ops[compute,id-7fff3fb3-91d8-4fd0-bd7d-0204f1f180ba,network,smoke]\nskip list lines: 2\noverrides: yes\n"
    );
    assert!(
        stdout.contains("Totals: 1 tests: 1 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD));
    for file in [
        "rally-verify-report.json",
        "tempest.subunit",
        "junit.xml",
        "report.html",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

/// Ctrl-C while Tempest runs: the container is stopped and removed, the
/// command exits 130.
#[test]
fn ctrl_c_removes_the_container_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = build_image(dir.path()) else {
        return;
    };
    let image = Image(image);
    let openrc = write_openrc(dir.path());
    let child = tempest_run(&image.0, &openrc, &dir.path().join("out"))
        .args(["--pattern", "smoke", "--", "/bin/sh", "-c"])
        .arg("echo \"started with $TEMPEST_PATTERN\"; sleep 600")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let containers = || {
        let listed = Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("ancestor={}", image.0)])
            .output()
            .unwrap();
        String::from_utf8_lossy(&listed.stdout).trim().to_owned()
    };
    let mut waited = Duration::ZERO;
    while containers().is_empty() {
        assert!(waited < Duration::from_secs(60), "the container never ran");
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("started with smoke"), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert_eq!(containers(), "", "a container was left behind");
}

#[test]
fn a_missing_openrc_is_an_error_saying_what_to_do() {
    let output = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(example_repo())
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("TEMPEST_OPENRC")
        .args([
            "--environment",
            "production",
            "tempest",
            "run",
            "--image",
            "kayobe-automation/never-pulled:test",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no openrc was given"), "{stderr}");
    assert!(stderr.contains("TEMPEST_OPENRC"), "{stderr}");
}

/// The openrc as real configurations give it: config.sh reads it from a file
/// of the repository with `$(< …)` inside `if [[ -f … ]]`; it is used without
/// `--openrc-file`, and its secrets are masked like any other openrc's.
#[test]
fn the_openrc_config_sh_reads_from_a_file_is_used_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = build_image(dir.path()) else {
        return;
    };
    let image = Image(image);
    let repo = dir.path().join("repo");
    kayobe_automation_tests::copy_dir(&example_repo(), &repo);
    std::fs::create_dir_all(repo.join("etc/kolla")).unwrap();
    let openrc = write_openrc(dir.path());
    std::fs::copy(&openrc, repo.join("etc/kolla/public-openrc.sh")).unwrap();
    let config_sh = repo.join(".automation.conf/config.sh");
    let mut text = std::fs::read_to_string(&config_sh).unwrap();
    text.push_str(
        "if [[ -f ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh ]]; then\n  \
         export TEMPEST_OPENRC=\"$(< ${KAYOBE_AUTOMATION_REPO_ROOT}/etc/kolla/public-openrc.sh)\"\nfi\n",
    );
    std::fs::write(&config_sh, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(&repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("TEMPEST_OPENRC")
        .env_remove("TEMPEST_PATTERN")
        .args(["--environment", "production", "tempest", "run", "--image"])
        .arg(&image.0)
        .arg("--output-dir")
        .arg(dir.path().join("artefacts"))
        .args(["--", "/bin/sh", "/run-tempest"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stderr.starts_with("password: ********\n"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !stdout.contains(PASSWORD));
}
