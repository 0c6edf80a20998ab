//! `kayobe-automation bao bootstrap` end to end: a copy of the example
//! repository, a real `bao server`, and a stand-in for GitLab's key endpoint.

#[path = "../../bao-bootstrap/tests/support/mod.rs"]
mod support;

use kayobe_automation_tests::copy_dir;
use std::path::Path;
use std::process::Output;

use support::{BaoServer, gitlab_id_token};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A copy of the example, which defines each environment's SSH key and
/// openrc (a template over the vaulted admin password) in its `secrets.yml`.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&kayobe_automation_tests::example_repo(), dir.path());
    dir
}

async fn gitlab() -> MockServer {
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../../bao-bootstrap/tests/fixtures/jwks.json")).unwrap();
    let gitlab = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/discovery/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&gitlab)
        .await;
    gitlab
}

async fn ours(repo: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("KAYOBE_VAULT_PASSWORD")
        .env_remove("BAO_ADDR")
        .args(["--config-path", "etc/kayobe"])
        .args(["--vault-password-file", ".vault-password"])
        .args(args)
        .output()
        .await
        .expect("run kayobe-automation")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_then_rerun_then_add_an_environment() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let repo = example_copy();
    let keys_file = "etc/kayobe/environments/production/vault/kayobe-automation-keys.json";
    let addr = server.addr();
    let gitlab_url = gitlab.uri();
    let bootstrap_args = [
        "bao",
        "bootstrap",
        "--addr",
        &addr,
        "--keys-file",
        keys_file,
        "--encrypt-keys-file",
        "--gitlab-url",
        &gitlab_url,
        "--gitlab-project-id",
        "42",
    ];
    let production = ["--environment", "production"];
    let args = [&production[..], &bootstrap_args].concat();

    let first = ours(repo.path(), &args).await;
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "initialised OpenBao and wrote the keys file\n\
         unsealed OpenBao\n\
         mounted KV version 1 at kayobe-automation/\n\
         wrote secret kayobe-automation/production\n\
         wrote policy kayobe-automation\n\
         enabled JWT auth at auth/jwt/\n\
         wrote auth/jwt/config\n\
         wrote JWT role gitlab\n"
    );

    let again = ours(repo.path(), &args).await;
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        format!("OpenBao at {addr} is already bootstrapped: nothing changed\n")
    );

    let add = ours(
        repo.path(),
        &[
            "bao",
            "bootstrap",
            "--addr",
            &addr,
            "--keys-file",
            keys_file,
            "--encrypt-keys-file",
            "--add-secrets-only",
            "--all-environments",
        ],
    )
    .await;
    assert!(add.status.success(), "{}", text(&add));
    assert_eq!(
        String::from_utf8_lossy(&add.stdout),
        "wrote secret kayobe-automation/staging\n"
    );

    // The keys file is vaulted with the configuration's password; read the
    // root token through our own `vault view`, then the secret through `bao`.
    let view = ours(repo.path(), &["vault", "view", keys_file]).await;
    assert!(view.status.success(), "{}", text(&view));
    let keys: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
    let root_token = keys["root_token"].as_str().unwrap();
    let read = std::process::Command::new(kayobe_automation_tests::tool("bao").unwrap())
        .args(["read", "-format=json", "kayobe-automation/staging"])
        .env("BAO_ADDR", &addr)
        .env("BAO_TOKEN", root_token)
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", text(&read));
    let secret: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let openrc = secret["data"]["kayobe_tempest_openrc"].as_str().unwrap();
    assert!(
        openrc.starts_with("export OS_AUTH_URL=https://staging.cloud.example.com:5000\n")
            && openrc.contains("\nexport OS_PASSWORD=iDnUggAMacjQx2V4KQ4xFWr90XsupAL_\n"),
        "{openrc}"
    );
    // Staging's kolla.yml sets its registry and password (an inline `!vault`
    // value), overriding the base's template over `secrets_registry_password`.
    assert_eq!(
        secret["data"]["registry_password"],
        "MFEKtzxWUOA8WbPeU35GC0UpIN1Ax0or"
    );
    assert_eq!(secret["data"]["registry_url"], "192.168.34.5:4000");
    let key = secret["data"]["kayobe_automation_ssh_private_key"]
        .as_str()
        .unwrap();
    assert!(
        key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")
            && key.ends_with("\n-----END OPENSSH PRIVATE KEY-----\n"),
        "{key}"
    );

    // Nothing the command printed holds a secret.
    let password = std::fs::read_to_string(repo.path().join(".vault-password")).unwrap();
    for output in [&first, &again, &add] {
        let printed = text(output);
        assert!(!printed.contains(password.trim()), "{printed}");
        assert!(!printed.contains(root_token), "{printed}");
        assert!(!printed.contains("iDnUgg"), "{printed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn initialised_server_without_keys_file_is_a_clear_error() {
    let Some(server) = BaoServer::start() else {
        return;
    };
    server.cli(&["operator", "init", "-format=json"]);
    let repo = example_copy();
    let addr = server.addr();
    let output = ours(
        repo.path(),
        &[
            "--environment",
            "production",
            "bao",
            "bootstrap",
            "--addr",
            &addr,
            "--keys-file",
            "vault/kayobe-automation-keys.json",
            "--add-secrets-only",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is already initialised"), "{stderr}");
    assert!(
        stderr.contains("vault/kayobe-automation-keys.json"),
        "{stderr}"
    );
    assert!(stderr.contains("restore the keys file"), "{stderr}");
    assert!(!repo.path().join("vault").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_options_are_required_for_a_full_bootstrap() {
    let repo = example_copy();
    let output = ours(
        repo.path(),
        &[
            "--environment",
            "production",
            "bao",
            "bootstrap",
            "--keys-file",
            "keys.json",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--gitlab-url"), "{stderr}");
}

/// Removes the test's container and volume however the test ends.
struct RemoveOnDrop(kayobe_automation::bao::deploy::DeployOptions);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let options = self.0.clone();
        // A fresh runtime on its own thread: drop may run inside the test's.
        let removed = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(kayobe_automation::bao::deploy::remove(&options, true))
        })
        .join();
        if !std::thread::panicking() {
            removed.unwrap().unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_in_docker_then_bootstrap() {
    let Some(bao) = kayobe_automation_tests::tool("bao") else {
        return;
    };
    if !Path::new("/var/run/docker.sock").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but there is no Docker engine at /var/run/docker.sock"
        );
        eprintln!("skipping: no Docker engine");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let name = format!("kayobe-automation-cli-test-{}-{port}", std::process::id());
    let mut options = kayobe_automation::bao::deploy::DeployOptions::new(&bao);
    options.container_name = name.clone();
    options.volume_name = format!("{name}-data");
    let _cleanup = RemoveOnDrop(options);

    let gitlab = gitlab().await;
    let repo = example_copy();
    let addr = format!("http://127.0.0.1:{port}");
    let volume = format!("{name}-data");
    let gitlab_url = gitlab.uri();
    let args = [
        "--environment",
        "production",
        "bao",
        "bootstrap",
        "--deploy",
        "--container-name",
        &name,
        "--volume-name",
        &volume,
        "--addr",
        &addr,
        "--keys-file",
        "vault/kayobe-automation-keys.json",
        "--gitlab-url",
        &gitlab_url,
        "--gitlab-project-id",
        "42",
    ];
    // The static binary is found behind the `bao` on PATH.
    let path = std::env::join_paths(
        std::iter::once(bao.parent().unwrap().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo.path())
        .env("PATH", &path)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("BAO_ADDR")
        .args(["--config-path", "etc/kayobe"])
        .args(["--vault-password-file", ".vault-password"])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(
            "OpenBao runs in container {name}\ninitialised OpenBao and wrote the keys file\n"
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with("wrote JWT role gitlab\n"), "{stdout}");

    let again = tokio::process::Command::new(env!("CARGO_BIN_EXE_kayobe-automation"))
        .current_dir(repo.path())
        .env("PATH", &path)
        .env_remove("KAYOBE_CONFIG_PATH")
        .env_remove("KAYOBE_ENVIRONMENT")
        .env_remove("BAO_ADDR")
        .args(["--config-path", "etc/kayobe"])
        .args(["--vault-password-file", ".vault-password"])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        format!(
            "OpenBao runs in container {name}\nOpenBao at {addr} is already bootstrapped: nothing changed\n"
        )
    );
}

/// Fills the file system holding `dir` until it has no page left.
fn fill_up(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = [0u8; 4096];
    while filler.write_all(&block).is_ok() {}
    let _ = filler.sync_all();
}

/// Issue 17, item 2: with the keys file on a full file system, the
/// bootstrap fails before initialising (the keys' space is set aside
/// first), so no key is ever lost; once there is room it succeeds and says
/// first where the keys are.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_fails_before_the_keys_exist() {
    let is_root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if !is_root {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root"
        );
        eprintln!("note: not root: the full-disk case needs a tmpfs mount");
        return;
    }
    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let repo = example_copy();
    let disk = repo.path().join("vault");
    std::fs::create_dir(&disk).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs"])
        .arg(&disk)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a tmpfs");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&disk);
    fill_up(&disk);
    let addr = server.addr();
    let gitlab_url = gitlab.uri();
    let args = [
        "--environment",
        "production",
        "bao",
        "bootstrap",
        "--addr",
        &addr,
        "--keys-file",
        "vault/kayobe-automation-keys.json",
        "--gitlab-url",
        &gitlab_url,
        "--gitlab-project-id",
        "42",
    ];
    let full = ours(repo.path(), &args).await;
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{}", text(&full));
    assert!(stderr.contains("No space left on device"), "{stderr}");
    // `bao status` exits 2 when sealed, so it is run here, not through `cli`.
    let status = std::process::Command::new(kayobe_automation_tests::tool("bao").unwrap())
        .args(["status", "-format=json"])
        .env("BAO_ADDR", &addr)
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["initialized"], false,
        "initialised with nowhere to keep the keys"
    );

    std::fs::remove_file(disk.join("filler")).unwrap();
    let roomy = ours(repo.path(), &args).await;
    let stderr = String::from_utf8_lossy(&roomy.stderr);
    assert!(roomy.status.success(), "{}", text(&roomy));
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("is initialised") && first.contains("vault/kayobe-automation-keys.json"),
        "{stderr}"
    );
    let mode = std::fs::metadata(disk.join("kayobe-automation-keys.json")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
}

/// GitLab and OpenBao end to end: `bao bootstrap` on a real OpenBao, then
/// the rendered pipeline's `.openbao` before_script, run by bash with an ID
/// token signed as GitLab signs them (its keys served as GitLab's JWKS),
/// ends with exactly the variables kayobe-automation reads, holding the
/// bootstrapped values, and prints none of them; a token of another project
/// gets nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_rendered_secret_step_reads_what_bootstrap_wrote() {
    use kayobe_automation::config::yaml;

    let Some(server) = BaoServer::start() else {
        return;
    };
    let gitlab = gitlab().await;
    let repo = example_copy();
    let (addr, gitlab_url) = (server.addr(), gitlab.uri());
    let bootstrap = ours(
        repo.path(),
        &[
            "--environment",
            "production",
            "bao",
            "bootstrap",
            "--addr",
            &addr,
            "--keys-file",
            "etc/kayobe/environments/production/vault/kayobe-automation-keys.json",
            "--encrypt-keys-file",
            "--gitlab-url",
            &gitlab_url,
            "--gitlab-project-id",
            "42",
        ],
    )
    .await;
    assert!(bootstrap.status.success(), "{}", text(&bootstrap));

    let rendered = tempfile::tempdir().unwrap();
    let out = rendered.path().display().to_string();
    let render = ours(
        repo.path(),
        &["workflows", "render", "--platform", "gitlab", "--out", &out],
    )
    .await;
    assert!(render.status.success(), "{}", text(&render));
    let pipeline_text = std::fs::read_to_string(rendered.path().join(".gitlab-ci.yml"))
        .or_else(|_| std::fs::read_to_string(rendered.path().join("gitlab-ci.yml")))
        .unwrap_or_else(|_| {
            let entries: Vec<_> = std::fs::read_dir(rendered.path()).unwrap().collect();
            panic!("no pipeline in {entries:?}")
        });
    let pipeline = yaml::parse(&pipeline_text, Path::new(".gitlab-ci.yml")).unwrap();
    let pipeline = pipeline.as_map().unwrap();
    let kayobe_automation::config::Value::List(before_script) =
        &pipeline[".openbao"].as_map().unwrap()["before_script"]
    else {
        panic!("`.openbao` has no before_script list")
    };
    let step = before_script[0].as_str().unwrap().to_owned();
    // The production job that reads the most: Tempest's.
    let variables = pipeline
        .values()
        .filter_map(|job| job.as_map()?.get("variables")?.as_map())
        .filter(|vars| {
            vars.get("KAYOBE_ENVIRONMENT").and_then(|v| v.as_str()) == Some("production")
        })
        .filter_map(|vars| {
            Some((
                vars.get("BAO_SECRET_PATH")?.as_str()?.to_owned(),
                vars.get("BAO_SECRET_KEYS")?.as_str()?.to_owned(),
            ))
        })
        .max_by_key(|(_, keys)| keys.split_whitespace().count())
        .expect("a production job reads OpenBao");
    let (secret_path, secret_keys) = variables;
    assert_eq!(
        secret_keys,
        "KAYOBE_VAULT_PASSWORD=kayobe_vault_password \
         KAYOBE_AUTOMATION_SSH_PRIVATE_KEY=kayobe_automation_ssh_private_key \
         TEMPEST_OPENRC=kayobe_tempest_openrc"
    );

    let token_for = |project_id: &str| gitlab_id_token(&gitlab_url, &addr, project_id);
    // The step as GitLab runs it, then what the job's script would see,
    // written to a file so that nothing of it reaches the output.
    let seen = repo.path().join("seen");
    let run_step = |token: String| {
        let script = format!(
            "set -e\n{step}\nfor name in KAYOBE_VAULT_PASSWORD KAYOBE_AUTOMATION_SSH_PRIVATE_KEY TEMPEST_OPENRC BAO_TOKEN BAO_SECRETS; do\n  if [ -n \"${{!name+x}}\" ]; then printf '%s=%s\\0' \"$name\" \"${{!name}}\"; fi\ndone > {seen}\n",
            seen = seen.display()
        );
        let mut command = std::process::Command::new("bash");
        command
            .arg("-c")
            .arg(script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("OPENBAO_ADDR", &addr)
            .env("VAULT_AUTH_TOKEN", token)
            .env("BAO_SECRET_PATH", &secret_path)
            .env("BAO_SECRET_KEYS", &secret_keys);
        let _ = std::fs::remove_file(&seen);
        command.output().unwrap()
    };

    let output = run_step(token_for("42"));
    assert!(output.status.success(), "{}", text(&output));
    let recorded = std::fs::read(&seen).unwrap();
    let variables: std::collections::BTreeMap<String, String> = recorded
        .split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let entry = String::from_utf8(entry.to_vec()).unwrap();
            let (name, value) = entry.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let password = std::fs::read_to_string(repo.path().join(".vault-password")).unwrap();
    assert_eq!(
        variables.keys().collect::<Vec<_>>(),
        [
            "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
            "KAYOBE_VAULT_PASSWORD",
            "TEMPEST_OPENRC"
        ],
        "exactly what kayobe-automation reads, the token and the raw secret unset"
    );
    assert_eq!(variables["KAYOBE_VAULT_PASSWORD"], password.trim());
    // Without its last newline, as `$(…)` leaves it: `functions` writes
    // the key with `echo`, which puts it back.
    let key = &variables["KAYOBE_AUTOMATION_SSH_PRIVATE_KEY"];
    assert!(
        key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")
            && key.ends_with("\n-----END OPENSSH PRIVATE KEY-----"),
        "{key}"
    );
    assert!(
        variables["TEMPEST_OPENRC"].contains("\nexport OS_PASSWORD=")
            && !variables["TEMPEST_OPENRC"].contains("{{"),
        "{}",
        variables["TEMPEST_OPENRC"]
    );
    let printed = text(&output);
    for value in variables.values() {
        for line in value.lines().filter(|line| line.len() > 8) {
            assert!(!printed.contains(line), "printed: {printed}");
        }
    }

    // Another project's token is refused at login: the step fails and
    // nothing is exported.
    let refused = run_step(token_for("43"));
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(!seen.exists());
}
