//! Running one command in a new container, secrets kept out of the engine's
//! records, and removing the container however the run ends.
//!
//! **Secrets never touch the engine's records or the container's layer.**
//! They live on a tmpfs mount ([`SECRETS_DIR`]). The engine cannot copy into
//! a tmpfs (its archive API writes beneath the mount, into the layer on
//! disk), so the container's entrypoint is a bootstrap — `umask 077`, `tar
//! -x` from standard input into the tmpfs, then `exec` the command — and the
//! secret files travel as a tar stream over the attach connection. A secret
//! the command wants in a variable ([`SecretFile::env`]) is read from its
//! file by the bootstrap just before the `exec`, so it exists only in the
//! command's own process; one wanted at a fixed path ([`SecretFile::link`])
//! gets a symbolic link there. The container's command, environment and
//! labels (all `docker inspect` shows) hold only paths and names; the image
//! needs `/bin/sh`, `tar`, `cat` and `ln`.
//!
//! Output is read from the same attach connection, one [`Masker`] per
//! stream, so a secret cut across chunks is still masked. Files the command
//! needs that are not secret ([`ContainerSpec::files`]) are copied in before
//! the start; what it leaves ([`ContainerSpec::collect`]) is copied out after
//! it exits, through [`extract`]. A directory the command only writes its
//! results into ([`ContainerSpec::outputs`]) costs no copy through the
//! engine (each of which mounts the container's file system, tens of
//! milliseconds): it is a private staging directory on the host, mounted
//! in, whose content goes through the same [`extract`] after the run.
//! Mounts are structured (a `:` in a path is
//! fine). The container runs with an init process, so a stop signal reaches
//! the command; when `cancel` completes it is stopped (with a grace period)
//! and in every case removed.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

use crate::archive::{ExtractError, FileEntry, extract, tar_of};
use crate::engine::{EngineError, call_failed};
use crate::mask::Masker;
use kayobe_stdx::Secret;

/// The tmpfs mount holding the secret files.
pub const SECRETS_DIR: &str = "/run/kayobe-automation";

/// A secret handed to the command as a file on the tmpfs.
#[derive(Debug, Clone)]
pub struct SecretFile {
    /// The file's name in [`SECRETS_DIR`] (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// Its content (mode 0600, owned by the image's user).
    pub value: Secret,
    /// Variables the bootstrap sets to the content (trailing newlines
    /// dropped) in the command's own process only.
    pub env: Vec<String>,
    /// A path where the bootstrap puts a symbolic link to the file.
    pub link: Option<String>,
}

impl SecretFile {
    /// The secret `value` as the file `name`, nothing more.
    pub fn new(name: &str, value: Secret) -> Self {
        Self {
            name: name.to_owned(),
            value,
            env: Vec::new(),
            link: None,
        }
    }

    /// The file's path in the container.
    pub fn path(&self) -> String {
        format!("{SECRETS_DIR}/{}", self.name)
    }
}

/// A host directory or file bind-mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// The host path.
    pub source: PathBuf,
    /// The path in the container.
    pub target: String,
    /// Whether the container may only read it.
    pub read_only: bool,
}

/// What to copy out of the container once its command exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collect {
    /// The directory in the container.
    pub from: String,
    /// The host directory its content goes to (created if missing).
    pub into: PathBuf,
    /// Only when the command exited 0.
    pub on_success_only: bool,
}

/// An empty directory the command writes its results into (e.g. its
/// artefacts), from which they reach `into` after the run.
///
/// It is a staging directory on the host, mounted at `at`: world-writable
/// and sticky like `/tmp`, since the image's user is often a name with no
/// uid to give it, inside a directory of ours others may pass through but
/// not list, with a random name. After the command exits its content is
/// read as an archive from the container is (links not followed, paths and
/// links that leave it refused, special files skipped) into `into`, and the
/// staging directory is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDir {
    /// Where the command sees it.
    pub at: String,
    /// The host directory its content goes to (created if missing).
    pub into: PathBuf,
}

/// One container run.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// The image (present in the engine).
    pub image: String,
    /// The command and its arguments (the image's entrypoint is replaced by
    /// the bootstrap, which `exec`s this).
    pub command: Vec<String>,
    /// `NAME=value` pairs: names and paths, never a secret.
    pub env: Vec<String>,
    /// The working directory (the image's when `None`).
    pub working_dir: Option<String>,
    /// Bind mounts.
    pub mounts: Vec<BindMount>,
    /// Labels (e.g. to find a run's container).
    pub labels: BTreeMap<String, String>,
    /// Whether the container uses the host's network.
    pub host_network: bool,
    /// Secret files on the tmpfs.
    pub secrets: Vec<SecretFile>,
    /// More values to mask in the output (besides each secret's lines).
    pub masked: Vec<Vec<u8>>,
    /// Files and directories copied in before the start (not secrets).
    pub files: Vec<FileEntry>,
    /// What to copy out after the command exits.
    pub collect: Vec<Collect>,
    /// Directories the command writes its results into.
    pub outputs: Vec<OutputDir>,
    /// How long a cancelled run gets to stop before it is killed.
    pub stop_grace: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerOutcome {
    /// The command's exit code.
    pub exit_code: i64,
    /// From the container's start until it exited.
    pub duration: Duration,
    /// How many files each [`ContainerSpec::collect`] entry copied out
    /// (`None`: skipped, or the directory was not there).
    pub collected: Vec<Option<usize>>,
    /// How many files each [`ContainerSpec::outputs`] entry received.
    pub outputs: Vec<usize>,
}

/// Why a run could not be carried out (a command failing is not an error:
/// see [`ContainerOutcome::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A call to the engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// An archive copied out of the container was refused or not written.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// The secret files could not be handed over.
    #[error(
        "cannot send the secret files to the container's bootstrap: {source}; its output above says why it stopped reading"
    )]
    SendSecrets {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A name in the spec cannot be used safely in the bootstrap.
    #[error(
        "`{name}` cannot name a secret file, variable or link; use letters, digits, `.`, `_`, `-` (and `/` in a link path)"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// A mount source is not a UTF-8 path (the engine's API takes text).
    #[error("cannot mount {}: its path is not UTF-8; move it to a path that is", path.display())]
    NotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// An output directory could not be staged or read back.
    #[error("cannot {action} {}: {source}", path.display())]
    Output {
        /// What was being done.
        action: &'static str,
        /// The staging directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The run was cancelled; the container was stopped and removed.
    #[error("the run was cancelled; its container was stopped and removed")]
    Cancelled,
}

/// The host side of an [`OutputDir`] while the run lasts.
struct Staging {
    /// Ours, 0711: passable, not listable; removed (with `dir`) when dropped.
    _parent: tempfile::TempDir,
    /// Mounted into the container, 1777.
    dir: PathBuf,
}

impl Staging {
    fn new() -> Result<Self, RunError> {
        use std::os::unix::fs::PermissionsExt;
        let failed = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| RunError::Output {
                action,
                path,
                source,
            }
        };
        let parent = tempfile::Builder::new()
            .prefix("kayobe-automation-output-")
            .permissions(std::fs::Permissions::from_mode(0o711))
            .tempdir()
            .map_err(failed("create", &std::env::temp_dir()))?;
        // The parent's permissions are set past the umask; the staging
        // directory's are set after it exists for the same reason.
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o711))
            .map_err(failed("set the permissions of", parent.path()))?;
        let dir = tempfile::Builder::new()
            .prefix("")
            .tempdir_in(parent.path())
            .map_err(failed("create", parent.path()))?
            .keep();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777))
            .map_err(failed("set the permissions of", &dir))?;
        Ok(Self {
            _parent: parent,
            dir,
        })
    }

    /// Moves what the command left into `into`; how many files.
    fn collect(&self, into: &Path) -> Result<usize, RunError> {
        let read = |source| RunError::Output {
            action: "read",
            path: self.dir.clone(),
            source,
        };
        let mut archive = tar::Builder::new(Vec::new());
        archive.follow_symlinks(false);
        archive.mode(tar::HeaderMode::Complete);
        append_tree(&mut archive, &self.dir, Path::new("output")).map_err(read)?;
        let archive = archive.into_inner().map_err(read)?;
        Ok(extract(&archive, into)?)
    }
}

/// Appends the tree at `dir` under `name`, links as links; special files
/// (sockets, FIFOs, devices) are left out, as the engine's copy-out leaves
/// them for [`extract`] to skip.
fn append_tree(
    archive: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    name: &Path,
) -> std::io::Result<()> {
    archive.append_path_with_name(dir, name)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let inside = name.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            append_tree(archive, &path, &inside)?;
        } else if kind.is_file() || kind.is_symlink() {
            archive.append_path_with_name(&path, &inside)?;
        }
    }
    Ok(())
}

/// The bootstrap: unpacks the secrets from standard input into the tmpfs,
/// sets the variables and links, then becomes the command.
fn bootstrap(secrets: &[SecretFile]) -> Result<String, RunError> {
    let plain = |name: &str, extra: &[char]| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c) || extra.contains(&c))
    };
    let bad = |name: &str| RunError::BadName {
        name: name.to_owned(),
    };
    let mut script = format!("umask 077 && tar -x -f - -C {SECRETS_DIR}");
    for secret in secrets {
        if !plain(&secret.name, &[]) || secret.name.starts_with('.') {
            return Err(bad(&secret.name));
        }
        let path = secret.path();
        for var in &secret.env {
            let valid = plain(var, &[])
                && !var.contains(['.', '-'])
                && !var.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(bad(var));
            }
            script.push_str(&format!(" && {var}=\"$(cat {path})\" && export {var}"));
        }
        if let Some(link) = &secret.link {
            if !plain(link, &['/']) || link.split('/').any(|part| part == "..") {
                return Err(bad(link));
            }
            script.push_str(&format!(" && ln -sf {path} {link}"));
        }
    }
    script.push_str(" && exec \"$@\"");
    Ok(script)
}

/// The engine's bind mount of `source` at `target`.
fn bind_mount(source: &Path, target: &str, read_only: bool) -> Result<Mount, RunError> {
    let text = source.to_str().ok_or_else(|| RunError::NotUtf8 {
        path: source.to_path_buf(),
    })?;
    Ok(Mount {
        target: Some(target.to_owned()),
        source: Some(text.to_owned()),
        typ: Some(MountType::BIND),
        read_only: Some(read_only),
        ..Default::default()
    })
}

/// The tar stream the bootstrap unpacks.
fn secrets_archive(secrets: &[SecretFile]) -> std::io::Result<Vec<u8>> {
    let entries: Vec<FileEntry> = secrets
        .iter()
        .map(|secret| FileEntry::file(secret.name.clone(), secret.value.expose(), 0o600))
        .collect();
    tar_of(&entries)
}

/// A secret's non-empty lines, surrounding white space trimmed: what the
/// masker looks for, as a multi-line secret is printed line by line.
fn secret_lines(secret: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    secret
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
}

impl ContainerSpec {
    /// The values masked in the output: each line of each secret (but a
    /// PEM key's `-----BEGIN/END …-----` armour) and [`ContainerSpec::masked`].
    fn masked_values(&self) -> Vec<Vec<u8>> {
        self.secrets
            .iter()
            .flat_map(|secret| secret_lines(secret.value.expose()))
            .filter(|line| !line.starts_with(b"-----"))
            .chain(self.masked.iter().cloned())
            .collect()
    }

    fn create_body(&self) -> Result<ContainerCreateBody, RunError> {
        let mounts = self
            .mounts
            .iter()
            .map(|mount| bind_mount(&mount.source, &mount.target, mount.read_only))
            .collect::<Result<Vec<_>, RunError>>()?;
        Ok(ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                bootstrap(&self.secrets)?,
                "kayobe-automation-bootstrap".to_owned(),
            ]),
            cmd: Some(self.command.clone()),
            env: Some(self.env.clone()),
            working_dir: self.working_dir.clone(),
            labels: Some(self.labels.clone().into_iter().collect()),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(false),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                network_mode: self.host_network.then(|| "host".to_owned()),
                init: Some(true),
                // Sticky and world-writable like /tmp: the image's user
                // (often a name, so no uid to give) unpacks into it; its
                // files are 0600.
                tmpfs: Some(HashMap::from([(
                    SECRETS_DIR.to_owned(),
                    "mode=1777,size=1m".to_owned(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}

/// Runs `spec` in a new container, passing each line of its output
/// (secrets masked) to `log`; the run is cancelled when `cancel` completes.
/// The container is removed whatever happens. A line longer than 64 KiB
/// comes in pieces (each masked).
pub async fn run_container(
    docker: &Docker,
    spec: &ContainerSpec,
    mut log: impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<ContainerOutcome, RunError> {
    let staging = spec
        .outputs
        .iter()
        .map(|_| Staging::new())
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = spec.create_body()?;
    if let Some(mounts) = body.host_config.as_mut().and_then(|c| c.mounts.as_mut()) {
        for (output, staged) in spec.outputs.iter().zip(&staging) {
            mounts.push(bind_mount(&staged.dir, &output.at, false)?);
        }
    }
    let id = docker
        .create_container(Some(CreateContainerOptionsBuilder::new().build()), body)
        .await
        .map_err(call_failed(format!("create a container of {}", spec.image)))?
        .id;
    let result = tokio::select! {
        result = run_in(docker, &id, spec, &mut log) => result,
        () = cancel => Err(RunError::Cancelled),
    };
    if matches!(result, Err(RunError::Cancelled)) {
        let grace = i32::try_from(spec.stop_grace.as_secs()).unwrap_or(i32::MAX);
        // Removal below kills it if stopping fails.
        let _ = docker
            .stop_container(
                &id,
                Some(StopContainerOptionsBuilder::new().t(grace).build()),
            )
            .await;
    }
    let removed = remove_container(docker, &id).await;
    let mut outcome = result?;
    removed?;
    for (output, staged) in spec.outputs.iter().zip(&staging) {
        outcome.outputs.push(staged.collect(&output.into)?);
    }
    Ok(outcome)
}

/// Removes the container `id`, killing it if it runs.
pub async fn remove_container(docker: &Docker, id: &str) -> Result<(), EngineError> {
    docker
        .remove_container(
            id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await
        .map_err(call_failed("remove the container"))
}

/// The run of the created container `id`, up to its files being copied out.
async fn run_in(
    docker: &Docker,
    id: &str,
    spec: &ContainerSpec,
    log: &mut impl FnMut(&str),
) -> Result<ContainerOutcome, RunError> {
    let secret_archive =
        secrets_archive(&spec.secrets).map_err(|source| RunError::SendSecrets { source })?;
    if !spec.files.is_empty() {
        let files = tar_of(&spec.files).map_err(|source| RunError::SendSecrets { source })?;
        docker
            .upload_to_container(
                id,
                Some(UploadToContainerOptionsBuilder::new().path("/").build()),
                bollard::body_full(files.into()),
            )
            .await
            .map_err(call_failed("copy the run's files into the container"))?;
    }
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
        .map_err(call_failed("attach to the container"))?;
    docker
        .start_container(id, None)
        .await
        .map_err(call_failed(format!("start a container of {}", spec.image)))?;
    let started = Instant::now();

    let mut input = attached.input;
    let send_secrets = async move {
        input.write_all(&secret_archive).await?;
        // End of input: the bootstrap's tar finishes and the command's
        // standard input is at its end.
        input.shutdown().await
    };
    // One per stream: a line's pieces arrive on its own stream, between
    // pieces of the other's.
    let [mut stdout, mut stderr] = [(); 2].map(|()| Masker::new(spec.masked_values()));
    let mut emit = |text: &str, _line_ended: bool| log(text);
    let mut output = attached.output;
    let read_output = async {
        while let Some(chunk) = output.next().await {
            match chunk.map_err(call_failed("read the container's output"))? {
                LogOutput::StdErr { message } => stderr.push(&message, &mut emit),
                LogOutput::StdOut { message }
                | LogOutput::Console { message }
                | LogOutput::StdIn { message } => stdout.push(&message, &mut emit),
            }
        }
        Ok::<_, RunError>(())
    };
    // Asked for at the start, so the answer comes as the command ends
    // rather than a round trip after its output.
    let (sent, read, exit_code) = tokio::join!(send_secrets, read_output, wait_exit(docker, id));
    stdout.finish(&mut emit);
    stderr.finish(&mut emit);
    read?;
    let exit_code = exit_code?;
    let duration = started.elapsed();
    // A command that fails before reading its input closes it early; its
    // exit code and output say why, so the broken pipe only matters on success.
    if let (Err(source), 0) = (sent, exit_code) {
        return Err(RunError::SendSecrets { source });
    }
    let mut collected = Vec::new();
    for collect in &spec.collect {
        collected.push(if collect.on_success_only && exit_code != 0 {
            None
        } else {
            copy_out(docker, id, &collect.from, &collect.into).await?
        });
    }
    Ok(ContainerOutcome {
        exit_code,
        duration,
        collected,
        outputs: Vec::new(),
    })
}

/// Waits for the container to exit; its exit code.
async fn wait_exit(docker: &Docker, id: &str) -> Result<i64, EngineError> {
    let mut exit_code = 0;
    let mut waits = docker.wait_container(id, Some(WaitContainerOptionsBuilder::new().build()));
    while let Some(wait) = waits.next().await {
        match wait {
            Ok(response) => exit_code = response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Err(DockerError::DockerContainerWaitError { code, .. }) => exit_code = code,
            Err(source) => return Err(call_failed("wait for the container")(source)),
        }
    }
    Ok(exit_code)
}

/// Copies the directory `from` out of container `id` into `into`; how many
/// files, or `None` when the container has no such directory.
pub async fn copy_out(
    docker: &Docker,
    id: &str,
    from: &str,
    into: &Path,
) -> Result<Option<usize>, RunError> {
    let mut download = docker.download_from_container(
        id,
        Some(
            DownloadFromContainerOptionsBuilder::new()
                .path(from)
                .build(),
        ),
    );
    let mut archive = Vec::new();
    while let Some(chunk) = download.next().await {
        match chunk {
            Ok(bytes) => archive.extend_from_slice(&bytes),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(source) => {
                return Err(
                    call_failed(format!("copy {from} out of the container"))(source).into(),
                );
            }
        }
    }
    Ok(Some(extract(&archive, into)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, env: Option<&str>, link: Option<&str>) -> SecretFile {
        SecretFile {
            name: name.to_owned(),
            value: Secret::new("s3cr3t"),
            env: env.into_iter().map(str::to_owned).collect(),
            link: link.map(str::to_owned),
        }
    }

    #[test]
    fn an_output_is_staged_privately_and_read_back_as_hostile() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        let staging = Staging::new().unwrap();
        let parent = staging.dir.parent().unwrap().to_path_buf();
        assert_eq!(mode(&parent), 0o711);
        assert_eq!(mode(&staging.dir), 0o1777);
        std::fs::create_dir(staging.dir.join("logs")).unwrap();
        std::fs::write(staging.dir.join("logs/run.log"), "ran\n").unwrap();
        std::os::unix::fs::symlink("run.log", staging.dir.join("logs/latest")).unwrap();
        let fifo = staging.dir.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let into = tempfile::tempdir().unwrap();
        // One regular file; the link comes too, as a link.
        assert_eq!(staging.collect(into.path()).unwrap(), 1);
        assert_eq!(
            std::fs::read_to_string(into.path().join("logs/latest")).unwrap(),
            "ran\n"
        );
        assert!(!into.path().join("fifo").exists());

        // A link out of the output is refused, and nothing is read through it.
        std::os::unix::fs::symlink("/etc/hostname", staging.dir.join("escape")).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(matches!(
            staging.collect(elsewhere.path()),
            Err(RunError::Extract(_))
        ));
        drop(staging);
        assert!(!parent.exists());
    }

    #[test]
    fn the_bootstrap_names_paths_never_values() {
        let script = bootstrap(&[
            secret("vault-password", Some("VAULT_PASS"), None),
            secret("openrc", None, Some("/home/rally/openrc")),
        ])
        .unwrap();
        assert_eq!(
            script,
            "umask 077 && tar -x -f - -C /run/kayobe-automation \
             && VAULT_PASS=\"$(cat /run/kayobe-automation/vault-password)\" && export VAULT_PASS \
             && ln -sf /run/kayobe-automation/openrc /home/rally/openrc && exec \"$@\""
        );
        assert!(!script.contains("s3cr3t"));
    }

    #[test]
    fn names_that_could_change_the_bootstrap_are_refused() {
        for bad in [
            secret("a b", None, None),
            secret("../x", None, None),
            secret(".hidden", None, None),
            secret("ok", Some("A;B"), None),
            secret("ok", Some("1A"), None),
            secret("ok", None, Some("/x/../y")),
            secret("ok", None, Some("$(reboot)")),
        ] {
            assert!(matches!(bootstrap(&[bad]), Err(RunError::BadName { .. })));
        }
    }

    #[test]
    fn masked_values_are_the_secret_lines_without_armour() {
        let spec = ContainerSpec {
            secrets: vec![SecretFile::new(
                "key",
                Secret::new(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\r\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                ),
            )],
            masked: vec![b"registry-pass".to_vec()],
            ..ContainerSpec::default()
        };
        assert_eq!(
            spec.masked_values(),
            [
                b"b3Bl".to_vec(),
                b"AAAA".to_vec(),
                b"registry-pass".to_vec()
            ]
        );
    }
}
