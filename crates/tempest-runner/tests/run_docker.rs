//! `run_tempest` on the real Docker engine, with a stand-in for docker-rally's
//! image (which cannot be pulled here): `FROM scratch` with Debian's static
//! busybox and bash, docker-rally's REAL `rally-verify-wrapper.sh` unchanged
//! as the entry point, and stand-ins for the commands it calls — `rally`
//! (records what it was asked and writes outputs shaped as rally's: its JSON
//! verification report, HTML, JUnit, `tempest.log`), `rally-extract-tests.sh`,
//! `rally-normalize.py`, `crudini`, `sudo`, `update-ca-certificates`.

use std::path::Path;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, PushImageOptionsBuilder, RemoveImageOptionsBuilder,
};
use container_engine::Docker;
use futures_util::StreamExt;
use kayobe_automation_tests::docker::{RemoveImages, build_test_image, engine, unique_tag};
use kayobe_automation_tests::registry::{PASSWORD as REGISTRY_PASSWORD, Registry, USER};
use kayobe_automation_tests::{conformance, tool};
use kayobe_config::automation_conf::{RallySettings, TempestSettings};
use tempest_runner::{
    Openrc, Pull, RallyImage, STREAM_FILE, TempestError, TempestOptions, TempestPlan, failed_tests,
    run_tempest,
};

const PASSWORD: &str = "pa55-w0rd-not-for-logs";
const ACCOUNTS_PASSWORD: &str = "acc0unts-pa55-not-for-layers";

/// The stand-in `rally`: what the wrapper asks of it, answered as rally
/// would, with every input it sees printed (the password too: the runner
/// must mask it) and nothing secret written to disk.
const RALLY: &str = r#"#!/bin/sh
set -e
state="$HOME/.rally"
mkdir -p "$state"
case "$1 $2" in
"deployment create")
  echo "deployment: $OS_AUTH_URL user=$OS_USERNAME cacert=${OS_CACERT:-none}"
  echo "password seen by rally: $OS_PASSWORD"
  if [ -n "${OS_CACERT:-}" ]; then echo "trusted: $(cat "$OS_CACERT")"; fi
  ;;
"verify configure-verifier")
  shift 2
  while [ $# -gt 0 ]; do case "$1" in --extend) echo "overrides: $(cat "$2")"; shift ;; esac; shift; done
  ;;
"verify start")
  shift 2
  echo "verify start $*"
  echo "env: TEMPEST_VERSION=${TEMPEST_VERSION:-} HTTPS_PROXY=${HTTPS_PROXY:-}"
  echo "accounts: $(cat "$HOME/tempest-accounts" 2>/dev/null | wc -c) bytes"
  tests=$(cat /etc/rally-standin/tests)
  while [ $# -gt 0 ]; do
    case "$1" in
      --load-list) tests=$(cat "$2"); shift ;;
      --skip-list) echo "skip list: $(cat "$2")"; shift ;;
      --pattern) tests=$(grep -e "$2" /etc/rally-standin/tests || true); shift ;;
      --concurrency) echo "concurrency: $2"; shift ;;
    esac
    shift
  done
  if [ -n "${RALLY_STANDIN_PAUSE:-}" ]; then sleep "$RALLY_STANDIN_PAUSE"; fi
  : > "$state/failed"
  {
    printf '{"verifications": {"uuid-1": {"started_at": "2024-01-01T00:00:00", "finished_at": "2024-01-01T00:01:00", "status": "finished"}}, "tests": {'
    sep=""
    for t in $tests; do
      case "$t" in
        *fail*) status=fail; details=', "details": "Traceback (most recent call last):\nAssertionError: 401 != 200"'; echo "$t" >> "$state/failed" ;;
        *) status=success; details="" ;;
      esac
      printf '%s"%s": {"name": "%s", "tags": [], "by_verification": {"uuid-1": {"status": "%s", "duration": "1.250"%s}}}' "$sep" "$t" "${t%%[*}" "$status" "$details"
      sep=", "
    done
    printf '}}
'
  } > "$state/report.json"
  mkdir -p "$state/verification/verifier-1/for-deployment-1"
  echo "tempest log of the stand-in" > "$state/verification/verifier-1/for-deployment-1/tempest.log"
  if [ -s "$state/failed" ]; then exit 1; fi
  ;;
"verify report")
  shift 2
  while [ $# -gt 0 ]; do case "$1" in --type) type="$2"; shift ;; --to) to="$2"; shift ;; esac; shift; done
  case "$type" in
    json) cp "$state/report.json" "$to" ;;
    html) echo "<html><body>rally report</body></html>" > "$to" ;;
    junit-xml) echo '<testsuite name="tempest"/>' > "$to" ;;
  esac
  ;;
*) echo "rally stand-in: unexpected $*" >&2; exit 2 ;;
esac
"#;

/// The other commands the wrapper calls.
const HELPERS: [(&str, &str); 5] = [
    (
        "rally-extract-tests.sh",
        "#!/bin/sh\ncat \"$HOME/.rally/failed\"\n",
    ),
    ("rally-normalize.py", "#!/bin/sh\nexit 0\n"),
    ("crudini", "#!/bin/sh\nexit 0\n"),
    ("sudo", "#!/bin/sh\nexec \"$@\"\n"),
    (
        "update-ca-certificates",
        "#!/bin/sh\ncat /usr/local/share/ca-certificates/* > /etc/ssl/certs/ca-certificates.crt\n",
    ),
];

/// Builds the stand-in image `tag` whose `rally` knows `tests`.
async fn build_image(docker: &Docker, tag: &str, tests: &[&str]) -> bool {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return false;
    };
    let Some(wrapper) = conformance("docker-rally/bin/rally-verify-wrapper.sh") else {
        return false;
    };
    let dockerfile = "FROM scratch
COPY busybox /bin/busybox
RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]
COPY bash /bin/bash
COPY rally-verify-wrapper.sh /usr/bin/rally-verify-wrapper.sh
COPY rally rally-extract-tests.sh rally-normalize.py crudini sudo update-ca-certificates /usr/local/bin/
COPY tests /etc/rally-standin/tests
RUN mkdir -p /home/rally /etc/ssl/certs /usr/local/share/ca-certificates /tmp && chmod 1777 /tmp && chown -R 65500:1000 /home/rally /etc/ssl/certs
USER 65500:1000
ENV HOME=/home/rally
";
    let busybox = std::fs::read(busybox).unwrap();
    let bash = std::fs::read(bash).unwrap();
    let wrapper = std::fs::read(wrapper).unwrap();
    let tests = tests.join("\n") + "\n";
    let mut context: Vec<(&str, &[u8], u32)> = vec![
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("busybox", &busybox, 0o755),
        ("bash", &bash, 0o755),
        ("rally-verify-wrapper.sh", &wrapper, 0o755),
        ("rally", RALLY.as_bytes(), 0o755),
        ("tests", tests.as_bytes(), 0o644),
    ];
    for (name, script) in HELPERS {
        context.push((name, script.as_bytes(), 0o755));
    }
    build_test_image(docker, tag, &context).await;
    true
}

const TESTS: [&str; 3] = [
    "tempest.api.identity.TestX.test_ok[id-1,smoke]",
    "tempest.api.identity.TestX.test_fails[id-2]",
    "tempest.api.compute.TestY.test_ok[id-3]",
];

fn plan(dir: &Path) -> TempestPlan {
    std::fs::create_dir_all(dir.join("load-lists")).unwrap();
    std::fs::create_dir_all(dir.join("skip-lists")).unwrap();
    std::fs::write(
        dir.join("load-lists/smoke"),
        format!("{}\n{}\n", TESTS[0], TESTS[1]),
    )
    .unwrap();
    std::fs::write(dir.join("skip-lists/smoke"), "test_later # not ready\n").unwrap();
    std::fs::write(dir.join("overrides.conf"), "[compute]\nflavor_ref = 42\n").unwrap();
    std::fs::write(
        dir.join("accounts.yaml"),
        format!("- username: tempest\n  password: {ACCOUNTS_PASSWORD}\n"),
    )
    .unwrap();
    TempestPlan::load(&TempestSettings {
        concurrency: Some(2),
        loadlist: "smoke".to_owned(),
        loadlist_path: dir.join("load-lists/smoke"),
        skiplist: "smoke".to_owned(),
        skiplist_path: dir.join("skip-lists/smoke"),
        accounts: Some("accounts.yaml".to_owned()),
        accounts_path: Some(dir.join("accounts.yaml")),
        conf_overrides: Some(dir.join("overrides.conf")),
        output_dir: dir.join("artifacts"),
    })
    .unwrap()
}

/// The container of `image` once it runs: `docker inspect` and `docker
/// export` of it, taken before it is removed.
async fn inspect_and_export(docker: &Docker, image: &str) -> (String, Vec<u8>) {
    for _ in 0..400 {
        let filters =
            std::collections::HashMap::from([("ancestor".to_owned(), vec![image.to_owned()])]);
        let running = docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .filters(&filters)
                    .build(),
            ))
            .await
            .unwrap();
        if let Some(id) = running.into_iter().find_map(|container| container.id) {
            let inspected = docker.inspect_container(&id, None).await.unwrap();
            let mut export = Vec::new();
            let mut stream = docker.export_container(&id);
            while let Some(chunk) = stream.next().await {
                export.extend_from_slice(&chunk.unwrap());
            }
            return (serde_json::to_string(&inspected).unwrap(), export);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the rally container never ran");
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_real_wrapper_collects_its_outputs_and_reports() {
    let Some(docker) = engine().await else { return };
    let image = unique_tag("rally");
    let _cleanup = RemoveImages(vec![image.clone()]);
    if !build_image(&docker, &image, &TESTS).await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let openrc = Openrc::new(format!(
        "export OS_AUTH_URL=http://keystone.example:5000\nexport OS_USERNAME=admin\nexport OS_PASSWORD='{PASSWORD}'\n"
    ));
    std::fs::write(
        dir.path().join("cloud-ca.crt"),
        "-----BEGIN CERTIFICATE-----\nQ0EK\n",
    )
    .unwrap();
    let mut options = TempestOptions::new(RallyImage::local(&image), dir.path().join("artifacts"));
    options.ca_certificate = Some(dir.path().join("cloud-ca.crt"));
    options.environment = TempestOptions::passed_environment(|name| match name {
        "TEMPEST_VERSION" => Some("41.0.0".to_owned()),
        "TEMPEST_HTTPS_PROXY" => Some("http://proxy.example:3128".to_owned()),
        _ => None,
    });
    // Long enough to inspect and export the running container.
    options.environment.push("RALLY_STANDIN_PAUSE=3".to_owned());
    let mut log = Vec::new();
    let run = run_tempest(
        &docker,
        &plan,
        &openrc,
        &options,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    );
    let (outcome, (inspected, export)) = tokio::join!(run, inspect_and_export(&docker, &image));
    let outcome = outcome.unwrap();
    let text = log.join("\n");

    // Secrets: masked in the log, absent from the engine's records and the layer.
    assert!(text.contains("password seen by rally: ********"), "{text}");
    for secret in [PASSWORD, ACCOUNTS_PASSWORD] {
        assert!(!text.contains(secret), "{text}");
        assert!(!inspected.contains(secret), "docker inspect shows a secret");
        assert!(!contains(&export, secret), "docker export holds a secret");
    }
    // Inputs, as the wrapper read them.
    for expected in [
        "deployment: http://keystone.example:5000 user=admin cacert=/etc/ssl/certs/ca-certificates.crt",
        "trusted: -----BEGIN CERTIFICATE-----",
        "overrides: [compute]",
        "verify start --skip-list /home/rally/tempest-skip-list --load-list /home/rally/tempest-load-list --concurrency 2",
        "env: TEMPEST_VERSION=41.0.0 HTTPS_PROXY=http://proxy.example:3128",
        "skip list: test_later # not ready",
    ] {
        assert!(
            log.iter().any(|line| line == expected),
            "{expected:?} not in\n{text}"
        );
    }
    assert!(
        log.iter()
            .any(|line| line.starts_with("accounts: ") && !line.starts_with("accounts: 0 ")),
        "{text}"
    );
    // Outputs: the wrapper's, collected, and ours built from rally's report.
    let out = &options.output_dir;
    for file in [
        "rally-verify-report.json",
        "rally-verify-report.html",
        "rally-junit.xml",
        "failed-tests",
        "stdout.log",
        "stderr.log",
        "tempest.log",
        STREAM_FILE,
        "junit.xml",
        "report.html",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert_eq!(outcome.exit_code, 0, "{text}");
    let counts = &outcome.report.summary.counts;
    assert_eq!((counts.success, counts.failure), (1, 1), "{text}");
    assert!(!outcome.is_success());
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("AssertionError: 401 != 200"), "{junit}");
    assert_eq!(failed_tests(out).unwrap(), [TESTS[1]]);
    assert_eq!(
        std::fs::read_to_string(out.join("tempest.log")).unwrap(),
        "tempest log of the stand-in\n"
    );

    // A re-run of the failures: `failed-tests` as the load list.
    let mut rerun = options.clone();
    rerun.environment.pop();
    rerun.output_dir = dir.path().join("rerun");
    rerun.load_list = Some(failed_tests(out).unwrap());
    let mut log = Vec::new();
    let outcome = run_tempest(
        &docker,
        &plan,
        &openrc,
        &rerun,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.report.summary.counts.failure, 1, "{log:#?}");
    assert_eq!(outcome.report.summary.counts.success, 0);

    // A pattern wins over the load list, as in the wrapper.
    let mut by_pattern = options.clone();
    by_pattern.environment.pop();
    by_pattern.output_dir = dir.path().join("pattern");
    by_pattern.pattern = Some("compute".to_owned());
    let mut log = Vec::new();
    let outcome = run_tempest(
        &docker,
        &plan,
        &openrc,
        &by_pattern,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(
        log.iter().any(|line| line == "verify start --skip-list /home/rally/tempest-skip-list --pattern compute --concurrency 2"),
        "{log:#?}"
    );
    assert_eq!(outcome.report.summary.counts.success, 1);
    assert!(outcome.is_success());
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
    let Some(docker) = engine().await else { return };
    let Some(registry) = Registry::start() else {
        return;
    };
    let name = unique_tag("rally");
    let (name, tag) = name.rsplit_once(':').unwrap();
    let reference = format!("{}/{name}:{tag}", registry.host);
    let _cleanup = RemoveImages(vec![reference.clone()]);
    let one_test = [TESTS[0]];
    if !build_image(&docker, &reference, &one_test).await {
        return;
    }
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
    let mut options = TempestOptions::new(
        RallyImage::from_settings(&settings, None).unwrap(),
        dir.path().join("pulled"),
    );
    // Every test the image knows, not the load list's.
    options.pattern = Some("tempest".to_owned());
    assert_eq!(options.image.reference, reference);
    let mut logs = Vec::new();
    let outcome = run_tempest(
        &docker,
        &plan,
        &openrc,
        &options,
        |line| logs.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.report.summary.counts.success, 1, "{logs:#?}");
    assert!(logs.contains(&format!("pulling {reference}")), "{logs:#?}");

    // The registry now has a newer image under the same tag; the engine
    // keeps the old one. Only a forced pull runs the newer one.
    build_image(&docker, &reference, &[TESTS[0], TESTS[2]]).await;
    push(&docker, &reference).await;
    build_image(&docker, &reference, &one_test).await;
    options.output_dir = dir.path().join("local");
    let outcome = run_tempest(
        &docker,
        &plan,
        &openrc,
        &options,
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.report.summary.counts.success, 1);
    options.image.pull = Pull::Always;
    options.output_dir = dir.path().join("forced");
    let outcome = run_tempest(
        &docker,
        &plan,
        &openrc,
        &options,
        |_| {},
        std::future::pending(),
    )
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
    let error = run_tempest(
        &docker,
        &plan,
        &openrc,
        &options,
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, TempestError::Image(_)), "{error}");
    let text = format!("{error} {error:?} {options:?}");
    assert!(!text.contains("not-the-registry-password"), "{text}");
    assert!(text.contains(&reference), "{text}");
}
