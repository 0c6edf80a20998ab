//! The example repository's writer configs, rendered: snapshots, the secrets
//! they reference, and every file through the platform's validators.

mod support;

use kayobe_config::Value;
use workflow_render::{Platform, Reference, ReferenceKind, Templates, render};

use support::{concatenated, example_config, example_single_config, validate, write_all};

#[test]
fn github_multi_environment() {
    let rendered = render(&example_config(Platform::Github), &Templates::embedded()).unwrap();
    // The collection's 24 workflows but its `prepare-runner.yml` (the
    // release is read when rendering).
    assert_eq!(rendered.files.len(), 23);
    insta::assert_snapshot!(concatenated(&rendered));
    insta::assert_json_snapshot!(rendered.references);
}

#[test]
fn github_single_environment() {
    let rendered = render(
        &example_single_config(Platform::Github),
        &Templates::embedded(),
    )
    .unwrap();
    insta::assert_snapshot!(concatenated(&rendered));
    // One environment chosen by `single`: unprefixed names; the registry's
    // URL and user are the writer config's.
    let secrets: Vec<&str> = rendered
        .references
        .iter()
        .map(|reference| reference.name.as_str())
        .collect();
    assert_eq!(
        secrets,
        [
            "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
            "KAYOBE_VAULT_PASSWORD",
            "REGISTRY_PASSWORD",
            "TEMPEST_OPENRC"
        ]
    );
}

#[test]
fn github_per_environment_registry() {
    // A writer config without `github_registry`: each environment has its
    // own registry variables and secret, as in the collection.
    let mut config = example_config(Platform::Github);
    config.registry.url = None;
    config.registry.username = None;
    config.registry.share = false;
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let url = Reference {
        name: "STAGING_REGISTRY_URL".into(),
        kind: ReferenceKind::Variable,
        environment: Some("staging".into()),
        value: None,
    };
    assert!(
        rendered.references.contains(&url),
        "{:?}",
        rendered.references
    );
    assert!(
        rendered
            .references
            .iter()
            .all(|reference| reference.environment.is_some())
    );
    let build = &rendered.files[0];
    assert!(
        build
            .contents
            .contains("secrets.PRODUCTION_REGISTRY_PASSWORD")
    );
}

#[test]
fn gitlab_multi_environment() {
    let rendered = render(&example_config(Platform::Gitlab), &Templates::embedded()).unwrap();
    assert_eq!(rendered.files.len(), 1);
    insta::assert_snapshot!(concatenated(&rendered));
    insta::assert_json_snapshot!(rendered.references);
}

#[test]
fn gitlab_single_environment() {
    let rendered = render(
        &example_single_config(Platform::Gitlab),
        &Templates::embedded(),
    )
    .unwrap();
    insta::assert_snapshot!(concatenated(&rendered));
}

#[test]
fn every_example_file_passes_the_github_validators() {
    let renders: Vec<_> = [
        example_config(Platform::Github),
        example_single_config(Platform::Github),
    ]
    .iter()
    .map(|config| render(config, &Templates::embedded()).unwrap())
    .collect();
    let (_dir, files) = write_all(&renders);
    validate(Platform::Github, &files);
}

#[test]
fn every_example_file_passes_the_gitlab_schema() {
    let mut vault_keyword = example_config(Platform::Gitlab);
    vault_keyword.gitlab_secrets = workflow_render::GitlabSecrets::VaultKeyword;
    let mut runbooks = example_single_config(Platform::Gitlab);
    runbooks.runbooks = true;
    let renders: Vec<_> = [
        example_config(Platform::Gitlab),
        example_single_config(Platform::Gitlab),
        vault_keyword,
        runbooks,
    ]
    .iter()
    .map(|config| render(config, &Templates::embedded()).unwrap())
    .collect();
    let (_dir, files) = write_all(&renders);
    validate(Platform::Gitlab, &files);
}

/// Every `run:` in a parsed workflow.
fn scripts(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Map(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("run", Value::String(script)) => found.push(script.clone()),
                    _ => scripts(item, found),
                }
            }
        }
        Value::List(items) => items.iter().for_each(|item| scripts(item, found)),
        _ => {}
    }
}

#[test]
fn no_expression_is_expanded_inside_a_script() {
    let rendered = render(&example_config(Platform::Github), &Templates::embedded()).unwrap();
    for file in &rendered.files {
        let workflow = kayobe_config::yaml::parse(&file.contents, &file.path).unwrap();
        let mut found = Vec::new();
        scripts(&workflow, &mut found);
        assert!(!found.is_empty());
        for script in found {
            assert!(!script.contains("${{"), "{}: {script}", file.path.display());
        }
    }
}

#[test]
fn gitlab_runbooks_chain_their_jobs() {
    let config = example_config(Platform::Gitlab);
    assert!(config.runbooks, "on by default, as in the collection");
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let pipeline =
        kayobe_config::yaml::parse(&rendered.files[0].contents, &rendered.files[0].path).unwrap();
    let Value::Map(pipeline) = pipeline else {
        panic!("a mapping")
    };
    let job = |id: &str| pipeline.get(id).and_then(Value::as_map).unwrap().clone();
    let first = job("runbook-overcloud-service-upgrade:a-container-image-pull:staging");
    assert!(first.get("needs").is_none());
    let rules = format!("{:?}", first.get("rules").unwrap());
    assert!(rules.contains("manual"), "{rules}");
    let tempest = job("runbook-overcloud-service-upgrade:c-tempest-run-before:production");
    assert!(format!("{:?}", tempest.get("artifacts")).contains("rally-junit.xml"));
    let last = job("runbook-overcloud-service-upgrade:g-prune-docker-images:production");
    assert_eq!(
        last.get("needs"),
        Some(&Value::List(vec![Value::from(
            "runbook-overcloud-service-upgrade:f-tempest-run-after:production"
        )]))
    );
    assert!(
        format!("{:?}", last.get("script")).contains(
            ".automation/pipeline/overcloud-host-command-run.sh -b --command 'docker image prune -a -f' --show-output"
        ),
        "{:?}",
        last.get("script")
    );
    assert_eq!(
        last.get("resource_group"),
        Some(&Value::from("overcloud-production"))
    );
    // The in-place hypervisor upgrade: one batch per pipeline, each step on
    // exactly the hosts named when it starts, never without them.
    let steps = [
        "a-disable-compute-services",
        "b-drain-hypervisor",
        "c-update-hypervisor-packages",
        "d-reboot-hypervisor",
        "e-enable-hypervisor",
    ];
    for (index, step) in steps.iter().enumerate() {
        let step = job(&format!(
            "runbook-in-place-hypervisor-host-upgrade:{step}:production"
        ));
        let needs = index.checked_sub(1).map(|previous| {
            Value::List(vec![Value::from(format!(
                "runbook-in-place-hypervisor-host-upgrade:{}:production",
                steps[previous]
            ))])
        });
        assert_eq!(step.get("needs"), needs.as_ref());
        let Some(Value::List(script)) = step.get("script") else {
            panic!("a script")
        };
        let guard = script[0].as_str().unwrap();
        for (hosts, code, printed) in [
            (
                "",
                1,
                "set KAYOBE_AUTOMATION_UPGRADE_HOSTS to the hosts of this batch\n",
            ),
            ("compute01,compute02", 0, "compute01,compute02\n"),
        ] {
            let output = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("{guard}\necho \"$KAYOBE_LIMIT\""))
                .env("KAYOBE_AUTOMATION_UPGRADE_HOSTS", hosts)
                .env("KAYOBE_LIMIT", "")
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(code));
            let text = String::from_utf8_lossy(if code == 0 {
                &output.stdout
            } else {
                &output.stderr
            })
            .into_owned();
            assert_eq!(text, printed);
        }
    }
    let playbook = job("runbook-in-place-hypervisor-host-upgrade:b-drain-hypervisor:staging");
    assert_eq!(
        playbook
            .get("variables")
            .and_then(Value::as_map)
            .and_then(|variables| variables.get("KAYOBE_AUTOMATION_PLAYBOOK")),
        Some(&Value::from("etc/kayobe/ansible/nova-compute-drain.yml"))
    );
    // Off when the writer config says so.
    let mut off = config.clone();
    off.runbooks = false;
    let plain = render(&off, &Templates::embedded()).unwrap();
    for runbook in [
        "runbook-overcloud-service-upgrade",
        "runbook-in-place-hypervisor-host-upgrade",
        "KAYOBE_AUTOMATION_UPGRADE_HOSTS",
    ] {
        assert!(!plain.files[0].contents.contains(runbook), "{runbook}");
    }
}
