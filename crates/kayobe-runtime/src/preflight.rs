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
    /// The registry did not answer.
    #[error(
        "registry {url}: cannot reach it ({reason}); check the address, the network and any proxy between this host and the registry"
    )]
    RegistryUnreachable {
        /// The URL tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// Something answered, but not as a registry does.
    #[error(
        "registry {url}: answered HTTP {status}, not 200 or 401 as a registry's /v2/ does; check the registry address"
    )]
    NotARegistry {
        /// The URL asked.
        url: String,
        /// The status it gave.
        status: u16,
    },
    /// The vaulted files could not be listed.
    #[error("vault: cannot list the vaulted files: {0}")]
    VaultedFiles(String),
    /// No vault password while vaulted files exist.
    #[error(
        "vault: no vault password, and {count} vaulted file(s) need one; set KAYOBE_VAULT_PASSWORD or pass `--vault-password-file FILE`"
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
    let (image, registry) = tokio::join!(check_image(&options.image), check_registry(options));
    let mut problems: Vec<Problem> = image.into_iter().chain(registry).collect();
    problems.extend(check_vault(repo, vault));
    problems.extend(options.ssh_key.as_deref().and_then(check_ssh_key));
    if let Some(username) = &options.registry_username {
        if let Err(source) = RegistryCredentials::load(
            username,
            options.registry_password_file.as_deref(),
            options.registry_password_variable,
        ) {
            problems.push(Problem::RegistryPassword {
                username: username.clone(),
                source,
            });
        }
    }
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

/// The `/v2/` URLs to try for `registry`: as given when it has a scheme;
/// else HTTPS, then plain HTTP for loopback hosts, which Docker also
/// allows without TLS.
fn registry_urls(registry: &str) -> Vec<String> {
    let registry = registry.trim_end_matches('/');
    if registry.contains("://") {
        let base = registry.strip_suffix("/v2").unwrap_or(registry);
        return vec![format!("{base}/v2/")];
    }
    let host = registry.split('/').next().unwrap_or(registry);
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let mut urls = vec![format!("https://{host}/v2/")];
    if name == "localhost" || name.starts_with("127.") || name == "[::1]" {
        urls.push(format!("http://{host}/v2/"));
    }
    urls
}

async fn check_registry(options: &PreflightOptions) -> Option<Problem> {
    let registry = options
        .registry
        .as_deref()
        .unwrap_or_else(|| registry_of(&options.image.tag));
    let client = match reqwest::Client::builder().timeout(REGISTRY_TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            return Some(Problem::RegistryUnreachable {
                url: registry.to_owned(),
                reason: error.to_string(),
            });
        }
    };
    let mut problem = None;
    for url in registry_urls(registry) {
        match client.get(&url).send().await {
            Ok(answer) if matches!(answer.status().as_u16(), 200 | 401) => return None,
            Ok(answer) => {
                return Some(Problem::NotARegistry {
                    url,
                    status: answer.status().as_u16(),
                });
            }
            Err(error) => {
                problem = Some(Problem::RegistryUnreachable {
                    url,
                    reason: error_chain(&error),
                });
            }
        }
    }
    problem
}

/// An error and its causes on one line (reqwest's own text omits the cause).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
    use super::registry_urls;

    #[test]
    fn registry_urls_try_plain_http_only_on_loopback() {
        assert_eq!(registry_urls("ghcr.io"), ["https://ghcr.io/v2/"]);
        assert_eq!(
            registry_urls("127.0.0.1:5000"),
            ["https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/"]
        );
        assert_eq!(
            registry_urls("http://registry.lan:5000/"),
            ["http://registry.lan:5000/v2/"]
        );
        assert_eq!(registry_urls("ghcr.io/org"), ["https://ghcr.io/v2/"]);
    }
}
