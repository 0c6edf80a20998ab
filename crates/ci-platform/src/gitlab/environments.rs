//! GitLab deployment environments: the environment (created with the
//! `production` tier, or its tier set) and the protected environment of the
//! same name (created, or changed entry by entry). Protected environments
//! are a GitLab Premium feature; a GitLab without them is told apart from
//! other failures and said so.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{GitLab, NEEDS_READ, PAGE_SIZE};
use crate::environment::{Environments, Surveyed, describe};
use crate::retry::{Api, IdJson, Method, expect_permitted};
use crate::{
    EnvironmentDifference, EnvironmentProtection, EnvironmentState, PlatformError, Principal, Role,
    encode_segment,
};

const NEEDS_MAINTAINER: &str = "environments are created and protected by a token with the `api` \
     scope of a user with the Maintainer role";

/// The deployment tier of every environment made here: group-level
/// protected environments select a project's environments by tier.
const TIER: &str = "production";

/// Who a protected environment's deploy access level or approval rule is
/// for, as GitLab names one: a user, a group or an access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    User(u64),
    Group(u64),
    Level(u64),
}

/// A deploy access level (no approvals) or an approval rule (how many).
type Entry = (Grant, Option<u32>);

fn entry_json((grant, approvals): Entry) -> serde_json::Value {
    let mut entry = match grant {
        Grant::User(id) => json!({"user_id": id}),
        Grant::Group(id) => json!({"group_id": id}),
        Grant::Level(level) => json!({"access_level": level}),
    };
    if let Some(approvals) = approvals {
        entry["required_approvals"] = json!(approvals);
    }
    entry
}

/// An environment as `GET /projects/:id/environments` lists it.
#[derive(Deserialize)]
struct EnvironmentJson {
    id: u64,
    name: String,
    /// Absent from a GitLab without deployment tiers.
    #[serde(default)]
    tier: Option<String>,
}

impl EnvironmentJson {
    fn tier_difference(&self) -> Option<EnvironmentDifference> {
        self.tier
            .as_ref()
            .filter(|tier| *tier != TIER)
            .map(|tier| EnvironmentDifference::Tier(tier.clone()))
    }
}

#[derive(Deserialize)]
struct ProtectedJson {
    name: String,
    #[serde(default)]
    deploy_access_levels: Vec<AccessJson>,
    #[serde(default)]
    approval_rules: Vec<AccessJson>,
}

/// A deploy access level or approval rule of a protected environment.
#[derive(Deserialize)]
struct AccessJson {
    id: u64,
    access_level: Option<u64>,
    user_id: Option<u64>,
    group_id: Option<u64>,
    required_approvals: Option<u32>,
}

impl AccessJson {
    /// A user or group entry may carry an access level too: the user or
    /// group is what it grants.
    fn grant(&self) -> Option<Grant> {
        self.user_id
            .map(Grant::User)
            .or(self.group_id.map(Grant::Group))
            .or(self.access_level.map(Grant::Level))
    }
}

/// The changes that make `current` entries the `wanted` ones, in the form
/// a protected environment's PUT takes: each wanted entry missing added,
/// each other entry destroyed by id. None when they are the same.
fn entry_changes(current: &[AccessJson], wanted: &BTreeSet<Entry>) -> Vec<serde_json::Value> {
    let mut unmatched: Vec<&AccessJson> = current.iter().collect();
    let mut changes = Vec::new();
    for &(grant, approvals) in wanted {
        let same = |entry: &&AccessJson| {
            entry.grant() == Some(grant)
                && (approvals.is_none() || entry.required_approvals == approvals)
        };
        match unmatched.iter().position(same) {
            Some(index) => {
                unmatched.remove(index);
            }
            None => changes.push(entry_json((grant, approvals))),
        }
    }
    changes.extend(
        unmatched
            .into_iter()
            .map(|entry| json!({"id": entry.id, "_destroy": true})),
    );
    changes
}

/// One environment's wanted deploy access levels and approval rules, by id.
struct WantedEntries {
    deployers: BTreeSet<Entry>,
    /// `None`: reviewers not managed, the rules it has are kept.
    rules: Option<BTreeSet<Entry>>,
}

impl WantedEntries {
    /// How a protected environment differs, and the PUT body that makes
    /// it as wanted.
    fn compare(
        &self,
        protected: &ProtectedJson,
    ) -> (Vec<EnvironmentDifference>, serde_json::Value) {
        let mut differences = Vec::new();
        let mut body = json!({});
        let deployers = entry_changes(&protected.deploy_access_levels, &self.deployers);
        if !deployers.is_empty() {
            differences.push(EnvironmentDifference::Deployers);
            body["deploy_access_levels"] = json!(deployers);
        }
        if let Some(rules) = &self.rules {
            let rules = entry_changes(&protected.approval_rules, rules);
            if !rules.is_empty() {
                differences.push(EnvironmentDifference::Reviewers);
                body["approval_rules"] = json!(rules);
            }
        }
        (differences, body)
    }

    /// The POST body protecting environment `name`.
    fn create_body(&self, name: &str) -> serde_json::Value {
        let mut body = json!({
            "name": name,
            "deploy_access_levels": self.deployers.iter().copied().map(entry_json).collect::<Vec<_>>(),
        });
        if let Some(rules) = &self.rules {
            body["approval_rules"] = rules.iter().copied().map(entry_json).collect();
        }
        body
    }
}

/// One environment as found, and what makes it as wanted.
pub(crate) struct Found {
    environment: Option<EnvironmentJson>,
    protected: Option<ProtectedJson>,
    entries: WantedEntries,
}

fn teams_unsupported() -> PlatformError {
    PlatformError::Unsupported {
        platform: "GitLab",
        what: "GitHub teams as reviewers or deployers",
        advice: "name a group by its full path (`group:PATH`), a role (`role:maintainer`) or users (`user:NAME`)",
    }
}

impl GitLab {
    /// Who `principal` is, as protected environments name it.
    async fn grant(&self, principal: &Principal) -> Result<Grant, PlatformError> {
        let missing = || PlatformError::NoSuchPrincipal {
            platform: Self::PLATFORM,
            principal: principal.to_string(),
        };
        match principal {
            Principal::Role(role) => Ok(Grant::Level(role.access_level())),
            Principal::Team(_) => Err(teams_unsupported()),
            Principal::User(name) => {
                let path = format!("/users?username={}", encode_segment(name));
                let (call, answer) = self.expect(Method::Get, &path, None, &[200]).await?;
                let users: Vec<IdJson> = answer.json(&call)?;
                users
                    .first()
                    .map(|user| Grant::User(user.id))
                    .ok_or_else(missing)
            }
            Principal::Group(full_path) => {
                let path = format!("/groups/{}", encode_segment(full_path));
                let (call, answer) = self.send(Method::Get, &path, None).await?;
                match answer.status {
                    200 => Ok(Grant::Group(answer.json::<IdJson>(&call)?.id)),
                    404 => Err(missing()),
                    _ => Err(call.status_error(&answer)),
                }
            }
        }
    }

    /// [`GitLab::grant`], looked up once per principal.
    async fn cached_grant<'a>(
        &self,
        grants: &mut BTreeMap<&'a Principal, Grant>,
        principal: &'a Principal,
    ) -> Result<Grant, PlatformError> {
        if let Some(grant) = grants.get(principal) {
            return Ok(*grant);
        }
        let grant = self.grant(principal).await?;
        grants.insert(principal, grant);
        Ok(grant)
    }

    /// The environment named `name`, if the project has it.
    async fn environment(&self, name: &str) -> Result<Option<EnvironmentJson>, PlatformError> {
        let path = self.project_path(&format!("/environments?name={}", encode_segment(name)));
        let (call, answer) = expect_permitted(
            self,
            (Method::Get, &path, None),
            &[200],
            || format!("read environment `{name}`"),
            NEEDS_READ,
        )
        .await?;
        let listed: Vec<EnvironmentJson> = answer.json(&call)?;
        Ok(listed.into_iter().find(|env| env.name == name))
    }

    /// Every protected environment of the project, all pages. GitLab
    /// without them (no Premium: 403 from an Enterprise Edition, 404 from
    /// the Community Edition, which has no such route) or a token of a user
    /// below Maintainer is refused with what the jobs still get.
    async fn protected_environments(&self) -> Result<Vec<ProtectedJson>, PlatformError> {
        let mut protected = Vec::new();
        let mut page: u64 = 1;
        loop {
            let path = self.project_path(&format!(
                "/protected_environments?per_page={PAGE_SIZE}&page={page}"
            ));
            let (call, answer) = self.send(Method::Get, &path, None).await?;
            match answer.status {
                200 => {}
                403 | 404 => {
                    return Err(PlatformError::ProtectedEnvironmentsUnavailable {
                        status: answer.status,
                    });
                }
                _ => return Err(call.status_error(&answer)),
            }
            protected.extend(answer.json::<Vec<ProtectedJson>>(&call)?);
            match answer.next_page.and_then(|next| next.parse::<u64>().ok()) {
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        Ok(protected)
    }
}

#[async_trait]
impl Environments for GitLab {
    type Plan = Found;

    /// Each wanted environment as it is, principals looked up once each.
    /// The environments are read before the protected ones, so a missing
    /// project is its own error, not taken for a missing licence.
    async fn survey(
        &self,
        wanted: &[EnvironmentProtection],
    ) -> Result<Vec<Surveyed<Found>>, PlatformError> {
        if wanted
            .iter()
            .flat_map(|env| env.reviewers.iter().chain(&env.deployers))
            .any(|principal| matches!(principal, Principal::Team(_)))
        {
            return Err(teams_unsupported());
        }
        let mut grants: BTreeMap<&Principal, Grant> = BTreeMap::new();
        let mut all_entries = Vec::with_capacity(wanted.len());
        for environment in wanted {
            let mut deployers = BTreeSet::new();
            for principal in &environment.deployers {
                deployers.insert((self.cached_grant(&mut grants, principal).await?, None));
            }
            if deployers.is_empty() {
                deployers.insert((Grant::Level(Role::Maintainer.access_level()), None));
            }
            let mut rules = BTreeSet::new();
            for principal in &environment.reviewers {
                // A user gives one approval; a group or role as many as asked.
                let approvals = match principal {
                    Principal::User(_) => 1,
                    _ => environment.approvals.get(),
                };
                let grant = self.cached_grant(&mut grants, principal).await?;
                rules.insert((grant, Some(approvals)));
            }
            all_entries.push(WantedEntries {
                deployers,
                rules: (!rules.is_empty()).then_some(rules),
            });
        }
        let mut environments = Vec::with_capacity(wanted.len());
        for environment in wanted {
            environments.push(self.environment(&environment.name).await?);
        }
        let mut protected = self.protected_environments().await?;
        let mut surveyed = Vec::with_capacity(wanted.len());
        for ((environment, current), entries) in wanted.iter().zip(environments).zip(all_entries) {
            let mut differences = Vec::new();
            match &current {
                None => differences.push(EnvironmentDifference::Missing),
                Some(env) => differences.extend(env.tier_difference()),
            }
            let found = protected
                .iter()
                .position(|p| p.name == environment.name)
                .map(|index| protected.swap_remove(index));
            match &found {
                None => differences.push(EnvironmentDifference::Unprotected),
                Some(found) => differences.extend(entries.compare(found).0),
            }
            let reviewed = entries.rules.is_some()
                || found.as_ref().is_some_and(|p| !p.approval_rules.is_empty());
            surveyed.push(Surveyed {
                state: EnvironmentState {
                    name: environment.name.clone(),
                    differences,
                    reviewed,
                },
                plan: Found {
                    environment: current,
                    protected: found,
                    entries,
                },
            });
        }
        Ok(surveyed)
    }

    /// Makes one surveyed environment as wanted: the environment (created,
    /// or its tier set), then its protection (created, or changed entry by
    /// entry), each answer checked.
    async fn apply_environment(&self, surveyed: &Surveyed<Found>) -> Result<(), PlatformError> {
        let name = &surveyed.state.name;
        let plan = &surveyed.plan;
        let not_applied = |left: &[EnvironmentDifference]| PlatformError::EnvironmentNotApplied {
            platform: Self::PLATFORM,
            name: name.clone(),
            differences: describe(left),
        };
        let changed = match &plan.environment {
            None => Some((
                Method::Post,
                self.project_path("/environments"),
                json!({"name": name, "tier": TIER}),
                201,
            )),
            Some(env) if env.tier_difference().is_some() => Some((
                Method::Put,
                self.project_path(&format!("/environments/{}", env.id)),
                json!({"tier": TIER}),
                200,
            )),
            Some(_) => None,
        };
        if let Some((method, path, body, status)) = changed {
            let (call, answer) = expect_permitted(
                self,
                (method, &path, Some(&body)),
                &[status],
                || format!("create or update environment `{name}`"),
                NEEDS_MAINTAINER,
            )
            .await?;
            if let Some(left) = answer.json::<EnvironmentJson>(&call)?.tier_difference() {
                return Err(not_applied(&[left]));
            }
        }
        let protection = match &plan.protected {
            None => Some((
                Method::Post,
                self.project_path("/protected_environments"),
                plan.entries.create_body(name),
                201,
            )),
            Some(found) => {
                let (differences, body) = plan.entries.compare(found);
                (!differences.is_empty()).then(|| {
                    (
                        Method::Put,
                        self.project_path(&format!(
                            "/protected_environments/{}",
                            encode_segment(name)
                        )),
                        body,
                        200,
                    )
                })
            }
        };
        if let Some((method, path, body, status)) = protection {
            let (call, answer) = expect_permitted(
                self,
                (method, &path, Some(&body)),
                &[status],
                || format!("protect environment `{name}`"),
                NEEDS_MAINTAINER,
            )
            .await?;
            let left = plan
                .entries
                .compare(&answer.json::<ProtectedJson>(&call)?)
                .0;
            if !left.is_empty() {
                return Err(not_applied(&left));
            }
        }
        Ok(())
    }
}
