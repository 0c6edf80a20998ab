//! The runner definitions of the config repository, evaluated for each
//! runner host.

use ci_platform::{PlatformKind, Secret};
use kayobe_config::inventory::Inventory;
use kayobe_config::locate::{Place, VariableFiles, VariablePath};
use kayobe_config::repo::{ConfigRepo, RepoError};
use kayobe_config::template::Templar;
use kayobe_config::vault::VaultSecret;
use kayobe_config::{Map, Value, VariableError, VariableReader};

/// Groups whose hosts get kolla's Docker daemon from Kayobe; a runner host
/// in one of them cannot give GitHub jobs the network options they need.
const KOLLA_MANAGED_GROUPS: &[&str] = &["docker", "overcloud", "seed", "controllers", "compute"];

/// Why the runner definitions could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The repository, its inventory or its variables could not be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A variable could not be evaluated, is missing or has the wrong type.
    #[error(transparent)]
    Variable(#[from] VariableError),
    /// A variable's value is not one runners can use.
    #[error("{place}: `{variable}` of runner host {host} {problem}")]
    Invalid {
        /// Where the variable is written, or the runner group's file it
        /// belongs in.
        place: Place,
        /// The runner host.
        host: String,
        /// The variable (with the path inside it).
        variable: String,
        /// What is wrong.
        problem: String,
    },
}

/// Every runner host of one platform, with its runners.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The platform the runners serve.
    pub platform: PlatformKind,
    /// Runner hosts in inventory order.
    pub hosts: Vec<RunnerHost>,
    /// Things the operator should know (e.g. a runner host managed by kolla).
    pub warnings: Vec<String>,
}

/// One runner host and what runs on it.
#[derive(Debug, Clone)]
pub struct RunnerHost {
    /// The inventory host name.
    pub name: String,
    /// The host's runners.
    pub runners: HostRunners,
}

/// A host's runners, per platform.
#[derive(Debug, Clone)]
pub enum HostRunners {
    /// GitHub Actions runners.
    GitHub(GitHubHost),
    /// GitLab runners.
    GitLab(GitLabHost),
}

/// GitHub runner settings of one host (`github-runners` group).
#[derive(Debug, Clone)]
pub struct GitHubHost {
    /// The user the runners run as (`runner_user`).
    pub runner_user: String,
    /// `github_account`.
    pub account: String,
    /// `github_repo`.
    pub repo: String,
    /// The web URL the runners register against (`github_url`, default
    /// `https://github.com`) followed by `/<account>/<repo>`.
    pub repo_url: String,
    /// `access_token`, when set: a token allowed to register runners.
    pub access_token: Option<Secret>,
    /// `base_runner_dir` (default `/opt/actions-runner`).
    pub base_dir: String,
    /// The runners, in definition order.
    pub runners: Vec<GitHubRunner>,
    /// `github_registry`, when it has credentials.
    pub registry: Option<RegistryAuth>,
}

/// One GitHub runner definition (`github_runners` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubRunner {
    /// The key in `github_runners`.
    pub key: String,
    /// Its own `labels`, else `default_runner_labels`.
    pub labels: Vec<String>,
    /// `false` for `state: absent`.
    pub present: bool,
}

/// GitLab runner settings of one host (`gitlab-runners` group).
#[derive(Debug, Clone)]
pub struct GitLabHost {
    /// `gitlab_runner_coordinator_url`.
    pub coordinator_url: String,
    /// `gitlab_runner_concurrent` (default 1).
    pub concurrent: i64,
    /// `gitlab_runner_runners`.
    pub runners: Vec<GitLabRunner>,
    /// The Kolla registry credentials, for the jobs' Docker auth file.
    pub registry: Option<RegistryAuth>,
}

/// One `gitlab_runner_runners` entry.
#[derive(Debug, Clone)]
pub struct GitLabRunner {
    /// `name`.
    pub name: String,
    /// `executor` (default `docker`).
    pub executor: String,
    /// `docker_image`.
    pub docker_image: Option<String>,
    /// `token`, when given (else the runner is created through the API).
    pub token: Option<Secret>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `env_vars`.
    pub env_vars: Vec<String>,
    /// `docker_volumes`.
    pub docker_volumes: Vec<String>,
    /// `run_untagged` (default false).
    pub run_untagged: bool,
    /// `locked` (default true).
    pub locked: bool,
    /// `extra_configs`: dotted table path (`runners.docker`) → settings.
    pub extra_configs: Map,
}

/// Docker registry credentials.
#[derive(Debug, Clone)]
pub struct RegistryAuth {
    /// `host:port` of the registry.
    pub registry: String,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// Reads the runner definitions for `platform` from every host of its
/// runner group (`github-runners` or `gitlab-runners`).
pub fn load(
    repo: &ConfigRepo,
    secret: Option<&VaultSecret>,
    platform: PlatformKind,
) -> Result<Fleet, DefinitionError> {
    let inventory = repo.inventory(secret)?;
    load_from(repo, &inventory, secret, platform)
}

/// Like [`load`], with an inventory already read.
pub fn load_from(
    repo: &ConfigRepo,
    inventory: &Inventory,
    secret: Option<&VaultSecret>,
    platform: PlatformKind,
) -> Result<Fleet, DefinitionError> {
    let group = group_of(platform);
    let mut hosts = Vec::new();
    let mut warnings = Vec::new();
    let runner_hosts = inventory.group_hosts(group).unwrap_or_default();
    // Read (and decrypt) the extra vars only when there is a runner host to
    // read them for: with none, a missing vault password is no error.
    let extra_vars = if runner_hosts.is_empty() {
        Default::default()
    } else {
        repo.extra_vars(secret)?
    };
    for host in runner_hosts {
        let groups = inventory.host_groups(host).unwrap_or_default();
        let kolla: Vec<&str> = groups
            .iter()
            .copied()
            .filter(|g| KOLLA_MANAGED_GROUPS.contains(g))
            .collect();
        if !kolla.is_empty() {
            warnings.push(format!(
                "runner host {host} is also in kolla-managed group(s) {}: kolla's Docker daemon cannot give runner jobs the network options they need; move the runners to a host outside those groups",
                kolla.join(", ")
            ));
        }
        let mut vars = repo.host_variables_with(inventory, host, &extra_vars)?;
        vars.entry("inventory_hostname".into())
            .or_insert_with(|| Value::from(host));
        vars.entry("inventory_hostname_short".into())
            .or_insert_with(|| Value::from(host.split('.').next().unwrap_or(host)));
        vars.entry("group_names".into())
            .or_insert_with(|| Value::List(groups.iter().map(|g| Value::from(*g)).collect()));
        let files = VariableFiles::new(repo.host_variable_files(inventory, host)?, group);
        let reader = Reader {
            vars: VariableReader::new(Templar::new(&vars), files)
                .owned_by(format!("runner host {host}")),
            host,
        };
        let runners = match platform {
            PlatformKind::GitHub => HostRunners::GitHub(reader.github()?),
            PlatformKind::GitLab => HostRunners::GitLab(reader.gitlab()?),
        };
        hosts.push(RunnerHost {
            name: host.to_owned(),
            runners,
        });
    }
    Ok(Fleet {
        platform,
        hosts,
        warnings,
    })
}

fn group_of(platform: PlatformKind) -> &'static str {
    match platform {
        PlatformKind::GitHub => "github-runners",
        PlatformKind::GitLab => "gitlab-runners",
    }
}

/// Reads one host's variables, evaluated.
struct Reader<'a> {
    vars: VariableReader,
    host: &'a str,
}

impl Reader<'_> {
    /// The value at `path` is wrong in a way only runners care about; the
    /// error points at where it is written.
    fn invalid(&self, path: &VariablePath, problem: impl Into<String>) -> DefinitionError {
        DefinitionError::Invalid {
            place: self.vars.place(path),
            host: self.host.to_owned(),
            variable: path.to_string(),
            problem: problem.into(),
        }
    }

    fn variable(&self, name: &str) -> Result<Option<Value>, DefinitionError> {
        Ok(self.vars.get(&VariablePath::new(name))?)
    }

    fn required_string(&self, name: &str) -> Result<String, DefinitionError> {
        let path = VariablePath::new(name);
        let value = self.vars.required(&path)?;
        Ok(self.vars.text(&path, &value)?)
    }

    fn optional_string(&self, name: &str) -> Result<Option<String>, DefinitionError> {
        let path = VariablePath::new(name);
        self.variable(name)?
            .map(|value| self.string(&path, &value))
            .transpose()
    }

    fn string(&self, path: &VariablePath, value: &Value) -> Result<String, DefinitionError> {
        Ok(self.vars.text(path, value)?)
    }

    fn strings(
        &self,
        path: &VariablePath,
        value: Option<&Value>,
    ) -> Result<Vec<String>, DefinitionError> {
        match value {
            None => Ok(Vec::new()),
            Some(value) => Ok(self.vars.texts(path, value)?),
        }
    }

    fn bool(
        &self,
        path: &VariablePath,
        value: Option<&Value>,
        default: bool,
    ) -> Result<bool, DefinitionError> {
        match value {
            None | Some(Value::Null) => Ok(default),
            Some(value) => Ok(self.vars.bool(path, value)?),
        }
    }

    fn github(&self) -> Result<GitHubHost, DefinitionError> {
        let account = self.required_string("github_account")?;
        let repo = self.required_string("github_repo")?;
        let web = self
            .optional_string("github_url")?
            .unwrap_or_else(|| "https://github.com".to_owned());
        let defaults = self.variable("default_runner_labels")?;
        let default_labels = self.strings(
            &VariablePath::new("default_runner_labels"),
            defaults.as_ref(),
        )?;
        let mut runners = Vec::new();
        match self.variable("github_runners")? {
            None => {}
            Some(Value::Map(entries)) => {
                for (key, overrides) in entries {
                    let name = VariablePath::new("github_runners").key(&key);
                    let overrides = match overrides {
                        Value::Map(map) => map,
                        Value::Null => Map::new(),
                        other => {
                            return Err(self.invalid(
                                &name,
                                format!("must be a mapping of overrides, not {}", other.kind()),
                            ));
                        }
                    };
                    let labels = match overrides.get("labels") {
                        Some(labels) => self.strings(&name.key("labels"), Some(labels))?,
                        None => default_labels.clone(),
                    };
                    let present = match overrides.get("state") {
                        None => true,
                        Some(state) => match self.string(&name.key("state"), state)?.as_str() {
                            "present" => true,
                            "absent" => false,
                            other => {
                                return Err(self.invalid(
                                    &name.key("state"),
                                    format!("is `{other}`; use `present` or `absent`"),
                                ));
                            }
                        },
                    };
                    runners.push(GitHubRunner {
                        key,
                        labels,
                        present,
                    });
                }
            }
            Some(other) => {
                return Err(self.invalid(
                    &VariablePath::new("github_runners"),
                    format!(
                        "must be a mapping of runner name to overrides, not {}",
                        other.kind()
                    ),
                ));
            }
        }
        let registry = match self.variable("github_registry")? {
            Some(Value::Map(registry)) => {
                self.registry(&VariablePath::new("github_registry"), &registry)?
            }
            None => None,
            Some(other) => {
                return Err(self.invalid(
                    &VariablePath::new("github_registry"),
                    format!("must be a mapping, not {}", other.kind()),
                ));
            }
        };
        Ok(GitHubHost {
            runner_user: self.required_string("runner_user")?,
            repo_url: format!("{}/{account}/{repo}", web.trim_end_matches('/')),
            account,
            repo,
            access_token: self.optional_string("access_token")?.map(Secret::new),
            base_dir: self
                .optional_string("base_runner_dir")?
                .unwrap_or_else(|| "/opt/actions-runner".to_owned()),
            runners,
            registry,
        })
    }

    fn registry(
        &self,
        path: &VariablePath,
        registry: &Map,
    ) -> Result<Option<RegistryAuth>, DefinitionError> {
        let field = |key: &str| -> Result<Option<String>, DefinitionError> {
            registry
                .get(key)
                .filter(|v| !matches!(v, Value::Null))
                .map(|v| self.string(&path.key(key), v))
                .transpose()
        };
        match (field("url")?, field("username")?, field("password")?) {
            (Some(url), Some(username), Some(password)) => Ok(Some(RegistryAuth {
                registry: url,
                username,
                password: Secret::new(password),
            })),
            _ => Ok(None),
        }
    }

    fn gitlab(&self) -> Result<GitLabHost, DefinitionError> {
        let coordinator_url = self.required_string("gitlab_runner_coordinator_url")?;
        let concurrent_path = VariablePath::new("gitlab_runner_concurrent");
        let concurrent = match self.variable("gitlab_runner_concurrent")? {
            None => 1,
            Some(value) => match self.vars.int(&concurrent_path, &value)? {
                n if n > 0 => n,
                n => {
                    return Err(
                        self.invalid(&concurrent_path, format!("is {n}; it must be 1 or more"))
                    );
                }
            },
        };
        let mut runners = Vec::new();
        let list = match self.variable("gitlab_runner_runners")? {
            None => Vec::new(),
            Some(Value::List(list)) => list,
            Some(other) => {
                return Err(self.invalid(
                    &VariablePath::new("gitlab_runner_runners"),
                    format!("must be a list of runners, not {}", other.kind()),
                ));
            }
        };
        for (index, entry) in list.into_iter().enumerate() {
            let name = VariablePath::new("gitlab_runner_runners").index(index);
            let Value::Map(entry) = entry else {
                return Err(self.invalid(&name, "must be a mapping"));
            };
            let get = |key: &str| entry.get(key).filter(|v| !matches!(v, Value::Null));
            let string = |key: &str| -> Result<Option<String>, DefinitionError> {
                get(key).map(|v| self.string(&name.key(key), v)).transpose()
            };
            let extra_configs = match get("extra_configs") {
                None => Map::new(),
                Some(Value::Map(map)) => map.clone(),
                Some(other) => {
                    return Err(self.invalid(
                        &name.key("extra_configs"),
                        format!(
                            "must be a mapping of table to settings, not {}",
                            other.kind()
                        ),
                    ));
                }
            };
            runners.push(GitLabRunner {
                name: string("name")?.ok_or_else(|| self.invalid(&name, "has no `name`"))?,
                executor: string("executor")?.unwrap_or_else(|| "docker".to_owned()),
                docker_image: string("docker_image")?,
                token: string("token")?.map(Secret::new),
                tags: self.strings(&name.key("tags"), get("tags"))?,
                env_vars: self.strings(&name.key("env_vars"), get("env_vars"))?,
                docker_volumes: self.strings(&name.key("docker_volumes"), get("docker_volumes"))?,
                run_untagged: self.bool(&name.key("run_untagged"), get("run_untagged"), false)?,
                locked: self.bool(&name.key("locked"), get("locked"), true)?,
                extra_configs,
            });
        }
        let registry = match (
            self.optional_string("kolla_docker_registry")?,
            self.optional_string("kolla_docker_registry_username")?,
            self.optional_string("kolla_docker_registry_password")?,
        ) {
            (Some(registry), Some(username), Some(password)) => Some(RegistryAuth {
                registry,
                username,
                password: Secret::new(password),
            }),
            _ => None,
        };
        Ok(GitLabHost {
            coordinator_url,
            concurrent,
            runners,
            registry,
        })
    }
}
