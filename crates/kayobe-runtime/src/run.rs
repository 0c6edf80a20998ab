//! Running an operation in the Kayobe container (SPEC.md section 11).
//!
//! The contract with the image's pipeline scripts:
//!
//! | What | In the container | Variable |
//! |---|---|---|
//! | the checkout | bind mount at `/src` (also the working directory) | |
//! | the operation | `/src/.automation/pipeline/<operation>.sh [args]` | |
//! | the environment | | `KAYOBE_ENVIRONMENT` |
//! | limits and tags | | `KAYOBE_LIMIT`, `KAYOBE_TAGS`, `KOLLA_LIMIT`, `KOLLA_TAGS` (set when given) |
//! | vault password | file [`VAULT_PASSWORD_FILE`] (0600) | `KAYOBE_VAULT_PASSWORD_FILE`, `ANSIBLE_VAULT_PASSWORD_FILE` |
//! | SSH private key | file [`SSH_PRIVATE_KEY_FILE`] (0600) | `KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE` |
//! | artefacts | a directory ([`DEFAULT_ARTIFACTS`] unless configured) | `KAYOBE_AUTOMATION_ARTIFACTS`, `LOGDIR` |
//!
//! `ANSIBLE_VAULT_PASSWORD_FILE` lets Ansible (run by Kayobe) open vaulted
//! files with no change to the scripts; `LOGDIR` is where the upstream
//! kayobe-automation `functions` write their log, so it lands among the
//! artefacts.
//!
//! **Secrets never touch the engine's records.** The secret files live on a
//! tmpfs mount ([`SECRETS_DIR`]); the engine cannot copy into a tmpfs (its
//! archive API writes beneath the mount, into the container's layer on
//! disk), so the container's command is a bootstrap — `umask 077`, `tar -x`
//! from standard input into the tmpfs, then `exec` the script — and the
//! secrets travel as a tar stream over the attach connection. The container's
//! command, environment and labels (all `docker inspect` shows) hold only
//! paths; the image needs `/bin/sh` and `tar`. Output is read from the same
//! attach connection, each secret value masked (the vault password, every
//! line of the SSH key), even when a value is cut across chunks.
//!
//! The container runs on the host network with an init process (so signals
//! reach the script and its children are reaped), and is removed when the run
//! ends however it ends: exit, error, or cancellation (stopped first, with a
//! grace period, then removed).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder, UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::mask::Masker;
use kayobe_config::operation::Invocation;

/// The tmpfs mount holding the secret files.
pub const SECRETS_DIR: &str = "/run/kayobe-automation";
/// The vault password file.
pub const VAULT_PASSWORD_FILE: &str = "/run/kayobe-automation/vault-password";
/// The SSH private key file.
pub const SSH_PRIVATE_KEY_FILE: &str = "/run/kayobe-automation/ssh-private-key";
/// The artefact directory in the container unless [`RunOptions::container_artifacts`] says otherwise.
pub const DEFAULT_ARTIFACTS: &str = "/tmp/kayobe-automation-artifacts";
/// The label every run's container carries, valued with the operation's name.
pub const OPERATION_LABEL: &str = "kayobe-automation.operation";

/// Unpacks the secrets from standard input, then becomes the script.
const BOOTSTRAP: &str = "umask 077 && tar -x -f - -C \"$KAYOBE_AUTOMATION_SECRETS\" && exec \"$@\"";

/// A secret value (file content). `Debug` never shows it; the memory is
/// overwritten when it is dropped.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

/// The secrets a run hands to the container as files.
#[derive(Debug, Clone, Default)]
pub struct RunSecrets {
    /// The Kayobe vault password.
    pub vault_password: Option<Secret>,
    /// The SSH private key Kayobe logs in to hosts with.
    pub ssh_private_key: Option<Secret>,
}

impl RunSecrets {
    /// The values masked in the output: each line of the vault password
    /// (it is masked line by line) and of the key, but the key's
    /// `-----BEGIN/END …-----` armour.
    fn masked_values(&self) -> Vec<Vec<u8>> {
        let lines = |secret: &Secret| {
            secret
                .0
                .split(|&b| b == b'\n')
                .map(<[u8]>::trim_ascii)
                .filter(|line| !line.is_empty())
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        };
        let key_lines = self
            .ssh_private_key
            .iter()
            .flat_map(lines)
            .filter(|line| !line.starts_with(b"-----"));
        self.vault_password
            .iter()
            .flat_map(lines)
            .chain(key_lines)
            .collect()
    }

    /// The tar stream the bootstrap unpacks into [`SECRETS_DIR`].
    fn archive(&self) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        // Now rather than 0: GNU tar warns about implausibly old times.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let files = [
            (&self.vault_password, VAULT_PASSWORD_FILE),
            (&self.ssh_private_key, SSH_PRIVATE_KEY_FILE),
        ];
        for (secret, path) in files {
            let Some(secret) = secret else { continue };
            let name = Path::new(path)
                .file_name()
                .expect("the secret paths name files");
            let mut header = tar::Header::new_gnu();
            header.set_size(secret.0.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(now);
            builder.append_data(&mut header, name, secret.0.as_slice())?;
        }
        builder.into_inner()
    }
}

/// Kayobe and kolla-ansible limits and tags (each unset when `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `KAYOBE_LIMIT`: Kayobe's `--limit`.
    pub kayobe_limit: Option<String>,
    /// `KAYOBE_TAGS`: Kayobe's `--tags`.
    pub kayobe_tags: Option<String>,
    /// `KOLLA_LIMIT`: Kayobe's `--kolla-limit`.
    pub kolla_limit: Option<String>,
    /// `KOLLA_TAGS`: Kayobe's `--kolla-tags`.
    pub kolla_tags: Option<String>,
}

/// What to run, in which image, from which checkout.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The Kayobe image (present in the engine).
    pub image: String,
    /// The configuration repository's root, mounted at `/src`.
    pub checkout: PathBuf,
    /// The operation.
    pub operation: Invocation,
    /// The Kayobe environment (`KAYOBE_ENVIRONMENT`).
    pub environment: Option<String>,
    /// Limits and tags.
    pub limits: Limits,
    /// The artefact directory in the container.
    pub container_artifacts: String,
    /// Where the artefacts are copied to (created if missing).
    pub artifacts: PathBuf,
    /// Further labels for the container (e.g. to find a runner's runs).
    pub labels: BTreeMap<String, String>,
    /// How long a cancelled run gets to stop before it is killed.
    pub stop_grace: Duration,
}

impl RunOptions {
    /// Options to run `operation` from `checkout` in `image`, artefacts
    /// copied to `artifacts`; no environment, limits or extra labels, the
    /// default artefact directory, a 10 s grace period on cancellation.
    pub fn new(image: &str, checkout: &Path, operation: Invocation, artifacts: &Path) -> Self {
        Self {
            image: image.to_owned(),
            checkout: checkout.to_path_buf(),
            operation,
            environment: None,
            limits: Limits::default(),
            container_artifacts: DEFAULT_ARTIFACTS.to_owned(),
            artifacts: artifacts.to_path_buf(),
            labels: BTreeMap::new(),
            stop_grace: Duration::from_secs(10),
        }
    }

    /// The container's environment: names, limits and paths, never a secret.
    fn environment(&self, secrets: &RunSecrets) -> Vec<String> {
        let mut env = vec![
            format!("KAYOBE_AUTOMATION_SECRETS={SECRETS_DIR}"),
            format!("KAYOBE_AUTOMATION_ARTIFACTS={}", self.container_artifacts),
            format!("LOGDIR={}", self.container_artifacts),
        ];
        let optional = [
            ("KAYOBE_ENVIRONMENT", &self.environment),
            ("KAYOBE_LIMIT", &self.limits.kayobe_limit),
            ("KAYOBE_TAGS", &self.limits.kayobe_tags),
            ("KOLLA_LIMIT", &self.limits.kolla_limit),
            ("KOLLA_TAGS", &self.limits.kolla_tags),
        ];
        env.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| Some(format!("{name}={}", value.as_ref()?))),
        );
        if secrets.vault_password.is_some() {
            env.push(format!("KAYOBE_VAULT_PASSWORD_FILE={VAULT_PASSWORD_FILE}"));
            env.push(format!("ANSIBLE_VAULT_PASSWORD_FILE={VAULT_PASSWORD_FILE}"));
        }
        if secrets.ssh_private_key.is_some() {
            env.push(format!(
                "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_FILE={SSH_PRIVATE_KEY_FILE}"
            ));
        }
        env
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// The script's exit code.
    pub exit_code: i64,
    /// From the container's start until it exited.
    pub duration: Duration,
    /// How many artefact files were copied out.
    pub artifact_files: usize,
}

impl RunOutcome {
    /// Whether the script exited 0.
    pub fn is_success(&self) -> bool {
        self.exit_code == 0
    }
}

/// Why a run could not be carried out (a script failing is not an error:
/// see [`RunOutcome::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Kolla limits or tags were given to an operation that does not run kolla-ansible.
    #[error(
        "`{operation}` does not run kolla-ansible, so `--kolla-limit` and `--kolla-tags` do not apply; use `--limit` and `--tags`"
    )]
    KollaOptions {
        /// The operation.
        operation: String,
    },
    /// A call to the Docker engine failed.
    #[error(
        "cannot {action}: {source}; check that the Docker engine runs and the image {image} is present (`kayobe-automation image build`)"
    )]
    Docker {
        /// What was being done.
        action: &'static str,
        /// The image.
        image: String,
        /// bollard's error.
        #[source]
        source: DockerError,
    },
    /// A file of the run could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The run was cancelled; the container was stopped and removed.
    #[error("the run of `{operation}` was cancelled; its container was stopped and removed")]
    Cancelled {
        /// The operation.
        operation: String,
    },
}

fn docker_error(image: &str, action: &'static str) -> impl FnOnce(DockerError) -> RunError {
    let image = image.to_owned();
    move |source| RunError::Docker {
        action,
        image,
        source,
    }
}

/// Runs `options.operation` in a new container, passing each line of its
/// output (secrets masked) to `log`; the run is cancelled when `cancel`
/// completes. The container is removed whatever happens. A line longer than
/// 64 KiB comes in pieces (each masked).
pub async fn run_operation(
    docker: &Docker,
    options: &RunOptions,
    secrets: &RunSecrets,
    mut log: impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<RunOutcome, RunError> {
    let operation = options.operation.to_string();
    if !options.operation.runs_kolla_ansible()
        && (options.limits.kolla_limit.is_some() || options.limits.kolla_tags.is_some())
    {
        return Err(RunError::KollaOptions { operation });
    }
    let failed = |action| docker_error(&options.image, action);
    let checkout = options
        .checkout
        .canonicalize()
        .map_err(|source| RunError::File {
            action: "find the checkout",
            path: options.checkout.clone(),
            source,
        })?;
    // The engine's API takes text: a path that is not UTF-8 cannot be mounted.
    let checkout_source = checkout
        .to_str()
        .ok_or_else(|| RunError::File {
            action: "mount the checkout",
            path: checkout.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "its path is not UTF-8; move it to a path that is",
            ),
        })?
        .to_owned();
    let mut labels: HashMap<String, String> = options.labels.clone().into_iter().collect();
    labels.insert(OPERATION_LABEL.to_owned(), operation.clone());
    let body = ContainerCreateBody {
        image: Some(options.image.clone()),
        cmd: Some(
            ["/bin/sh", "-c", BOOTSTRAP, "kayobe-automation-run"]
                .into_iter()
                .map(str::to_owned)
                .chain(options.operation.command())
                .collect(),
        ),
        env: Some(options.environment(secrets)),
        working_dir: Some("/src".to_owned()),
        labels: Some(labels),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(true),
        tty: Some(false),
        host_config: Some(HostConfig {
            // A mount rather than a `binds` string, which a `:` in the path would break.
            mounts: Some(vec![Mount {
                target: Some("/src".to_owned()),
                source: Some(checkout_source),
                typ: Some(MountType::BIND),
                ..Default::default()
            }]),
            network_mode: Some("host".to_owned()),
            init: Some(true),
            // Sticky and world-writable like /tmp: the image's user (often a
            // name, so no uid to give) unpacks into it; its files are 0600.
            tmpfs: Some(HashMap::from([(
                SECRETS_DIR.to_owned(),
                "mode=1777,size=1m".to_owned(),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker
        .create_container(Some(CreateContainerOptionsBuilder::new().build()), body)
        .await
        .map_err(failed("create the Kayobe container"))?
        .id;
    let result = tokio::select! {
        result = run_in(docker, &id, options, secrets, &mut log) => result,
        () = cancel => Err(RunError::Cancelled { operation }),
    };
    if matches!(result, Err(RunError::Cancelled { .. })) {
        let grace = i32::try_from(options.stop_grace.as_secs()).unwrap_or(i32::MAX);
        // Removal below kills it if stopping fails.
        let _ = docker
            .stop_container(
                &id,
                Some(StopContainerOptionsBuilder::new().t(grace).build()),
            )
            .await;
    }
    let removed = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
    let outcome = result?;
    removed.map_err(failed("remove the Kayobe container"))?;
    Ok(outcome)
}

/// The run of the created container `id`, up to its artefacts being copied out.
async fn run_in(
    docker: &Docker,
    id: &str,
    options: &RunOptions,
    secrets: &RunSecrets,
    log: &mut impl FnMut(&str),
) -> Result<RunOutcome, RunError> {
    let failed = |action| docker_error(&options.image, action);
    let archive_error = |source| RunError::File {
        action: "build the archive for",
        path: PathBuf::from(SECRETS_DIR),
        source,
    };
    let secret_archive = secrets.archive().map_err(archive_error)?;
    docker
        .upload_to_container(
            id,
            Some(UploadToContainerOptionsBuilder::new().path("/").build()),
            bollard::body_full(
                artifacts_dir_archive(&options.container_artifacts)
                    .map_err(archive_error)?
                    .into(),
            ),
        )
        .await
        .map_err(failed(
            "create the artefact directory in the Kayobe container",
        ))?;
    // Attached before the start, so no output is missed and standard input
    // is there when the bootstrap reads it.
    let attached = docker
        .attach_container(
            id,
            Some(
                AttachContainerOptionsBuilder::new()
                    .stdin(true)
                    .stdout(true)
                    .stderr(true)
                    .stream(true)
                    .build(),
            ),
        )
        .await
        .map_err(failed("attach to the Kayobe container"))?;
    docker
        .start_container(id, None)
        .await
        .map_err(failed("start the Kayobe container"))?;
    let started = Instant::now();

    let mut input = attached.input;
    let send_secrets = async move {
        input.write_all(&secret_archive).await?;
        // End of input: the bootstrap's tar finishes and the script's
        // standard input is at its end.
        input.shutdown().await
    };
    // One per stream: a line's pieces arrive on its own stream, between
    // pieces of the other's.
    let [mut stdout, mut stderr] = [(); 2].map(|()| Masker::new(secrets.masked_values()));
    let mut emit = |text: &str, _line_ended: bool| log(text);
    let mut output = attached.output;
    let read_output = async {
        while let Some(chunk) = output.next().await {
            match chunk.map_err(failed("read the Kayobe container's output"))? {
                LogOutput::StdErr { message } => stderr.push(&message, &mut emit),
                LogOutput::StdOut { message }
                | LogOutput::Console { message }
                | LogOutput::StdIn { message } => stdout.push(&message, &mut emit),
            }
        }
        Ok::<_, RunError>(())
    };
    let (sent, read) = tokio::join!(send_secrets, read_output);
    stdout.finish(&mut emit);
    stderr.finish(&mut emit);
    read?;

    let mut exit_code = 0;
    let mut waits = docker.wait_container(id, Some(WaitContainerOptionsBuilder::new().build()));
    while let Some(wait) = waits.next().await {
        match wait {
            Ok(response) => exit_code = response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Err(DockerError::DockerContainerWaitError { code, .. }) => exit_code = code,
            Err(source) => return Err(failed("wait for the Kayobe container")(source)),
        }
    }
    let duration = started.elapsed();
    // A script that fails before reading its input closes it early; its exit
    // code and output say why, so the broken pipe only matters on success.
    if let (Err(source), 0) = (sent, exit_code) {
        return Err(RunError::File {
            action: "send the secret files to",
            path: PathBuf::from(SECRETS_DIR),
            source,
        });
    }
    let artifact_files = copy_artifacts(docker, id, options).await?;
    Ok(RunOutcome {
        exit_code,
        duration,
        artifact_files,
    })
}

/// An archive (extracted at `/`) holding the empty, world-writable artefact
/// directory, so the script's user can write there and there is always
/// something to copy out.
fn artifacts_dir_archive(dir: &str) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(0);
    header.set_mode(0o1777);
    header.set_mtime(0);
    builder.append_data(
        &mut header,
        format!("{}/", dir.trim_matches('/')),
        std::io::empty(),
    )?;
    builder.into_inner()
}

/// Copies the container's artefact directory into `options.artifacts`
/// (regular files and directories only, nothing outside it); returns how
/// many files were copied.
async fn copy_artifacts(
    docker: &Docker,
    id: &str,
    options: &RunOptions,
) -> Result<usize, RunError> {
    let mut download = docker.download_from_container(
        id,
        Some(
            DownloadFromContainerOptionsBuilder::new()
                .path(&options.container_artifacts)
                .build(),
        ),
    );
    let mut archive = Vec::new();
    while let Some(chunk) = download.next().await {
        archive.extend_from_slice(&chunk.map_err(docker_error(
            &options.image,
            "copy the artefacts out of the Kayobe container",
        ))?);
    }
    let dir = &options.artifacts;
    let unpack_error = |source| RunError::File {
        action: "copy the artefacts into",
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(unpack_error)?;
    let mut files = 0;
    for entry in tar::Archive::new(archive.as_slice())
        .entries()
        .map_err(unpack_error)?
    {
        let mut entry = entry.map_err(unpack_error)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        // The archive's top directory is the artefact directory itself.
        let path = entry.path().map_err(unpack_error)?.into_owned();
        let mut parts = path.components();
        parts.next();
        if parts
            .clone()
            .any(|part| !matches!(part, Component::Normal(_)))
        {
            continue;
        }
        let relative = parts.as_path();
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(unpack_error)?;
        }
        entry.unpack(&target).map_err(unpack_error)?;
        files += usize::from(kind.is_file());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_never_debug_printed() {
        let secrets = RunSecrets {
            vault_password: Some(Secret::new("vault-pass")),
            ssh_private_key: Some(Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\r\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----\n",
            )),
        };
        assert_eq!(
            secrets.masked_values(),
            [&b"vault-pass"[..], b"b3BlbnNzaC1rZXk", b"AAAAB3Nza"]
        );
        let debug = format!("{secrets:?}");
        assert!(
            !debug.contains("vault-pass") && !debug.contains("AAAAB3Nza"),
            "{debug}"
        );
    }

    #[test]
    fn the_environment_holds_paths_not_secrets() {
        let checkout = tempfile::tempdir().unwrap();
        let pipeline = checkout.path().join(".automation/pipeline");
        std::fs::create_dir_all(&pipeline).unwrap();
        std::fs::write(pipeline.join("overcloud-service-deploy.sh"), "").unwrap();
        let operation =
            Invocation::new(checkout.path(), "overcloud-service-deploy", Vec::new()).unwrap();
        let mut options =
            RunOptions::new("kayobe:x", Path::new("/repo"), operation, Path::new("out"));
        options.environment = Some("production".to_owned());
        options.limits.kolla_tags = Some("nova".to_owned());
        let secrets = RunSecrets {
            vault_password: Some(Secret::new("vault-pass")),
            ssh_private_key: None,
        };
        assert_eq!(
            options.environment(&secrets),
            [
                "KAYOBE_AUTOMATION_SECRETS=/run/kayobe-automation",
                "KAYOBE_AUTOMATION_ARTIFACTS=/tmp/kayobe-automation-artifacts",
                "LOGDIR=/tmp/kayobe-automation-artifacts",
                "KAYOBE_ENVIRONMENT=production",
                "KOLLA_TAGS=nova",
                "KAYOBE_VAULT_PASSWORD_FILE=/run/kayobe-automation/vault-password",
                "ANSIBLE_VAULT_PASSWORD_FILE=/run/kayobe-automation/vault-password",
            ]
        );
    }
}
