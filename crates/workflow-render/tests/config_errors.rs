//! A bad writer config is an error naming the file, line and column of what
//! is wrong, and what to do.

mod support;

use std::path::PathBuf;

use kayobe_config::Value;
use workflow_render::{ConfigError, Platform, WriterConfig};

use support::example_variables;

/// The example's GitHub writer variables with `overlay` (YAML) written to a
/// file and layered on top, and `remove` left out; the config read from them.
fn config_with(
    overlay: &str,
    remove: &[&str],
) -> (
    Result<WriterConfig, ConfigError>,
    PathBuf,
    tempfile::TempDir,
) {
    let (mut vars, mut files, environments) = example_variables(Platform::Github);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("writer.yml");
    std::fs::write(&file, overlay).unwrap();
    if let Value::Map(map) = kayobe_config::yaml::parse(overlay, &file).unwrap() {
        vars.extend(map);
    }
    for key in remove {
        vars.shift_remove(*key);
    }
    files.insert(0, file.clone());
    let config = WriterConfig::from_variables(Platform::Github, &vars, &files, Some(&environments));
    (config, file, dir)
}

/// The error from reading [`config_with`]'s config.
fn error_with(overlay: &str, remove: &[&str]) -> (ConfigError, PathBuf, tempfile::TempDir) {
    let (config, file, dir) = config_with(overlay, remove);
    (config.unwrap_err(), file, dir)
}

/// Scalars are coerced as Ansible's templating coerces them, as every
/// reader of variables does: a YAML boolean given for a string is `True`.
#[test]
fn a_boolean_for_a_string_is_the_text_ansible_prints() {
    let (config, _file, _dir) = config_with(
        "github_image_name: yes\ngithub_kayobe_user_id: ' 1001 '\n",
        &[],
    );
    let config = config.unwrap();
    assert_eq!(config.image.name, "True");
    assert_eq!(config.image.user_id, 1001);
}

#[test]
fn unknown_operation_names_its_line() {
    let (error, file, _dir) = error_with(
        "github_operations:\n  overcloud-service-deploy: false\n  overcloud-service-deplyo: false\n",
        &[],
    );
    assert!(matches!(error, ConfigError::UnknownOperation { .. }));
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:3:3: unknown operation `overcloud-service-deplyo`",
            file.display()
        )),
        "{text}"
    );
    assert!(text.contains("overcloud-service-deploy, overcloud-service-reconfigure"));
}

#[test]
fn bad_environment_name_names_its_line() {
    let (error, file, _dir) = error_with(
        "github_kayobe_environments:\n  - production\n  - 'bad env'\n",
        &[],
    );
    assert!(matches!(error, ConfigError::BadEnvironmentName { .. }));
    assert!(
        error.to_string().starts_with(&format!(
            "{}:3:5: environment name `bad env`",
            file.display()
        )),
        "{error}"
    );
}

#[test]
fn environment_missing_from_the_repository_lists_the_real_ones() {
    let (error, file, _dir) = error_with("github_kayobe_environments: [production, qa]\n", &[]);
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:1:42: environment `qa`", file.display())),
        "{text}"
    );
    assert!(
        text.ends_with("the environments are: production, staging"),
        "{text}"
    );
}

#[test]
fn duplicate_environment_is_an_error() {
    let (error, _, _dir) = error_with("github_kayobe_environments: [staging, staging]\n", &[]);
    assert!(matches!(error, ConfigError::Duplicate { .. }), "{error}");
}

#[test]
fn a_registry_password_written_into_the_config_is_refused() {
    let (error, file, _dir) = error_with(
        "github_registry:\n  url: registry.example.com\n  password: hunter2\n",
        &[],
    );
    assert!(
        error.to_string().starts_with(&format!(
            "{}:3:3: `github_registry.password` must be a `${{{{ secrets.NAME }}}}` reference",
            file.display()
        )),
        "{error}"
    );
}

#[test]
fn hook_expanding_an_expression_in_run_is_refused() {
    let (error, file, _dir) = error_with(
        "github_operations:\n  tempest:\n    hooks:\n      post:\n        - run: !unsafe \"echo '${{ github.event.pull_request.title }}'\"\n",
        &[],
    );
    assert!(
        error.to_string().starts_with(&format!(
            "{}:5:11: `github_operations.tempest.hooks.post[0]` must be a step mapping",
            file.display()
        )),
        "{error}"
    );
}

#[test]
fn latest_image_tag_is_refused_on_github() {
    let (error, file, _dir) = error_with("github_image_tag: latest\n", &[]);
    assert!(
        error.to_string().starts_with(&format!(
            "{}:1:1: `github_image_tag` must be",
            file.display()
        )),
        "{error}"
    );
}

#[test]
fn choice_input_needs_options() {
    let (error, file, _dir) = error_with(
        "github_operations:\n  overcloud-service-deploy:\n    inputs:\n      flavour:\n        type: choice\n",
        &[],
    );
    assert!(
        error
            .to_string()
            .contains("options` must be a non-empty list for a choice"),
        "{error}"
    );
    assert!(
        error.to_string().starts_with(&file.display().to_string()),
        "{error}"
    );
}

#[test]
fn input_clashing_with_a_builtin_is_refused() {
    let (error, _, _dir) = error_with(
        "github_operations:\n  overcloud-service-deploy:\n    inputs:\n      kayobe-limit: {}\n",
        &[],
    );
    assert!(matches!(error, ConfigError::InputClash { .. }), "{error}");
}

#[test]
fn template_errors_name_the_variable() {
    let (error, file, _dir) = error_with("github_image_name: \"{{ nope }}\"\n", &[]);
    assert!(matches!(
        error,
        ConfigError::Variable(kayobe_config::VariableError::Template { .. })
    ));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:1:1: `github_image_name`", file.display())),
        "{error}"
    );
}

/// The example's GitHub writer config with `overlay` layered on top.

#[test]
fn an_unreviewed_deploy_is_said_where_it_is_set_but_is_no_error() {
    let (config, file, _dir) = config_with(
        "github_operations:\n  overcloud-service-deploy:\n    reviewed_only: false\n  tempest:\n    reviewed_only: true\n",
        &[],
    );
    let config = config.unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let notices: Vec<String> = config.notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        notices,
        [format!(
            "{}:3:5: `github_operations.overcloud-service-deploy.reviewed_only` lets `overcloud-service-deploy` change the cloud from any branch, without the deployment environment's reviewers",
            file.display()
        )]
    );
    let reviewed = |name: &str| {
        config
            .operation(workflow_render::Workflow::from_name(name).unwrap())
            .reviewed_only
    };
    assert!(!reviewed("overcloud-service-deploy"));
    assert!(reviewed("tempest"));
    assert!(reviewed("overcloud-service-upgrade"));
    assert!(!reviewed("config-diff"));
}

#[test]
fn config_diff_cannot_wait_for_review() {
    let (config, file, _dir) = config_with(
        "github_operations:\n  config-diff:\n    reviewed_only: true\n",
        &[],
    );
    let text = config.unwrap_err().to_string();
    assert!(
        text.starts_with(&format!(
            "{}:3:5: `github_operations.config-diff.reviewed_only` must be `false`: this operation runs for every change, before review",
            file.display()
        )),
        "{text}"
    );
}
