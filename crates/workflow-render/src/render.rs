//! Writer config -> files, and the secrets and variables the files reference.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{GitlabSecrets, InputType, Platform, WriterConfig, env_var_name};
use crate::operation::{Kind, Operation};
use crate::templates::Templates;

/// Whether a reference is a secret or a plain variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A platform secret (GitHub secret, GitLab masked variable).
    Secret,
    /// A platform variable (GitHub `vars.*`).
    Variable,
    /// A key of the environment's OpenBao secret `kayobe-automation/<env>`
    /// (GitLab).
    OpenBaoKey,
}

/// A secret or variable the rendered files need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reference {
    /// Its name as the files reference it.
    pub name: String,
    /// Secret, variable or OpenBao key.
    pub kind: ReferenceKind,
    /// The environment it belongs to, `None` when shared.
    pub environment: Option<String>,
    /// The value to set, when the writer config knows it (never for secrets).
    pub value: Option<String>,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path relative to the repository root.
    pub path: PathBuf,
    /// Its text.
    pub contents: String,
}

/// What a render produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The files, in operation order.
    pub files: Vec<RenderedFile>,
    /// Files this renderer writes for operations now disabled (relative to
    /// the repository root): stale if they exist.
    pub disabled: Vec<PathBuf>,
    /// The secrets and variables the files reference, sorted, no duplicates.
    pub references: Vec<Reference>,
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed (a user override, most likely).
    #[error(
        "template `{name}` failed: {source:#}; check the template (a user override from the template directory replaces the embedded one)"
    )]
    Template {
        /// The template.
        name: &'static str,
        /// Why.
        source: minijinja::Error,
    },
}

/// Renders every enabled operation of `config`.
///
/// # Errors
/// [`RenderError`] when a template fails.
pub fn render(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    match config.platform {
        Platform::Github => render_github(config, templates),
        Platform::Gitlab => render_gitlab(config, templates),
    }
}

/// The environments jobs are made for: the configured ones, or one unnamed.
fn job_environments(config: &WriterConfig) -> Vec<Option<&str>> {
    if config.environments.is_empty() {
        vec![None]
    } else {
        config
            .environments
            .iter()
            .map(|e| Some(e.as_str()))
            .collect()
    }
}

struct Names<'a> {
    config: &'a WriterConfig,
    references: Vec<Reference>,
}

impl<'a> Names<'a> {
    /// The name of per-environment `base` for `environment`, recorded.
    fn per_environment(
        &mut self,
        base: &str,
        kind: ReferenceKind,
        environment: Option<&str>,
        shared: bool,
        value: Option<&str>,
    ) -> String {
        let prefixed = self.config.environments.len() > 1 && !shared;
        let name = match environment {
            Some(env) if prefixed => format!("{}_{base}", env_var_name(env)),
            _ => base.to_owned(),
        };
        self.references.push(Reference {
            name: name.clone(),
            kind,
            environment: if prefixed || (!shared && environment.is_some()) {
                environment.map(str::to_owned)
            } else {
                None
            },
            value: value.map(str::to_owned),
        });
        name
    }

    fn secret(&mut self, base: &str, environment: Option<&str>) -> String {
        self.per_environment(base, ReferenceKind::Secret, environment, false, None)
    }

    fn registry(&mut self, environment: Option<&str>) -> RegistryNames {
        let share = self.config.registry.share;
        let url = self.config.registry.url.clone();
        let user = self.config.registry.username.clone();
        RegistryNames {
            url: self.per_environment(
                "REGISTRY_URL",
                ReferenceKind::Variable,
                environment,
                share,
                Some(&url),
            ),
            username: self.per_environment(
                "REGISTRY_USERNAME",
                ReferenceKind::Variable,
                environment,
                share,
                user.as_deref(),
            ),
            password: self.per_environment(
                "REGISTRY_PASSWORD",
                ReferenceKind::Secret,
                environment,
                share,
                None,
            ),
        }
    }

    fn finish(mut self) -> Vec<Reference> {
        self.references.sort();
        self.references.dedup();
        self.references
    }
}

struct RegistryNames {
    url: String,
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Input {
    name: String,
    description: String,
    required: bool,
    default: Option<String>,
    #[serde(rename = "type")]
    input_type: &'static str,
    options: Vec<String>,
}

#[derive(Serialize)]
struct GithubJob {
    id: String,
    name: String,
    condition: Option<String>,
    runs_on: Vec<String>,
    concurrency: Option<String>,
    image: String,
    registry_url: String,
    registry_username: String,
    registry_password: String,
    env: Vec<(String, String)>,
}

#[derive(Serialize)]
struct GithubWorkflow {
    name: String,
    operation: &'static str,
    push_paths: Vec<&'static str>,
    pull_request: bool,
    schedule: Option<String>,
    inputs: Vec<Input>,
    workflow_concurrency: Option<String>,
    permissions: Vec<(&'static str, &'static str)>,
    timeout: i64,
    fetch_depth: Option<u32>,
    jobs: Vec<GithubJob>,
    pre_checkout: Vec<serde_json::Value>,
    pre_run: Vec<serde_json::Value>,
    post: Vec<serde_json::Value>,
    script: String,
    image: ImageArgs,
}

#[derive(Serialize)]
struct ImageArgs {
    name: String,
    tag: String,
    base_image: String,
    user_id: i64,
    group_id: i64,
    dockerfile: &'static str,
}

/// Files whose change needs a new Kayobe image.
const IMAGE_INPUTS: &[&str] = &[
    "etc/kayobe/ansible/requirements.yml",
    "requirements.txt",
    ".automation/docker/kayobe/**",
];
const DOCKERFILE: &str = ".automation/docker/kayobe/Dockerfile";

fn job_id(environment: Option<&str>) -> String {
    match environment {
        None => "run".into(),
        Some(env) => env.replace('.', "_"),
    }
}

fn to_json_steps(steps: &[kayobe_config::Value]) -> Vec<serde_json::Value> {
    steps.iter().map(plain_json).collect()
}

/// A value as the JSON a workflow holds: `!unsafe` text is just text there
/// (`Value::to_json` keeps Ansible's marker instead).
fn plain_json(value: &kayobe_config::Value) -> serde_json::Value {
    use kayobe_config::Value;
    match value {
        Value::Unsafe(text) => serde_json::Value::String(text.clone()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(plain_json).collect()),
        Value::Map(map) => serde_json::Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), plain_json(item)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

fn render_github(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    let mut names = Names {
        config,
        references: Vec::new(),
    };
    let mut files = Vec::new();
    let mut disabled = Vec::new();
    let several = config.environments.len() > 1;
    for settings in &config.operations {
        let operation = settings.operation;
        let path = config.output_dir.join(operation.github_file());
        if !settings.enabled {
            disabled.push(path);
            continue;
        }
        let kind = operation.kind();
        let mut inputs = Vec::new();
        let build_shared = kind == Kind::BuildImage && config.registry.share;
        if several && kind != Kind::ConfigDiff && !build_shared {
            inputs.push(Input {
                name: "environment".into(),
                description: "The Kayobe environment".into(),
                required: true,
                default: Some(config.environments[0].clone()),
                input_type: "choice",
                options: config.environments.clone(),
            });
        }
        let mut env_inputs: Vec<(String, String)> = Vec::new();
        if let Kind::Kayobe { kolla } = kind {
            let mut builtin = vec![
                ("kayobeLimit", "Limit Kayobe to these hosts (--limit)"),
                ("kayobeTags", "Run only these Kayobe tags (--tags)"),
            ];
            if kolla {
                builtin.push(("kollaLimit", "Limit kolla-ansible to these hosts"));
                builtin.push(("kollaTags", "Run only these kolla-ansible tags"));
            }
            for (name, description) in builtin {
                inputs.push(Input {
                    name: name.into(),
                    description: description.into(),
                    required: false,
                    default: Some(String::new()),
                    input_type: "string",
                    options: Vec::new(),
                });
                let env = match name {
                    "kayobeLimit" => "KAYOBE_LIMIT",
                    "kayobeTags" => "KAYOBE_TAGS",
                    "kollaLimit" => "KOLLA_LIMIT",
                    _ => "KOLLA_TAGS",
                };
                env_inputs.push((env.into(), format!("${{{{ inputs.{name} }}}}")));
            }
        }
        if kind == Kind::Tempest {
            inputs.push(Input {
                name: "testSuite".into(),
                description: "The Tempest load list to run".into(),
                required: true,
                default: Some(config.tempest_suites[0].clone()),
                input_type: "choice",
                options: config.tempest_suites.clone(),
            });
            env_inputs.push((
                "KAYOBE_AUTOMATION_TEMPEST_LOADLIST".into(),
                format!(
                    "${{{{ inputs.testSuite || '{}' }}}}",
                    config.tempest_suites[0].replace('\'', "''")
                ),
            ));
        }
        if kind != Kind::ConfigDiff {
            for input in &settings.inputs {
                inputs.push(Input {
                    name: input.name.clone(),
                    description: input.description.clone(),
                    required: input.required,
                    default: input.default.clone(),
                    input_type: input.input_type.name(),
                    options: input.options.clone(),
                });
                let value = match input.input_type {
                    InputType::Boolean | InputType::Number => {
                        format!("${{{{ format('{{0}}', inputs.{}) }}}}", input.name)
                    }
                    _ => format!("${{{{ inputs.{} }}}}", input.name),
                };
                env_inputs.push((input.env_name(), value));
            }
        }
        let environments = if build_shared {
            vec![None]
        } else {
            job_environments(config)
        };
        let mut jobs = Vec::new();
        for environment in environments {
            let registry = names.registry(environment);
            let image = format!(
                "${{{{ vars.{} }}}}/{}:{}",
                registry.url, config.image.name, config.image.tag
            );
            let mut env = Vec::new();
            if kind != Kind::BuildImage {
                if let Some(name) = environment {
                    env.push(("KAYOBE_ENVIRONMENT".to_owned(), name.to_owned()));
                }
                for secret in ["KAYOBE_VAULT_PASSWORD", "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY"] {
                    let name = names.secret(secret, environment);
                    env.push((secret.into(), format!("${{{{ secrets.{name} }}}}")));
                }
                if kind == Kind::Tempest {
                    let name = names.secret("TEMPEST_OPENRC", environment);
                    env.push((
                        "TEMPEST_OPENRC".into(),
                        format!("${{{{ secrets.{name} }}}}"),
                    ));
                }
            }
            env.extend(env_inputs.iter().cloned());
            let condition = match (environment, several, kind) {
                (Some(name), true, Kind::Kayobe { .. }) => {
                    Some(format!("inputs.environment == '{name}'"))
                }
                (Some(name), true, Kind::Tempest) => Some(format!(
                    "github.event_name == 'schedule' || inputs.environment == '{name}'"
                )),
                (Some(name), true, Kind::BuildImage) => Some(format!(
                    "github.event_name == 'push' || inputs.environment == '{name}'"
                )),
                _ => None,
            };
            let mut runs_on = config.runner_labels.clone();
            if let Some(name) = environment {
                runs_on.push(name.to_owned());
            }
            let concurrency = match kind {
                Kind::Kayobe { .. } | Kind::Tempest => Some(format!(
                    "kayobe-automation-{}",
                    environment.unwrap_or("default")
                )),
                Kind::BuildImage => {
                    Some(format!("kayobe-image-{}", environment.unwrap_or("shared")))
                }
                Kind::ConfigDiff => None,
            };
            jobs.push(GithubJob {
                id: job_id(environment),
                name: match environment {
                    Some(name) => format!("{operation} ({name})"),
                    None => operation.name().to_owned(),
                },
                condition,
                runs_on,
                concurrency,
                image,
                registry_url: format!("${{{{ vars.{} }}}}", registry.url),
                registry_username: format!("${{{{ vars.{} }}}}", registry.username),
                registry_password: format!("${{{{ secrets.{} }}}}", registry.password),
                env,
            });
        }
        let mut permissions = vec![("contents", "read")];
        if kind == Kind::BuildImage && config.registry.url.starts_with("ghcr.io") {
            permissions.push(("packages", "write"));
        }
        let workflow = GithubWorkflow {
            name: workflow_name(operation),
            operation: operation.name(),
            push_paths: if kind == Kind::BuildImage {
                IMAGE_INPUTS.to_vec()
            } else {
                Vec::new()
            },
            pull_request: kind == Kind::ConfigDiff,
            schedule: (kind == Kind::Tempest).then(|| config.tempest_schedule.clone()),
            inputs,
            workflow_concurrency: (kind == Kind::ConfigDiff)
                .then(|| "config-diff-${{ github.ref }}".to_owned()),
            permissions,
            timeout: config.timeout_minutes,
            fetch_depth: (kind == Kind::ConfigDiff).then_some(0),
            jobs,
            pre_checkout: to_json_steps(&settings.hooks.pre_checkout),
            pre_run: to_json_steps(&settings.hooks.pre_run),
            post: to_json_steps(&settings.hooks.post),
            script: format!("/src/.automation/pipeline/{}.sh", operation.name()),
            image: image_args(config),
        };
        let template = match kind {
            Kind::BuildImage => "github/build-kayobe-docker-image.yml.j2",
            _ => "github/workflow.yml.j2",
        };
        let contents =
            templates
                .render(template, &workflow)
                .map_err(|source| RenderError::Template {
                    name: template,
                    source,
                })?;
        files.push(RenderedFile { path, contents });
    }
    Ok(Rendered {
        files,
        disabled,
        references: names.finish(),
    })
}

fn image_args(config: &WriterConfig) -> ImageArgs {
    ImageArgs {
        name: config.image.name.clone(),
        tag: config.image.tag.clone(),
        base_image: config.image.base_image.clone(),
        user_id: config.image.user_id,
        group_id: config.image.group_id,
        dockerfile: DOCKERFILE,
    }
}

fn workflow_name(operation: Operation) -> String {
    let words: Vec<String> = operation
        .name()
        .split('-')
        .map(|word| match word {
            "vm" => "VM".to_owned(),
            word => {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        })
        .collect();
    words.join(" ")
}

#[derive(Clone, Serialize)]
struct GitlabJob {
    id: String,
    stage: &'static str,
    environment: Option<String>,
    tags: Vec<String>,
    rules: Vec<(String, &'static str)>,
    variables: Vec<(String, String)>,
    secret_keys: Vec<String>,
    secret_key_names: String,
    bao_env: String,
    bao_path: String,
    script: Vec<String>,
    pre_run: Vec<String>,
    post: Vec<String>,
    build: bool,
    resource_group: Option<String>,
    needs: Vec<String>,
}

#[derive(Serialize)]
struct GitlabPipeline {
    stages: Vec<&'static str>,
    image: String,
    openbao_address: String,
    vault_keyword: bool,
    timeout: i64,
    global_variables: Vec<(String, String, String)>,
    jobs: Vec<GitlabJob>,
    image_args: ImageArgs,
    registry_url: String,
}

fn stage(kind: Kind) -> &'static str {
    match kind {
        Kind::BuildImage => "build",
        Kind::ConfigDiff => "check",
        Kind::Tempest => "test",
        Kind::Kayobe { .. } => "deploy",
    }
}

/// The runbooks: operations run one after another, started by hand once.
pub(crate) const RUNBOOKS: &[(&str, &[&str])] = &[
    (
        "overcloud-deploy",
        &[
            "overcloud-host-configure",
            "overcloud-container-image-pull",
            "overcloud-service-deploy",
        ],
    ),
    (
        "overcloud-upgrade",
        &[
            "overcloud-host-package-update",
            "overcloud-container-image-pull",
            "overcloud-service-upgrade",
        ],
    ),
];

/// Runbook jobs, copied from the operations' jobs (the config requires
/// those operations enabled): the first waits for a person, each next one
/// needs the one before.
fn runbooks(config: &WriterConfig, jobs: &[GitlabJob]) -> Vec<GitlabJob> {
    let mut runbook_jobs = Vec::new();
    for (name, steps) in RUNBOOKS {
        for environment in job_environments(config) {
            let mut previous: Option<String> = None;
            for (index, operation) in steps.iter().enumerate() {
                let source_id = match environment {
                    Some(env) => format!("{operation}:{env}"),
                    None => (*operation).to_owned(),
                };
                let Some(source) = jobs.iter().find(|job| job.id == source_id) else {
                    continue;
                };
                let mut job = source.clone();
                job.id = match environment {
                    Some(env) => format!("runbook:{name}:{}-{operation}:{env}", index + 1),
                    None => format!("runbook:{name}:{}-{operation}", index + 1),
                };
                job.stage = "runbook";
                job.rules = vec![(
                    "$CI_PIPELINE_SOURCE == \"web\"".to_owned(),
                    if previous.is_none() {
                        "manual"
                    } else {
                        "on_success"
                    },
                )];
                job.needs = previous.iter().cloned().collect();
                previous = Some(job.id.clone());
                runbook_jobs.push(job);
            }
        }
    }
    runbook_jobs
}

fn shell_lines(steps: &[kayobe_config::Value]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|step| step.as_str().map(str::to_owned))
        .collect()
}

fn render_gitlab(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    let mut references = Vec::new();
    let mut jobs = Vec::new();
    let mut global_variables = Vec::new();
    let mut stages = Vec::new();
    let mut disabled = Vec::new();
    for settings in &config.operations {
        let operation = settings.operation;
        if !settings.enabled {
            continue;
        }
        let kind = operation.kind();
        if !stages.contains(&stage(kind)) {
            stages.push(stage(kind));
        }
        for input in &settings.inputs {
            global_variables.push((
                input.env_name(),
                input.default.clone().unwrap_or_default(),
                input.description.clone(),
            ));
        }
        let environments = if kind == Kind::BuildImage {
            vec![None]
        } else {
            job_environments(config)
        };
        for environment in environments {
            let bao_env = environment.unwrap_or("default");
            let mut secret_keys: Vec<&str> = Vec::new();
            if kind == Kind::BuildImage {
                // The build job runs docker, not the Kayobe image: its registry
                // login comes from CI/CD variables.
                references.push(Reference {
                    name: "REGISTRY_PASSWORD".into(),
                    kind: ReferenceKind::Secret,
                    environment: None,
                    value: None,
                });
                references.push(Reference {
                    name: "REGISTRY_USERNAME".into(),
                    kind: ReferenceKind::Variable,
                    environment: None,
                    value: config.registry.username.clone(),
                });
            } else {
                secret_keys.extend(["KAYOBE_VAULT_PASSWORD", "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY"]);
            }
            if kind == Kind::Tempest {
                secret_keys.push("TEMPEST_OPENRC");
            }
            for key in &secret_keys {
                references.push(Reference {
                    name: (*key).to_owned(),
                    kind: ReferenceKind::OpenBaoKey,
                    environment: Some(bao_env.to_owned()),
                    value: None,
                });
            }
            let mut variables = Vec::new();
            if let Some(name) = environment {
                variables.push(("KAYOBE_ENVIRONMENT".to_owned(), name.to_owned()));
            }
            if let Kind::Kayobe { kolla } = kind {
                let mut limits = vec!["KAYOBE_LIMIT", "KAYOBE_TAGS"];
                if kolla {
                    limits.extend(["KOLLA_LIMIT", "KOLLA_TAGS"]);
                }
                for name in limits {
                    global_variables.push((
                        name.to_owned(),
                        String::new(),
                        format!("{name} for Kayobe operations run by hand"),
                    ));
                }
            }
            if kind == Kind::Tempest {
                global_variables.push((
                    "TEMPEST_LOADLIST".to_owned(),
                    config.tempest_suites[0].clone(),
                    format!(
                        "Tempest load list of runs started by hand: one of {}",
                        config.tempest_suites.join(", ")
                    ),
                ));
                variables.push((
                    "KAYOBE_AUTOMATION_TEMPEST_LOADLIST".to_owned(),
                    format!("${{TEMPEST_LOADLIST:-{}}}", config.tempest_suites[0]),
                ));
            }
            let rules = match kind {
                Kind::BuildImage => vec![
                    ("$CI_PIPELINE_SOURCE == \"web\"".to_owned(), "manual"),
                    (
                        "$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
                            .to_owned(),
                        "on_success",
                    ),
                ],
                Kind::ConfigDiff => vec![(
                    "$CI_PIPELINE_SOURCE == \"merge_request_event\"".to_owned(),
                    "on_success",
                )],
                Kind::Tempest => vec![
                    (
                        "$CI_PIPELINE_SOURCE == \"schedule\"".to_owned(),
                        "on_success",
                    ),
                    ("$CI_PIPELINE_SOURCE == \"web\"".to_owned(), "manual"),
                ],
                Kind::Kayobe { .. } => {
                    vec![("$CI_PIPELINE_SOURCE == \"web\"".to_owned(), "manual")]
                }
            };
            let mut tags = config.runner_labels.clone();
            if let Some(name) = environment {
                tags.push(name.to_owned());
            }
            let script = match kind {
                Kind::BuildImage => Vec::new(),
                _ => vec![format!(
                    "\"$CI_PROJECT_DIR/.automation/pipeline/{}.sh\"",
                    operation.name()
                )],
            };
            jobs.push(GitlabJob {
                id: match environment {
                    Some(name) => format!("{operation}:{name}"),
                    None => operation.name().to_owned(),
                },
                stage: stage(kind),
                environment: environment.map(str::to_owned),
                tags,
                rules,
                variables,
                secret_keys: secret_keys.iter().map(|key| (*key).to_owned()).collect(),
                secret_key_names: secret_keys.join(" "),
                bao_env: bao_env.to_owned(),
                bao_path: format!("/v1/kayobe-automation/{bao_env}"),
                script,
                pre_run: shell_lines(&settings.hooks.pre_run),
                post: shell_lines(&settings.hooks.post),
                build: kind == Kind::BuildImage,
                resource_group: matches!(kind, Kind::Kayobe { .. } | Kind::Tempest)
                    .then(|| format!("kayobe-automation-{bao_env}")),
                needs: Vec::new(),
            });
        }
    }
    if config.runbooks {
        let runbook_jobs = runbooks(config, &jobs);
        if !runbook_jobs.is_empty() {
            stages.push("runbook");
        }
        jobs.extend(runbook_jobs);
    }
    if let Some(release) = &config.openstack_release {
        global_variables.push((
            "OPENSTACK_RELEASE".to_owned(),
            release.clone(),
            "The OpenStack release".to_owned(),
        ));
    }
    global_variables.sort();
    global_variables.dedup_by(|a, b| a.0 == b.0);
    let path = if config.output_dir == Path::new(".") {
        PathBuf::from(".gitlab-ci.yml")
    } else {
        config.output_dir.join(".gitlab-ci.yml")
    };
    let pipeline = GitlabPipeline {
        stages,
        image: format!(
            "{}/{}:{}",
            config.registry.url, config.image.name, config.image.tag
        ),
        openbao_address: config.openbao_address.clone(),
        vault_keyword: config.gitlab_secrets == GitlabSecrets::VaultKeyword,
        timeout: config.timeout_minutes,
        global_variables,
        jobs,
        image_args: image_args(config),
        registry_url: config.registry.url.clone(),
    };
    references.push(Reference {
        name: "DOCKER_AUTH_CONFIG".into(),
        kind: ReferenceKind::Secret,
        environment: None,
        value: None,
    });
    references.sort();
    references.dedup();
    let template = "gitlab/gitlab-ci.yml.j2";
    let contents =
        templates
            .render(template, &pipeline)
            .map_err(|source| RenderError::Template {
                name: template,
                source,
            })?;
    if pipeline.jobs.is_empty() {
        disabled.push(path);
        return Ok(Rendered {
            files: Vec::new(),
            disabled,
            references: Vec::new(),
        });
    }
    Ok(Rendered {
        files: vec![RenderedFile { path, contents }],
        disabled,
        references,
    })
}
