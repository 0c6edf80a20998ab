//! A bad writer config is an error naming the file, line and column of what
//! is wrong, and what to do.

mod support;

use std::path::PathBuf;

use kayobe_config::Value;
use workflow_render::{ConfigError, Platform, WriterConfig};

use support::example_variables;

/// The example's GitHub writer variables with `overlay` (YAML) written to a
/// file and layered on top; the error from reading them.
fn error_with(overlay: &str, remove: &[&str]) -> (ConfigError, PathBuf, tempfile::TempDir) {
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
    let error = WriterConfig::from_variables(Platform::Github, &vars, &files, Some(&environments))
        .unwrap_err();
    (error, file, dir)
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
    assert!(text.contains("overcloud-service-deploy, overcloud-service-upgrade"));
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
fn missing_registry_names_the_writer_file() {
    let (mut vars, _, environments) = example_variables(Platform::Github);
    vars.shift_remove("github_registry");
    let dir = tempfile::tempdir().unwrap();
    let writer = dir.path().join("group_vars/github-writer/writer.yml");
    std::fs::create_dir_all(writer.parent().unwrap()).unwrap();
    std::fs::write(&writer, "github_timeout: 10\n").unwrap();
    // The key is in no file: the error names the writer group's file, where it belongs.
    let other = dir.path().join("group_vars/all.yml");
    let error = WriterConfig::from_variables(
        Platform::Github,
        &vars,
        &[other, writer.clone()],
        Some(&environments),
    )
    .unwrap_err();
    assert!(matches!(error, ConfigError::MissingRegistry { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: no registry for the Kayobe image: set `github_registry.url` in the writer config (the registry the Kayobe image is pushed to and pulled from)",
            writer.display()
        )
    );
}

#[test]
fn registry_without_url_names_the_variable() {
    let (error, file, _dir) = error_with("github_registry:\n  username: x\n", &[]);
    assert!(matches!(error, ConfigError::MissingRegistry { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:1:1:", file.display())),
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
    assert!(matches!(error, ConfigError::Template { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:1:1: `github_image_name`", file.display())),
        "{error}"
    );
}

#[test]
fn runbooks_are_gitlab_only() {
    let (error, file, _dir) = error_with("github_runbooks: true\n", &[]);
    assert!(
        error.to_string().starts_with(&format!(
            "{}:1:1: `github_runbooks` must be one of `false` (runbooks are GitLab pipelines)",
            file.display()
        )),
        "{error}"
    );
}
