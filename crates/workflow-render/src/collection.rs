//! The variables of the `stackhpc.kayobe_workflows` collection's roles, as
//! a writer config written for the collection uses them: which names exist
//! (anything else with the platform's prefix is a typo, reported as a
//! warning), which we read but cannot honour, and the collection's building
//! blocks (`github_run_<operation>`, `github_kayobe_task_arguments`, …) that
//! an operator's own `github_workflows` list refers to, made from the
//! operation catalogue so such a list evaluates as it does in the role.

use kayobe_config::{Map, Value};

use crate::config::{PULL_REQUEST_VARIABLES, Platform};
use crate::workflow::{Kind, Workflow};

/// Variables of both roles (without the prefix) that we read.
const READ: &[&str] = &[
    "output_directory",
    "kayobe_environments",
    "registry",
    "image_name",
    "image_tag",
    "kayobe_base_image",
    "tempest_test_suites",
];

/// GitHub role variables (without `github_`) that we read.
const GITHUB_READ: &[&str] = &[
    "kayobe_user_id",
    "kayobe_group_id",
    "environment_selector",
    "runs_on",
    "kayobe_arguments",
    "checkout_hook",
    "kayobe_hook",
    "final_hook",
    "buildx_enabled",
    "buildx_inline_config",
    "buildx_enable_provenance",
    "timeout",
    "workflows",
];

/// GitLab role variables (without `gitlab_`) that we read.
const GITLAB_READ: &[&str] = &["openstack_release"];

/// Role variables whose meaning we cannot reproduce: setting them is a
/// warning naming what happens instead.
const GITHUB_UNHONOURED: &[(&str, &str)] = &[
    (
        "kayobe_limit_input",
        "the inputs are rendered from the operation catalogue; add inputs with `github_operations`",
    ),
    (
        "kayobe_tags_input",
        "the inputs are rendered from the operation catalogue; add inputs with `github_operations`",
    ),
    (
        "kolla_limit_input",
        "the inputs are rendered from the operation catalogue; add inputs with `github_operations`",
    ),
    (
        "kolla_tags_input",
        "the inputs are rendered from the operation catalogue; add inputs with `github_operations`",
    ),
    (
        "kayobe_environment_input",
        "the environment input is rendered from `github_kayobe_environments`",
    ),
    (
        "default_registry",
        "the registry comes from `github_registry`, else per-environment REGISTRY_* variables and secrets",
    ),
    (
        "default_kayobe_arguments",
        "set `github_kayobe_arguments` instead",
    ),
    (
        "docker_image_version",
        "actions and images are pinned by kayobe-automation",
    ),
    (
        "actions_checkout_version",
        "actions are pinned by commit by kayobe-automation",
    ),
    (
        "docker_login_action_version",
        "the image is built with the docker CLI, no action",
    ),
    (
        "docker_setup_buildx_action_version",
        "the image is built with the docker CLI, no action",
    ),
    (
        "buildkit_image_version",
        "buildx uses the docker-container driver's default BuildKit",
    ),
    ("buildx_version", "buildx is the runner's docker CLI plugin"),
    (
        "docker_build_push_action_version",
        "the image is built with the docker CLI, no action",
    ),
    (
        "actions_upload_artifact_version",
        "actions are pinned by commit by kayobe-automation",
    ),
    (
        "actions_github_script_version",
        "actions are pinned by commit by kayobe-automation",
    ),
    (
        "actions_download_artifact_version",
        "actions are pinned by commit by kayobe-automation",
    ),
    (
        "mikepenz_action_junit_report_version",
        "the Tempest results go to the job summary, no action",
    ),
];

/// GitLab role variables we cannot honour.
const GITLAB_UNHONOURED: &[(&str, &str)] = &[
    (
        "extra_stages",
        "extra stages of job YAML are not rendered; add operations with `gitlab_operations`",
    ),
    (
        "extra_runbooks",
        "extra runbooks of job YAML are not rendered",
    ),
    (
        "extra_upstream_stages",
        "upstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "extra_downstream_stages",
        "downstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "upstream_stages",
        "upstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "downstream_stages",
        "downstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "default_upstream_stages",
        "upstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "default_downstream_stages",
        "downstream pipelines are not rendered; the in-place hypervisor upgrade runbook comes with `gitlab_runbooks`",
    ),
    (
        "docker_image_version",
        "images are pinned by kayobe-automation",
    ),
];

/// Our own variables (extensions of the collection's).
const OURS: &[&str] = &[
    "operations",
    "tempest_schedule",
    "pull_requests",
    "timeout",
    "kayobe_user_id",
    "kayobe_group_id",
];
const GITLAB_OURS: &[&str] = &[
    "tags",
    "openbao_address",
    "secrets_provider",
    "runbooks",
    "registry_username",
];

/// What a variable with the platform's prefix is to us.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Known {
    /// Read (the collection's or ours).
    Read,
    /// The collection's, but we cannot do what it means: why.
    Unhonoured(&'static str),
    /// A job definition of the GitLab role (`gitlab_<job>`), or a building
    /// block of GitHub's `github_workflows`: read where it is used.
    Part,
    /// Nothing we or the collection know: a typo.
    Unknown,
}

/// What `name` (the full variable name) is on `platform`.
pub(crate) fn classify(platform: Platform, name: &str) -> Known {
    let Some(rest) = name
        .strip_prefix(platform.prefix())
        .and_then(|rest| rest.strip_prefix('_'))
    else {
        return Known::Unknown;
    };
    let (read, unhonoured, ours): (&[&str], &[(&str, &str)], &[&str]) = match platform {
        Platform::Github => (GITHUB_READ, GITHUB_UNHONOURED, &[]),
        Platform::Gitlab => (GITLAB_READ, GITLAB_UNHONOURED, GITLAB_OURS),
    };
    if READ.contains(&rest) || read.contains(&rest) || OURS.contains(&rest) || ours.contains(&rest)
    {
        return Known::Read;
    }
    if let Some((_, why)) = unhonoured.iter().find(|(known, _)| *known == rest) {
        return Known::Unhonoured(why);
    }
    let part = match platform {
        Platform::Github => github_parts().contains_key(name),
        Platform::Gitlab => gitlab_job_operation(rest).is_some() || gitlab_structure(rest),
    };
    if part { Known::Part } else { Known::Unknown }
}

/// The collection's variable of `operation`'s GitHub workflow
/// (`github_run_<name>`, the bespoke ones' own names).
pub(crate) fn github_part_name(operation: Workflow) -> String {
    match operation.kind() {
        Kind::BuildImage => "github_build_kayobe_image".to_owned(),
        Kind::ConfigDiff => "github_run_kolla_config_diff".to_owned(),
        _ => format!("github_run_{}", operation.name().replace('-', "_")),
    }
}

/// The building blocks of `github_workflows`, as the role defines them,
/// made from the catalogue: one mapping per workflow with its `file_name`,
/// `arguments` and `concurrency_group`, and the argument lists.
pub(crate) fn github_parts() -> Map {
    let mut parts = Map::new();
    let text = |items: &[&str]| Value::List(items.iter().map(|s| Value::from(*s)).collect());
    let kayobe = ["KAYOBE_TAGS", "KAYOBE_LIMIT"];
    let kolla = ["KOLLA_TAGS", "KOLLA_LIMIT"];
    parts.insert("github_kayobe_task_arguments".into(), text(&kayobe));
    parts.insert("github_kolla_task_arguments".into(), text(&kolla));
    parts.insert(
        "github_kayobe_pull_request_arguments".into(),
        text(PULL_REQUEST_VARIABLES),
    );
    for name in [
        "github_kayobe_dispatch_inputs",
        "github_kolla_dispatch_inputs",
    ] {
        parts.insert(name.into(), Value::List(Vec::new()));
    }
    let mut prepare = Map::new();
    prepare.insert("file_name".into(), Value::from("prepare-runner.yml"));
    prepare.insert("use_bespoke".into(), Value::Bool(true));
    parts.insert("github_prepare_runner".into(), Value::Map(prepare));
    for operation in Workflow::all() {
        let mut part = Map::new();
        part.insert("file_name".into(), Value::from(operation.github_file()));
        match operation.kind() {
            Kind::Kayobe { kolla: with_kolla } => {
                let mut arguments = kayobe.to_vec();
                if with_kolla {
                    arguments.extend(kolla);
                }
                if PULL_REQUESTS.contains(&operation.name()) {
                    arguments.extend(PULL_REQUEST_VARIABLES);
                }
                part.insert("arguments".into(), text(&arguments));
                part.insert("concurrency_group".into(), Value::from(operation.group()));
            }
            _ => {
                part.insert("use_bespoke".into(), Value::Bool(true));
            }
        }
        parts.insert(github_part_name(operation), Value::Map(part));
    }
    parts
}

/// The role's workflows whose entries hand the pull-request variables to
/// their script.
const PULL_REQUESTS: &[&str] = &[
    "overcloud-inventory-discover",
    "overcloud-service-deploy",
    "overcloud-service-upgrade",
    "seed-service-deploy",
];

/// The operation of a workflow file name of the collection's
/// `github_workflows` (its `overcloud-database-recover.yml` included).
pub(crate) fn github_file_operation(file_name: &str) -> Option<Workflow> {
    if file_name == "overcloud-database-recover.yml" {
        return Workflow::from_name("overcloud-database-recover");
    }
    if file_name == "run-config-diff.yml" {
        return Workflow::from_name("config-diff");
    }
    Workflow::all().find(|operation| operation.github_file() == file_name)
}

/// The operation whose GitLab job the role defines as `gitlab_<rest>`.
pub(crate) fn gitlab_job_operation(rest: &str) -> Option<Workflow> {
    let name = match rest {
        "build_kayobe_image" => "build-kayobe-docker-image",
        "merge_request_kolla_diff" => "config-diff",
        "network_connectivity_check" => "network-connectivity-check",
        "network_physical_network_configure" => "physical-network-configure",
        "tempest_run" => "tempest",
        other => return Workflow::from_name(&other.replace('_', "-")),
    };
    Workflow::from_name(name)
}

/// The GitLab role's structure variables (stages, runbooks, their parts).
fn gitlab_structure(rest: &str) -> bool {
    rest.starts_with("stage")
        || rest.starts_with("default_")
        || rest.starts_with("runbook")
        || rest.starts_with("upstream_runbook")
        || rest == "overcloud_prune_docker_images"
}
