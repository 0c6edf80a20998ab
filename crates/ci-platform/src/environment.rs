//! Deployment environments and their protection: what is wanted for one
//! environment ([`EnvironmentProtection`]), who may review or run its
//! deploys ([`Principal`]), and how the platform's environment differs
//! ([`EnvironmentState`]).
//!
//! The rendered jobs that change the cloud are bound to one deployment
//! environment per Kayobe environment and run only from the default branch;
//! the environment's protection is what makes a deploy wait for a review.
//! A backend compares the environment it finds with the wanted protection
//! field by field, so check and apply share one comparison and a second
//! apply finds nothing to change.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use async_trait::async_trait;

use crate::PlatformError;

/// A GitLab role: every project member with at least this access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Developers and above (access level 30).
    Developer,
    /// Maintainers and above (access level 40).
    Maintainer,
}

impl Role {
    /// GitLab's access level number for the role.
    pub(crate) fn access_level(self) -> u64 {
        match self {
            Role::Developer => 30,
            Role::Maintainer => 40,
        }
    }
}

/// Someone who may review or run a deploy: a user, a team or group, or a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// A user, by GitHub login or GitLab username.
    User(String),
    /// GitHub: a team of the organisation owning the repository, by slug.
    Team(String),
    /// GitLab: the direct members of a group, by its full path.
    Group(String),
    /// GitLab: every project member with at least this role.
    Role(Role),
}

/// Why a `KIND:NAME` text is not a [`Principal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalParseError {
    /// The kind before `:` is not one of ours.
    #[error("`{0}` is not `user:NAME`, `team:SLUG`, `group:PATH` or `role:developer|maintainer`")]
    Kind(String),
    /// Nothing after `:`.
    #[error("`{0}` names nobody after the `:`")]
    Empty(String),
    /// `role:` with a role GitLab approval rules do not take.
    #[error("`{0}` is not `role:developer` or `role:maintainer`")]
    Role(String),
}

impl FromStr for Principal {
    type Err = PrincipalParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, name) = text
            .split_once(':')
            .ok_or_else(|| PrincipalParseError::Kind(text.to_owned()))?;
        if name.is_empty() {
            return Err(PrincipalParseError::Empty(text.to_owned()));
        }
        match kind {
            "user" => Ok(Principal::User(name.to_owned())),
            "team" => Ok(Principal::Team(name.to_owned())),
            "group" => Ok(Principal::Group(name.to_owned())),
            "role" => match name {
                "developer" => Ok(Principal::Role(Role::Developer)),
                "maintainer" => Ok(Principal::Role(Role::Maintainer)),
                _ => Err(PrincipalParseError::Role(text.to_owned())),
            },
            _ => Err(PrincipalParseError::Kind(text.to_owned())),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(name) => write!(f, "user:{name}"),
            Principal::Team(slug) => write!(f, "team:{slug}"),
            Principal::Group(path) => write!(f, "group:{path}"),
            Principal::Role(Role::Developer) => f.write_str("role:developer"),
            Principal::Role(Role::Maintainer) => f.write_str("role:maintainer"),
        }
    }
}

/// The protection wanted for one deployment environment.
///
/// On both platforms the environment exists and only the default branch
/// deploys to it (GitHub: only protected branches; GitLab: the rendered
/// jobs' own rule). What else is wanted:
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentProtection {
    /// The environment's name: a Kayobe environment's, or `kayobe`.
    pub name: String,
    /// Who approves a deploy before it runs: GitHub required reviewers (one
    /// of them approves; whoever started the deploy may not), GitLab
    /// approval rules. None: the environment's reviewers are left as they
    /// are, and [`EnvironmentState::reviewed`] says whether it has any.
    pub reviewers: Vec<Principal>,
    /// GitLab: the approvals each group or role among the reviewers must
    /// give (a user reviewer gives one). GitHub waits for one reviewer, so
    /// it takes only 1.
    pub approvals: NonZeroU32,
    /// GitLab: who may run its deploy jobs (none: maintainers). GitHub has
    /// no such list (whoever may run the workflow deploys once it is
    /// reviewed), so it takes none.
    pub deployers: Vec<Principal>,
}

/// One way an environment differs from its [`EnvironmentProtection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvironmentDifference {
    /// The environment does not exist.
    Missing,
    /// GitLab: its deployment tier (given) is not `production`, so
    /// protection a group sets for its production environments misses it.
    Tier(String),
    /// GitHub: branches other than protected ones may deploy to it.
    BranchPolicy,
    /// GitLab: it is not a protected environment.
    Unprotected,
    /// GitLab: others than the wanted deployers may run its deploy jobs.
    Deployers,
    /// Its reviewers (or approval rules) are not the wanted ones.
    Reviewers,
    /// GitHub: whoever started a deploy may approve it.
    SelfReview,
}

impl fmt::Display for EnvironmentDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvironmentDifference::Missing => f.write_str("missing"),
            EnvironmentDifference::Tier(tier) => write!(f, "tier {tier}, not production"),
            EnvironmentDifference::BranchPolicy => f.write_str("any branch may deploy"),
            EnvironmentDifference::Unprotected => f.write_str("not protected"),
            EnvironmentDifference::Deployers => f.write_str("other deployers"),
            EnvironmentDifference::Reviewers => f.write_str("other reviewers"),
            EnvironmentDifference::SelfReview => {
                f.write_str("a deployer may approve their own deploy")
            }
        }
    }
}

/// One deployment environment as the platform has it, against its
/// [`EnvironmentProtection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentState {
    /// The environment's name.
    pub name: String,
    /// How it differs; empty when it is as wanted.
    pub differences: Vec<EnvironmentDifference>,
    /// Whether its deploys wait for a reviewer once it is as wanted: false
    /// when no reviewer was asked for and it has none.
    pub reviewed: bool,
}

impl EnvironmentState {
    /// Whether the environment is not as wanted.
    pub fn differs(&self) -> bool {
        !self.differences.is_empty()
    }
}

/// Differences as one line, for messages.
pub(crate) fn describe(differences: &[EnvironmentDifference]) -> String {
    differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One environment as a backend found it: how it differs from what is
/// wanted, and what the backend needs to make it so.
pub(crate) struct Surveyed<Plan> {
    pub(crate) state: EnvironmentState,
    pub(crate) plan: Plan,
}

/// A backend's deployment environments. Check and apply share one survey,
/// so they compare the same way and a second apply finds nothing to do.
#[async_trait]
pub(crate) trait Environments: Sync {
    /// What the backend keeps from the survey to apply one environment.
    type Plan: Send + Sync;

    /// Reads every wanted environment and compares it.
    async fn survey(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<Surveyed<Self::Plan>>, PlatformError>;

    /// Makes one surveyed environment that differs as wanted, checking each answer.
    async fn apply_environment(&self, surveyed: &Surveyed<Self::Plan>)
    -> Result<(), PlatformError>;

    /// [`crate::Platform::deployment_environments`].
    async fn check_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError> {
        Ok(self
            .survey(wanted)
            .await?
            .into_iter()
            .map(|surveyed| surveyed.state)
            .collect())
    }

    /// [`crate::Platform::apply_deployment_environments`]: the environments changed.
    async fn apply_environments(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<EnvironmentState>, PlatformError> {
        let mut changed = Vec::new();
        for surveyed in self.survey(wanted).await? {
            if surveyed.state.differs() {
                self.apply_environment(&surveyed).await?;
                changed.push(surveyed.state);
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_parse_and_print_back() {
        for text in [
            "user:alice",
            "team:cloud-ops",
            "group:infra/ops",
            "role:developer",
            "role:maintainer",
        ] {
            let principal: Principal = text.parse().unwrap();
            assert_eq!(principal.to_string(), text);
        }
        assert_eq!(
            "group:a:b".parse::<Principal>().unwrap(),
            Principal::Group("a:b".into())
        );
    }

    #[test]
    fn bad_principals_say_what_is_wrong() {
        let error = |text: &str| text.parse::<Principal>().unwrap_err();
        assert_eq!(error("alice"), PrincipalParseError::Kind("alice".into()));
        assert_eq!(error("org:x"), PrincipalParseError::Kind("org:x".into()));
        assert_eq!(error("user:"), PrincipalParseError::Empty("user:".into()));
        assert_eq!(
            error("role:owner"),
            PrincipalParseError::Role("role:owner".into())
        );
        assert!(error("alice").to_string().contains("`user:NAME`"));
    }
}
