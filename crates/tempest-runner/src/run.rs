//! Running Tempest in the rally/tempest container through Docker (bollard).
//!
//! The container is created from the configured image, then the run's files
//! are copied into it before it starts — the openrc as a file (mode 0600),
//! never in the command line, the environment or the logs — and the
//! container's output is streamed to the caller with secret values masked.
//! When it exits, `/home/rally/artifacts` is copied out into the output
//! directory and the subunit stream there is reported on (summary, JUnit
//! XML, HTML). The container is removed whatever happens.
//!
//! The contract with the image (paths, environment variables naming them):
//!
//! | What | Path in the container | Variable |
//! |---|---|---|
//! | openrc | `/home/rally/openrc` | `TEMPEST_OPENRC_FILE` |
//! | load list | `/home/rally/load-list` | `TEMPEST_LOAD_LIST` (unset: all tests) |
//! | skip list | `/home/rally/skip-list` | `TEMPEST_SKIP_LIST` (unset: none) |
//! | accounts | `/home/rally/accounts.yaml` | `TEMPEST_ACCOUNTS` |
//! | tempest.conf overrides | `/home/rally/tempest-overrides.conf` | `TEMPEST_CONF_OVERRIDES` |
//! | concurrency | | `TEMPEST_CONCURRENCY` |
//! | artefacts (the stream: [`STREAM_FILE`]) | `/home/rally/artifacts` | `TEMPEST_ARTIFACTS` |

use std::fmt;
use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::image::RallyImage;
use crate::report::{ReportError, ReportOutcome, ReportPaths, report_stream};
use crate::settings::TempestPlan;

/// The subunit v2 stream the container writes in its artefact directory.
pub const STREAM_FILE: &str = "tempest.subunit";
/// The artefact directory in the container.
const ARTIFACTS: &str = "/home/rally/artifacts";

/// The content of an openrc file: credentials. `Debug` never shows it.
#[derive(Clone)]
pub struct Openrc(String);

impl Openrc {
    /// Wraps openrc text (e.g. `TEMPEST_OPENRC`'s value).
    pub fn new(text: impl Into<String>) -> Self {
        Openrc(text.into())
    }

    /// The values of its variables whose names say they are secret
    /// (`PASSWORD`, `SECRET`, `TOKEN`, `KEY`): masked in the container's logs.
    fn secret_values(&self) -> Vec<String> {
        self.0
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                let line = line.strip_prefix("export ").unwrap_or(line);
                let (name, value) = line.split_once('=')?;
                let name = name.trim().to_ascii_uppercase();
                let secret = ["PASSWORD", "SECRET", "TOKEN", "KEY"]
                    .iter()
                    .any(|word| name.contains(word));
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                (secret && !value.is_empty()).then(|| value.to_owned())
            })
            .collect()
    }
}

impl fmt::Debug for Openrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Openrc(<redacted>)")
    }
}

/// How to run the container.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The image, pulled first if it is missing or always pulled.
    pub image: RallyImage,
    /// The command run in the container.
    pub command: Vec<String>,
    /// Where artefacts and reports go (created if missing).
    pub output_dir: PathBuf,
}

/// Running Tempest failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The Docker engine could not be reached.
    #[error(
        "cannot connect to the Docker engine: {source}; check that Docker runs and DOCKER_HOST (or /var/run/docker.sock) points at it"
    )]
    Connect {
        /// Docker's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// A Docker call failed.
    #[error("cannot {action}: {source}; check that Docker runs and the image {image} is present")]
    Docker {
        /// What was being done.
        action: &'static str,
        /// The image.
        image: String,
        /// Docker's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// The image could not be pulled.
    #[error(
        "cannot pull the rally image {image}: {source}; check the image name and tag, that the registry is reachable, and KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_USERNAME/_PASSWORD"
    )]
    Pull {
        /// The image.
        image: String,
        /// Docker's error (it never holds the registry password).
        #[source]
        source: bollard::errors::Error,
    },
    /// A file of the run could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The container wrote no subunit stream.
    #[error(
        "the Tempest container (exit code {exit_code}) wrote no {STREAM_FILE} in {ARTIFACTS}; its output above says why"
    )]
    NoStream {
        /// The container's exit code.
        exit_code: i64,
    },
    /// Writing the reports failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// What a run gave.
#[derive(Debug)]
pub struct RunOutcome {
    /// The container's exit code.
    pub exit_code: i64,
    /// The stream copied out of the container.
    pub stream: PathBuf,
    /// The report on it (JUnit `junit.xml` and `report.html` beside it).
    pub report: ReportOutcome,
}

impl RunOutcome {
    /// Whether the run passed: the container exited 0, the whole stream was
    /// read and no test failed.
    pub fn is_success(&self) -> bool {
        self.exit_code == 0
            && self.report.stream_error.is_none()
            && self.report.summary.is_success()
    }
}

/// Connects to the local Docker engine (`DOCKER_HOST`, else the default
/// socket) at the API version both sides speak.
pub async fn connect_docker() -> Result<Docker, RunError> {
    let error = |source| RunError::Connect { source };
    Docker::connect_with_local_defaults()
        .map_err(error)?
        .negotiate_version()
        .await
        .map_err(error)
}

/// The environment the container gets: paths and counts, never a secret.
fn environment(plan: &TempestPlan) -> Vec<String> {
    let mut env = vec![
        "TEMPEST_OPENRC_FILE=/home/rally/openrc".to_owned(),
        format!("TEMPEST_ARTIFACTS={ARTIFACTS}"),
    ];
    if let Some(concurrency) = plan.concurrency {
        env.push(format!("TEMPEST_CONCURRENCY={concurrency}"));
    }
    if plan.load_list.is_some() {
        env.push("TEMPEST_LOAD_LIST=/home/rally/load-list".to_owned());
    }
    if plan.skip_list.is_some() {
        env.push("TEMPEST_SKIP_LIST=/home/rally/skip-list".to_owned());
    }
    if plan.accounts.is_some() {
        env.push("TEMPEST_ACCOUNTS=/home/rally/accounts.yaml".to_owned());
    }
    if plan.conf_overrides.is_some() {
        env.push("TEMPEST_CONF_OVERRIDES=/home/rally/tempest-overrides.conf".to_owned());
    }
    env
}

/// The files copied into the container, as a tar archive rooted at `/`.
fn input_archive(plan: &TempestPlan, openrc: &Openrc) -> Result<Vec<u8>, RunError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, content: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        builder.append_data(&mut header, path, content)
    };
    let archive_error = |source| RunError::File {
        action: "build the container's input archive for",
        path: PathBuf::from("/home/rally"),
        source,
    };
    add("home/rally/openrc", openrc.0.as_bytes(), 0o600).map_err(archive_error)?;
    let files = [
        (
            plan.load_list.as_ref().map(|list| &list.path),
            "home/rally/load-list",
        ),
        (
            plan.skip_list.as_ref().map(|list| &list.path),
            "home/rally/skip-list",
        ),
        (plan.accounts.as_ref(), "home/rally/accounts.yaml"),
        (
            plan.conf_overrides.as_ref(),
            "home/rally/tempest-overrides.conf",
        ),
    ];
    for (source, target) in files {
        let Some(source) = source else { continue };
        let content = std::fs::read(source).map_err(|error| RunError::File {
            action: "read",
            path: source.clone(),
            source: error,
        })?;
        add(target, &content, 0o644).map_err(archive_error)?;
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(0);
    header.set_mode(0o777);
    header.set_mtime(0);
    builder
        .append_data(&mut header, "home/rally/artifacts/", &[][..])
        .map_err(archive_error)?;
    builder.into_inner().map_err(archive_error)
}

/// Runs Tempest as `plan` says in a new container of `options.image`,
/// passing each line of its output (secrets masked) to `log`, and reports on
/// the stream it writes.
pub async fn run_tempest(
    docker: &Docker,
    plan: &TempestPlan,
    openrc: &Openrc,
    options: &RunOptions,
    mut log: impl FnMut(&str),
) -> Result<RunOutcome, RunError> {
    let docker_error = |action| {
        let image = options.image.reference.clone();
        move |source| RunError::Docker {
            action,
            image,
            source,
        }
    };
    let archive = input_archive(plan, openrc)?;
    options
        .image
        .ensure(docker, &mut log)
        .await
        .map_err(|source| RunError::Pull {
            image: options.image.reference.clone(),
            source,
        })?;
    let body = ContainerCreateBody {
        image: Some(options.image.reference.clone()),
        cmd: Some(options.command.clone()),
        env: Some(environment(plan)),
        tty: Some(false),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::new().build()), body)
        .await
        .map_err(docker_error("create the Tempest container"))?;
    let id = created.id;
    let result = run_in(
        docker,
        &id,
        archive,
        openrc,
        options,
        &mut log,
        &docker_error,
    )
    .await;
    let removed = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
    let outcome = result?;
    removed.map_err(docker_error("remove the Tempest container"))?;
    Ok(outcome)
}

async fn run_in<F>(
    docker: &Docker,
    id: &str,
    archive: Vec<u8>,
    openrc: &Openrc,
    options: &RunOptions,
    log: &mut impl FnMut(&str),
    docker_error: &impl Fn(&'static str) -> F,
) -> Result<RunOutcome, RunError>
where
    F: FnOnce(bollard::errors::Error) -> RunError,
{
    docker
        .upload_to_container(
            id,
            Some(UploadToContainerOptionsBuilder::new().path("/").build()),
            bollard::body_full(archive.into()),
        )
        .await
        .map_err(docker_error(
            "copy the openrc and lists into the Tempest container",
        ))?;
    docker
        .start_container(id, None)
        .await
        .map_err(docker_error("start the Tempest container"))?;

    let mut secrets = openrc.secret_values();
    secrets.extend(
        options
            .image
            .login
            .iter()
            .map(|login| login.password().to_owned()),
    );
    let mut logs = docker.logs(
        id,
        Some(
            LogsOptionsBuilder::new()
                .follow(true)
                .stdout(true)
                .stderr(true)
                .build(),
        ),
    );
    let mut pending = String::new();
    while let Some(chunk) = logs.next().await {
        let chunk = chunk.map_err(docker_error("read the Tempest container's output"))?;
        let bytes = match &chunk {
            LogOutput::StdOut { message }
            | LogOutput::StdErr { message }
            | LogOutput::Console { message }
            | LogOutput::StdIn { message } => message,
        };
        pending.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            log(&mask(line.trim_end_matches(['\n', '\r']), &secrets));
        }
    }
    if !pending.is_empty() {
        log(&mask(&pending, &secrets));
    }

    let mut exit_code = 0;
    let mut waits = docker.wait_container(id, Some(WaitContainerOptionsBuilder::new().build()));
    while let Some(wait) = waits.next().await {
        match wait {
            Ok(response) => exit_code = response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Err(bollard::errors::Error::DockerContainerWaitError { code, .. }) => exit_code = code,
            Err(source) => return Err(docker_error("wait for the Tempest container")(source)),
        }
    }

    std::fs::create_dir_all(&options.output_dir).map_err(|source| RunError::File {
        action: "create the output directory",
        path: options.output_dir.clone(),
        source,
    })?;
    let mut download = docker.download_from_container(
        id,
        Some(
            DownloadFromContainerOptionsBuilder::new()
                .path(ARTIFACTS)
                .build(),
        ),
    );
    let mut artifacts = Vec::new();
    while let Some(chunk) = download.next().await {
        artifacts.extend_from_slice(&chunk.map_err(docker_error(
            "copy the artefacts out of the Tempest container",
        ))?);
    }
    unpack_artifacts(&artifacts, &options.output_dir)?;

    let stream = options.output_dir.join(STREAM_FILE);
    let file = match std::fs::File::open(&stream) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(RunError::NoStream { exit_code });
        }
        Err(source) => {
            return Err(RunError::File {
                action: "open",
                path: stream,
                source,
            });
        }
    };
    let report = report_stream(
        file,
        &ReportPaths {
            junit: Some(options.output_dir.join("junit.xml")),
            html: Some(options.output_dir.join("report.html")),
        },
    )?;
    Ok(RunOutcome {
        exit_code,
        stream,
        report,
    })
}

/// Unpacks the regular files of the `artifacts/` archive Docker gives into
/// `dir` (the archive's top directory dropped; nothing outside `dir`).
fn unpack_artifacts(archive: &[u8], dir: &Path) -> Result<(), RunError> {
    let archive_error = |source| RunError::File {
        action: "unpack the Tempest artefacts into",
        path: dir.to_path_buf(),
        source,
    };
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(archive_error)?.into_owned();
        // Drop the leading `artifacts/`; keep only plain relative parts.
        let relative: PathBuf = path
            .components()
            .skip(1)
            .filter_map(|part| match part {
                std::path::Component::Normal(part) => Some(part),
                _ => None,
            })
            .collect();
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(archive_error)?;
        }
        let mut out = std::fs::File::create(&target).map_err(archive_error)?;
        std::io::copy(&mut entry, &mut out).map_err(archive_error)?;
    }
    Ok(())
}

/// `line` with every secret value replaced by `********`.
fn mask(line: &str, secrets: &[String]) -> String {
    let mut line = line.to_owned();
    for secret in secrets {
        if line.contains(secret.as_str()) {
            line = line.replace(secret.as_str(), "********");
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openrc_secrets_are_masked_and_never_debug_printed() {
        let openrc = Openrc::new(
            "export OS_AUTH_URL=http://keystone:5000\nexport OS_PASSWORD='s3cr3t pass'\nOS_APPLICATION_CREDENTIAL_SECRET=\"abc\"\nexport OS_USERNAME=admin\n",
        );
        assert_eq!(openrc.secret_values(), ["s3cr3t pass", "abc"]);
        assert_eq!(format!("{openrc:?}"), "Openrc(<redacted>)");
        assert_eq!(
            mask(
                "user admin password s3cr3t pass at http://keystone:5000",
                &openrc.secret_values()
            ),
            "user admin password ******** at http://keystone:5000"
        );
    }
}
