//! Plan (what would change) and apply (make it so, idempotently).
//!
//! Host files are rendered into an output directory, one subdirectory per
//! runner host holding the host's absolute paths (`<out>/runner01/etc/…`),
//! ready to be copied to the hosts. What exists there is what the hosts
//! have: a GitHub runner with a `registration.env` is registered (or will
//! be, on its unit's first start), a GitLab runner in `config.toml` has its
//! token. So a second apply finds nothing to do.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ci_platform::{Platform, PlatformError, RunnerCredential, RunnerSpec, Secret};
use kayobe_stdx::{OutputOptions, write_output};

use crate::definitions::{Fleet, GitHubHost, GitLabHost, HostRunners, RegistryAuth, RunnerHost};
use crate::files::{self, GitLabToken, HostFile};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Delete a runner from the platform (marked absent or no longer defined).
    Delete {
        /// The runner host.
        host: String,
        /// The runner's platform name.
        runner: String,
        /// The platform's runner id.
        id: u64,
    },
    /// Get a registration token (GitHub) or create the runner (GitLab).
    Register {
        /// The runner host.
        host: String,
        /// The runner's name.
        runner: String,
    },
    /// Write (create or replace) a file on a runner host.
    Write {
        /// The runner host.
        host: String,
        /// The absolute path on the host.
        path: String,
    },
    /// Remove a file from a runner host.
    Remove {
        /// The runner host.
        host: String,
        /// The absolute path on the host.
        path: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Delete { host, runner, id } => {
                write!(f, "delete runner {runner} (id {id}) of {host}")
            }
            Step::Register { host, runner } => write!(f, "register runner {runner} on {host}"),
            Step::Write { host, path } => write!(f, "write {host}:{path}"),
            Step::Remove { host, path } => write!(f, "remove {host}:{path}"),
        }
    }
}

/// What `apply` would do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The changes: deletions, registrations, then file writes and removals.
    pub steps: Vec<Step>,
    /// Warnings from the definitions.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Why planning or applying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// A platform call failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// A host file could not be read or written.
    #[error("{path}: {source}; check the output directory is writable")]
    Io {
        /// The local file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The platform gave a credential of the other platform's kind.
    #[error(
        "the platform returned a {got} credential for runner {runner}: the runners are defined for the other platform"
    )]
    Credential {
        /// The runner.
        runner: String,
        /// What came back.
        got: &'static str,
    },
}

/// Apply stopped part way: what was done and what failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "runner apply stopped {} after {} step(s) were done{}: {source}. Run `runners plan` to see what remains, then apply again",
    failed.as_ref().map_or("while reading the current state".to_owned(), |step| format!("at `{step}`")),
    done.len(),
    done_list(done)
)]
pub struct ApplyError {
    /// The steps completed before the failure.
    pub done: Vec<Step>,
    /// The step that failed; `None` when reading the platform's runners or
    /// the existing host files failed, before any step.
    pub failed: Option<Step>,
    /// Why it failed.
    pub source: ProvisionError,
}

fn done_list(done: &[Step]) -> String {
    if done.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = done.iter().map(Step::to_string).collect();
        format!(" ({})", items.join("; "))
    }
}

/// Works out what `apply` would change.
pub async fn plan(
    fleet: &Fleet,
    platform: &dyn Platform,
    out: &Path,
) -> Result<Plan, ProvisionError> {
    let state = State::read(fleet, platform, out).await?;
    Ok(Plan {
        steps: state.steps(fleet, out)?,
        warnings: fleet.warnings.clone(),
    })
}

/// Makes the platform and the host files match the definitions; returns
/// the steps done (none when everything already matched).
pub async fn apply(
    fleet: &Fleet,
    platform: &dyn Platform,
    out: &Path,
) -> Result<Vec<Step>, ApplyError> {
    let before_any_step = |source| ApplyError {
        done: Vec::new(),
        failed: None,
        source,
    };
    let mut state = State::read(fleet, platform, out)
        .await
        .map_err(before_any_step)?;
    let steps = state.steps(fleet, out).map_err(before_any_step)?;
    let mut done = Vec::new();
    for step in steps {
        let result = match &step {
            Step::Delete { id, .. } => platform
                .delete_runner(*id)
                .await
                .map_err(ProvisionError::from),
            Step::Register { host, runner } => state.register(fleet, platform, host, runner).await,
            Step::Write { host, path } => state
                .rendered(fleet, host, path)
                .map_or(Ok(()), |file| write_file(out, host, &file)),
            Step::Remove { host, path } => remove_file(out, host, path),
        };
        if let Err(source) = result {
            return Err(ApplyError {
                done,
                failed: Some(step),
                source,
            });
        }
        tracing::info!("{step}");
        done.push(step);
    }
    Ok(done)
}

/// The platform's runners and the credentials known so far.
struct State {
    runners: Vec<ci_platform::Runner>,
    /// GitHub: registration tokens obtained during this apply, by runner name.
    github_tokens: BTreeMap<String, Secret>,
    /// GitLab: tokens by host, then runner name (config, existing file, or new).
    gitlab_tokens: BTreeMap<String, BTreeMap<String, GitLabToken>>,
    /// GitLab: runners of the existing config.toml, by host.
    gitlab_existing: BTreeMap<String, BTreeMap<String, GitLabToken>>,
}

impl State {
    async fn read(
        fleet: &Fleet,
        platform: &dyn Platform,
        out: &Path,
    ) -> Result<Self, ProvisionError> {
        let runners = if fleet.hosts.is_empty() {
            Vec::new()
        } else {
            platform.list_runners().await?
        };
        let mut gitlab_tokens = BTreeMap::new();
        let mut gitlab_existing = BTreeMap::new();
        for host in &fleet.hosts {
            let HostRunners::GitLab(gitlab) = &host.runners else {
                continue;
            };
            let existing = match read_optional(&host_path(out, &host.name, files::GITLAB_CONFIG))? {
                Some(text) => files::read_gitlab_config(&text),
                None => BTreeMap::new(),
            };
            let mut tokens = BTreeMap::new();
            for runner in &gitlab.runners {
                let token = match (&runner.token, existing.get(&runner.name)) {
                    (Some(token), _) => Some(GitLabToken {
                        id: None,
                        token: token.clone(),
                    }),
                    (None, Some(known)) => Some(known.clone()),
                    (None, None) => None,
                };
                if let Some(token) = token {
                    tokens.insert(runner.name.clone(), token);
                }
            }
            gitlab_tokens.insert(host.name.clone(), tokens);
            gitlab_existing.insert(host.name.clone(), existing);
        }
        Ok(Self {
            runners,
            github_tokens: BTreeMap::new(),
            gitlab_tokens,
            gitlab_existing,
        })
    }

    fn steps(&self, fleet: &Fleet, out: &Path) -> Result<Vec<Step>, ProvisionError> {
        let mut deletes = Vec::new();
        let mut registers = Vec::new();
        let mut files = Vec::new();
        for host in &fleet.hosts {
            match &host.runners {
                HostRunners::GitHub(github) => {
                    self.github_steps(host, github, out, &mut deletes, &mut registers, &mut files)?
                }
                HostRunners::GitLab(gitlab) => {
                    self.gitlab_steps(host, gitlab, out, &mut deletes, &mut registers, &mut files)?
                }
            }
        }
        deletes.extend(registers);
        deletes.extend(files);
        Ok(deletes)
    }

    fn github_steps(
        &self,
        host: &RunnerHost,
        github: &GitHubHost,
        out: &Path,
        deletes: &mut Vec<Step>,
        registers: &mut Vec<Step>,
        files: &mut Vec<Step>,
    ) -> Result<(), ProvisionError> {
        let prefix = format!("{}-", host.name);
        for registered in &self.runners {
            let Some(key) = registered.name.strip_prefix(&prefix) else {
                continue;
            };
            let wanted = github.runners.iter().any(|r| r.key == key && r.present);
            if !wanted {
                deletes.push(Step::Delete {
                    host: host.name.clone(),
                    runner: registered.name.clone(),
                    id: registered.id,
                });
            }
        }
        for runner in &github.runners {
            let unit = files::github_unit(github, &host.name, runner);
            let registration = files::github_registration_path(github, runner);
            if runner.present {
                let name = files::github_runner_name(&host.name, &runner.key);
                let on_platform = self.runners.iter().any(|r| r.name == name);
                let on_host = host_path(out, &host.name, &registration).exists();
                if !on_platform && !on_host {
                    registers.push(Step::Register {
                        host: host.name.clone(),
                        runner: name,
                    });
                    files.push(Step::Write {
                        host: host.name.clone(),
                        path: registration,
                    });
                }
                if differs(out, &host.name, &unit)? {
                    files.push(Step::Write {
                        host: host.name.clone(),
                        path: unit.path,
                    });
                }
            } else {
                for path in [unit.path, registration] {
                    if host_path(out, &host.name, &path).exists() {
                        files.push(Step::Remove {
                            host: host.name.clone(),
                            path,
                        });
                    }
                }
            }
        }
        registry_auth_step(out, &host.name, github.registry.as_ref(), files)
    }

    fn gitlab_steps(
        &self,
        host: &RunnerHost,
        gitlab: &GitLabHost,
        out: &Path,
        deletes: &mut Vec<Step>,
        registers: &mut Vec<Step>,
        files: &mut Vec<Step>,
    ) -> Result<(), ProvisionError> {
        let tokens = self
            .gitlab_tokens
            .get(&host.name)
            .cloned()
            .unwrap_or_default();
        let existing = self
            .gitlab_existing
            .get(&host.name)
            .cloned()
            .unwrap_or_default();
        for (name, known) in &existing {
            let defined = gitlab.runners.iter().any(|r| &r.name == name);
            if let (false, Some(id)) = (defined, known.id) {
                if self.runners.iter().any(|r| r.id == id) {
                    deletes.push(Step::Delete {
                        host: host.name.clone(),
                        runner: name.clone(),
                        id,
                    });
                }
            }
        }
        let mut pending = false;
        for runner in &gitlab.runners {
            if !tokens.contains_key(&runner.name) {
                pending = true;
                registers.push(Step::Register {
                    host: host.name.clone(),
                    runner: runner.name.clone(),
                });
            }
        }
        let config = files::gitlab_config(gitlab, &tokens);
        if pending || differs(out, &host.name, &config)? {
            files.push(Step::Write {
                host: host.name.clone(),
                path: config.path,
            });
        }
        registry_auth_step(out, &host.name, gitlab.registry.as_ref(), files)
    }

    async fn register(
        &mut self,
        fleet: &Fleet,
        platform: &dyn Platform,
        host_name: &str,
        runner_name: &str,
    ) -> Result<(), ProvisionError> {
        let Some(host) = fleet.hosts.iter().find(|h| h.name == host_name) else {
            return Ok(());
        };
        match &host.runners {
            HostRunners::GitHub(github) => {
                let labels = github
                    .runners
                    .iter()
                    .find(|r| files::github_runner_name(host_name, &r.key) == runner_name)
                    .map(|r| r.labels.clone())
                    .unwrap_or_default();
                let spec = RunnerSpec {
                    name: runner_name.to_owned(),
                    tags: labels,
                    run_untagged: false,
                    locked: true,
                };
                match platform.runner_credential(&spec).await? {
                    RunnerCredential::Registration { token, .. } => {
                        self.github_tokens.insert(runner_name.to_owned(), token);
                        Ok(())
                    }
                    _ => Err(ProvisionError::Credential {
                        runner: runner_name.to_owned(),
                        got: "GitLab",
                    }),
                }
            }
            HostRunners::GitLab(gitlab) => {
                let Some(runner) = gitlab.runners.iter().find(|r| r.name == runner_name) else {
                    return Ok(());
                };
                let spec = RunnerSpec {
                    name: runner.name.clone(),
                    tags: runner.tags.clone(),
                    run_untagged: runner.run_untagged,
                    locked: runner.locked,
                };
                match platform.runner_credential(&spec).await? {
                    RunnerCredential::Authentication { id, token } => {
                        self.gitlab_tokens
                            .entry(host_name.to_owned())
                            .or_default()
                            .insert(
                                runner.name.clone(),
                                GitLabToken {
                                    id: Some(id),
                                    token,
                                },
                            );
                        Ok(())
                    }
                    _ => Err(ProvisionError::Credential {
                        runner: runner_name.to_owned(),
                        got: "GitHub",
                    }),
                }
            }
        }
    }

    /// The file at `path` of `host_name` as it should now be.
    fn rendered(&self, fleet: &Fleet, host_name: &str, path: &str) -> Option<HostFile> {
        let host = fleet.hosts.iter().find(|h| h.name == host_name)?;
        let candidates = match &host.runners {
            HostRunners::GitHub(github) => {
                let mut all: Vec<HostFile> = github
                    .runners
                    .iter()
                    .flat_map(|runner| {
                        let name = files::github_runner_name(host_name, &runner.key);
                        let registration = self.github_tokens.get(&name).map(|token| {
                            files::github_registration(github, host_name, runner, token)
                        });
                        std::iter::once(files::github_unit(github, host_name, runner))
                            .chain(registration)
                    })
                    .collect();
                all.extend(github.registry.as_ref().map(files::docker_auth));
                all
            }
            HostRunners::GitLab(gitlab) => {
                let tokens = self
                    .gitlab_tokens
                    .get(host_name)
                    .cloned()
                    .unwrap_or_default();
                let mut all = vec![files::gitlab_config(gitlab, &tokens)];
                all.extend(gitlab.registry.as_ref().map(files::docker_auth));
                all
            }
        };
        candidates.into_iter().find(|file| file.path == path)
    }
}

/// `<out>/<host>/<absolute path without its leading slash>`.
pub fn host_path(out: &Path, host: &str, path: &str) -> PathBuf {
    out.join(host).join(path.trim_start_matches('/'))
}

fn read_optional(path: &Path) -> Result<Option<String>, ProvisionError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ProvisionError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes the registry login file when the host has a registry and the file differs.
fn registry_auth_step(
    out: &Path,
    host: &str,
    registry: Option<&RegistryAuth>,
    files: &mut Vec<Step>,
) -> Result<(), ProvisionError> {
    if let Some(registry) = registry {
        let auth = files::docker_auth(registry);
        if differs(out, host, &auth)? {
            files.push(Step::Write {
                host: host.to_owned(),
                path: auth.path,
            });
        }
    }
    Ok(())
}

fn differs(out: &Path, host: &str, file: &HostFile) -> Result<bool, ProvisionError> {
    let path = host_path(out, host, &file.path);
    let same_text = read_optional(&path)?.is_some_and(|text| text == file.contents());
    Ok(!same_text || mode_of(&path) != Some(file.mode))
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

/// Writes through the one output writer: atomically, the temporary file
/// private from the start, then given exactly the file's mode.
fn write_file(out: &Path, host: &str, file: &HostFile) -> Result<(), ProvisionError> {
    let path = host_path(out, host, &file.path);
    let options = OutputOptions::exactly(file.mode).creating_parents();
    write_output(&path, file.contents().as_bytes(), &options).map_err(|source| ProvisionError::Io {
        path: path.clone(),
        source: std::io::Error::other(source),
    })
}

fn remove_file(out: &Path, host: &str, path: &str) -> Result<(), ProvisionError> {
    let path = host_path(out, host, path);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ProvisionError::Io { path, source }),
    }
}
