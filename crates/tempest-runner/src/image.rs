//! The rally/tempest image: its reference, when to pull it, and the login
//! for its registry (`KAYOBE_AUTOMATION_RALLY_*`).
//!
//! The image is pulled when the engine lacks it, or before every run when
//! `KAYOBE_AUTOMATION_RALLY_FORCE_PULL` is true (a moving tag such as
//! `latest`). Registry credentials travel only in the engine's
//! `X-Registry-Auth` header: never in argv, the environment of the
//! container, logs or error text.

use std::fmt;

use container_engine::{
    Docker, EngineError, PullError, RegistryCredentials, inspect_image, pull_image, registry_of,
};
use kayobe_config::automation_conf::RallySettings;

/// When to pull the image before a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// Only when the engine does not have it.
    #[default]
    IfMissing,
    /// Before every run (`KAYOBE_AUTOMATION_RALLY_FORCE_PULL=true`).
    Always,
}

/// A registry login. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    /// The registry host, e.g. `ghcr.io`.
    pub server: String,
    /// The user.
    pub username: String,
    password: String,
}

impl RegistryLogin {
    /// A login to `server` as `username`.
    pub fn new(server: impl Into<String>, username: impl Into<String>, password: String) -> Self {
        RegistryLogin {
            server: server.into(),
            username: username.into(),
            password,
        }
    }

    /// The password, for masking it in logs.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The image a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RallyImage {
    /// The image reference, e.g. `ghcr.io/stackhpc/docker-rally:v1`.
    pub reference: String,
    /// When to pull it.
    pub pull: Pull,
    /// The login for its registry, if it needs one.
    pub login: Option<RegistryLogin>,
}

/// The rally settings do not make a usable image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageSettingsError {
    /// Neither `--image` nor `KAYOBE_AUTOMATION_RALLY_IMAGE`.
    #[error(
        "no rally image is configured: name one, or set KAYOBE_AUTOMATION_RALLY_IMAGE (and KAYOBE_AUTOMATION_RALLY_TAG) in .automation.conf/config.sh"
    )]
    NoImage,
    /// A user without a password or the other way round.
    #[error(
        "KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_{missing} is not set but KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_{present} is: set both to log in to the rally image's registry, or neither"
    )]
    IncompleteLogin {
        /// The variable suffix that is missing (`USERNAME` or `PASSWORD`).
        missing: &'static str,
        /// The one that is set.
        present: &'static str,
    },
}

impl RallyImage {
    /// The image `settings` describe; `image` (a full reference, e.g. from
    /// the command line) replaces `KAYOBE_AUTOMATION_RALLY_IMAGE` and `_TAG`.
    ///
    /// `KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY` is prefixed to an image
    /// name that names no registry of its own (no `.`, `:` or `localhost` in
    /// its first part), as Docker would otherwise look on Docker Hub.
    pub fn from_settings(
        settings: &RallySettings,
        image: Option<String>,
    ) -> Result<Self, ImageSettingsError> {
        let registry = settings.docker_registry.as_deref();
        let reference = match (image, &settings.image) {
            (Some(image), _) => image,
            (None, Some(name)) => {
                let name = match registry {
                    Some(registry) if !names_registry(name) => {
                        format!("{}/{name}", registry.trim_end_matches('/'))
                    }
                    _ => name.clone(),
                };
                match &settings.tag {
                    Some(tag) => format!("{name}:{tag}"),
                    None => name,
                }
            }
            (None, None) => return Err(ImageSettingsError::NoImage),
        };
        let login = match (
            &settings.docker_registry_username,
            &settings.docker_registry_password,
        ) {
            (Some(username), Some(password)) => Some(RegistryLogin::new(
                registry.map_or_else(|| registry_of(&reference).to_owned(), str::to_owned),
                username,
                password.clone(),
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ImageSettingsError::IncompleteLogin {
                    missing: "PASSWORD",
                    present: "USERNAME",
                });
            }
            (None, Some(_)) => {
                return Err(ImageSettingsError::IncompleteLogin {
                    missing: "USERNAME",
                    present: "PASSWORD",
                });
            }
        };
        Ok(RallyImage {
            reference,
            pull: if settings.force_pull == Some(true) {
                Pull::Always
            } else {
                Pull::IfMissing
            },
            login,
        })
    }

    /// A local image, pulled only if missing, without a login.
    pub fn local(reference: impl Into<String>) -> Self {
        RallyImage {
            reference: reference.into(),
            pull: Pull::IfMissing,
            login: None,
        }
    }

    /// Pulls the image if [`RallyImage::pull`] says so, passing each
    /// progress line to `log`.
    pub(crate) async fn ensure(
        &self,
        docker: &Docker,
        log: &mut impl FnMut(&str),
    ) -> Result<(), EnsureError> {
        if self.pull == Pull::IfMissing && inspect_image(docker, &self.reference).await?.is_some() {
            return Ok(());
        }
        log(&format!("pulling {}", self.reference));
        let credentials = self
            .login
            .as_ref()
            .map(|login| RegistryCredentials::new(&login.username, &login.password));
        pull_image(docker, &self.reference, credentials.as_ref(), log).await?;
        Ok(())
    }
}

/// The image could not be made present.
#[derive(Debug, thiserror::Error)]
pub enum EnsureError {
    /// The engine could not say whether it has the image.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The pull failed.
    #[error(transparent)]
    Pull(#[from] PullError),
}

/// Whether the first part of an image name is a registry host.
fn names_registry(name: &str) -> bool {
    match name.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RallySettings {
        RallySettings {
            image: Some("stackhpc/docker-rally".into()),
            tag: Some("v1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn reference_from_image_tag_and_registry() {
        let image = RallyImage::from_settings(&settings(), None).unwrap();
        assert_eq!(image, RallyImage::local("stackhpc/docker-rally:v1"));

        let with_registry = RallySettings {
            docker_registry: Some("ghcr.io/".into()),
            ..settings()
        };
        let image = RallyImage::from_settings(&with_registry, None).unwrap();
        assert_eq!(image.reference, "ghcr.io/stackhpc/docker-rally:v1");

        let named = RallySettings {
            image: Some("127.0.0.1:5000/rally".into()),
            tag: None,
            ..with_registry
        };
        let image = RallyImage::from_settings(&named, None).unwrap();
        assert_eq!(image.reference, "127.0.0.1:5000/rally");

        let image = RallyImage::from_settings(&settings(), Some("other:2".into())).unwrap();
        assert_eq!(image.reference, "other:2");
        assert_eq!(
            RallyImage::from_settings(&RallySettings::default(), None),
            Err(ImageSettingsError::NoImage)
        );
    }

    #[test]
    fn force_pull_and_login() {
        let settings = RallySettings {
            image: Some("registry.example:5000/rally".into()),
            force_pull: Some(true),
            docker_registry_username: Some("ci".into()),
            docker_registry_password: Some("pa55word".into()),
            ..settings()
        };
        let image = RallyImage::from_settings(&settings, None).unwrap();
        assert_eq!(image.pull, Pull::Always);
        let login = image.login.unwrap();
        assert_eq!(login.server, "registry.example:5000");
        assert_eq!(login.username, "ci");
        assert!(!format!("{login:?}").contains("pa55word"));

        let half = RallySettings {
            docker_registry_password: None,
            ..settings
        };
        assert_eq!(
            RallyImage::from_settings(&half, None),
            Err(ImageSettingsError::IncompleteLogin {
                missing: "PASSWORD",
                present: "USERNAME"
            })
        );
    }
}
