//! GitLab CI: one pipeline file with a job per operation and environment,
//! and the runbooks as ordered jobs.

use super::*;

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

pub(super) fn render_gitlab(
    config: &WriterConfig,
    templates: &Templates,
) -> Result<Rendered, RenderError> {
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
