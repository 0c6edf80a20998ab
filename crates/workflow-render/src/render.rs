//! Writer config -> files, and the secrets and variables the files reference.

use std::path::{Path, PathBuf};

use serde::Serialize;

use kayobe_config::operation::{Arguments, CONTAINER_PIPELINE_DIR, PIPELINE_DIR};

use crate::config::{
    GitlabSecrets, InputType, OperationSettings, Platform, Selector, WriterConfig,
    deployment_environment, env_var_name, secret_reference,
};
use crate::templates::Templates;
use crate::workflow::{Kind, Workflow};

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

/// The environments GitHub jobs are made for, as the selector picks them.
fn github_environments(config: &WriterConfig) -> Vec<Option<&str>> {
    match config.selector {
        Selector::None => vec![None],
        Selector::Single => vec![config.environments.first().map(String::as_str)],
        Selector::Input => config
            .environments
            .iter()
            .map(|e| Some(e.as_str()))
            .collect(),
    }
}

/// The environments GitLab jobs are made for: the configured ones, or one
/// unnamed.
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

impl Names<'_> {
    /// The name of per-environment `base` for `environment`, recorded: an
    /// environment chosen by input has its own (`<ENV>_<base>`), as in the
    /// collection (a shared registry's build has no environment).
    fn per_environment(
        &mut self,
        base: &str,
        kind: ReferenceKind,
        environment: Option<&str>,
        value: Option<&str>,
    ) -> String {
        let prefixed = self.config.selector == Selector::Input;
        let name = match environment {
            Some(env) if prefixed => format!("{}_{base}", env_var_name(env)),
            _ => base.to_owned(),
        };
        self.record(&name, kind, environment.filter(|_| prefixed), value);
        name
    }

    fn record(
        &mut self,
        name: &str,
        kind: ReferenceKind,
        environment: Option<&str>,
        value: Option<&str>,
    ) {
        self.references.push(Reference {
            name: name.to_owned(),
            kind,
            environment: environment.map(str::to_owned),
            value: value.map(str::to_owned),
        });
    }

    fn secret(&mut self, base: &str, environment: Option<&str>) -> String {
        self.per_environment(base, ReferenceKind::Secret, environment, None)
    }

    /// The expression of the registry's URL, user and password for
    /// `environment`: what the writer config gives, else the platform's
    /// variables and secrets.
    fn registry(&mut self, environment: Option<&str>) -> RegistryNames {
        let registry = &self.config.registry;
        let url = match registry.url.clone() {
            Some(url) => url,
            None => {
                let name = self.per_environment(
                    "REGISTRY_URL",
                    ReferenceKind::Variable,
                    environment,
                    None,
                );
                format!("${{{{ vars.{name} }}}}")
            }
        };
        let username = match registry.username.clone() {
            Some(user) => user,
            None => {
                let name = self.per_environment(
                    "REGISTRY_USERNAME",
                    ReferenceKind::Variable,
                    environment,
                    None,
                );
                format!("${{{{ vars.{name} }}}}")
            }
        };
        let password = match registry.password_secret.clone() {
            Some(name) => {
                self.record(&name, ReferenceKind::Secret, None, None);
                name
            }
            None => self.per_environment(
                "REGISTRY_PASSWORD",
                ReferenceKind::Secret,
                environment,
                None,
            ),
        };
        RegistryNames {
            url,
            username,
            password: format!("${{{{ secrets.{password} }}}}"),
        }
    }

    /// `github_kayobe_arguments`' value of `name`, else `default`; a secret
    /// it names is recorded.
    fn argument(&mut self, name: &str, default: String) -> String {
        match self
            .config
            .kayobe_arguments
            .iter()
            .find(|(argument, _)| argument == name)
        {
            Some((_, value)) => {
                if let Some(secret) = secret_reference(value) {
                    self.record(&secret, ReferenceKind::Secret, None, None);
                }
                value.clone()
            }
            None => default,
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

impl Input {
    fn text(name: &str, description: &str, required: bool) -> Input {
        Input {
            name: name.to_owned(),
            description: description.to_owned(),
            required,
            default: (!required).then(String::new),
            input_type: "string",
            options: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct GithubJob {
    id: String,
    name: String,
    condition: Option<String>,
    runs_on: Vec<String>,
    concurrency: Option<String>,
    image: String,
    /// The image's tag by commit (image build).
    image_sha: String,
    registry_url: String,
    registry_username: String,
    registry_password: String,
    env: Vec<(String, String)>,
    artifact: String,
    /// The deployment environment it is bound to (reviewed operations).
    environment: Option<String>,
    /// The environment of the step publishing the config diff.
    publish_env: Vec<(String, String)>,
}

#[derive(Serialize)]
struct GithubWorkflow {
    name: String,
    kind: &'static str,
    operation: &'static str,
    push_paths: Vec<&'static str>,
    pull_request: bool,
    schedule: Option<String>,
    inputs: Vec<Input>,
    workflow_concurrency: Option<String>,
    permissions: Vec<(&'static str, &'static str)>,
    timeout: i64,
    jobs: Vec<GithubJob>,
    pre_checkout: Vec<serde_json::Value>,
    pre_run: Vec<serde_json::Value>,
    post: Vec<serde_json::Value>,
    script: String,
    image: ImageArgs,
    buildx: BuildxArgs,
    operation_file: String,
    /// Whether it runs only from the default branch, in its deployment
    /// environment, after checking the commit is still the branch's head.
    reviewed: bool,
    /// When the job refusing other branches runs.
    refuse_condition: String,
    runner_labels: Vec<String>,
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

#[derive(Serialize)]
struct BuildxArgs {
    enabled: bool,
    inline_config: String,
    provenance: bool,
}

/// A GitHub condition that the run is for the default branch.
const GITHUB_DEFAULT_BRANCH: &str = "github.ref_name == github.event.repository.default_branch";

/// Files whose change needs a new Kayobe image.
const IMAGE_INPUTS: &[&str] = &[
    "etc/kayobe/ansible/requirements.yml",
    "requirements.txt",
    ".automation",
    ".automation/docker/kayobe/**",
];
const DOCKERFILE: &str = ".automation/docker/kayobe/Dockerfile";

/// The environment variable, dispatch input and description of an
/// operation's required argument.
fn argument_input(arguments: Arguments) -> Option<(&'static str, &'static str, &'static str)> {
    match arguments {
        Arguments::Playbook => Some((
            "KAYOBE_AUTOMATION_PLAYBOOK",
            "playbook",
            "The playbook to run, relative to the repository root",
        )),
        Arguments::KollaCommand => Some((
            "KAYOBE_AUTOMATION_KOLLA_COMMAND",
            "kolla_command",
            "The kolla-ansible command and its arguments",
        )),
        Arguments::Script => Some((
            "KAYOBE_AUTOMATION_SCRIPT",
            "script",
            "The script to run, relative to the repository root",
        )),
        Arguments::NodeConfigDir => Some((
            "KAYOBE_AUTOMATION_NODE_CONFIG_DIR",
            "node_config_dir",
            "The directory to generate the configuration into",
        )),
        _ => None,
    }
}

/// The default of a required argument, where the collection has one.
fn argument_default(arguments: Arguments) -> Option<&'static str> {
    (arguments == Arguments::NodeConfigDir).then_some("/tmp/kolla")
}

/// The command line of an operation's run step: its script, with its
/// argument from the environment (word-split for a kolla-ansible command,
/// never globbed), so no expression is ever expanded inside a script. The
/// script runs through bash, not its executable bit: kayobe-automation ships
/// `overcloud-database-recover.sh` without one.
fn run_line(operation: Workflow, script_dir: &str) -> String {
    let script = format!("bash {script_dir}/{}.sh", operation.name());
    match operation.script().map(|s| s.arguments()) {
        Some(Arguments::Revision) => format!("{script} \"$KAYOBE_AUTOMATION_REVISION\""),
        Some(Arguments::KollaCommand) => {
            format!("set -f; {script} $KAYOBE_AUTOMATION_KOLLA_COMMAND")
        }
        Some(arguments) => match argument_input(arguments) {
            Some((env, _, _)) => format!("{script} \"${env}\""),
            None => script,
        },
        None => script,
    }
}

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

/// The pull-request variables kayobe-automation's `functions` reads, for a
/// GitHub run: the branch the run is on, the repository with the job's
/// token, and the API to open the pull request with.
const GITHUB_PULL_REQUEST: &[(&str, &str)] = &[
    ("KAYOBE_AUTOMATION_PR_TYPE", "github"),
    (
        "KAYOBE_AUTOMATION_PR_TARGET_BRANCH",
        "${{ github.ref_name }}",
    ),
    (
        "KAYOBE_AUTOMATION_PR_REMOTE",
        "https://x-access-token:${{ github.token }}@github.com/${{ github.repository }}",
    ),
    ("KAYOBE_AUTOMATION_PR_GITHUB_USER", "${{ github.actor }}"),
    ("KAYOBE_AUTOMATION_PR_AUTH_TOKEN", "${{ github.token }}"),
    (
        "KAYOBE_AUTOMATION_PR_TITLE",
        "[kayobe-automation] ${{ github.workflow }} #${{ github.run_id }}",
    ),
    (
        "KAYOBE_AUTOMATION_PR_URL",
        "https://api.github.com/repos/${{ github.repository }}/pulls",
    ),
];

fn render_github(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    let mut names = Names {
        config,
        references: Vec::new(),
    };
    let mut files = Vec::new();
    let mut disabled = Vec::new();
    let input_selector = config.selector == Selector::Input;
    for settings in &config.operations {
        let operation = settings.operation;
        let path = config.output_dir.join(operation.github_file());
        if !settings.enabled {
            disabled.push(path);
            continue;
        }
        let kind = operation.kind();
        let build_per_environment = kind == Kind::BuildImage && !config.registry.share;
        let mut inputs = Vec::new();
        let mut env_inputs: Vec<(String, String)> = Vec::new();
        if let Some(script) = operation.script() {
            if let Some((env, name, description)) = argument_input(script.arguments()) {
                let mut input = Input::text(name, description, true);
                if let Some(default) = argument_default(script.arguments()) {
                    input.required = false;
                    input.default = Some(default.to_owned());
                }
                inputs.push(input);
                env_inputs.push((env.to_owned(), format!("${{{{ inputs.{name} }}}}")));
            }
            let mut limits = Vec::new();
            if script.takes_kolla_inputs() {
                limits.extend([
                    ("kolla_limit", "KOLLA_LIMIT", "--kolla-limit"),
                    ("kolla_tags", "KOLLA_TAGS", "--kolla-tags"),
                ]);
            }
            if script.takes_kayobe_inputs() {
                limits.extend([
                    ("kayobe_limit", "KAYOBE_LIMIT", "--limit"),
                    ("kayobe_tags", "KAYOBE_TAGS", "--tags"),
                ]);
            }
            for (name, env, description) in limits {
                inputs.push(Input::text(name, description, false));
                let value = names.argument(env, format!("${{{{ inputs.{name} }}}}"));
                env_inputs.push((env.to_owned(), value));
            }
        }
        if kind == Kind::Tempest {
            inputs.push(Input {
                name: "test_suite".into(),
                description: "The load list to run: a file of .automation.conf/tempest/load-lists"
                    .into(),
                required: false,
                default: Some(config.tempest_suites[0].clone()),
                input_type: "choice",
                options: config.tempest_suites.clone(),
            });
            inputs.push(Input::text(
                "tempest_pattern",
                "Limit tests to this regex (takes precedence over the load list)",
                false,
            ));
            inputs.push(Input {
                name: "run_previous_failed".into(),
                description: "Run only the tests that failed in a previous run".into(),
                required: false,
                default: Some("false".into()),
                input_type: "boolean",
                options: Vec::new(),
            });
            inputs.push(Input {
                name: "previous_workflow_id".into(),
                description:
                    "The run to take the failed tests from (default: the run before this one)"
                        .into(),
                required: false,
                default: None,
                input_type: "number",
                options: Vec::new(),
            });
            let loadlist = names.argument(
                "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
                format!(
                    "${{{{ inputs.run_previous_failed && 'previous-failed-tests' || inputs.test_suite || '{}' }}}}",
                    config.tempest_suites[0].replace('\'', "''")
                ),
            );
            env_inputs.push(("KAYOBE_AUTOMATION_TEMPEST_LOADLIST".into(), loadlist));
            let pattern = names.argument("TEMPEST_PATTERN", "${{ inputs.tempest_pattern }}".into());
            env_inputs.push(("TEMPEST_PATTERN".into(), pattern));
        }
        if kind == Kind::ConfigDiff {
            env_inputs.push((
                "KAYOBE_AUTOMATION_REVISION".into(),
                "${{ github.event.pull_request.base.sha }}".into(),
            ));
        }
        if settings.pull_request {
            for (name, value) in GITHUB_PULL_REQUEST {
                let value = names.argument(name, (*value).to_owned());
                env_inputs.push(((*name).to_owned(), value));
            }
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
        let several = input_selector && kind != Kind::ConfigDiff && kind != Kind::BuildImage;
        if several {
            inputs.insert(
                0,
                Input {
                    name: "kayobe_environment".into(),
                    description: "The Kayobe environment to run in".into(),
                    required: true,
                    default: Some(config.environments[0].clone()),
                    input_type: "choice",
                    options: config.environments.clone(),
                },
            );
        }
        let environments = match kind {
            Kind::BuildImage if !build_per_environment || !input_selector => vec![None],
            Kind::BuildImage => job_environments(config),
            Kind::ConfigDiff if config.selector != Selector::None => job_environments(config),
            _ => github_environments(config),
        };
        let scheduled = kind == Kind::Tempest && config.tempest_schedule.is_some();
        let mut jobs = Vec::new();
        for environment in environments {
            let registry = names.registry(environment);
            let image_base = format!("{}/{}", registry.url, config.image.name);
            let mut env = Vec::new();
            if kind != Kind::BuildImage {
                if let Some(name) = environment {
                    env.push((
                        "KAYOBE_ENVIRONMENT".to_owned(),
                        names.argument("KAYOBE_ENVIRONMENT", name.to_owned()),
                    ));
                }
                let mut secrets = vec!["KAYOBE_VAULT_PASSWORD"];
                if kind != Kind::ConfigDiff {
                    secrets.push("KAYOBE_AUTOMATION_SSH_PRIVATE_KEY");
                }
                if kind == Kind::Tempest {
                    secrets.push("TEMPEST_OPENRC");
                }
                for secret in secrets {
                    let default =
                        format!("${{{{ secrets.{} }}}}", names.secret(secret, environment));
                    env.push((secret.into(), names.argument(secret, default)));
                }
                env.extend(env_inputs.iter().cloned());
                env.push(("HOME".into(), names.argument("HOME", "/stack".into())));
            }
            let condition = match (environment, several, kind) {
                (Some(name), true, Kind::Tempest) if config.tempest_schedule.is_some() => {
                    Some(format!(
                        "github.event_name == 'schedule' || inputs.kayobe_environment == '{name}'"
                    ))
                }
                (Some(name), true, _) => Some(format!("inputs.kayobe_environment == '{name}'")),
                _ => None,
            };
            let condition = if settings.reviewed_only {
                let branch = if scheduled {
                    format!("(github.event_name == 'schedule' || {GITHUB_DEFAULT_BRANCH})")
                } else {
                    GITHUB_DEFAULT_BRANCH.to_owned()
                };
                Some(match condition {
                    Some(condition) => format!("{branch} && ({condition})"),
                    None => branch,
                })
            } else {
                condition
            };
            let mut runs_on = config.runner_labels.clone();
            if let Some(name) = environment {
                if input_selector || kind == Kind::ConfigDiff {
                    runs_on.push(name.to_owned());
                }
            }
            let concurrency = match kind {
                Kind::ConfigDiff => None,
                _ => Some(match environment {
                    Some(env) => format!("{}-{env}", operation.group()),
                    None => operation.group().to_owned(),
                }),
            };
            let publish_env = if kind == Kind::ConfigDiff {
                github_publish_env(&env)
            } else {
                Vec::new()
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
                image: format!("{image_base}:{}", config.image.tag),
                image_sha: format!("{image_base}:${{{{ github.sha }}}}"),
                registry_url: registry.url,
                registry_username: registry.username,
                registry_password: registry.password,
                env,
                artifact: match environment {
                    Some(env) => format!("{}-artifacts-{env}", operation.name()),
                    None => format!("{}-artifacts", operation.name()),
                },
                environment: settings
                    .reviewed_only
                    .then(|| deployment_environment(environment).to_owned()),
                publish_env,
            });
        }
        let ghcr = config
            .registry
            .url
            .as_deref()
            .is_some_and(|url| url == "ghcr.io" || url.starts_with("ghcr.io/"));
        let mut permissions = vec![(
            "contents",
            if settings.pull_request {
                "write"
            } else {
                "read"
            },
        )];
        if settings.pull_request || kind == Kind::ConfigDiff {
            permissions.push(("pull-requests", "write"));
        }
        if kind == Kind::ConfigDiff {
            permissions.push(("statuses", "write"));
        }
        if kind == Kind::Tempest {
            permissions.push(("actions", "read"));
        }
        if ghcr {
            permissions.push((
                "packages",
                if kind == Kind::BuildImage {
                    "write"
                } else {
                    "read"
                },
            ));
        }
        let mut pre_checkout = to_json_steps(&config.hooks.pre_checkout);
        pre_checkout.extend(to_json_steps(&settings.hooks.pre_checkout));
        let mut pre_run = to_json_steps(&config.hooks.pre_run);
        pre_run.extend(to_json_steps(&settings.hooks.pre_run));
        let mut post = to_json_steps(&settings.hooks.post);
        post.extend(to_json_steps(&config.hooks.post));
        let workflow = GithubWorkflow {
            name: workflow_name(operation),
            kind: match kind {
                Kind::BuildImage => "build",
                Kind::ConfigDiff => "config-diff",
                Kind::Tempest => "tempest",
                Kind::Kayobe { .. } => "kayobe",
            },
            operation: operation.name(),
            push_paths: if kind == Kind::BuildImage {
                IMAGE_INPUTS.to_vec()
            } else {
                Vec::new()
            },
            pull_request: kind == Kind::ConfigDiff,
            schedule: if kind == Kind::Tempest {
                config.tempest_schedule.clone()
            } else {
                None
            },
            inputs,
            workflow_concurrency: (kind == Kind::ConfigDiff)
                .then(|| "config-diff-${{ github.ref }}".to_owned()),
            permissions,
            timeout: config.timeout_minutes,
            jobs,
            pre_checkout,
            pre_run,
            post,
            script: match kind {
                Kind::Tempest => format!(
                    "{} -e ansible_user=stack",
                    run_line(operation, CONTAINER_PIPELINE_DIR)
                ),
                _ => run_line(operation, CONTAINER_PIPELINE_DIR),
            },
            image: image_args(config),
            buildx: BuildxArgs {
                enabled: config.buildx.enabled,
                inline_config: config.buildx.inline_config.clone(),
                provenance: config.buildx.provenance,
            },
            operation_file: operation.github_file(),
            reviewed: settings.reviewed_only,
            refuse_condition: if scheduled {
                format!("github.event_name != 'schedule' && !({GITHUB_DEFAULT_BRANCH})")
            } else {
                format!("!({GITHUB_DEFAULT_BRANCH})")
            },
            runner_labels: config.runner_labels.clone(),
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

/// The environment of the step publishing the config diff on the pull
/// request: the job's environment and vault password, and where to publish.
fn github_publish_env(job_env: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = job_env
        .iter()
        .filter(|(name, _)| name == "KAYOBE_ENVIRONMENT" || name == "KAYOBE_VAULT_PASSWORD")
        .cloned()
        .collect();
    env.extend(
        [
            ("GITHUB_TOKEN", "${{ github.token }}"),
            ("BASE", "${{ github.event.pull_request.base.sha }}"),
            ("HEAD_SHA", "${{ github.event.pull_request.head.sha }}"),
            ("CHANGE", "${{ github.event.pull_request.number }}"),
            (
                "REPORT_URL",
                "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}",
            ),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned())),
    );
    env
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

fn workflow_name(operation: Workflow) -> String {
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
struct Artifacts {
    paths: Vec<String>,
    junit: Option<String>,
}

#[derive(Clone, Serialize)]
struct GitlabJob {
    id: String,
    stage: String,
    tags: Vec<String>,
    rules: Vec<(String, &'static str)>,
    variables: Vec<(String, String)>,
    /// (variable kayobe-automation reads, key of the OpenBao secret).
    secrets: Vec<(String, String)>,
    secret_pairs: String,
    bao_env: String,
    bao_path: String,
    script: Vec<String>,
    pre_run: Vec<String>,
    post: Vec<String>,
    build: bool,
    resource_group: Option<String>,
    needs: Vec<String>,
    artifacts: Option<Artifacts>,
    /// The deployment environment it is bound to (reviewed operations).
    environment: Option<String>,
    /// Checks before anything else runs (the reviewed commit is still the
    /// default branch's head).
    checks: Vec<String>,
}

#[derive(Serialize)]
struct GlobalVariable {
    name: String,
    value: String,
    description: String,
    options: Vec<String>,
}

#[derive(Serialize)]
struct GitlabPipeline {
    stages: Vec<String>,
    image: String,
    openbao_address: String,
    vault_keyword: bool,
    timeout: i64,
    global_variables: Vec<GlobalVariable>,
    jobs: Vec<GitlabJob>,
    image_args: ImageArgs,
    registry_url: String,
}

/// The stages, in pipeline order; a stage is rendered when a job uses it.
const STAGES: &[&str] = &[
    "build",
    "merge-request",
    "infra-vm",
    "network",
    "overcloud",
    "seed",
    "custom",
    "runbook",
    "tempest",
    SERVICE_UPGRADE,
    HYPERVISOR_UPGRADE,
];

/// The collection's runbook: an overcloud service upgrade with Tempest
/// before and after, a database backup and image pruning, ordered and
/// started by hand.
const SERVICE_UPGRADE: &str = "runbook-overcloud-service-upgrade";

/// Its steps: (job name, operation, arguments).
pub(crate) const SERVICE_UPGRADE_STEPS: &[(&str, &str, &[&str])] = &[
    (
        "a-container-image-pull",
        "overcloud-container-image-pull",
        &[],
    ),
    ("b-host-upgrade", "overcloud-host-upgrade", &[]),
    ("c-tempest-run-before", "tempest", &[]),
    ("d-backup-database", "overcloud-database-backup", &[]),
    (
        "e-upgrade-overcloud-services",
        "overcloud-service-upgrade",
        &[],
    ),
    ("f-tempest-run-after", "tempest", &[]),
    (
        "g-prune-docker-images",
        "overcloud-host-command-run",
        &[
            "-b",
            "--command",
            "'docker image prune -a -f'",
            "--show-output",
        ],
    ),
];

/// The collection's in-place hypervisor upgrade runbook, on one batch of
/// hypervisors per pipeline: those `KAYOBE_AUTOMATION_UPGRADE_HOSTS` names
/// (an Ansible host pattern) when the pipeline is started.
const HYPERVISOR_UPGRADE: &str = "runbook-in-place-hypervisor-host-upgrade";

/// The pipeline variable naming the runbook's batch.
const UPGRADE_HOSTS: &str = "KAYOBE_AUTOMATION_UPGRADE_HOSTS";

/// Its steps, each limited to the batch: the operator's playbooks (as the
/// collection's runbook runs them) around a package update.
pub(crate) const HYPERVISOR_UPGRADE_STEPS: &[(&str, &str, &[&str])] = &[
    (
        "a-disable-compute-services",
        "playbook-run",
        &["etc/kayobe/ansible/nova-compute-disable.yml"],
    ),
    (
        "b-drain-hypervisor",
        "playbook-run",
        &["etc/kayobe/ansible/nova-compute-drain.yml"],
    ),
    (
        "c-update-hypervisor-packages",
        "overcloud-host-package-update",
        &[],
    ),
    (
        "d-reboot-hypervisor",
        "playbook-run",
        &["etc/kayobe/ansible/reboot.yml"],
    ),
    (
        "e-enable-hypervisor",
        "playbook-run",
        &["etc/kayobe/ansible/nova-compute-enable.yml"],
    ),
];

/// A GitLab rule's condition that the pipeline runs for the default branch.
const GITLAB_DEFAULT_BRANCH: &str = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH";

/// A reviewed GitLab job's first check: the commit is still the default
/// branch's head, asked of the checkout's remote (the runner's credentials
/// stay in its configuration, out of any command line).
const GITLAB_HEAD_CHECK: &str = r#"head="$(git ls-remote origin "refs/heads/$CI_DEFAULT_BRANCH")" || { echo "cannot ask the repository for the head of $CI_DEFAULT_BRANCH; not deploying a commit that may be outdated" >&2; exit 1; }; head="${head%%[[:space:]]*}"; if [ "$head" != "$CI_COMMIT_SHA" ]; then echo "$CI_COMMIT_SHA is no longer the head of $CI_DEFAULT_BRANCH (now ${head:-none}): a newer change landed since this pipeline started; deploy from the newer one's pipeline" >&2; exit 1; fi"#;

/// The GitLab config-diff job's last step: our own diff of what Ansible
/// sees, as a comment on the merge request (updated in place) and a commit
/// status, its HTML kept with the artefacts. The job token cannot write
/// notes, so it needs a project token in `GITLAB_TOKEN`; it never fails the
/// job, the diff before it is the check.
const GITLAB_PUBLISH_DIFF: &str = r#"if ! command -v kayobe-automation >/dev/null; then echo "The Kayobe image has no kayobe-automation binary, so the diff is not on the merge request: rebuild the image with kayobe-automation image build"; elif [ -z "${GITLAB_TOKEN:-}" ]; then echo "Set the GITLAB_TOKEN CI/CD variable (a project access token with the api scope and the Developer role) to get the diff on the merge request"; else mkdir -p "$CI_PROJECT_DIR/artifacts"; status=0; kayobe-automation --config-path "$CI_PROJECT_DIR/etc/kayobe" config-diff --base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" --target "$CI_COMMIT_SHA" --format html --out "$CI_PROJECT_DIR/artifacts/config-diff.html" --publish gitlab --report-url "$CI_JOB_URL/artifacts/file/artifacts/config-diff.html" --api-url "$CI_SERVER_URL" || status=$?; if [ "$status" -gt 1 ]; then echo "The diff could not be published on the merge request (the error is above); the job goes on" >&2; fi; fi"#;

/// The OpenBao keys `bao bootstrap` writes, for the variables
/// kayobe-automation reads.
pub const OPENBAO_KEYS: &[(&str, &str)] = &[
    ("KAYOBE_VAULT_PASSWORD", "kayobe_vault_password"),
    (
        "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
        "kayobe_automation_ssh_private_key",
    ),
    ("TEMPEST_OPENRC", "kayobe_tempest_openrc"),
];

/// The pull-request variables kayobe-automation's `functions` reads, for a
/// GitLab job (the token is the project's `KAYOBE_AUTOMATION_PR_AUTH_TOKEN`
/// CI/CD variable).
const GITLAB_PULL_REQUEST: &[(&str, &str)] = &[
    ("KAYOBE_AUTOMATION_PR_TYPE", "gitlab"),
    ("KAYOBE_AUTOMATION_PR_TARGET_BRANCH", "$CI_COMMIT_BRANCH"),
    (
        "KAYOBE_AUTOMATION_PR_REMOTE",
        "https://oauth2:${KAYOBE_AUTOMATION_PR_AUTH_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git",
    ),
    ("KAYOBE_AUTOMATION_PR_GITLAB_PROJECT_ID", "$CI_PROJECT_ID"),
    (
        "KAYOBE_AUTOMATION_PR_URL",
        "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/merge_requests",
    ),
    (
        "KAYOBE_AUTOMATION_PR_TITLE",
        "[kayobe-automation] ${CI_JOB_NAME} #${CI_PIPELINE_ID}",
    ),
];

/// The job of `operation` in `environment`.
fn gitlab_job(
    config: &WriterConfig,
    settings: &OperationSettings,
    environment: Option<&str>,
    references: &mut Vec<Reference>,
) -> GitlabJob {
    let operation = settings.operation;
    let kind = operation.kind();
    let bao_env = environment.unwrap_or("default");
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut variables = Vec::new();
    let mut script = Vec::new();
    let mut post = shell_lines(&settings.hooks.post);
    let mut artifacts = None;
    let mut publish = None;
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
        for (variable, key) in OPENBAO_KEYS {
            let wanted = match *variable {
                "TEMPEST_OPENRC" => kind == Kind::Tempest,
                "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY" => kind != Kind::ConfigDiff,
                _ => true,
            };
            if wanted {
                secrets.push(((*variable).to_owned(), (*key).to_owned()));
                references.push(Reference {
                    name: (*key).to_owned(),
                    kind: ReferenceKind::OpenBaoKey,
                    environment: Some(bao_env.to_owned()),
                    value: None,
                });
            }
        }
        if let Some(name) = environment {
            variables.push(("KAYOBE_ENVIRONMENT".to_owned(), name.to_owned()));
        }
        variables.push(("HOME".to_owned(), "/stack".to_owned()));
        if settings.pull_request {
            for (name, value) in GITLAB_PULL_REQUEST {
                variables.push(((*name).to_owned(), (*value).to_owned()));
            }
            references.push(Reference {
                name: "KAYOBE_AUTOMATION_PR_AUTH_TOKEN".into(),
                kind: ReferenceKind::Secret,
                environment: None,
                value: None,
            });
        }
        match kind {
            Kind::ConfigDiff => {
                variables.push((
                    "KAYOBE_AUTOMATION_REVISION".to_owned(),
                    "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME".to_owned(),
                ));
                post.insert(
                    0,
                    "mkdir -p \"$CI_PROJECT_DIR/artifacts\" && cp /tmp/kayobe-config-diff /tmp/target-kayobe.log /tmp/source-kayobe.log \"$CI_PROJECT_DIR/artifacts/\" || true".to_owned(),
                );
                publish = Some(GITLAB_PUBLISH_DIFF.to_owned());
                artifacts = Some(Artifacts {
                    paths: vec!["artifacts/".to_owned()],
                    junit: None,
                });
            }
            Kind::Tempest => {
                script.push(
                    "if [ \"$RUN_PREVIOUS_FAILED\" = true ]; then mkdir -p .automation.conf/tempest/load-lists && printf 'JOB-TOKEN: %s\\n' \"$CI_JOB_TOKEN\" | curl --silent --show-error --fail --header @- --output .automation.conf/tempest/load-lists/previous-failed-tests \"$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$CI_COMMIT_REF_NAME/raw/artifacts/failed-tests?job=$CI_JOB_NAME\" && export KAYOBE_AUTOMATION_TEMPEST_LOADLIST=previous-failed-tests; fi".to_owned(),
                );
                post.insert(
                    0,
                    "mkdir -p \"$CI_PROJECT_DIR/artifacts\" && cp -r \"$HOME/tempest-artifacts/.\" \"$CI_PROJECT_DIR/artifacts/\" || true".to_owned(),
                );
                artifacts = Some(Artifacts {
                    paths: vec!["artifacts/".to_owned()],
                    junit: Some("artifacts/rally-junit.xml".to_owned()),
                });
            }
            _ => {}
        }
        let line = run_line(operation, PIPELINE_DIR);
        script.push(match kind {
            Kind::Tempest => format!("{line} -e ansible_user=stack -e rally_force_pull=false"),
            _ => line,
        });
        script.extend(publish);
        if kind == Kind::Tempest {
            script.push(
                "test -f \"$HOME/tempest-artifacts/failed-tests\" && test ! -s \"$HOME/tempest-artifacts/failed-tests\"".to_owned(),
            );
        }
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
            "always",
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
    let reviewed = settings.reviewed_only;
    let rules = if reviewed {
        rules
            .into_iter()
            .map(|(condition, when)| (format!("{condition} && {GITLAB_DEFAULT_BRANCH}"), when))
            .collect()
    } else {
        rules
    };
    let mut tags = config.runner_labels.clone();
    if let Some(name) = environment {
        tags.push(name.to_owned());
    }
    GitlabJob {
        id: match environment {
            Some(name) => format!("{operation}:{name}"),
            None => operation.name().to_owned(),
        },
        stage: operation.group().to_owned(),
        tags,
        rules,
        variables,
        secret_pairs: secrets
            .iter()
            .map(|(variable, key)| format!("{variable}={key}"))
            .collect::<Vec<_>>()
            .join(" "),
        secrets,
        bao_env: bao_env.to_owned(),
        bao_path: format!("/v1/kayobe-automation/{bao_env}"),
        script,
        pre_run: shell_lines(&settings.hooks.pre_run),
        post,
        build: kind == Kind::BuildImage,
        resource_group: matches!(kind, Kind::Kayobe { .. } | Kind::Tempest).then(|| {
            match environment {
                Some(env) => format!("{}-{env}", operation.group()),
                None => operation.group().to_owned(),
            }
        }),
        needs: Vec::new(),
        artifacts,
        environment: reviewed.then(|| deployment_environment(environment).to_owned()),
        checks: if reviewed {
            vec![GITLAB_HEAD_CHECK.to_owned()]
        } else {
            Vec::new()
        },
    }
}

/// A runbook per environment: `steps` (job name, operation, arguments) as
/// jobs of stage `name`, the first waiting for a person, each next one
/// needing the one before; with `limit`, every job runs on the hosts that
/// pipeline variable names (as `KAYOBE_LIMIT`) and refuses to start
/// without it.
fn runbook(
    config: &WriterConfig,
    references: &mut Vec<Reference>,
    name: &str,
    steps: &[(&str, &str, &[&str])],
    limit: Option<&str>,
) -> Vec<GitlabJob> {
    let mut jobs = Vec::new();
    // A runbook is as reviewed as its steps that change the cloud.
    let reviewed = steps.iter().any(|(_, operation, _)| {
        let operation = Workflow::from_name(operation).expect("a catalogued operation");
        operation.changes_cloud() && config.operation(operation).reviewed_only
    });
    for environment in job_environments(config) {
        let mut previous: Option<String> = None;
        for (step, operation, args) in steps {
            let operation = Workflow::from_name(operation).expect("a catalogued operation");
            let settings = OperationSettings {
                operation,
                enabled: true,
                inputs: Vec::new(),
                hooks: config.operation(operation).hooks.clone(),
                pull_request: config.operation(operation).pull_request,
                reviewed_only: reviewed,
            };
            let mut job = gitlab_job(config, &settings, environment, references);
            if !args.is_empty() {
                // An operation whose argument comes from a variable (the
                // playbook of `playbook-run`) gets it there; others after
                // their script.
                match operation
                    .script()
                    .and_then(|script| argument_input(script.arguments()))
                {
                    Some((variable, _, _)) => {
                        job.variables.push((variable.to_owned(), args.join(" ")));
                    }
                    None => {
                        if let Some(line) = job.script.last_mut() {
                            line.push(' ');
                            line.push_str(&args.join(" "));
                        }
                    }
                }
            }
            if let Some(variable) = limit {
                // Exported by the script, not set as a job variable: a
                // `KAYOBE_LIMIT` given when the pipeline starts, even empty,
                // would win over a job variable and upgrade every host.
                job.script.insert(
                    0,
                    format!(
                        "test -n \"${variable}\" || {{ echo \"set {variable} to the hosts of this batch\" >&2; exit 1; }}; export KAYOBE_LIMIT=\"${variable}\""
                    ),
                );
            }
            job.id = match environment {
                Some(env) => format!("{name}:{step}:{env}"),
                None => format!("{name}:{step}"),
            };
            job.stage = name.to_owned();
            let web = "$CI_PIPELINE_SOURCE == \"web\"";
            job.rules = vec![(
                if reviewed {
                    format!("{web} && {GITLAB_DEFAULT_BRANCH}")
                } else {
                    web.to_owned()
                },
                if previous.is_none() {
                    "manual"
                } else {
                    "on_success"
                },
            )];
            if previous.is_some() {
                // The commit was checked when the runbook started; a change
                // landing halfway must not stop it between two steps.
                job.checks.clear();
            }
            if !operation.changes_cloud() {
                job.environment = None;
            }
            job.needs = previous.iter().cloned().collect();
            previous = Some(job.id.clone());
            jobs.push(job);
        }
    }
    jobs
}

fn shell_lines(steps: &[kayobe_config::Value]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|step| step.as_str().map(str::to_owned))
        .collect()
}

fn global(name: &str, value: &str, description: &str) -> GlobalVariable {
    GlobalVariable {
        name: name.to_owned(),
        value: value.to_owned(),
        description: description.to_owned(),
        options: Vec::new(),
    }
}

fn render_gitlab(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    let mut references = Vec::new();
    let mut jobs = Vec::new();
    let mut global_variables = vec![
        global(
            "GIT_DEPTH",
            "0",
            "Whole history: config-diff compares with the target branch",
        ),
        global(
            "GIT_SUBMODULE_STRATEGY",
            "recursive",
            "kayobe-automation is the `.automation` submodule",
        ),
    ];
    let mut disabled = Vec::new();
    for settings in &config.operations {
        let operation = settings.operation;
        if !settings.enabled {
            continue;
        }
        let kind = operation.kind();
        for input in &settings.inputs {
            global_variables.push(global(
                &input.env_name(),
                &input.default.clone().unwrap_or_default(),
                &input.description,
            ));
        }
        if let Some(script) = operation.script() {
            let mut limits = Vec::new();
            if script.takes_kayobe_inputs() {
                limits.extend([("KAYOBE_LIMIT", "-l"), ("KAYOBE_TAGS", "-t")]);
            }
            if script.takes_kolla_inputs() {
                limits.extend([("KOLLA_LIMIT", "-kl"), ("KOLLA_TAGS", "-kt")]);
            }
            for (name, flag) in limits {
                global_variables.push(global(
                    name,
                    "",
                    &format!("Kayobe's {flag} for operations run by hand"),
                ));
            }
            if let Some((env, _, description)) = argument_input(script.arguments()) {
                let default = argument_default(script.arguments()).unwrap_or_default();
                global_variables.push(global(env, default, description));
            }
        }
        if kind == Kind::Tempest {
            global_variables.push(GlobalVariable {
                options: config.tempest_suites.clone(),
                ..global(
                    "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
                    &config.tempest_suites[0],
                    "Name of the Tempest load list to use",
                )
            });
            global_variables.push(global(
                "TEMPEST_PATTERN",
                "",
                "Limit tests to this regex (takes precedence over the load list)",
            ));
            global_variables.push(GlobalVariable {
                options: vec!["false".to_owned(), "true".to_owned()],
                ..global(
                    "RUN_PREVIOUS_FAILED",
                    "false",
                    "Run only the tests that failed in the last Tempest job of this branch",
                )
            });
        }
        let environments = if kind == Kind::BuildImage {
            vec![None]
        } else {
            job_environments(config)
        };
        for environment in environments {
            jobs.push(gitlab_job(config, settings, environment, &mut references));
        }
    }
    if config.runbooks && !jobs.is_empty() {
        jobs.extend(runbook(
            config,
            &mut references,
            SERVICE_UPGRADE,
            SERVICE_UPGRADE_STEPS,
            None,
        ));
        jobs.extend(runbook(
            config,
            &mut references,
            HYPERVISOR_UPGRADE,
            HYPERVISOR_UPGRADE_STEPS,
            Some(UPGRADE_HOSTS),
        ));
        global_variables.push(global(
            UPGRADE_HOSTS,
            "",
            "The hypervisors of one batch of the in-place hypervisor upgrade runbook (an Ansible host pattern)",
        ));
    }
    if let Some(release) = &config.openstack_release {
        global_variables.push(global(
            "OPENSTACK_RELEASE",
            release,
            "OpenStack release to deploy",
        ));
    }
    global_variables.sort_by(|a, b| a.name.cmp(&b.name));
    global_variables.dedup_by(|a, b| a.name == b.name);
    let stages = STAGES
        .iter()
        .filter(|stage| jobs.iter().any(|job| job.stage == **stage))
        .map(|stage| (*stage).to_owned())
        .collect();
    let path = if config.output_dir == Path::new(".") {
        PathBuf::from(".gitlab-ci.yml")
    } else {
        config.output_dir.join(".gitlab-ci.yml")
    };
    let registry_url = config
        .registry
        .url
        .clone()
        .unwrap_or_else(|| "$CI_REGISTRY".to_owned());
    let pipeline = GitlabPipeline {
        stages,
        image: format!("{registry_url}/{}:{}", config.image.name, config.image.tag),
        openbao_address: config.openbao_address.clone(),
        vault_keyword: config.gitlab_secrets == GitlabSecrets::VaultKeyword,
        timeout: config.timeout_minutes,
        global_variables,
        jobs,
        image_args: image_args(config),
        registry_url,
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
