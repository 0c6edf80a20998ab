//! Generated mode: the kolla configuration Kayobe generates for one side,
//! made in the Kayobe container through Docker (bollard).
//!
//! The contract with the image, for each side in turn:
//!
//! | What | In the container |
//! |---|---|
//! | the side's checkout (secrets already masked, [`crate::redact`]) | bind-mounted at [`CHECKOUT`] — the same path for both sides, because paths leak into generated files |
//! | `KAYOBE_CONFIG_PATH` | [`CHECKOUT`]`/<config path relative to the repository>` |
//! | the vault password | the file [`VAULT_PASSWORD_FILE`] (mode 0600, the image user's), copied in before the start: never in the command line, the environment or `docker inspect` |
//! | the command | `kayobe overcloud service configuration generate --node-config-dir` [`NODE_CONFIG_DIR`] `--vault-password-file` [`VAULT_PASSWORD_FILE`], then `--limit`, `--tags`, `--kolla-limit`, `--kolla-tags` when set and `KAYOBE_EXTRA_ARGS` split on white space (as the shell's unquoted expansion does) |
//! | the environment | `KAYOBE_AUTOMATION_CONFIG_DIFF=1` (configuration may branch on it), `KAYOBE_CONFIG_PATH`, and `KAYOBE_ENVIRONMENT`, `KAYOBE_LIMIT`, `KAYOBE_TAGS`, `KOLLA_LIMIT`, `KOLLA_TAGS`, `KAYOBE_EXTRA_ARGS` when set |
//! | the output | Kayobe writes one directory per host, `<dir>/<inventory_hostname>`; [`NODE_CONFIG_DIR`] is copied out when the container exits 0 |
//!
//! The container's output goes to the caller line by line, with the vault
//! password masked should it ever appear; the container is removed whatever
//! happens.

use std::path::Path;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;
use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::VaultSecret;

use crate::diff::ConfigDiff;
use crate::mask::Masker;
use crate::redact::redact_checkout;
use crate::{DiffError, tree};

/// Where each side's checkout is mounted.
pub const CHECKOUT: &str = "/src";
/// The directory of the run's own files in the container.
const RUN_DIR: &str = "/kayobe-automation";
/// The vault password file in the container.
pub const VAULT_PASSWORD_FILE: &str = "/kayobe-automation/vault-password";
/// Where Kayobe writes the generated configuration in the container.
pub const NODE_CONFIG_DIR: &str = "/kayobe-automation/node-config";

/// How to run the generation: the image and what Kayobe is told.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// The Kayobe image reference (present in the engine).
    pub image: String,
    /// `KAYOBE_ENVIRONMENT` (else each revision's `.environment` file).
    pub environment: Option<String>,
    /// `KAYOBE_LIMIT` (`--limit`).
    pub limit: Option<String>,
    /// `KAYOBE_TAGS` (`--tags`).
    pub tags: Option<String>,
    /// `KOLLA_LIMIT` (`--kolla-limit`).
    pub kolla_limit: Option<String>,
    /// `KOLLA_TAGS` (`--kolla-tags`).
    pub kolla_tags: Option<String>,
    /// `KAYOBE_EXTRA_ARGS`: more `kayobe` arguments, split on white space.
    pub extra_args: Option<String>,
}

impl GenerateOptions {
    /// The limits, tags and extra arguments, each with its environment
    /// variable and its `kayobe` option (none for the extra arguments).
    fn passed_through(&self) -> [(&'static str, &'static str, Option<&String>); 5] {
        [
            ("KAYOBE_LIMIT", "--limit", self.limit.as_ref()),
            ("KAYOBE_TAGS", "--tags", self.tags.as_ref()),
            ("KOLLA_LIMIT", "--kolla-limit", self.kolla_limit.as_ref()),
            ("KOLLA_TAGS", "--kolla-tags", self.kolla_tags.as_ref()),
            ("KAYOBE_EXTRA_ARGS", "", self.extra_args.as_ref()),
        ]
    }

    /// The container's command line: no secret in it.
    pub fn command(&self) -> Vec<String> {
        let mut command: Vec<String> = [
            "kayobe",
            "overcloud",
            "service",
            "configuration",
            "generate",
            "--node-config-dir",
            NODE_CONFIG_DIR,
            "--vault-password-file",
            VAULT_PASSWORD_FILE,
        ]
        .map(str::to_owned)
        .to_vec();
        for (_, option, value) in self.passed_through() {
            match value {
                Some(value) if option.is_empty() => {
                    command.extend(value.split_whitespace().map(str::to_owned));
                }
                Some(value) => command.extend([option.to_owned(), value.clone()]),
                None => {}
            }
        }
        command
    }

    /// The container's environment, for a configuration at `config_path`
    /// (relative to the repository root): no secret in it.
    pub fn environment(&self, config_path: &Path) -> Vec<String> {
        let mut env = vec![
            "KAYOBE_AUTOMATION_CONFIG_DIFF=1".to_owned(),
            format!(
                "KAYOBE_CONFIG_PATH={}",
                Path::new(CHECKOUT).join(config_path).display()
            ),
        ];
        if let Some(environment) = &self.environment {
            env.push(format!("KAYOBE_ENVIRONMENT={environment}"));
        }
        for (name, _, value) in self.passed_through() {
            if let Some(value) = value {
                env.push(format!("{name}={value}"));
            }
        }
        env
    }
}

/// Diffs the configuration Kayobe generates from the revisions `base` and
/// `target` (with `base` merged in) of the repository holding `config_path`:
/// each side is extracted,
/// its secrets masked ([`redact_checkout`]), generated in a container of
/// `options.image` ([`generate`]), and the two trees compared (files only;
/// [`ConfigDiff::hosts`] stays empty). The containers' output goes to `log`,
/// each side's after a line naming its revision.
pub async fn diff_generated(
    docker: &Docker,
    config_path: &Path,
    base: &str,
    target: &str,
    secret: Option<&VaultSecret>,
    options: &GenerateOptions,
    mut log: impl FnMut(&str),
) -> Result<ConfigDiff, DiffError> {
    let (git, relative) = crate::locate(config_path)?;
    let masker = Masker::new(secret);
    // The target with the base merged in, as in the variables diff.
    let trees = [git.tree_id(base)?, git.merged_tree(target, base)?];
    let mut outputs = Vec::new();
    for (revision, tree) in [base, target].into_iter().zip(trees) {
        // Which revision the container output that follows belongs to.
        log(&format!(
            "generating the configuration of revision `{revision}`"
        ));
        let in_revision = async {
            let checkout = tempfile::tempdir().map_err(DiffError::TempDir)?;
            git.export(tree, checkout.path())?;
            redact_checkout(checkout.path(), secret, &masker)?;
            // The revision's own `.environment` when none is given, as the
            // variables diff reads it; Kayobe itself only reads the variable.
            let side_repo = ConfigRepo::open(
                &checkout.path().join(&relative),
                options.environment.as_deref(),
            )?;
            let side_options = GenerateOptions {
                environment: side_repo.environment().map(str::to_owned),
                ..options.clone()
            };
            let output = tempfile::tempdir().map_err(DiffError::TempDir)?;
            generate(
                docker,
                checkout.path(),
                &relative,
                secret,
                &side_options,
                output.path(),
                &mut log,
            )
            .await?;
            Ok(output)
        };
        outputs.push(in_revision.await.map_err(|source| DiffError::Revision {
            revision: revision.to_owned(),
            source: Box::new(source),
        })?);
    }
    let generated = |output: &tempfile::TempDir| output.path().join("node-config");
    Ok(ConfigDiff {
        files: tree::diff_dirs(&generated(&outputs[0]), &generated(&outputs[1]))?,
        ..ConfigDiff::default()
    })
}

/// Runs the generation for the checkout at `checkout` (configuration at
/// `config_path` inside it) and unpacks the generated tree into `into`,
/// passing each line of the container's output to `log`.
pub async fn generate(
    docker: &Docker,
    checkout: &Path,
    config_path: &Path,
    secret: Option<&VaultSecret>,
    options: &GenerateOptions,
    into: &Path,
    log: &mut impl FnMut(&str),
) -> Result<(), DiffError> {
    let docker_error = |action: &'static str| {
        let image = options.image.clone();
        move |source| DiffError::Docker {
            action,
            image,
            source,
        }
    };
    let image = docker
        .inspect_image(&options.image)
        .await
        .map_err(docker_error("find the Kayobe image"))?;
    let user = image.config.and_then(|config| config.user);
    let owner =
        numeric_owner(user.as_deref().unwrap_or_default()).ok_or_else(|| DiffError::ImageUser {
            image: options.image.clone(),
            user: user.clone().unwrap_or_default(),
        })?;
    let body = ContainerCreateBody {
        image: Some(options.image.clone()),
        cmd: Some(options.command()),
        env: Some(options.environment(config_path)),
        tty: Some(false),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{}:{CHECKOUT}", checkout.display())]),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let id = docker
        .create_container(Some(CreateContainerOptionsBuilder::new().build()), body)
        .await
        .map_err(docker_error("create the Kayobe container"))?
        .id;
    let result = run_in(docker, &id, secret, owner, into, log, &docker_error).await;
    let removed = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
    result?;
    removed.map_err(docker_error("remove the Kayobe container"))
}

async fn run_in<F>(
    docker: &Docker,
    id: &str,
    secret: Option<&VaultSecret>,
    owner: (u64, u64),
    into: &Path,
    log: &mut impl FnMut(&str),
    docker_error: &impl Fn(&'static str) -> F,
) -> Result<(), DiffError>
where
    F: FnOnce(bollard::errors::Error) -> DiffError,
{
    docker
        .upload_to_container(
            id,
            Some(UploadToContainerOptionsBuilder::new().path("/").build()),
            bollard::body_full(run_files(secret, owner)?.into()),
        )
        .await
        .map_err(docker_error(
            "copy the vault password into the Kayobe container",
        ))?;
    docker
        .start_container(id, None)
        .await
        .map_err(docker_error("start the Kayobe container"))?;

    let password = secret
        .map(|secret| String::from_utf8_lossy(secret.bytes()).trim().to_owned())
        .filter(|password| !password.is_empty());
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
    let mut emit = |line: &str| match &password {
        Some(password) if line.contains(password.as_str()) => {
            log(&line.replace(password.as_str(), "********"));
        }
        _ => log(line),
    };
    while let Some(chunk) = logs.next().await {
        let chunk = chunk.map_err(docker_error("read the Kayobe container's output"))?;
        let (LogOutput::StdOut { message }
        | LogOutput::StdErr { message }
        | LogOutput::Console { message }
        | LogOutput::StdIn { message }) = &chunk;
        pending.push_str(&String::from_utf8_lossy(message));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            emit(line.trim_end_matches(['\n', '\r']));
        }
    }
    if !pending.is_empty() {
        emit(&pending);
    }

    let mut exit_code = 0;
    let mut waits = docker.wait_container(id, Some(WaitContainerOptionsBuilder::new().build()));
    while let Some(wait) = waits.next().await {
        match wait {
            Ok(response) => exit_code = response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Err(bollard::errors::Error::DockerContainerWaitError { code, .. }) => exit_code = code,
            Err(source) => return Err(docker_error("wait for the Kayobe container")(source)),
        }
    }
    if exit_code != 0 {
        return Err(DiffError::GenerateFailed { exit_code });
    }

    let mut download = docker.download_from_container(
        id,
        Some(
            DownloadFromContainerOptionsBuilder::new()
                .path(NODE_CONFIG_DIR)
                .build(),
        ),
    );
    let mut archive = Vec::new();
    while let Some(chunk) = download.next().await {
        archive.extend_from_slice(&chunk.map_err(docker_error(
            "copy the generated configuration out of the Kayobe container",
        ))?);
    }
    // The archive holds `node-config/…`; unpacking refuses paths that
    // would leave `into`.
    let unpack_error = |source| DiffError::Unpack {
        dir: into.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(into).map_err(unpack_error)?;
    tar::Archive::new(archive.as_slice())
        .unpack(into)
        .map_err(unpack_error)
}

/// The run's files as a tar archive rooted at `/`: the run directory, the
/// vault password (when there is one) and the output directory, all owned
/// by the image's user.
fn run_files(secret: Option<&VaultSecret>, (uid, gid): (u64, u64)) -> Result<Vec<u8>, DiffError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, content: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(0);
        builder.append_data(&mut header, path.trim_start_matches('/'), content)
    };
    let archive_error = |source| DiffError::Unpack {
        dir: RUN_DIR.into(),
        source,
    };
    add(RUN_DIR, tar::EntryType::Directory, 0o700, &[]).map_err(archive_error)?;
    add(NODE_CONFIG_DIR, tar::EntryType::Directory, 0o755, &[]).map_err(archive_error)?;
    if let Some(secret) = secret {
        add(
            VAULT_PASSWORD_FILE,
            tar::EntryType::Regular,
            0o600,
            secret.bytes(),
        )
        .map_err(archive_error)?;
    }
    builder.into_inner().map_err(archive_error)
}

/// The uid and gid of an image's `User` (`uid[:gid]`; empty is root, a
/// missing gid 0); `None` for a name, whose ids only the image's passwd
/// file knows.
fn numeric_owner(user: &str) -> Option<(u64, u64)> {
    if user.is_empty() {
        return Some((0, 0));
    }
    let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
    Some((uid.parse().ok()?, gid.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn command_and_environment_pass_limits_and_tags_through() {
        let options = GenerateOptions {
            image: "kayobe:latest".into(),
            environment: Some("production".into()),
            limit: Some("controllers".into()),
            kolla_tags: Some("nova".into()),
            extra_args: Some(" -vv  -e foo=bar ".into()),
            ..GenerateOptions::default()
        };
        assert_eq!(
            options.command().join(" "),
            "kayobe overcloud service configuration generate --node-config-dir /kayobe-automation/node-config --vault-password-file /kayobe-automation/vault-password --limit controllers --kolla-tags nova -vv -e foo=bar"
        );
        assert_eq!(
            options.environment(Path::new("etc/kayobe")),
            [
                "KAYOBE_AUTOMATION_CONFIG_DIFF=1",
                "KAYOBE_CONFIG_PATH=/src/etc/kayobe",
                "KAYOBE_ENVIRONMENT=production",
                "KAYOBE_LIMIT=controllers",
                "KOLLA_TAGS=nova",
                "KAYOBE_EXTRA_ARGS= -vv  -e foo=bar ",
            ]
        );
    }

    #[test]
    fn image_users() {
        assert_eq!(numeric_owner(""), Some((0, 0)));
        assert_eq!(numeric_owner("1000"), Some((1000, 0)));
        assert_eq!(numeric_owner("1000:1001"), Some((1000, 1001)));
        assert_eq!(numeric_owner("stack"), None);
    }
}
