//! Generated mode: the kolla configuration Kayobe generates for one side,
//! made in the Kayobe container through `container_engine`.
//!
//! The contract with the image, for each side in turn:
//!
//! | What | In the container |
//! |---|---|
//! | the side's checkout (secrets already masked, [`crate::redact`]) | bind-mounted at [`CHECKOUT`] — the same path for both sides, because paths leak into generated files |
//! | `KAYOBE_CONFIG_PATH` | [`CHECKOUT`]`/<config path relative to the repository>` |
//! | the vault password | the file [`VAULT_PASSWORD_FILE`] (mode 0600, the image user's) on a tmpfs, sent over the attach stream: never in the command line, the environment, `docker inspect` or the container's layer |
//! | the command | `kayobe overcloud service configuration generate --node-config-dir` [`NODE_CONFIG_DIR`] `--vault-password-file` [`VAULT_PASSWORD_FILE`], then `--limit`, `--tags`, `--kolla-limit`, `--kolla-tags` when set and `KAYOBE_EXTRA_ARGS` split on white space (as the shell's unquoted expansion does) |
//! | the environment | `KAYOBE_AUTOMATION_CONFIG_DIFF=1` (configuration may branch on it), `KAYOBE_CONFIG_PATH`, and `KAYOBE_ENVIRONMENT`, `KAYOBE_LIMIT`, `KAYOBE_TAGS`, `KOLLA_LIMIT`, `KOLLA_TAGS`, `KAYOBE_EXTRA_ARGS` when set |
//! | the output | Kayobe writes one directory per host, `<dir>/<inventory_hostname>`; [`NODE_CONFIG_DIR`] is copied out when the container exits 0 |
//!
//! The container's output goes to the caller line by line, with the vault
//! password masked should it ever appear; the container is removed whatever
//! happens, cancellation included (`container_engine::run_container`).

use std::path::Path;

use std::future::Future;

use container_engine::{
    BindMount, Collect, ContainerSpec, Docker, FileEntry, Secret, SecretFile, run_container,
};
use futures_util::FutureExt;
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
/// The vault password file's name on the secrets tmpfs.
const VAULT_PASSWORD_NAME: &str = "vault-password";
/// The vault password file in the container.
pub const VAULT_PASSWORD_FILE: &str = "/run/kayobe-automation/vault-password";
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
/// each side's after a line naming its revision. When `cancel` completes the
/// running container is stopped and removed and the diff ends with
/// [`DiffError::Cancelled`].
#[allow(clippy::too_many_arguments, reason = "each is one input of the diff")]
pub async fn diff_generated(
    docker: &Docker,
    config_path: &Path,
    base: &str,
    target: &str,
    secret: Option<&VaultSecret>,
    options: &GenerateOptions,
    mut log: impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<ConfigDiff, DiffError> {
    let cancel = cancel.boxed_local().shared();
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
                cancel.clone(),
            )
            .await?;
            Ok(output)
        };
        outputs.push(in_revision.await.map_err(|source| match source {
            DiffError::Cancelled => DiffError::Cancelled,
            source => DiffError::Revision {
                revision: revision.to_owned(),
                source: Box::new(source),
            },
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
/// passing each line of the container's output to `log`; cancelled when
/// `cancel` completes.
#[allow(clippy::too_many_arguments, reason = "each is one input of the run")]
pub async fn generate(
    docker: &Docker,
    checkout: &Path,
    config_path: &Path,
    secret: Option<&VaultSecret>,
    options: &GenerateOptions,
    into: &Path,
    log: &mut impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<(), DiffError> {
    let checkout = checkout
        .canonicalize()
        .map_err(|source| DiffError::Unpack {
            dir: checkout.to_path_buf(),
            source,
        })?;
    let spec = ContainerSpec {
        image: options.image.clone(),
        command: options.command(),
        env: options.environment(config_path),
        mounts: vec![BindMount {
            source: checkout,
            target: CHECKOUT.to_owned(),
            read_only: false,
        }],
        secrets: secret
            .map(|secret| {
                SecretFile::new(VAULT_PASSWORD_NAME, Secret::new(secret.bytes().to_vec()))
            })
            .into_iter()
            .collect(),
        // The image's user writes there, whatever its uid.
        files: vec![
            FileEntry::directory(RUN_DIR, 0o777),
            FileEntry::directory(NODE_CONFIG_DIR, 0o777),
        ],
        collect: vec![Collect {
            from: NODE_CONFIG_DIR.to_owned(),
            into: into.join("node-config"),
            on_success_only: true,
        }],
        stop_grace: std::time::Duration::from_secs(10),
        ..ContainerSpec::default()
    };
    let outcome =
        run_container(docker, &spec, log, cancel)
            .await
            .map_err(|source| match source {
                container_engine::RunError::Cancelled => DiffError::Cancelled,
                source => DiffError::Container {
                    image: options.image.clone(),
                    source,
                },
            })?;
    if outcome.exit_code != 0 {
        return Err(DiffError::GenerateFailed {
            exit_code: outcome.exit_code,
        });
    }
    Ok(())
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
            "kayobe overcloud service configuration generate --node-config-dir /kayobe-automation/node-config --vault-password-file /run/kayobe-automation/vault-password --limit controllers --kolla-tags nova -vv -e foo=bar"
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
}
