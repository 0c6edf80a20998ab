//! Running an operation in the Kayobe container.
//!
//! The contract with the image's pipeline scripts:
//!
//! | What | In the container | Variable |
//! |---|---|---|
//! | the checkout | bind mount at `/src` (also the working directory) | |
//! | the operation | `bash /src/.automation/pipeline/<operation>.sh [args]` (not every script is executable) | |
//! | the environment | | `KAYOBE_ENVIRONMENT` |
//! | limits and tags | | `KAYOBE_LIMIT`, `KAYOBE_TAGS`, `KOLLA_LIMIT`, `KOLLA_TAGS` (set when given) |
//! | vault password | file [`VAULT_PASSWORD_FILE`] (0600), and its content in the script's process | `KAYOBE_VAULT_PASSWORD` (Kayobe reads it), `KAYOBE_AUTOMATION_VAULT_PASSWORD` (`utils/kayobe-automation-vault-helper` echoes it for `ansible-vault`) |
//! | SSH private key | file [`SSH_PRIVATE_KEY_FILE`] (0600), and its content in the script's process | `KAYOBE_AUTOMATION_SSH_PRIVATE_KEY` (`functions`' `inject_ssh_keys` writes it to `~/.ssh/$KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME`, `setup_ssh_agent` adds it) |
//! | the key's file name | | `KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME` (when given; `functions` defaults it to `id_rsa`) |
//! | artefacts | a directory ([`DEFAULT_ARTIFACTS`] unless configured) | `KAYOBE_AUTOMATION_ARTIFACTS`, `LOGDIR` |
//!
//! These are the variables kayobe-automation's `functions` read. The content
//! variables are set by the container's bootstrap from the tmpfs files just
//! before it `exec`s the script, so they exist only in the script's own
//! process (and what it starts), never in the container's configuration.
//! `LOGDIR` is where `functions` write their log, so it lands among the
//! artefacts.
//!
//! The secret files live on a tmpfs and reach it over the attach stream,
//! never through the engine's records or the container's layer; output is
//! masked (the vault password, every line of the SSH key); the container runs
//! on the host network and is removed however the run ends — all through
//! `container_engine::run_container`, whose docs say how.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use container_engine::{
    BindMount, ContainerSpec, Docker, OutputDir, SECRETS_DIR, Secret, SecretFile, run_container,
};

use kayobe_config::operation::Invocation;

/// The vault password file.
pub const VAULT_PASSWORD_FILE: &str = "/run/kayobe-automation/vault-password";
/// The SSH private key file.
pub const SSH_PRIVATE_KEY_FILE: &str = "/run/kayobe-automation/ssh-private-key";
/// The artefact directory in the container unless [`RunOptions::container_artifacts`] says otherwise.
pub const DEFAULT_ARTIFACTS: &str = "/tmp/kayobe-automation-artifacts";
/// The label every run's container carries, valued with the operation's name.
pub const OPERATION_LABEL: &str = "kayobe-automation.operation";

/// The secrets a run hands to the container as files.
#[derive(Debug, Clone, Default)]
pub struct RunSecrets {
    /// The Kayobe vault password.
    pub vault_password: Option<Secret>,
    /// The SSH private key Kayobe logs in to hosts with.
    pub ssh_private_key: Option<Secret>,
}

impl RunSecrets {
    /// The secret files on the container's tmpfs, each with the variables
    /// `functions` read its content from.
    fn files(&self) -> Vec<SecretFile> {
        let name = |path: &str| {
            path.trim_start_matches(SECRETS_DIR)
                .trim_start_matches('/')
                .to_owned()
        };
        let files = [
            (
                &self.vault_password,
                VAULT_PASSWORD_FILE,
                &["KAYOBE_VAULT_PASSWORD", "KAYOBE_AUTOMATION_VAULT_PASSWORD"][..],
            ),
            (
                &self.ssh_private_key,
                SSH_PRIVATE_KEY_FILE,
                &["KAYOBE_AUTOMATION_SSH_PRIVATE_KEY"][..],
            ),
        ];
        files
            .into_iter()
            .filter_map(|(secret, path, variables)| {
                let mut file = SecretFile::new(&name(path), secret.clone()?);
                file.env = variables.iter().map(|&var| var.to_owned()).collect();
                Some(file)
            })
            .collect()
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
    /// `KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME`: the key's file name in
    /// `~/.ssh` (`functions` default it to `id_rsa`).
    pub ssh_private_key_name: Option<String>,
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
            ssh_private_key_name: None,
        }
    }

    /// The container's environment: names, limits and paths, never a secret.
    fn environment(&self) -> Vec<String> {
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
            (
                "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME",
                &self.ssh_private_key_name,
            ),
        ];
        env.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| Some(format!("{name}={}", value.as_ref()?))),
        );
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
    /// How many artefact files were collected.
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
        "`{operation}` does not run kolla-ansible, so a Kolla limit or Kolla tags do not apply; limit its hosts and tags instead"
    )]
    KollaOptions {
        /// The operation.
        operation: String,
    },
    /// The container could not be run.
    #[error(
        "{source}; check that the Docker engine runs and the image {image} is present (`kayobe-automation image build`)"
    )]
    Container {
        /// The image.
        image: String,
        /// What failed.
        #[source]
        source: container_engine::RunError,
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

/// Runs `options.operation` in a new container, passing each line of its
/// output (secrets masked) to `log`; the run is cancelled when `cancel`
/// completes. The container is removed whatever happens. A line longer than
/// 64 KiB comes in pieces (each masked).
pub async fn run_operation(
    docker: &Docker,
    options: &RunOptions,
    secrets: &RunSecrets,
    log: impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<RunOutcome, RunError> {
    let operation = options.operation.to_string();
    if !options.operation.runs_kolla_ansible()
        && (options.limits.kolla_limit.is_some() || options.limits.kolla_tags.is_some())
    {
        return Err(RunError::KollaOptions { operation });
    }
    let checkout = options
        .checkout
        .canonicalize()
        .map_err(|source| RunError::File {
            action: "find the checkout",
            path: options.checkout.clone(),
            source,
        })?;
    let mut labels = options.labels.clone();
    labels.insert(OPERATION_LABEL.to_owned(), operation.clone());
    let spec = ContainerSpec {
        image: options.image.clone(),
        command: options.operation.command(),
        env: options.environment(),
        working_dir: Some("/src".to_owned()),
        mounts: vec![BindMount {
            source: checkout,
            target: "/src".to_owned(),
            read_only: false,
        }],
        labels,
        host_network: true,
        secrets: secrets.files(),
        masked: Vec::new(),
        files: Vec::new(),
        collect: Vec::new(),
        outputs: vec![OutputDir {
            at: options.container_artifacts.clone(),
            into: options.artifacts.clone(),
        }],
        stop_grace: options.stop_grace,
    };
    match run_container(docker, &spec, log, cancel).await {
        Ok(outcome) => Ok(RunOutcome {
            exit_code: outcome.exit_code,
            duration: outcome.duration,
            artifact_files: outcome.outputs.first().copied().unwrap_or(0),
        }),
        Err(container_engine::RunError::Cancelled) => Err(RunError::Cancelled { operation }),
        Err(source) => Err(RunError::Container {
            image: options.image.clone(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_become_files_and_are_never_debug_printed() {
        let secrets = RunSecrets {
            vault_password: Some(Secret::new("vault-pass")),
            ssh_private_key: Some(Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\r\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----\n",
            )),
        };
        let files: Vec<(String, Vec<String>)> = secrets
            .files()
            .iter()
            .map(|file| (file.path(), file.env.clone()))
            .collect();
        assert_eq!(
            files,
            [
                (
                    VAULT_PASSWORD_FILE.to_owned(),
                    vec![
                        "KAYOBE_VAULT_PASSWORD".to_owned(),
                        "KAYOBE_AUTOMATION_VAULT_PASSWORD".to_owned()
                    ]
                ),
                (
                    SSH_PRIVATE_KEY_FILE.to_owned(),
                    vec!["KAYOBE_AUTOMATION_SSH_PRIVATE_KEY".to_owned()]
                ),
            ]
        );
        let debug = format!("{secrets:?}");
        assert!(
            !debug.contains("vault-pass") && !debug.contains("AAAAB3Nza"),
            "{debug}"
        );
    }

    #[test]
    fn the_environment_holds_names_and_paths_not_secrets() {
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
        options.ssh_private_key_name = Some("id_ed25519".to_owned());
        assert_eq!(
            options.environment(),
            [
                "KAYOBE_AUTOMATION_SECRETS=/run/kayobe-automation",
                "KAYOBE_AUTOMATION_ARTIFACTS=/tmp/kayobe-automation-artifacts",
                "LOGDIR=/tmp/kayobe-automation-artifacts",
                "KAYOBE_ENVIRONMENT=production",
                "KOLLA_TAGS=nova",
                "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY_NAME=id_ed25519",
            ]
        );
    }
}
