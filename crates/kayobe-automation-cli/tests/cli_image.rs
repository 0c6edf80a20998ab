//! `kayobe-automation image build|status` on the real Docker engine, with a
//! stand-in Kayobe Dockerfile (`FROM scratch` + Debian's static busybox, and
//! the dynamic loader and libraries the CLI binary is linked against) in a
//! temporary checkout.

use std::path::Path;
use std::process::{Command, Output};

use kayobe_automation_tests::{debian_tool, tool};

const DOCKERFILE: &str = "FROM scratch
ARG KAYOBE_USER_UID
ARG KAYOBE_USER_GID
ARG KAYOBE_VERSION
COPY .automation/docker/kayobe/busybox /bin/busybox
RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]
COPY etc/kayobe/ansible/requirements.yml /stack/requirements.yml
LABEL kayobe.version=${KAYOBE_VERSION}
USER ${KAYOBE_USER_UID}:${KAYOBE_USER_GID}
";

fn docker_available() -> bool {
    let ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|output| output.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the docker command or engine is not available"
        );
        eprintln!("skipping: the docker command or engine is not available");
    }
    ok
}

/// Removes the test's image however the test ends.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn kayobe_automation(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .arg("--config-path")
        .arg(repo.join("etc/kayobe"))
        .args(args)
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("KAYOBE_IMAGE")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Copies the dynamic loader and the libraries `ldd` lists for `binary`
/// into `docker_dir`, returning the Dockerfile steps that put each where
/// the binary looks for it.
fn glibc_steps(ldd: &Path, binary: &Path, docker_dir: &Path) -> String {
    let listed = Command::new(ldd).arg(binary).output().unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let mut steps = String::new();
    for (index, line) in stdout(&listed).lines().enumerate() {
        // `name => /path (address)`, or `/path (address)` for the loader.
        let path = line
            .rsplit("=> ")
            .next()
            .unwrap()
            .trim()
            .split(' ')
            .next()
            .unwrap();
        if path.starts_with('/') {
            let name = format!("lib{index}");
            std::fs::copy(path, docker_dir.join(&name)).unwrap();
            steps.push_str(&format!("COPY .automation/docker/kayobe/{name} {path}\n"));
        }
    }
    assert!(steps.contains("ld-linux"), "no loader in {steps}");
    steps
}

#[test]
fn builds_then_reports_fresh_and_stale_images() {
    let (Some(busybox), Some(ldd)) = (tool("busybox"), debian_tool("/usr/bin/ldd")) else {
        return;
    };
    if !docker_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let docker_dir = repo.join(".automation/docker/kayobe");
    std::fs::create_dir_all(&docker_dir).unwrap();
    std::fs::create_dir_all(repo.join("etc/kayobe/ansible")).unwrap();
    let cli = Path::new(env!("CARGO_BIN_EXE_kayobe-automation"));
    let glibc = glibc_steps(&ldd, cli, &docker_dir);
    std::fs::write(
        docker_dir.join("Dockerfile"),
        format!("{DOCKERFILE}{glibc}"),
    )
    .unwrap();
    std::fs::copy(busybox, docker_dir.join("busybox")).unwrap();
    std::fs::write(
        repo.join("etc/kayobe/ansible/requirements.yml"),
        "roles: []\n",
    )
    .unwrap();
    let tag = format!(
        "kayobe-automation/runtime-cli-test:{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let _cleanup = RemoveImage(tag.clone());
    let image = |command: &str, extra: &[&str]| {
        let mut args = vec![
            "image", command, "--tag", &tag, "--uid", "2001", "--gid", "2002",
        ];
        args.extend_from_slice(extra);
        kayobe_automation(repo, &args)
    };

    let missing = image("status", &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stdout(&missing),
        format!("{tag}: missing; build it with `kayobe-automation image build`\n")
    );

    let started = std::time::Instant::now();
    let built = image("build", &["--build-arg", "KAYOBE_VERSION=17.0.0"]);
    let log = String::from_utf8_lossy(&built.stderr);
    assert_eq!(built.status.code(), Some(0), "{log}");
    eprintln!("image build with the CLI took {:?}", started.elapsed());
    let out = stdout(&built);
    assert!(
        out.starts_with(&format!("built {tag} (fingerprint ")),
        "{out}"
    );
    assert!(
        out.ends_with(") with kayobe-automation at /usr/local/bin/kayobe-automation\n"),
        "{out}"
    );
    let version = format!("kayobe-automation {}", env!("CARGO_PKG_VERSION"));
    assert!(log.contains("with BuildKit"), "{log}");
    assert!(
        log.contains(&format!("{version} runs in the image")),
        "{log}"
    );
    let in_image = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--entrypoint",
            "/usr/local/bin/kayobe-automation",
        ])
        .args([&tag, "--version"])
        .output()
        .unwrap();
    assert_eq!(stdout(&in_image), format!("{version}\n"), "{in_image:?}");
    let inspect = Command::new("docker")
        .args(["image", "inspect", "--format"])
        .arg("{{.Config.User}} {{index .Config.Labels \"kayobe.version\"}}")
        .arg(&tag)
        .output()
        .unwrap();
    assert_eq!(stdout(&inspect), "2001:2002 17.0.0\n");

    let fresh = image("status", &["--build-arg", "KAYOBE_VERSION=17.0.0"]);
    assert_eq!(fresh.status.code(), Some(0));
    assert_eq!(stdout(&fresh), format!("{tag}: fresh\n"));

    std::fs::write(
        repo.join("etc/kayobe/ansible/requirements.yml"),
        "roles: [x]\n",
    )
    .unwrap();
    let stale = image("status", &["--build-arg", "KAYOBE_VERSION=18.0.0"]);
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(
        stdout(&stale),
        format!(
            "{tag}: stale; changed since it was built: build-arg KAYOBE_VERSION, etc/kayobe/ansible/requirements.yml; rebuild it with `kayobe-automation image build`\n"
        )
    );
    let other = docker_dir.join("busybox");
    let other_cli = image("status", &["--cli-binary", other.to_str().unwrap()]);
    assert_eq!(
        stdout(&other_cli),
        format!(
            "{tag}: stale; changed since it was built: build-arg KAYOBE_VERSION, etc/kayobe/ansible/requirements.yml, kayobe-automation binary; rebuild it with `kayobe-automation image build`\n"
        )
    );

    let without = image(
        "build",
        &["--no-cli", "--build-arg", "KAYOBE_VERSION=18.0.0"],
    );
    assert_eq!(
        without.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    assert!(
        stdout(&without).ends_with(") without the kayobe-automation binary (--no-cli)\n"),
        "{}",
        stdout(&without)
    );
    let lacking = image("status", &["--build-arg", "KAYOBE_VERSION=18.0.0"]);
    assert_eq!(lacking.status.code(), Some(1));
    assert_eq!(
        stdout(&lacking),
        format!(
            "{tag}: lacks the kayobe-automation binary CI jobs call (built without it); rebuild it with `kayobe-automation image build`\n"
        )
    );
    let fresh = image(
        "status",
        &["--no-cli", "--build-arg", "KAYOBE_VERSION=18.0.0"],
    );
    assert_eq!(stdout(&fresh), format!("{tag}: fresh\n"));
}

#[test]
fn a_missing_dockerfile_or_bad_build_arg_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/kayobe")).unwrap();
    let output = kayobe_automation(dir.path(), &["image", "status", "--tag", "kayobe:none"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(".automation/docker/kayobe/Dockerfile does not exist")
            && stderr.contains("--dockerfile"),
        "{stderr}"
    );

    let output = kayobe_automation(dir.path(), &["image", "build", "--build-arg", "NOVALUE"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`NOVALUE` is not NAME=VALUE"), "{stderr}");

    let output = kayobe_automation(
        dir.path(),
        &["image", "build", "--no-cli", "--cli-binary", "/bin/true"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
