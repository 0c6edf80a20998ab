//! GitHub Actions: one workflow file per operation, one job per environment
//! the selector picks, each bound to its deployment environment.

use super::*;

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

/// A GitHub condition that the run is for the default branch.
const GITHUB_DEFAULT_BRANCH: &str = "github.ref_name == github.event.repository.default_branch";

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

pub(super) fn render_github(
    config: &WriterConfig,
    templates: &Templates,
) -> Result<Rendered, RenderError> {
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
