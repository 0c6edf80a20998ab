//! A writer config written for the `stackhpc.kayobe_workflows` collection
//! means here what it means there: omitted and partial registries, the
//! environment selector, hooks, `github_kayobe_arguments`, the workflow and
//! job lists; what we cannot honour and what nothing reads are located
//! warnings.

mod support;

use std::path::PathBuf;

use kayobe_config::{Map, Value};
use workflow_render::{Platform, ReferenceKind, Selector, Templates, WriterConfig, render};

/// A writer config of `yaml` alone, read from a file so warnings have a
/// place.
fn config(platform: Platform, yaml: &str) -> (WriterConfig, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("writer.yml");
    std::fs::write(&file, yaml).unwrap();
    let vars = match kayobe_config::yaml::parse(yaml, &file).unwrap() {
        Value::Map(map) => map,
        Value::Null => Map::new(),
        other => panic!("{other:?}"),
    };
    let config = WriterConfig::from_variables(platform, &vars, std::slice::from_ref(&file), None)
        .unwrap_or_else(|error| panic!("{error}"));
    (config, file, dir)
}

fn file<'a>(rendered: &'a workflow_render::Rendered, name: &str) -> &'a str {
    &rendered
        .files
        .iter()
        .find(|file| file.path.ends_with(name))
        .unwrap_or_else(|| panic!("no {name}"))
        .contents
}

fn file_names(rendered: &workflow_render::Rendered) -> Vec<String> {
    rendered
        .files
        .iter()
        .map(|file| {
            file.path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn a_config_that_sets_nothing_renders_the_collections_workflows() {
    let (config, _, _dir) = config(Platform::Github, "---\n");
    assert_eq!(config.selector, Selector::None);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let mut names = file_names(&rendered);
    names.sort();
    assert_eq!(names.len(), 23, "{names:?}");
    assert!(names.contains(&"run-overcloud-database-recover.yml".to_owned()));
    // No registry given: the platform's variables and secret, unprefixed.
    let references: Vec<(&str, ReferenceKind)> = rendered
        .references
        .iter()
        .map(|reference| (reference.name.as_str(), reference.kind))
        .collect();
    for expected in [
        ("REGISTRY_URL", ReferenceKind::Variable),
        ("REGISTRY_USERNAME", ReferenceKind::Variable),
        ("REGISTRY_PASSWORD", ReferenceKind::Secret),
        ("KAYOBE_VAULT_PASSWORD", ReferenceKind::Secret),
    ] {
        assert!(references.contains(&expected), "{references:?}");
    }
    let deploy = file(&rendered, "run-overcloud-service-deploy.yml");
    assert!(deploy.contains("image: \"${{ vars.REGISTRY_URL }}/kayobe:master-latest\""));
    assert!(deploy.contains("submodules: true"));
    assert!(deploy.contains("HOME: \"/stack\""));
    assert!(!deploy.contains("KAYOBE_ENVIRONMENT"));
    // Pull requests are off unless asked for.
    assert!(!deploy.contains("KAYOBE_AUTOMATION_PR_"));
    assert!(deploy.contains("contents: read"));
}

#[test]
fn a_partial_registry_takes_the_rest_from_per_environment_variables() {
    let (config, _, _dir) = config(
        Platform::Github,
        "github_environment_selector: input\ngithub_kayobe_environments: [prod-gb-01, test-gb-01]\ngithub_registry:\n  url: pulp.example.com\n",
    );
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let names: Vec<&str> = rendered
        .references
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert!(names.contains(&"PROD_GB_01_REGISTRY_USERNAME"), "{names:?}");
    assert!(names.contains(&"TEST_GB_01_REGISTRY_PASSWORD"), "{names:?}");
    assert!(
        !names.iter().any(|name| name.ends_with("REGISTRY_URL")),
        "{names:?}"
    );
    let deploy = file(&rendered, "run-overcloud-service-deploy.yml");
    assert!(deploy.contains("image: \"pulp.example.com/kayobe:master-latest\""));
    assert!(deploy.contains("kayobe_environment:"));
    assert!(deploy.contains(
        "if: \"github.ref_name == github.event.repository.default_branch && (inputs.kayobe_environment == 'test-gb-01')\""
    ));
    assert!(deploy.contains("KAYOBE_ENVIRONMENT: \"prod-gb-01\""));
}

#[test]
fn single_selects_the_first_environment_without_an_input() {
    let (config, _, _dir) = config(
        Platform::Github,
        "github_environment_selector: single\ngithub_kayobe_environments: [prod-gb-01]\n",
    );
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let deploy = file(&rendered, "run-overcloud-service-deploy.yml");
    assert!(deploy.contains("KAYOBE_ENVIRONMENT: \"prod-gb-01\""));
    assert!(!deploy.contains("kayobe_environment:"));
    assert!(deploy.contains("secrets.KAYOBE_VAULT_PASSWORD"));
}

#[test]
fn hooks_arguments_and_the_workflow_list_mean_what_they_mean_in_the_role() {
    let yaml = r#"
github_checkout_hook: |
  - name: Before checkout
    run: echo before
github_kayobe_hook: |
  - name: Before Kayobe
    run: echo kayobe
github_final_hook: |
  - name: After
    run: echo after
github_kayobe_arguments:
  KAYOBE_VAULT_PASSWORD: !unsafe "${{ secrets.SUPER_SECRET_KAYOBE_VAULT_PASSWORD }}"
  NOT_HANDED: x
github_image_tag: !unsafe "${{ needs.prepare-runner.outputs.openstack_release }}-custom"
github_workflows:
  - "{{ github_prepare_runner }}"
  - "{{ github_run_tempest }}"
  - file_name: run-overcloud-inventory-discover.yml
    arguments: ["{{ github_kayobe_task_arguments }}", "{{ github_kayobe_pull_request_arguments }}"]
"#;
    let (config, file_path, _dir) = config(Platform::Github, yaml);
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let names = file_names(&rendered);
    assert_eq!(
        names,
        ["run-overcloud-inventory-discover.yml", "run-tempest.yml"]
    );
    let discover = file(&rendered, "run-overcloud-inventory-discover.yml");
    let before = discover.find("echo before").unwrap();
    let checkout = discover.find("actions/checkout@").unwrap();
    let kayobe = discover.find("echo kayobe").unwrap();
    let run = discover.find("overcloud-inventory-discover.sh").unwrap();
    let after = discover.find("echo after").unwrap();
    assert!(before < checkout && checkout < kayobe && kayobe < run && run < after);
    assert!(discover.contains("secrets.SUPER_SECRET_KAYOBE_VAULT_PASSWORD"));
    assert!(discover.contains("KAYOBE_AUTOMATION_PR_TYPE: \"github\""));
    assert!(discover.contains("pull-requests: write"));
    assert!(discover.contains(":master-custom\""));
    let warning = config
        .warnings
        .iter()
        .find(|warning| warning.key == "github_kayobe_arguments.NOT_HANDED")
        .unwrap();
    assert_eq!(
        warning.place.location().unwrap().to_string(),
        format!("{}:13:3", file_path.display())
    );
}

#[test]
fn typos_and_unhonoured_variables_are_located_warnings() {
    let (config, file_path, _dir) = config(
        Platform::Github,
        "github_timeout: 30\ngithub_runs_onn: [x]\ngithub_docker_image_version: '1'\nother_tool_var: 1\n",
    );
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!(
            "{}:2:1: `github_runs_onn` is not a variable",
            file_path.display()
        )),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with(&format!(
            "{}:3:1: `github_docker_image_version` is not honoured",
            file_path.display()
        )),
        "{warnings:?}"
    );
}

#[test]
fn a_gitlab_job_set_empty_is_removed_and_job_text_is_a_warning() {
    let (config, _, _dir) = config(
        Platform::Gitlab,
        "gitlab_registry: registry.example.com\ngitlab_seed_vm_provision: ''\ngitlab_overcloud_provision: |\n  stage: overcloud\n",
    );
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let pipeline = &rendered.files[0].contents;
    assert!(!pipeline.contains("seed-vm-provision.sh"));
    assert!(pipeline.contains("overcloud-provision.sh"));
    assert!(pipeline.contains("GIT_SUBMODULE_STRATEGY:\n    value: \"recursive\""));
    assert!(pipeline.contains("GIT_DEPTH:\n    value: \"0\""));
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert_eq!(config.warnings[0].key, "gitlab_overcloud_provision");
}
