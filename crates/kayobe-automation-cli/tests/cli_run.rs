//! `kayobe-automation run` on a copy of the example repository, in a
//! stand-in Kayobe image (`FROM scratch` + Debian's static busybox) that the
//! test builds with `kayobe-automation image build`, on the real Docker engine.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bollard::Docker;
use kayobe_automation_tests::docker::{
    RemoveImages, engine, labelled_containers, unique_suffix, unique_tag, write_pipeline_script,
    write_standin_image,
};
use kayobe_automation_tests::{copy_dir, example_repo, tool};

const LABEL: &str = "kayobe-automation.test";

/// The environment variables of the caller that would change what the CLI does.
const CALLER_ENV: [&str; 10] = [
    "KAYOBE_CONFIG_PATH",
    "KAYOBE_ENVIRONMENT",
    "KAYOBE_IMAGE",
    "KAYOBE_LIMIT",
    "KAYOBE_TAGS",
    "KOLLA_LIMIT",
    "KOLLA_TAGS",
    "KAYOBE_VAULT_PASSWORD_FILE",
    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME",
];

/// A copy of the example repository with the stand-in image's Dockerfile and
/// the given pipeline script, its image built through the CLI.
struct Checkout {
    dir: tempfile::TempDir,
    image: String,
    _cleanup: RemoveImages,
}

impl Checkout {
    fn new(busybox: &Path, bash: &Path, operation: &str, script: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&example_repo(), dir.path());
        write_standin_image(dir.path(), busybox, bash);
        write_pipeline_script(dir.path(), operation, script);
        let image = unique_tag("cli-run");
        let cleanup = RemoveImages(vec![image.clone()]);
        let checkout = Self {
            dir,
            image,
            _cleanup: cleanup,
        };
        let built = checkout
            // The stand-in image has no glibc for the binary to run with.
            .command(&["image", "build", "--no-cli", "--tag", &checkout.image])
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        checkout
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
        command
            .current_dir(self.dir.path())
            .args(["--environment", "production"])
            .args(args);
        for name in CALLER_ENV {
            command.env_remove(name);
        }
        command
    }
}

/// The ids of the containers labelled `LABEL=run_id`, running or all.
async fn containers(docker: &Docker, run_id: &str, running_only: bool) -> Vec<String> {
    labelled_containers(docker, &format!("{LABEL}={run_id}"), running_only).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_an_operation_with_limits_and_secret_files_and_exits_with_its_code() {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    if engine().await.is_none() {
        return;
    }
    let script = r#"out="$KAYOBE_AUTOMATION_ARTIFACTS"
env -u KAYOBE_VAULT_PASSWORD -u KAYOBE_AUTOMATION_VAULT_PASSWORD -u KAYOBE_AUTOMATION_SSH_PRIVATE_KEY | sort > "$out/env"
printf '%s\n' "$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY" > "$out/key"
echo "vault: $KAYOBE_VAULT_PASSWORD"
exit 5
"#;
    let checkout = Checkout::new(&busybox, &bash, "overcloud-service-deploy", script);
    let password = format!("cli-vault-{}", unique_suffix());
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nkey{}\n-----END OPENSSH PRIVATE KEY-----\n",
        unique_suffix()
    );
    let key_file = checkout.dir.path().join("id_ed25519");
    std::fs::write(&key_file, &key).unwrap();
    let artefacts = checkout.dir.path().join("out");
    let output = checkout
        .command(&[
            "run",
            "overcloud-service-deploy",
            "--image",
            &checkout.image,
            "--kolla-tags",
            "nova",
        ])
        .arg("--ssh-key")
        .arg(&key_file)
        .arg("--artifacts")
        .arg(&artefacts)
        .env("KAYOBE_VAULT_PASSWORD", &password)
        .env("KAYOBE_LIMIT", "controllers")
        .env("KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME", "id_ed25519")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(output.stdout.is_empty());
    let mut lines = stderr.lines();
    assert_eq!(lines.next(), Some("vault: ********"));
    let summary = lines.next().unwrap();
    assert!(
        summary.starts_with("overcloud-service-deploy exited 5 after ")
            && summary.ends_with(&format!("; 2 artefact file(s) in {}", artefacts.display())),
        "{summary}"
    );
    assert!(!stderr.contains(&password));
    assert_eq!(std::fs::read_to_string(artefacts.join("key")).unwrap(), key);
    let env = std::fs::read_to_string(artefacts.join("env")).unwrap();
    for expected in [
        "KAYOBE_ENVIRONMENT=production",
        "KAYOBE_LIMIT=controllers",
        "KOLLA_TAGS=nova",
        "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME=id_ed25519",
    ] {
        assert!(
            env.lines().any(|line| line == expected),
            "{expected} not in\n{env}"
        );
    }
}

#[test]
fn wrong_operations_and_options_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example_repo(), dir.path());
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kayobe-automation"));
        command
            .current_dir(dir.path())
            .args(["--environment", "production", "run"])
            .args(args);
        for name in CALLER_ENV {
            command.env_remove(name);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // Without the `.automation` submodule, no operation exists.
    let stderr = run(&["seed-host-package-update"]);
    assert!(stderr.contains("git submodule update --init"), "{stderr}");
    let pipeline = dir.path().join(".automation/pipeline");
    std::fs::create_dir_all(&pipeline).unwrap();
    for script in ["playbook-run", "seed-host-package-update"] {
        std::fs::write(pipeline.join(format!("{script}.sh")), "#!/bin/bash\n").unwrap();
    }
    let stderr = run(&["overcloud-deploy"]);
    assert!(
        stderr.contains("there is no operation `overcloud-deploy`")
            && stderr.contains("the operations there are: playbook-run, seed-host-package-update"),
        "{stderr}"
    );
    let stderr = run(&["playbook-run"]);
    assert!(stderr.contains("takes PLAYBOOK [ARGS…]; got 0"), "{stderr}");
    let stderr = run(&[
        "seed-host-package-update",
        "--kolla-limit",
        "seed",
        "--image",
        "none:none",
    ]);
    assert!(stderr.contains("does not run kolla-ansible"), "{stderr}");
}

/// Waits up to a minute for `child` to exit.
fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the CLI did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_and_removes_the_container_and_exits_130() {
    let (Some(busybox), Some(bash)) = (tool("busybox"), tool("bash-static")) else {
        return;
    };
    let Some(docker) = engine().await else { return };
    let checkout = Checkout::new(&busybox, &bash, "tempest", "echo started\nsleep 600\n");
    let run_id = unique_suffix();
    let label = format!("{LABEL}={run_id}");
    let mut child = checkout
        .command(&[
            "run",
            "tempest",
            "--image",
            &checkout.image,
            "--label",
            &label,
        ])
        .arg("--artifacts")
        .arg(checkout.dir.path().join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while containers(&docker, &run_id, true).await.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run's container never ran"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::block_in_place(|| wait_with_timeout(&mut child));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("tempest cancelled; its container was stopped and removed"),
        "{stderr}"
    );
    assert!(
        containers(&docker, &run_id, false).await.is_empty(),
        "a container was left behind"
    );
}
