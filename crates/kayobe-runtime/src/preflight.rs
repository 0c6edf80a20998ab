//! Checks before an operation runs: the image exists
//! and is fresh, the registry answers, the vault password opens every
//! vaulted file, and the secrets a run needs are there.
//!
//! Every check runs, whatever the others find, so one preflight lists
//! everything to fix. Each [`Problem`] prints as one line saying what to do.
//!
//! Required secrets: the vault password when the repository has vaulted
//! files (every Kayobe operation reads them); the SSH private key file when
//! one is named (it must exist, be non-empty and readable by its owner only,
//! as `ssh` refuses keys others can read); the registry password when a
//! registry user is named, which is how the rendered workflows configure
//! pushing (`REGISTRY_USERNAME` with the `REGISTRY_PASSWORD` secret).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kayobe_config::repo::ConfigRepo;
use kayobe_config::vault::{VaultSecret, view_files};

use crate::image::{BuildOptions, ImageError, ImageStatus, connect_docker, image_status};
use container_engine::{CredentialsError, RegistryCredentials, registry_of};

/// How long the registry may take to answer.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(10);

/// What to check.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// The image the operations run in, and how it would be built.
    pub image: BuildOptions,
    /// The registry to reach: a URL, or a host (`HOST[:PORT]`), else the
    /// registry the image's tag names.
    pub registry: Option<String>,
    /// The registry user, when the image is pushed with credentials.
    pub registry_username: Option<String>,
    /// The registry password's file (else the environment variable).
    pub registry_password_file: Option<PathBuf>,
    /// The environment variable holding the registry password.
    pub registry_password_variable: &'static str,
    /// The SSH private key file the operations use, when one is configured.
    pub ssh_key: Option<PathBuf>,
}

/// One thing preflight found wrong, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The image is missing, stale or not built by kayobe-automation.
    #[error("image {tag}: {status}")]
    Image {
        /// The image's tag.
        tag: String,
        /// Its status.
        status: ImageStatus,
    },
    /// The image could not be checked (no engine, unreadable inputs).
    #[error("image: {0}")]
    ImageCheck(#[source] ImageError),
    /// The engine could not reach the registry or log in to it.
    #[error(
        "registry {url}: the engine cannot reach it or log in ({reason}); check the address, the credentials, and the network and any proxy between this host and the registry"
    )]
    RegistryUnreachable {
        /// The registry.
        url: String,
        /// Why.
        reason: String,
    },
    /// The vaulted files could not be listed.
    #[error("vault: cannot list the vaulted files: {0}")]
    VaultedFiles(String),
    /// No vault password while vaulted files exist.
    #[error(
        "vault: no vault password, and {count} vaulted file(s) need one; give the password (KAYOBE_VAULT_PASSWORD in CI)"
    )]
    NoVaultPassword {
        /// How many vaulted files there are.
        count: usize,
    },
    /// The vault password does not open a file.
    #[error(
        "vault: {path} does not open with the vault password ({reason}); check the password, or rekey the file with `kayobe-automation vault rekey`"
    )]
    VaultDoesNotOpen {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The SSH private key cannot be used.
    #[error("SSH key {path}: {problem}")]
    SshKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A registry user is named but its password is not there.
    #[error("registry credentials for {username}: {source}")]
    RegistryPassword {
        /// The user.
        username: String,
        /// Why the password is missing.
        #[source]
        source: CredentialsError,
    },
}

/// Runs every check and returns the problems found (none: all is well).
pub async fn preflight(
    repo: &ConfigRepo,
    vault: Option<&VaultSecret>,
    options: &PreflightOptions,
) -> Vec<Problem> {
    let credentials = match &options.registry_username {
        Some(username) => match RegistryCredentials::load(
            username,
            options.registry_password_file.as_deref(),
            options.registry_password_variable,
        ) {
            Ok(credentials) => Ok(Some(credentials)),
            Err(source) => Err(Problem::RegistryPassword {
                username: username.clone(),
                source,
            }),
        },
        None => Ok(None),
    };
    // Without its password, the registry is still checked for an answer.
    let registry = check_registry(options, credentials.as_ref().ok().and_then(Option::as_ref));
    let (image, registry) = tokio::join!(check_image(&options.image), registry);
    let mut problems: Vec<Problem> = image.into_iter().chain(registry).collect();
    problems.extend(check_vault(repo, vault));
    problems.extend(options.ssh_key.as_deref().and_then(check_ssh_key));
    problems.extend(credentials.err());
    problems
}

async fn check_image(options: &BuildOptions) -> Option<Problem> {
    let status = async { image_status(&connect_docker().await?, options).await };
    match status.await {
        Ok(ImageStatus::Fresh) => None,
        Ok(status) => Some(Problem::Image {
            tag: options.tag.clone(),
            status,
        }),
        Err(error) => Some(Problem::ImageCheck(error)),
    }
}

/// The registry's host (`HOST[:PORT]`) from a host or a URL.
fn registry_host(registry: &str) -> &str {
    let rest = registry
        .split_once("://")
        .map_or(registry, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// The image as it would be pulled from the registry preflight checks:
/// `registry`, when given, in place of the one the tag names.
fn image_in_registry(tag: &str, registry: Option<&str>) -> String {
    let Some(registry) = registry else {
        return tag.to_owned();
    };
    let path = tag
        .strip_prefix(registry_of(tag))
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(tag);
    format!("{}/{path}", registry_host(registry))
}

/// The engine asks the registry for the image as pulls and pushes will,
/// logged in when a user is named: so a wrong password shows here too, and
/// token-auth registries are checked for real.
async fn check_registry(
    options: &PreflightOptions,
    credentials: Option<&RegistryCredentials>,
) -> Option<Problem> {
    let image = image_in_registry(&options.image.tag, options.registry.as_deref());
    let unreachable = |reason: String| Problem::RegistryUnreachable {
        url: registry_of(&image).to_owned(),
        reason,
    };
    let docker = match connect_docker().await {
        Ok(docker) => docker,
        Err(error) => return Some(unreachable(error.to_string())),
    };
    let check = container_engine::check_registry(&docker, &image, credentials);
    match tokio::time::timeout(REGISTRY_TIMEOUT, check).await {
        Ok(Ok(())) => None,
        Ok(Err(reason)) => Some(unreachable(reason)),
        Err(_) => Some(unreachable(format!(
            "no answer within {REGISTRY_TIMEOUT:?}"
        ))),
    }
}

fn check_vault(repo: &ConfigRepo, vault: Option<&VaultSecret>) -> Vec<Problem> {
    let files: Vec<PathBuf> = match repo.vaulted_files() {
        Ok(files) => files.all().cloned().collect(),
        Err(error) => return vec![Problem::VaultedFiles(error.to_string())],
    };
    if files.is_empty() {
        return Vec::new();
    }
    let Some(secret) = vault else {
        return vec![Problem::NoVaultPassword { count: files.len() }];
    };
    files
        .iter()
        .zip(view_files(&files, secret))
        .filter_map(|(path, opened)| {
            opened.err().map(|error| Problem::VaultDoesNotOpen {
                path: path.clone(),
                reason: error.to_string(),
            })
        })
        .collect()
}

fn check_ssh_key(path: &Path) -> Option<Problem> {
    let problem = |problem: String| Problem::SshKey {
        path: path.to_path_buf(),
        problem,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            return Some(problem(format!(
                "cannot read it ({error}); put the runner's SSH private key there"
            )));
        }
    };
    if !metadata.is_file() || metadata.len() == 0 {
        return Some(problem(
            "is not a non-empty file; put the runner's SSH private key there".to_owned(),
        ));
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Some(problem(format!(
            "others may read it (mode {mode:03o}) and ssh refuses such keys; run `chmod 600 {}`",
            path.display()
        )));
    }
    if let Err(error) = std::fs::File::open(path) {
        return Some(problem(format!(
            "cannot open it ({error}); make it readable by the user running kayobe-automation"
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{image_in_registry, registry_host};

    #[test]
    fn the_registry_is_named_by_its_host() {
        assert_eq!(registry_host("ghcr.io"), "ghcr.io");
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(
            registry_host("http://registry.lan:5000/"),
            "registry.lan:5000"
        );
        assert_eq!(registry_host("https://registry.lan/v2/"), "registry.lan");
        assert_eq!(registry_host("ghcr.io/org"), "ghcr.io");
    }

    #[test]
    fn a_registry_given_replaces_the_tags() {
        let tag = "registry.lan:5000/kayobe/kayobe:2024.1";
        assert_eq!(image_in_registry(tag, None), tag);
        assert_eq!(
            image_in_registry(tag, Some("http://127.0.0.1:5001")),
            "127.0.0.1:5001/kayobe/kayobe:2024.1"
        );
        assert_eq!(
            image_in_registry("kayobe:latest", Some("127.0.0.1:5001")),
            "127.0.0.1:5001/kayobe:latest"
        );
    }
}
