//! Writing, checking and pruning rendered files; template overrides.

mod support;

use std::path::Path;

use workflow_render::{Mode, Platform, Templates, render, write};

use support::example_config;

#[test]
fn write_then_check_then_prune() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = example_config(Platform::Github);
    let rendered = render(&config, &Templates::embedded()).unwrap();

    // Check before anything exists: everything would be written, nothing is.
    let report = write(&rendered, dir.path(), Mode::Check).unwrap();
    assert_eq!(report.written.len(), 23);
    assert!(!report.is_up_to_date());
    assert!(!dir.path().join(".github").exists());

    let report = write(&rendered, dir.path(), Mode::Write).unwrap();
    assert_eq!(report.written.len(), 23);
    let deploy = dir
        .path()
        .join(".github/workflows/run-overcloud-service-deploy.yml");
    assert!(deploy.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&deploy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    assert!(
        write(&rendered, dir.path(), Mode::Check)
            .unwrap()
            .is_up_to_date()
    );

    // A hand edit makes the check fail, and only that file is rewritten.
    std::fs::write(&deploy, "edited\n").unwrap();
    let report = write(&rendered, dir.path(), Mode::Check).unwrap();
    assert_eq!(
        report.written,
        vec![Path::new(
            ".github/workflows/run-overcloud-service-deploy.yml"
        )]
    );
    write(&rendered, dir.path(), Mode::Write).unwrap();
    assert!(
        write(&rendered, dir.path(), Mode::Check)
            .unwrap()
            .is_up_to_date()
    );

    // Disabling an operation leaves a stale file: reported, kept, then pruned.
    config
        .operations
        .iter_mut()
        .find(|settings| settings.operation.name() == "overcloud-service-upgrade")
        .unwrap()
        .enabled = false;
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let stale = Path::new(".github/workflows/run-overcloud-service-upgrade.yml");
    let report = write(&rendered, dir.path(), Mode::Write).unwrap();
    assert_eq!(report.stale, vec![stale]);
    assert!(dir.path().join(stale).is_file());
    assert!(
        !write(&rendered, dir.path(), Mode::Check)
            .unwrap()
            .is_up_to_date()
    );
    let report = write(&rendered, dir.path(), Mode::WriteAndPrune).unwrap();
    assert_eq!(report.stale, vec![stale]);
    assert!(!dir.path().join(stale).exists());
    assert!(
        write(&rendered, dir.path(), Mode::Check)
            .unwrap()
            .is_up_to_date()
    );
    // Files the renderer does not own are never touched.
    std::fs::write(dir.path().join(".github/workflows/mine.yml"), "x").unwrap();
    write(&rendered, dir.path(), Mode::WriteAndPrune).unwrap();
    assert!(dir.path().join(".github/workflows/mine.yml").is_file());
}

#[test]
fn a_template_directory_overrides_one_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("github")).unwrap();
    std::fs::write(
        dir.path().join("github/workflow.yml.j2"),
        "# {{ operation }} for {{ jobs | length }} environments\n",
    )
    .unwrap();
    let templates = Templates::with_overrides(dir.path());
    let rendered = render(&example_config(Platform::Github), &templates).unwrap();
    let deploy = rendered
        .files
        .iter()
        .find(|file| file.path.ends_with("run-overcloud-service-deploy.yml"))
        .unwrap();
    assert_eq!(
        deploy.contents,
        "# overcloud-service-deploy for 2 environments\n"
    );
    // The build template was not overridden.
    assert!(rendered.files[0].contents.contains("docker build"));
}

#[test]
fn a_broken_override_is_an_error_naming_the_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("gitlab")).unwrap();
    std::fs::write(
        dir.path().join("gitlab/gitlab-ci.yml.j2"),
        "{{ no_such_thing }}\n",
    )
    .unwrap();
    let error = render(
        &example_config(Platform::Gitlab),
        &Templates::with_overrides(dir.path()),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("template `gitlab/gitlab-ci.yml.j2` failed: "),
        "{error}"
    );
}
