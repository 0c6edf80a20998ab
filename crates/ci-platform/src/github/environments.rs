//! GitHub deployment environments: one PUT sets an environment as a whole
//! (created when missing), so it carries the wanted branch policy and
//! reviewers and sends back what it does not manage.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::GitHub;
use crate::environment::{Environments, Surveyed, describe};
use crate::retry::{Api, IdJson, Method, expect_permitted};
use crate::{
    EnvironmentDifference, EnvironmentProtection, EnvironmentState, PlatformError, Principal,
    encode_segment,
};

const NEEDS_ADMINISTRATION: &str = "environments are created and protected with repository \
     Administration write (a fine-grained token: Administration, read and write; a classic \
     token: the `repo` scope), which a workflow's GITHUB_TOKEN cannot be given";

/// A reviewer as the environments API names one: `User` or `Team`, and its id.
type ReviewerId = (&'static str, u64);

/// Refuses what GitHub environments cannot express, before any call.
fn refuse_unsupported(wanted: &EnvironmentProtection) -> Result<(), PlatformError> {
    let unsupported = |what, advice| PlatformError::Unsupported {
        platform: "GitHub",
        what,
        advice,
    };
    if !wanted.deployers.is_empty() {
        return Err(unsupported(
            "deployer lists",
            "whoever may run the workflow deploys once a reviewer approves: choose the reviewers instead",
        ));
    }
    if wanted.approvals.get() > 1 {
        return Err(unsupported(
            "several approvals",
            "one of an environment's required reviewers approves a deploy: ask for one approval",
        ));
    }
    if wanted
        .reviewers
        .iter()
        .any(|r| matches!(r, Principal::Group(_) | Principal::Role(_)))
    {
        return Err(groups_unsupported());
    }
    Ok(())
}

fn groups_unsupported() -> PlatformError {
    PlatformError::Unsupported {
        platform: "GitHub",
        what: "GitLab groups and roles as reviewers",
        advice: "name users (`user:LOGIN`) or teams of the repository's organisation (`team:SLUG`)",
    }
}

/// An environment as `GET /repos/{owner}/{repo}/environments/{name}` gives it.
#[derive(Deserialize)]
struct EnvironmentJson {
    #[serde(default)]
    protection_rules: Vec<ProtectionRuleJson>,
    /// `null` when every branch may deploy.
    #[serde(default)]
    deployment_branch_policy: Option<BranchPolicyJson>,
}

#[derive(Deserialize)]
struct ProtectionRuleJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    wait_timer: Option<u64>,
    #[serde(default)]
    prevent_self_review: Option<bool>,
    #[serde(default)]
    reviewers: Vec<RuleReviewerJson>,
}

#[derive(Deserialize)]
struct RuleReviewerJson {
    #[serde(rename = "type")]
    kind: String,
    reviewer: IdJson,
}

#[derive(Deserialize, PartialEq, Eq)]
struct BranchPolicyJson {
    protected_branches: bool,
    custom_branch_policies: bool,
}

/// Only branches with protection rules deploy: with the default branch
/// protected, that is the default branch, as the rendered jobs expect.
const WANTED_BRANCH_POLICY: BranchPolicyJson = BranchPolicyJson {
    protected_branches: true,
    custom_branch_policies: false,
};

impl EnvironmentJson {
    fn required_reviewers(&self) -> Option<&ProtectionRuleJson> {
        self.protection_rules
            .iter()
            .find(|rule| rule.kind == "required_reviewers")
    }

    fn reviewers(&self) -> BTreeSet<ReviewerId> {
        let Some(rule) = self.required_reviewers() else {
            return BTreeSet::new();
        };
        rule.reviewers
            .iter()
            .map(|r| {
                let kind = if r.kind == "Team" { "Team" } else { "User" };
                (kind, r.reviewer.id)
            })
            .collect()
    }

    fn prevents_self_review(&self) -> bool {
        self.required_reviewers()
            .and_then(|rule| rule.prevent_self_review)
            .unwrap_or(false)
    }

    fn wait_timer(&self) -> Option<u64> {
        self.protection_rules
            .iter()
            .find(|rule| rule.kind == "wait_timer")
            .and_then(|rule| rule.wait_timer)
    }

    /// How it differs from the protection wanted with `reviewers` (none:
    /// reviewers not managed).
    fn differences(&self, reviewers: &BTreeSet<ReviewerId>) -> Vec<EnvironmentDifference> {
        let mut differences = Vec::new();
        if self.deployment_branch_policy.as_ref() != Some(&WANTED_BRANCH_POLICY) {
            differences.push(EnvironmentDifference::BranchPolicy);
        }
        if !reviewers.is_empty() {
            if self.reviewers() != *reviewers {
                differences.push(EnvironmentDifference::Reviewers);
            }
            if !self.prevents_self_review() {
                differences.push(EnvironmentDifference::SelfReview);
            }
        }
        differences
    }
}

/// The whole environment a PUT sets: the wanted branch policy and
/// reviewers, and what it has that is not managed here (a wait timer;
/// reviewers, when none are wanted), since the PUT describes it entirely.
fn environment_body(
    current: Option<&EnvironmentJson>,
    reviewers: &BTreeSet<ReviewerId>,
) -> serde_json::Value {
    let mut body = json!({"deployment_branch_policy": {
        "protected_branches": WANTED_BRANCH_POLICY.protected_branches,
        "custom_branch_policies": WANTED_BRANCH_POLICY.custom_branch_policies,
    }});
    let (reviewers, prevent_self_review) = if reviewers.is_empty() {
        current.map_or_else(Default::default, |env| {
            (env.reviewers(), env.prevents_self_review())
        })
    } else {
        (reviewers.clone(), true)
    };
    if !reviewers.is_empty() {
        body["reviewers"] = reviewers
            .iter()
            .map(|(kind, id)| json!({"type": kind, "id": id}))
            .collect();
        body["prevent_self_review"] = json!(prevent_self_review);
    }
    if let Some(wait) = current.and_then(EnvironmentJson::wait_timer) {
        body["wait_timer"] = json!(wait);
    }
    body
}

/// The PUT that makes a surveyed environment as wanted, and the reviewers
/// its answer must show.
pub(crate) struct Put {
    path: String,
    body: serde_json::Value,
    reviewers: BTreeSet<ReviewerId>,
}

impl GitHub {
    /// The id of a user or team named as a reviewer.
    async fn reviewer_id(&self, principal: &Principal) -> Result<ReviewerId, PlatformError> {
        let (kind, path) = match principal {
            Principal::User(login) => ("User", format!("/users/{}", encode_segment(login))),
            Principal::Team(slug) => (
                "Team",
                format!(
                    "/orgs/{}/teams/{}",
                    encode_segment(&self.owner),
                    encode_segment(slug)
                ),
            ),
            Principal::Group(_) | Principal::Role(_) => return Err(groups_unsupported()),
        };
        let (call, answer) = self.send(Method::Get, &path, None).await?;
        match answer.status {
            200 => Ok((kind, answer.json::<IdJson>(&call)?.id)),
            404 => Err(PlatformError::NoSuchPrincipal {
                platform: Self::PLATFORM,
                principal: principal.to_string(),
            }),
            _ => Err(call.status_error(&answer)),
        }
    }
}

#[async_trait]
impl Environments for GitHub {
    type Plan = Put;

    /// Each wanted environment as it is, reviewers looked up once each.
    async fn survey(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<Surveyed<Put>>, PlatformError> {
        wanted.iter().try_for_each(refuse_unsupported)?;
        let mut ids: BTreeMap<&Principal, ReviewerId> = BTreeMap::new();
        let mut surveyed = Vec::with_capacity(wanted.len());
        for environment in wanted {
            let mut reviewers = BTreeSet::new();
            for principal in &environment.reviewers {
                let id = match ids.get(principal) {
                    Some(id) => *id,
                    None => {
                        let id = self.reviewer_id(principal).await?;
                        ids.insert(principal, id);
                        id
                    }
                };
                reviewers.insert(id);
            }
            let path = self.repo_path(&format!(
                "/environments/{}",
                encode_segment(&environment.name)
            ));
            let (call, answer) = expect_permitted(
                self,
                (Method::Get, &path, None),
                &[200, 404],
                || format!("read environment `{}`", environment.name),
                NEEDS_ADMINISTRATION,
            )
            .await?;
            let current = match answer.status {
                200 => Some(answer.json::<EnvironmentJson>(&call)?),
                _ => None,
            };
            let differences = match &current {
                Some(env) => env.differences(&reviewers),
                None => vec![EnvironmentDifference::Missing],
            };
            let reviewed = !reviewers.is_empty()
                || current
                    .as_ref()
                    .is_some_and(|env| !env.reviewers().is_empty());
            surveyed.push(Surveyed {
                state: EnvironmentState {
                    name: environment.name.clone(),
                    differences,
                    reviewed,
                },
                plan: Put {
                    body: environment_body(current.as_ref(), &reviewers),
                    path,
                    reviewers,
                },
            });
        }
        Ok(surveyed)
    }

    async fn apply_environment(&self, surveyed: &Surveyed<Put>) -> Result<(), PlatformError> {
        let name = &surveyed.state.name;
        let put = &surveyed.plan;
        let (call, answer) = expect_permitted(
            self,
            (Method::Put, &put.path, Some(&put.body)),
            &[200],
            || format!("create or update environment `{name}`"),
            NEEDS_ADMINISTRATION,
        )
        .await?;
        // Protection the repository's plan does not offer must not pass as
        // applied: the answer is checked, not assumed.
        let left = answer
            .json::<EnvironmentJson>(&call)?
            .differences(&put.reviewers);
        if !left.is_empty() {
            return Err(PlatformError::EnvironmentNotApplied {
                platform: Self::PLATFORM,
                name: name.clone(),
                differences: describe(&left),
            });
        }
        Ok(())
    }
}
