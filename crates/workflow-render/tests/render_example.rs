//! The example repository's writer configs, rendered: snapshots, the secrets
//! they reference, and every file through the platform's validators.

mod support;

use kayobe_config::Value;
use workflow_render::{Platform, Reference, ReferenceKind, Templates, Workflow, render};

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
        let guard = script
            .iter()
            .filter_map(Value::as_str)
            .find(|line| line.contains("KAYOBE_AUTOMATION_UPGRADE_HOSTS"))
            .unwrap();
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

const GITHUB_DEFAULT_BRANCH: &str = "github.ref_name == github.event.repository.default_branch";
const GITLAB_DEFAULT_BRANCH: &str = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH";

fn map(value: &Value) -> &kayobe_config::Map {
    value.as_map().expect("a mapping")
}

fn list(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::List(items)) => items,
        other => panic!("a list, not {other:?}"),
    }
}

#[test]
fn github_deploys_run_only_from_the_default_branch_in_their_environment() {
    let config = example_config(Platform::Github);
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let mut gated = 0;
    for file in &rendered.files {
        let name = file.path.file_name().unwrap().to_str().unwrap();
        let operation = name
            .strip_prefix("run-")
            .and_then(|rest| rest.strip_suffix(".yml"))
            .and_then(Workflow::from_name);
        let changes_cloud = operation.is_some_and(Workflow::changes_cloud);
        let workflow = kayobe_config::yaml::parse(&file.contents, &file.path).unwrap();
        let jobs = map(map(&workflow).get("jobs").unwrap());
        let refuse = jobs.get("default-branch-only");
        assert_eq!(refuse.is_some(), changes_cloud, "{name}");
        if let Some(refuse) = refuse {
            assert_eq!(
                map(refuse).get("if"),
                Some(&Value::from(format!("!({GITHUB_DEFAULT_BRANCH})"))),
                "{name}"
            );
        }
        for (id, job) in jobs.iter().filter(|(id, _)| *id != "default-branch-only") {
            let job = map(job);
            let condition = job.get("if").and_then(Value::as_str).unwrap_or("");
            let environment = job.get("environment").and_then(Value::as_str);
            let steps = list(job.get("steps"));
            let head_check = map(&steps[0])
                .get("uses")
                .and_then(Value::as_str)
                .is_some_and(|uses| uses.starts_with("actions/github-script@"));
            if changes_cloud {
                gated += 1;
                assert!(
                    condition.starts_with(GITHUB_DEFAULT_BRANCH),
                    "{name} {id}: {condition}"
                );
                // One job per environment, each bound to its own.
                let kayobe_environment = condition
                    .split("inputs.kayobe_environment == '")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .unwrap();
                assert_eq!(environment, Some(kayobe_environment), "{name} {id}");
                assert!(head_check, "{name} {id}");
            } else {
                assert!(!condition.contains("default_branch"), "{name} {id}");
                assert_eq!(environment, None, "{name} {id}");
                assert!(!head_check, "{name} {id}");
            }
        }
    }
    assert!(gated >= 30, "{gated}");

    // Turned off for one operation: from any branch, in no environment.
    let mut off = config.clone();
    let deploy = Workflow::from_name("overcloud-service-deploy").unwrap();
    off.operations
        .iter_mut()
        .find(|settings| settings.operation == deploy)
        .unwrap()
        .reviewed_only = false;
    let rendered = render(&off, &Templates::embedded()).unwrap();
    let file = rendered
        .files
        .iter()
        .find(|file| file.path.ends_with("run-overcloud-service-deploy.yml"))
        .unwrap();
    assert!(!file.contents.contains("default_branch"));
    assert!(!file.contents.contains("environment: "));
}

/// Every job of a GitLab pipeline by id.
fn gitlab_jobs(contents: &str) -> Vec<(String, kayobe_config::Map)> {
    let pipeline =
        kayobe_config::yaml::parse(contents, std::path::Path::new(".gitlab-ci.yml")).unwrap();
    map(&pipeline)
        .iter()
        .filter(|(_, value)| value.as_map().is_some_and(|job| job.contains_key("script")))
        .map(|(id, job)| (id.clone(), map(job).clone()))
        .collect()
}

#[test]
fn gitlab_deploys_run_only_from_the_default_branch_in_their_environment() {
    let config = example_config(Platform::Gitlab);
    let rendered = render(&config, &Templates::embedded()).unwrap();
    let mut gated = 0;
    let mut head_checks = Vec::new();
    for (id, job) in gitlab_jobs(&rendered.files[0].contents) {
        let mut parts: Vec<&str> = id.split(':').collect();
        let kayobe_environment = parts.pop().unwrap();
        if parts.is_empty() {
            // The image build, for every environment.
            continue;
        }
        let runbook = parts.len() == 2;
        let operation = if runbook {
            // The step's operation is the script it runs.
            let script = format!("{:?}", job.get("script"));
            Workflow::all()
                .filter(|operation| script.contains(&format!("pipeline/{}.sh", operation.name())))
                .max_by_key(|operation| operation.name().len())
                .unwrap()
        } else {
            let Some(operation) = Workflow::from_name(parts[0]) else {
                continue;
            };
            operation
        };
        let rules = list(job.get("rules"));
        let on_default_branch = rules.iter().all(|rule| {
            map(rule)
                .get("if")
                .and_then(Value::as_str)
                .is_some_and(|condition| {
                    condition.ends_with(&format!(" && {GITLAB_DEFAULT_BRANCH}"))
                })
        });
        let script = list(job.get("script"));
        let first = script[0].as_str().unwrap();
        let checks_head = first.contains("git ls-remote origin");
        let environment = job.get("environment").map(|environment| {
            let environment = map(environment);
            assert_eq!(
                environment.get("deployment_tier"),
                Some(&Value::from("production")),
                "{id}"
            );
            environment
                .get("name")
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        });
        if runbook {
            // Every step only from the default branch; the head checked
            // when it starts; steps changing the cloud in the environment.
            assert!(on_default_branch, "{id}");
            assert_eq!(checks_head, job.get("needs").is_none(), "{id}");
            assert_eq!(
                environment.as_deref(),
                operation.changes_cloud().then_some(kayobe_environment),
                "{id}"
            );
        } else if operation.changes_cloud() {
            gated += 1;
            assert!(on_default_branch, "{id}");
            assert!(checks_head, "{id}");
            assert_eq!(environment.as_deref(), Some(kayobe_environment), "{id}");
        } else {
            assert!(!on_default_branch, "{id}");
            assert!(!checks_head, "{id}");
            assert_eq!(environment, None, "{id}");
        }
        if checks_head {
            head_checks.push(first.to_owned());
        }
    }
    assert!(gated >= 30, "{gated}");
    head_checks.dedup();
    assert_eq!(head_checks.len(), 1, "one head check");
    gitlab_head_check_runs(&head_checks[0]);
}

/// The GitLab head check, run by bash in a checkout whose remote moves on.
fn gitlab_head_check_runs(check: &str) {
    let dir = tempfile::tempdir().unwrap();
    let git = |cwd: &std::path::Path, args: &[&str]| {
        let output = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let origin = dir.path().join("origin.git");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    git(
        dir.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    git(&work, &["commit", "-q", "--allow-empty", "-m", "reviewed"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let reviewed = git(&work, &["rev-parse", "HEAD"]);
    let run = |commit: &str| {
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(check)
            .current_dir(&work)
            .env("CI_DEFAULT_BRANCH", "main")
            .env("CI_COMMIT_SHA", commit)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(run(&reviewed), (Some(0), String::new()));
    git(
        &work,
        &["commit", "-q", "--allow-empty", "-m", "landed since"],
    );
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let newer = git(&work, &["rev-parse", "HEAD"]);
    assert_eq!(
        run(&reviewed),
        (
            Some(1),
            format!(
                "{reviewed} is no longer the head of main (now {newer}): a newer change landed since this pipeline started; deploy from the newer one's pipeline\n"
            )
        )
    );
    std::fs::remove_dir_all(&origin).unwrap();
    let (code, stderr) = run(&newer);
    assert_eq!(code, Some(1));
    assert!(
        stderr.ends_with("cannot ask the repository for the head of main; not deploying a commit that may be outdated\n"),
        "{stderr}"
    );
}
