//! Running operations on the real Docker engine, in a stand-in Kayobe image
//! (`FROM scratch` + Debian's static busybox) built from a temporary
//! checkout whose pipeline scripts record what they were given.

use std::path::Path;
use std::time::Duration;

use container_engine::Docker;
use kayobe_automation_tests::docker::{
    RemoveImages, add_to_standin_image, engine, labelled_containers, unique_suffix, unique_tag,
    write_pipeline_script, write_standin_image,
};
use kayobe_automation_tests::{conformance, tool};
use kayobe_runtime::{
    BuildOptions, Invocation, RunError, RunOptions, RunSecrets, Secret, build_image, run_operation,
};
use sha2::Digest as _;

/// Records the environment and digests of the secrets (never the secrets:
/// the test exports the container's layer) into the artefacts, prints
/// the secrets (the logs must mask them), then waits for `/src/go` so the
/// test can inspect the running container.
const RECORDING_SCRIPT: &str = r#"set -e
out="$KAYOBE_AUTOMATION_ARTIFACTS"
secrets=/run/kayobe-automation
env -u KAYOBE_VAULT_PASSWORD -u KAYOBE_AUTOMATION_VAULT_PASSWORD -u KAYOBE_AUTOMATION_SSH_PRIVATE_KEY | sort > "$out/env"
printf '%s' "$KAYOBE_VAULT_PASSWORD" | sha256sum | cut -d ' ' -f 1 > "$out/vault-password-var"
printf '%s' "$KAYOBE_AUTOMATION_VAULT_PASSWORD" | sha256sum | cut -d ' ' -f 1 > "$out/automation-vault-password-var"
echo "$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY" | sha256sum | cut -d ' ' -f 1 > "$out/ssh-private-key-var"
tr '\0' '\n' < /proc/1/environ > "$out/init-environ"
sha256sum < "$secrets/vault-password" | cut -d ' ' -f 1 > "$out/vault-password"
sha256sum < "$secrets/ssh-private-key" | cut -d ' ' -f 1 > "$out/ssh-private-key"
stat -c '%a %u %n' "$secrets/vault-password" "$secrets/ssh-private-key" > "$out/modes"
grep " $KAYOBE_AUTOMATION_SECRETS " /proc/mounts | cut -d ' ' -f 3 > "$out/secrets-fs"
mkdir -p "$out/nested"
echo "args: $*" > "$out/nested/args"
echo "vault password: $KAYOBE_VAULT_PASSWORD"
cat "$secrets/ssh-private-key"
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
    async fn new(docker: &Docker, busybox: &Path, bash: &Path, scripts: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_standin_image(dir.path(), busybox, bash);
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
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let fixture = Fixture::new(
        &docker,
        &busybox,
        &bash,
        &[("playbook-run", RECORDING_SCRIPT)],
    )
    .await;
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
        // `docker export` of the running container: its layer, after the
        // script has read every secret.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut export = Vec::new();
        let mut stream = docker.export_container(&id);
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            export.extend_from_slice(&chunk.unwrap());
        }
        std::fs::write(fixture.dir.path().join("go"), "").unwrap();
        (serde_json::to_string(&inspected).unwrap(), export)
    };
    let (outcome, (inspected, export)) = tokio::join!(run, inspect);
    let outcome = outcome.unwrap();

    for secret in [&password, &key_lines[0], &key_lines[1]] {
        assert!(
            !inspected.contains(secret.as_str()),
            "docker inspect shows a secret"
        );
        if let Some(at) = export
            .windows(secret.len())
            .position(|w| w == secret.as_bytes())
        {
            let start = at.saturating_sub(600);
            panic!(
                "docker export holds a secret: {:?}",
                String::from_utf8_lossy(&export[start..at + secret.len()])
            );
        }
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
    assert_eq!(outcome.artifact_files, 10);
    let digest = |text: &str| format!("{}\n", hex::encode(sha2::Sha256::digest(text.as_bytes())));
    assert_eq!(
        std::fs::read_to_string(out.join("vault-password")).unwrap(),
        digest(&password)
    );
    // The variables `functions` and the vault helper read, in the script's
    // process only: not in PID 1's (the container's configured) environment.
    for var in ["vault-password-var", "automation-vault-password-var"] {
        assert_eq!(
            std::fs::read_to_string(out.join(var)).unwrap(),
            digest(&password)
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("ssh-private-key-var")).unwrap(),
        digest(&key)
    );
    let init_environ = std::fs::read_to_string(out.join("init-environ")).unwrap();
    assert!(
        init_environ.contains("KAYOBE_AUTOMATION_SECRETS="),
        "{init_environ}"
    );
    for secret in [&password, &key_lines[0], &key_lines[1]] {
        assert!(!init_environ.contains(secret.as_str()), "{init_environ}");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("ssh-private-key")).unwrap(),
        digest(&key)
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
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let script = "echo partial > \"$KAYOBE_AUTOMATION_ARTIFACTS/log\"\necho \"kolla: $KOLLA_LIMIT $KOLLA_TAGS\"\nexit 3\n";
    let fixture = Fixture::new(
        &docker,
        &busybox,
        &bash,
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
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let fixture = Fixture::new(
        &docker,
        &busybox,
        &bash,
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

/// The pipeline script of the `functions` test: sources kayobe-automation's
/// REAL `functions` (from the conformance snapshot, copied into the
/// checkout's `.automation/` as the submodule would be) and calls the two
/// functions that take the SSH key, then asks the REAL vault helper for the
/// password, as `ansible-vault --vault-password-file` would.
const FUNCTIONS_SCRIPT: &str = r#"#!/bin/bash
set -eu
PARENT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${PARENT}/../functions"
out="$KAYOBE_AUTOMATION_ARTIFACTS"
export HOME=/tmp/home
mkdir -p "$HOME/.ssh"
config_defaults
inject_ssh_keys
setup_ssh_agent
cp "$HOME/.ssh/$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME" "$out/installed-key"
stat -c '%a' "$HOME/.ssh/$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME" > "$out/installed-key-mode"
"$KAYOBE_AUTOMATION_UTILS_PATH/kayobe-automation-vault-helper" > "$out/vault-helper-password"
"#;

/// Stand-ins for OpenSSH's tools, which the image lacks: `ssh-keygen -y`
/// prints a public key, `ssh-agent -s` a socket to export, `ssh-add -`
/// records the key it is given.
const SSH_STANDINS: [(&str, &str, &str); 3] = [
    (
        "ssh-keygen",
        "#!/bin/sh\necho 'ssh-ed25519 AAAAstandin kayobe-automation-test'\n",
        "/usr/local/bin/ssh-keygen",
    ),
    (
        "ssh-agent",
        "#!/bin/sh\necho 'SSH_AUTH_SOCK=/tmp/agent.sock; export SSH_AUTH_SOCK;'\n",
        "/usr/local/bin/ssh-agent",
    ),
    (
        "ssh-add",
        "#!/bin/sh\ncat > \"$KAYOBE_AUTOMATION_ARTIFACTS/agent-key\"\n",
        "/usr/local/bin/ssh-add",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_functions_install_the_key_and_read_the_vault_password() {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(functions) = conformance("kayobe-automation/functions") else {
        return;
    };
    let helper = functions.with_file_name("utils/kayobe-automation-vault-helper");
    let Some(docker) = engine().await else { return };
    let dir = tempfile::tempdir().unwrap();
    write_standin_image(dir.path(), &busybox, &bash);
    for (name, script, target) in SSH_STANDINS {
        add_to_standin_image(dir.path(), name, script.as_bytes(), target);
    }
    let automation = dir.path().join(".automation");
    std::fs::create_dir_all(automation.join("utils")).unwrap();
    std::fs::copy(&functions, automation.join("functions")).unwrap();
    std::fs::copy(
        &helper,
        automation.join("utils/kayobe-automation-vault-helper"),
    )
    .unwrap();
    let pipeline = automation.join("pipeline");
    std::fs::create_dir_all(&pipeline).unwrap();
    std::fs::write(
        pipeline.join("overcloud-host-configure.sh"),
        FUNCTIONS_SCRIPT,
    )
    .unwrap();
    std::fs::set_permissions(
        pipeline.join("overcloud-host-configure.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let image = unique_tag("functions");
    let _cleanup = RemoveImages(vec![image.clone()]);
    build_image(
        &docker,
        &BuildOptions::new(dir.path(), &image).unwrap(),
        |_| {},
    )
    .await
    .unwrap();

    let suffix = unique_suffix();
    let password = format!("vault-pa55-{suffix}");
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk{suffix}\n-----END OPENSSH PRIVATE KEY-----\n"
    );
    let secrets = RunSecrets {
        vault_password: Some(Secret::new(password.clone())),
        ssh_private_key: Some(Secret::new(key.clone())),
    };
    let operation = Invocation::new(dir.path(), "overcloud-host-configure", Vec::new()).unwrap();
    let mut options = RunOptions::new(
        &image,
        dir.path(),
        operation,
        &dir.path().join("artefacts-out"),
    );
    options.ssh_private_key_name = Some("id_ed25519".to_owned());
    let mut log = Vec::new();
    let outcome = run_operation(
        &docker,
        &options,
        &secrets,
        |line| log.push(line.to_owned()),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.exit_code, 0, "{log:#?}");
    let out = &options.artifacts;
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    // `inject_ssh_keys` writes the key under the name given, mode 0600
    // (`echo` adds the newline the bootstrap's `$(cat …)` took off).
    assert_eq!(read("installed-key"), key);
    assert_eq!(read("installed-key-mode"), "600\n");
    assert_eq!(read("agent-key"), key);
    assert_eq!(read("vault-helper-password"), format!("{password}\n"));
}
