//! Running operations on the real Docker engine, in a stand-in Kayobe image
//! (`FROM scratch` + Debian's static busybox) built from a temporary
//! checkout whose pipeline scripts record what they were given.

use std::path::Path;
use std::time::Duration;

use bollard::Docker;
use kayobe_automation_tests::docker::{
    RemoveImages, engine, labelled_containers, unique_suffix, unique_tag, write_pipeline_script,
    write_standin_image,
};
use kayobe_automation_tests::tool;
use kayobe_runtime::{
    BuildOptions, Invocation, RunError, RunOptions, RunSecrets, Secret, build_image, run_operation,
};

/// Records the environment and the secret files into the artefacts, prints
/// the secrets (the logs must mask them), then waits for `/src/go` so the
/// test can inspect the running container.
const RECORDING_SCRIPT: &str = r#"set -e
out="$KAYOBE_AUTOMATION_ARTIFACTS"
env | sort > "$out/env"
cp "$KAYOBE_VAULT_PASSWORD_FILE" "$out/vault-password"
cp "$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE" "$out/ssh-private-key"
stat -c '%a %u %n' "$KAYOBE_VAULT_PASSWORD_FILE" "$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE" > "$out/modes"
grep " $KAYOBE_AUTOMATION_SECRETS " /proc/mounts | cut -d ' ' -f 3 > "$out/secrets-fs"
mkdir -p "$out/nested"
echo "args: $*" > "$out/nested/args"
echo "vault password: $(cat "$KAYOBE_VAULT_PASSWORD_FILE")"
cat "$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE"
echo "stderr line" >&2
while [ ! -f /src/go ]; do sleep 0.05; done
"#;

const LABEL: &str = "kayobe-automation.test";

struct Fixture {
    dir: tempfile::TempDir,
    image: String,
    _cleanup: RemoveImages,
}

impl Fixture {
    /// A checkout with the given pipeline scripts and its image built.
    async fn new(docker: &Docker, busybox: &Path, scripts: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_standin_image(dir.path(), busybox);
        for (name, body) in scripts {
            write_pipeline_script(dir.path(), name, body);
        }
        let image = unique_tag("run");
        let cleanup = RemoveImages(vec![image.clone()]);
        build_image(
            docker,
            &BuildOptions::new(dir.path(), &image).unwrap(),
            |_| {},
        )
        .await
        .unwrap();
        Self {
            dir,
            image,
            _cleanup: cleanup,
        }
    }

    /// Options for `operation`, labelled with a label value of their own.
    fn options(&self, operation: Invocation) -> (RunOptions, String) {
        let mut options = RunOptions::new(
            &self.image,
            self.dir.path(),
            operation,
            &self.dir.path().join("artefacts-out"),
        );
        let run_id = unique_suffix();
        options.labels.insert(LABEL.to_owned(), run_id.clone());
        (options, run_id)
    }
}

/// The ids of the containers labelled `LABEL=run_id`, running or all.
async fn containers(docker: &Docker, run_id: &str, running_only: bool) -> Vec<String> {
    labelled_containers(docker, &format!("{LABEL}={run_id}"), running_only).await
}

async fn running_container(docker: &Docker, run_id: &str) -> String {
    for _ in 0..400 {
        if let Some(id) = containers(docker, run_id, true).await.pop() {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the run's container never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_with_env_secret_files_masked_logs_and_artefacts() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let fixture = Fixture::new(&docker, &busybox, &[("playbook-run", RECORDING_SCRIPT)]).await;
    let suffix = unique_suffix();
    let password = format!("vault-pa55-{suffix}");
    let key_lines = [
        format!("b3BlbnNzaC1rZXktdjEAAAAA{suffix}"),
        format!("QyNTUxOQAAACD{suffix}"),
    ];
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        key_lines[0], key_lines[1]
    );
    let secrets = RunSecrets {
        vault_password: Some(Secret::new(password.clone())),
        ssh_private_key: Some(Secret::new(key.clone())),
    };
    let operation = Invocation::new(
        fixture.dir.path(),
        "playbook-run",
        vec!["etc/kayobe/ansible/fix.yml".into()],
    )
    .unwrap();
    let (mut options, run_id) = fixture.options(operation);
    options.environment = Some("production".to_owned());
    options.limits.kayobe_limit = Some("controllers".to_owned());
    options.limits.kayobe_tags = Some("docker,lvm".to_owned());

    let mut log = Vec::new();
    let run = run_operation(
        &docker,
        &options,
        &secrets,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    );
    let inspect = async {
        let id = running_container(&docker, &run_id).await;
        let inspected = docker.inspect_container(&id, None).await.unwrap();
        std::fs::write(fixture.dir.path().join("go"), "").unwrap();
        serde_json::to_string(&inspected).unwrap()
    };
    let (outcome, inspected) = tokio::join!(run, inspect);
    let outcome = outcome.unwrap();

    for secret in [&password, &key_lines[0], &key_lines[1]] {
        assert!(
            !inspected.contains(secret.as_str()),
            "docker inspect shows a secret"
        );
    }
    assert!(
        inspected.contains("\"NetworkMode\":\"host\""),
        "{inspected}"
    );
    assert_eq!(outcome.exit_code, 0, "{log:#?}");
    assert!(outcome.is_success());
    assert!(outcome.duration > Duration::ZERO);
    // Standard error's line may come anywhere: the engine keeps the streams apart.
    let stderr_line = log.iter().position(|line| line == "stderr line");
    log.remove(stderr_line.expect("standard error is streamed too"));
    assert_eq!(
        log,
        [
            "vault password: ********",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "********",
            "********",
            "-----END OPENSSH PRIVATE KEY-----",
        ]
    );

    let out = &options.artifacts;
    assert_eq!(outcome.artifact_files, 6);
    assert_eq!(
        std::fs::read_to_string(out.join("vault-password")).unwrap(),
        password
    );
    assert_eq!(
        std::fs::read_to_string(out.join("ssh-private-key")).unwrap(),
        key
    );
    let uid = std::fs::read_to_string(out.join("modes")).unwrap();
    let owner =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(fixture.dir.path()).unwrap());
    assert_eq!(
        uid,
        format!(
            "600 {owner} /run/kayobe-automation/vault-password\n600 {owner} /run/kayobe-automation/ssh-private-key\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(out.join("secrets-fs")).unwrap(),
        "tmpfs\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("nested/args")).unwrap(),
        "args: etc/kayobe/ansible/fix.yml\n"
    );
    let env = std::fs::read_to_string(out.join("env")).unwrap();
    for expected in [
        "KAYOBE_ENVIRONMENT=production",
        "KAYOBE_LIMIT=controllers",
        "KAYOBE_TAGS=docker,lvm",
        "KAYOBE_VAULT_PASSWORD_FILE=/run/kayobe-automation/vault-password",
        "ANSIBLE_VAULT_PASSWORD_FILE=/run/kayobe-automation/vault-password",
        "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE=/run/kayobe-automation/ssh-private-key",
        "KAYOBE_AUTOMATION_ARTIFACTS=/tmp/kayobe-automation-artifacts",
        "PWD=/src",
    ] {
        assert!(
            env.lines().any(|line| line == expected),
            "{expected} not in\n{env}"
        );
    }
    assert!(!env.contains("KOLLA_"), "{env}");
    assert!(
        !env.contains(&password) && !env.contains(&key_lines[0]),
        "{env}"
    );
    assert!(
        containers(&docker, &run_id, false).await.is_empty(),
        "container left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_script_gives_its_exit_code_and_still_its_artefacts() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let script = "echo partial > \"$KAYOBE_AUTOMATION_ARTIFACTS/log\"\necho \"kolla: $KOLLA_LIMIT $KOLLA_TAGS\"\nexit 3\n";
    let fixture = Fixture::new(
        &docker,
        &busybox,
        &[
            ("seed-service-deploy", script),
            ("seed-host-package-update", ""),
        ],
    )
    .await;
    let (mut options, run_id) = fixture
        .options(Invocation::new(fixture.dir.path(), "seed-service-deploy", Vec::new()).unwrap());
    options.limits.kolla_limit = Some("seed".to_owned());
    options.limits.kolla_tags = Some("bifrost".to_owned());
    let mut log = Vec::new();
    let outcome = run_operation(
        &docker,
        &options,
        &RunSecrets::default(),
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit_code, 3);
    assert_eq!(log, ["kolla: seed bifrost"]);
    assert_eq!(
        std::fs::read_to_string(options.artifacts.join("log")).unwrap(),
        "partial\n"
    );
    assert!(containers(&docker, &run_id, false).await.is_empty());

    // Kolla options on an operation without kolla-ansible: refused before any container.
    let (mut options, run_id) = fixture.options(
        Invocation::new(fixture.dir.path(), "seed-host-package-update", Vec::new()).unwrap(),
    );
    options.limits.kolla_tags = Some("nova".to_owned());
    let error = run_operation(
        &docker,
        &options,
        &RunSecrets::default(),
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, RunError::KollaOptions { .. }), "{error}");
    assert!(containers(&docker, &run_id, false).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_leaves_no_container() {
    let Some(busybox) = tool("busybox") else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let fixture = Fixture::new(
        &docker,
        &busybox,
        &[("tempest", "echo started\nsleep 600\n")],
    )
    .await;
    let (options, run_id) =
        fixture.options(Invocation::new(fixture.dir.path(), "tempest", Vec::new()).unwrap());
    let cancel = async {
        running_container(&docker, &run_id).await;
    };
    let started = std::time::Instant::now();
    let error = run_operation(&docker, &options, &RunSecrets::default(), |_| {}, cancel)
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::Cancelled { .. }), "{error}");
    // The init process passes the stop signal on: no 10 s grace period spent.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(containers(&docker, &run_id, false).await.is_empty());
}
