//! Pulling and pushing images with registry credentials.
//!
//! A registry password goes to the engine in the `X-Registry-Auth` header
//! only, is redacted from `Debug` and is cut out of any message the engine
//! sends back.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{CreateImageOptionsBuilder, PushImageOptionsBuilder};
use futures_util::StreamExt;

use kayobe_stdx::{Secret, SecretSourceError, read_secret};

use crate::engine::{EngineError, call_failed, inspect_image};

/// A registry user and password.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    username: String,
    /// Always UTF-8: [`RegistryCredentials::new`] takes text and
    /// [`RegistryCredentials::load`] checks it, as the engine's header is JSON.
    password: Secret,
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl RegistryCredentials {
    /// Credentials from values at hand.
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            username: username.to_owned(),
            password: Secret::new(password),
        }
    }

    /// `username` with the password read by [`kayobe_stdx::read_secret`]:
    /// from `password_file` when given, else from the environment variable
    /// `variable`, surrounding newlines dropped.
    pub fn load(
        username: &str,
        password_file: Option<&Path>,
        variable: &'static str,
    ) -> Result<Self, CredentialsError> {
        let password =
            read_secret(password_file, variable)?.ok_or(CredentialsError::Missing { variable })?;
        if password.expose_str().is_err() {
            return Err(CredentialsError::NotUtf8 {
                origin: password_file
                    .map_or_else(|| variable.to_owned(), |path| path.display().to_string()),
            });
        }
        Ok(Self {
            username: username.to_owned(),
            password,
        })
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password as text; nothing is replaced, as it was checked when
    /// made (see the field).
    fn password(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.password.expose())
    }
}

/// Why no registry password could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Neither a password file nor the variable was given.
    #[error("no registry password was given: set {variable} or name a file holding it")]
    Missing {
        /// The environment variable looked at.
        variable: &'static str,
    },
    /// The password file could not be read, or is empty.
    #[error("registry password: {0}")]
    Source(#[from] SecretSourceError),
    /// The password is not text.
    #[error("the registry password from {origin} is not UTF-8 text")]
    NotUtf8 {
        /// The file or variable it came from.
        origin: String,
    },
}

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The engine has no image with that tag.
    #[error(
        "the Docker engine has no image {image}; build it first (`kayobe-automation image build` for the Kayobe image)"
    )]
    NoImage {
        /// The image reference.
        image: String,
    },
    /// The registry refused the credentials (or gave none the right to push).
    #[error(
        "the registry {registry} refused to let {who} push {image}: {message}; check the registry user name and password and that the user may push to this repository"
    )]
    Refused {
        /// The image reference.
        image: String,
        /// The registry host.
        registry: String,
        /// The user, or `anonymous`.
        who: String,
        /// The engine's message (password cut out).
        message: String,
    },
    /// The push failed otherwise: most often the registry cannot be reached.
    #[error(
        "pushing {image} to {registry} failed: {message}; check that the registry is reachable from this host (address, port, TLS)"
    )]
    Failed {
        /// The image reference.
        image: String,
        /// The registry host.
        registry: String,
        /// The engine's message (password cut out).
        message: String,
    },
    /// The engine could not be asked.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// One line of push progress as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushProgress {
    /// `Preparing`, `Pushing`, `Pushed`, `Layer already exists`, or the
    /// final `TAG: digest: sha256:… size: N`.
    pub status: String,
    /// Bytes sent of the current layer, while pushing.
    pub current: Option<i64>,
    /// The current layer's size, while pushing.
    pub total: Option<i64>,
}

/// The registry host of an image reference, as Docker decides it: the first
/// path component when it has a `.` or `:` or is `localhost`, else Docker
/// Hub (`docker.io`).
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// The repository and tag of an image reference (tag `latest` when none).
pub fn split_tag(image: &str) -> (&str, &str) {
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_start..].rfind(':') {
        Some(colon) => (
            &image[..name_start + colon],
            &image[name_start + colon + 1..],
        ),
        None => (image, "latest"),
    }
}

impl RegistryCredentials {
    /// The credentials as the engine's `X-Registry-Auth` takes them.
    fn for_engine(&self, registry: &str) -> DockerCredentials {
        DockerCredentials {
            username: Some(self.username.clone()),
            password: Some(self.password().into_owned()),
            serveraddress: Some(registry.to_owned()),
            ..DockerCredentials::default()
        }
    }

    /// `message` with the password cut out: engine messages should never
    /// hold it; make sure.
    fn redact(&self, message: String) -> String {
        message.replace(&*self.password(), "<redacted>")
    }
}

/// Asks the engine for `image`'s manifest in its registry (the engine's
/// `/distribution` call), logged in with `credentials` when given: the
/// registry must answer and, with credentials, take them. The engine reaches
/// the registry as pulls and pushes will (its proxy, its TLS settings, plain
/// HTTP for loopback), so this checks the path that matters. An image not
/// pushed yet is no error, nor, without credentials, a registry that wants a
/// login. The error is the engine's message, password cut out.
pub async fn check_registry(
    docker: &Docker,
    image: &str,
    credentials: Option<&RegistryCredentials>,
) -> Result<(), String> {
    let auth = credentials.map(|c| c.for_engine(registry_of(image)));
    let message = match docker.inspect_registry_image(image, auth).await {
        Ok(_) => return Ok(()),
        Err(DockerError::DockerResponseServerError { message, .. }) => message,
        Err(other) => other.to_string(),
    };
    let message = match credentials {
        Some(c) => c.redact(message),
        None => message,
    };
    if registry_answered(&message, credentials.is_some()) {
        Ok(())
    } else {
        Err(message)
    }
}

/// Whether an engine error from [`check_registry`] still means the registry
/// answered as wanted: the image is not pushed yet (the registry's own
/// `manifest unknown`/`name unknown` codes), or, without credentials, it
/// wants a login. Anything else (a DNS failure, a refused connection, TLS, a
/// login refused with credentials) is a problem.
fn registry_answered(message: &str, with_credentials: bool) -> bool {
    let lower = message.to_ascii_lowercase();
    let has = |texts: &[&str]| texts.iter().any(|text| lower.contains(text));
    let login_refused = has(&["unauthorized", "authentication required", "denied"]);
    let not_pushed = has(&["manifest unknown", "name unknown"]);
    (not_pushed && !login_refused) || (!with_credentials && login_refused)
}

/// Pushes `image` (a tag the engine has) to the registry its name names,
/// logging in with `credentials` when given. Each progress report goes to
/// `on_progress` as it comes. Returns the pushed manifest's digest when the
/// engine reports it.
pub async fn push_image(
    docker: &Docker,
    image: &str,
    credentials: Option<&RegistryCredentials>,
    mut on_progress: impl FnMut(&PushProgress),
) -> Result<Option<String>, PushError> {
    let registry = registry_of(image);
    let (repository, tag) = split_tag(image);
    let auth = credentials.map(|c| c.for_engine(registry));
    let clean = |message: String| match credentials {
        Some(c) => c.redact(message),
        None => message,
    };
    if inspect_image(docker, image).await?.is_none() {
        return Err(PushError::NoImage {
            image: image.to_owned(),
        });
    }
    let options = PushImageOptionsBuilder::new().tag(tag).build();
    let mut stream = docker.push_image(repository, Some(options), auth);
    let mut digest = None;
    while let Some(info) = stream.next().await {
        let info = match info {
            Ok(info) => info,
            Err(DockerError::DockerStreamError { error }) => {
                return Err(classify(image, registry, credentials, clean(error)));
            }
            Err(DockerError::DockerResponseServerError { message, .. }) => {
                return Err(classify(image, registry, credentials, clean(message)));
            }
            Err(source) => {
                return Err(call_failed(format!("push {image}"))(source).into());
            }
        };
        let Some(status) = info.status else { continue };
        if let Some((_, rest)) = status.split_once("digest: ") {
            digest = rest.split_whitespace().next().map(str::to_owned);
        }
        let detail = info.progress_detail.unwrap_or_default();
        on_progress(&PushProgress {
            status,
            current: detail.current,
            total: detail.total,
        });
    }
    Ok(digest)
}

/// Pulls `reference`, logging in to its registry with `credentials` when
/// given; each new status line goes to `log`.
pub async fn pull_image(
    docker: &Docker,
    reference: &str,
    credentials: Option<&RegistryCredentials>,
    mut log: impl FnMut(&str),
) -> Result<(), PullError> {
    let registry = registry_of(reference);
    let auth = credentials.map(|c| c.for_engine(registry));
    let clean = |message: String| match credentials {
        Some(c) => c.redact(message),
        None => message,
    };
    let options = CreateImageOptionsBuilder::new()
        .from_image(reference)
        .build();
    let mut progress = docker.create_image(Some(options), None, auth);
    let mut last_status = String::new();
    while let Some(info) = progress.next().await {
        let info = info.map_err(|source| PullError {
            image: reference.to_owned(),
            message: clean(match source {
                DockerError::DockerStreamError { error } => error,
                DockerError::DockerResponseServerError { message, .. } => message,
                other => other.to_string(),
            }),
        })?;
        // Layer progress repeats the same status many times a second.
        if let Some(status) = info.status.filter(|status| *status != last_status) {
            if info.id.is_none() {
                log(&status);
            }
            last_status = status;
        }
    }
    Ok(())
}

/// A pull failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot pull {image}: {message}; check the image name and tag, that the registry is reachable, and the registry user and password"
)]
pub struct PullError {
    /// The image reference.
    pub image: String,
    /// The engine's message (password cut out).
    pub message: String,
}

/// A refusal of the credentials, or any other failure.
fn classify(
    image: &str,
    registry: &str,
    credentials: Option<&RegistryCredentials>,
    message: String,
) -> PushError {
    let lower = message.to_ascii_lowercase();
    if ["unauthorized", "authentication required", "denied"]
        .iter()
        .any(|word| lower.contains(word))
    {
        PushError::Refused {
            image: image.to_owned(),
            registry: registry.to_owned(),
            who: credentials.map_or_else(|| "anonymous".to_owned(), |c| c.username.clone()),
            message,
        }
    } else {
        PushError::Failed {
            image: image.to_owned(),
            registry: registry.to_owned(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_registry_that_answered_passes() {
        let missing = "manifest unknown: manifest unknown";
        assert!(registry_answered(missing, true));
        assert!(registry_answered(missing, false));
        let login = "unauthorized: authentication required";
        assert!(!registry_answered(login, true));
        assert!(registry_answered(login, false));
        for unreachable in [
            "Get \"https://registry.lan/v2/\": dial tcp: lookup registry.lan: no such host",
            "Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused",
            "Get \"https://r.lan/v2/\": tls: failed to verify certificate",
        ] {
            assert!(!registry_answered(unreachable, false), "{unreachable}");
            assert!(!registry_answered(unreachable, true), "{unreachable}");
        }
    }

    #[test]
    fn registry_and_tag_as_docker_reads_them() {
        assert_eq!(registry_of("127.0.0.1:5000/kayobe:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("ghcr.io/org/kayobe"), "ghcr.io");
        assert_eq!(registry_of("localhost/kayobe"), "localhost");
        assert_eq!(registry_of("org/kayobe:1"), "docker.io");
        assert_eq!(registry_of("kayobe"), "docker.io");
        assert_eq!(
            split_tag("127.0.0.1:5000/org/kayobe:v1"),
            ("127.0.0.1:5000/org/kayobe", "v1")
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/kayobe"),
            ("127.0.0.1:5000/kayobe", "latest")
        );
    }

    #[test]
    fn a_password_file_is_trimmed_and_must_be_text() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        let load = || RegistryCredentials::load("ci", Some(&file), "UNUSED");
        std::fs::write(&file, "pass word\r\n").unwrap();
        assert_eq!(load().unwrap(), RegistryCredentials::new("ci", "pass word"));
        std::fs::write(&file, b"pass\xff\n").unwrap();
        assert!(
            matches!(load(), Err(CredentialsError::NotUtf8 { origin }) if origin == file.display().to_string())
        );
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(
            load().unwrap_err().to_string(),
            format!("registry password: {} is empty", file.display())
        );
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let credentials = RegistryCredentials::new("ci", "hunter2-secret");
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
