//! Parity with the `stackhpc.kayobe_workflows` collection, checked by the
//! collection itself: the same writer configs — the collection's own test
//! configs, the example's, and generated ones — rendered by the collection
//! (ansible-core 2.17 from `cargo xtask setup`, on the snapshot in
//! `../shared/conformance/kayobe-workflows`) and by us, compared workflow by
//! workflow: the pipeline script and its arguments, the environment handed
//! to it, the dispatch input names, the triggers, and the secrets and
//! variables used (per-environment names normalised to `<ENV>_NAME`).
//!
//! What differs on purpose is [`DIFFERENCES`], also in the README.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use kayobe_automation_tests::{collection_bin_dir, collection_tool, conformance};
use kayobe_config::template::Templar;
use kayobe_config::{Map, Value};
use workflow_render::{Platform, Templates, WriterConfig, render};

/// Each deliberate difference from the collection, and why; the comparison
/// below applies exactly these.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "no prepare-runner.yml",
        "the release in the image tag is read from .gitreview when rendering, not by a job on every run",
    ),
    (
        "run-overcloud-database-recover.yml runs overcloud-database-recover.sh",
        "the collection names the file overcloud-database-recover.yml and so runs the non-existent cloud-database-recover.sh",
    ),
    (
        "the image build also runs on a push that changes its inputs",
        "a changed Dockerfile or requirement rebuilds the image without a person",
    ),
    (
        "KAYOBE_AUTOMATION_PR_* only where pull requests are enabled",
        "raising a pull request needs `contents: write` and `pull-requests: write`; least privilege by default (`github_pull_requests: true` or an entry's PR arguments turn it on)",
    ),
    (
        "github.token rather than secrets.GITHUB_TOKEN",
        "the same token, without a secret reference",
    ),
    (
        "an operation's required argument reaches its script through an environment variable",
        "no expression is expanded inside a `run:` script (zizmor's template-injection)",
    ),
];

/// What a workflow does, in the terms compared.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    /// `script args` of every pipeline script run.
    scripts: BTreeSet<String>,
    /// The environment variables handed to the scripts.
    env: BTreeSet<String>,
    inputs: BTreeSet<String>,
    triggers: BTreeSet<String>,
    /// Secrets and variables, per-environment names as `<ENV>_NAME`.
    references: BTreeSet<String>,
}

fn map(value: &Value) -> Map {
    value.as_map().cloned().unwrap_or_default()
}

fn summarise(text: &str, environments: &[String]) -> Summary {
    let workflow = kayobe_config::yaml::parse(text, Path::new("workflow.yml")).unwrap();
    let workflow = map(&workflow);
    let mut summary = Summary::default();
    // YAML 1.1 (Ansible's and GitHub's reader alike) reads the key `on` as
    // a boolean.
    let on = map(workflow
        .get("on")
        .or_else(|| workflow.get("true"))
        .or_else(|| workflow.get("True"))
        .unwrap_or_else(|| panic!("no `on` in {:?}", workflow.keys().collect::<Vec<_>>())));
    summary.triggers = on.keys().cloned().collect();
    if let Some(dispatch) = on.get("workflow_dispatch").and_then(Value::as_map) {
        if let Some(inputs) = dispatch.get("inputs").and_then(Value::as_map) {
            summary.inputs = inputs.keys().cloned().collect();
        }
    }
    let script = regex::Regex::new(r"\.automation/pipeline/([a-z-]+)\.sh([^\n']*)").unwrap();
    let argument = regex::Regex::new(r#""?\$([A-Z_]+)"?"#).unwrap();
    for job in map(workflow.get("jobs").unwrap()).values() {
        let job = map(job);
        let steps = match job.get("steps") {
            Some(Value::List(steps)) => steps.clone(),
            _ => Vec::new(),
        };
        for step in &steps {
            let step = map(step);
            let Some(run) = step.get("run").and_then(Value::as_str) else {
                continue;
            };
            let env = step.get("env").map(map).unwrap_or_default();
            for found in script.captures_iter(run) {
                let mut carriers = BTreeSet::new();
                let args = argument.replace_all(found[2].trim(), |arg: &regex::Captures| {
                    carriers.insert(arg[1].to_owned());
                    env.get(&arg[1])
                        .and_then(Value::as_str)
                        .unwrap_or(&arg[0])
                        .to_owned()
                });
                let args = args.trim_start_matches("set -f; ").to_owned();
                summary
                    .scripts
                    .insert(format!("{} {args}", &found[1]).trim().to_owned());
                summary
                    .env
                    .extend(env.keys().filter(|name| !carriers.contains(*name)).cloned());
            }
        }
    }
    let reference =
        regex::Regex::new(r"(secrets|vars)(?:\.([A-Za-z0-9_]+)|\[format\('\{0\}_([A-Za-z0-9_]+)')")
            .unwrap();
    for found in reference.captures_iter(text) {
        let name = match (found.get(2), found.get(3)) {
            (Some(name), _) => normalise(name.as_str(), environments),
            (_, Some(name)) => format!("<ENV>_{}", name.as_str()),
            _ => unreachable!(),
        };
        if name != "GITHUB_TOKEN" {
            summary.references.insert(format!("{}.{name}", &found[1]));
        }
    }
    summary
}

/// `PRODUCTION_X` as `<ENV>_X` when `production` is an environment.
fn normalise(name: &str, environments: &[String]) -> String {
    for environment in environments {
        let prefix = format!("{}_", environment.to_uppercase().replace(['-', '.'], "_"));
        if let Some(rest) = name.strip_prefix(&prefix) {
            return format!("<ENV>_{rest}");
        }
    }
    name.to_owned()
}

/// The collection's summary with the deliberate differences applied.
fn expected(file: &str, mut summary: Summary, pull_requests: bool) -> Summary {
    if file == "build-kayobe-docker-image.yml" {
        summary.triggers.insert("push".to_owned());
    }
    if !pull_requests {
        summary
            .env
            .retain(|name| !name.starts_with("KAYOBE_AUTOMATION_PR_"));
    }
    summary.scripts = summary
        .scripts
        .into_iter()
        .map(|script| script.replace("cloud-database-recover", "overcloud-database-recover"))
        .map(|script| script.replace("overovercloud", "overcloud"))
        .collect();
    summary
}

/// A writer config as YAML the collection reads: every string `!unsafe`
/// (so `${{ }}` stays text), Jinja only where `jinja` says.
fn yaml_of(value: &Value) -> String {
    match value {
        Value::String(text) | Value::Unsafe(text) => {
            format!("!unsafe {}", serde_json::to_string(text).unwrap())
        }
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(yaml_of).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(key, item)| format!(
                    "{}: {}",
                    serde_json::to_string(key).unwrap(),
                    yaml_of(item)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_json().to_string(),
    }
}

/// The writer configs compared: (name, YAML text).
fn configs(workflows: &Path) -> Vec<(String, String)> {
    let mut configs = Vec::new();
    // The collection's own test configs.
    let host_vars = workflows.join("tests/inventory/host_vars");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&host_vars)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    // The collection's test configs cover each selector with a default, a
    // custom registry and a custom argument; these four span them (the
    // ansible run costs seconds per config).
    files.retain(|file| {
        [
            "reference",
            "input_custom_registry",
            "single_custom_kayobe_argument",
            "none_default",
        ]
        .iter()
        .any(|name| file.file_stem().is_some_and(|stem| stem == *name))
    });
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text: String = text
            .lines()
            .filter(|line| !line.starts_with("github_output_directory"))
            .map(|line| format!("{line}\n"))
            .collect();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        configs.push((format!("collection-{name}"), text));
    }
    // The example's, evaluated as Ansible would evaluate it.
    let (vars, _, _) = support::example_variables(Platform::Github);
    let templar = Templar::new(&vars);
    let mut example = String::from("---\n");
    for name in vars.keys().filter(|name| name.starts_with("github_")) {
        if name == "github_output_directory" || name == "github_operations" {
            continue;
        }
        let value = templar.variable(name).unwrap().unwrap();
        example.push_str(&format!("{name}: {}\n", yaml_of(&value)));
    }
    configs.push(("example".to_owned(), example));
    // Generated: every selector with every kind of registry, arguments and
    // hooks, and a workflow list with pull requests.
    let selectors = [
        "",
        "github_environment_selector: single\ngithub_kayobe_environments: [prod-gb-01]\n",
        "github_environment_selector: input\ngithub_kayobe_environments: [prod-gb-01, test.de-02, dev]\n",
    ];
    let registries = [
        "",
        "github_registry:\n  url: ghcr.io/example\n",
        "github_registry:\n  url: pulp.example.com\n  username: admin\n  password: !unsafe '${{ secrets.PULP_PASSWORD }}'\n  share: true\n",
        "github_registry:\n  username: robot\n  share: false\n",
    ];
    let extras = [
        "",
        "github_kayobe_arguments:\n  KAYOBE_AUTOMATION_SSH_PRIVATE_KEY: !unsafe '${{ secrets.OTHER_KEY }}'\ngithub_runs_on: [self-hosted, big]\ngithub_timeout: 100\n",
        "github_kayobe_hook: |\n  - name: Hook\n    run: echo hook\ngithub_image_name: kayobe-custom\ngithub_tempest_test_suites: [smoke, full]\n",
    ];
    // Each selector, registry and extra at least once (not every product:
    // the collection takes seconds per config).
    for index in 0..registries.len() {
        let selector = selectors[index % selectors.len()];
        let registry = registries[index];
        let extra = extras[index % extras.len()];
        configs.push((
            format!("generated-{index}"),
            format!("---\n{selector}{registry}{extra}"),
        ));
    }
    configs.push((
        "generated-list".to_owned(),
        "---\ngithub_workflows:\n  - \"{{ github_prepare_runner }}\"\n  - \"{{ github_build_kayobe_image }}\"\n  - \"{{ github_run_overcloud_service_deploy }}\"\n  - \"{{ github_run_overcloud_database_recover }}\"\n  - \"{{ github_run_tempest }}\"\n".to_owned(),
    ));
    configs
}

/// Runs the collection's GitHub role once for every config, each as a host
/// writing into `out/<name>`.
fn run_collection(
    configs: &[(String, String)],
    gitlab_configs: &[(String, String)],
    workflows: &Path,
    work: &Path,
) -> bool {
    let Some(playbook) = collection_tool("ansible-playbook") else {
        return false;
    };
    let collections = work.join("collections/ansible_collections/stackhpc");
    std::fs::create_dir_all(&collections).unwrap();
    std::os::unix::fs::symlink(workflows, collections.join("kayobe_workflows")).unwrap();
    std::fs::create_dir_all(work.join("host_vars")).unwrap();
    let python = collection_bin_dir().join("python");
    let mut inventory = String::from("[github-writer]\n");
    for (name, text) in configs {
        inventory.push_str(&format!(
            "{name} ansible_connection=local ansible_python_interpreter={}\n",
            python.display()
        ));
        let out = work.join("out").join(name);
        std::fs::write(
            work.join("host_vars").join(format!("{name}.yml")),
            format!("{text}\ngithub_output_directory: {}\n", out.display()),
        )
        .unwrap();
    }
    inventory.push_str("[gitlab-writer]\n");
    for (name, text) in gitlab_configs {
        inventory.push_str(&format!(
            "{name} ansible_connection=local ansible_python_interpreter={}\n",
            python.display()
        ));
        let out = work.join("out").join(name);
        std::fs::write(
            work.join("host_vars").join(format!("{name}.yml")),
            format!("{text}\ngitlab_output_directory: {}\n", out.display()),
        )
        .unwrap();
    }
    std::fs::write(work.join("inventory.ini"), inventory).unwrap();
    std::fs::write(
        work.join("play.yml"),
        "- hosts: github-writer\n  gather_facts: false\n  roles: [stackhpc.kayobe_workflows.github]\n- hosts: gitlab-writer\n  gather_facts: false\n  roles: [stackhpc.kayobe_workflows.gitlab]\n",
    )
    .unwrap();
    let output = Command::new(playbook)
        .current_dir(work)
        .args(["-i", "inventory.ini", "play.yml", "--forks", "4"])
        .env("ANSIBLE_COLLECTIONS_PATH", work.join("collections"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the collection failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

#[test]
fn github_workflows_match_the_collections() {
    let Some(workflows) = conformance("kayobe-workflows") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let configs = configs(&workflows);
    let gitlab = gitlab_configs();
    if !run_collection(&configs, &gitlab, &workflows, work.path()) {
        return;
    }
    for (name, text) in &gitlab {
        compare_gitlab(name, text, &work.path().join("out").join(name));
    }
    assert!(DIFFERENCES.len() >= 6);
    let mut compared = 0;
    for (name, text) in &configs {
        let vars = match kayobe_config::yaml::parse(text, Path::new("writer.yml")).unwrap() {
            Value::Map(map) => map,
            _ => Map::new(),
        };
        let config = WriterConfig::from_variables(Platform::Github, &vars, &[], None)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let pull_requests = vars.contains_key("github_workflows");
        let ours: BTreeMap<String, String> = render(&config, &Templates::embedded())
            .unwrap()
            .files
            .into_iter()
            .map(|file| {
                (
                    file.path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    file.contents,
                )
            })
            .collect();
        let out = work.path().join("out").join(name);
        let mut theirs: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|file| file != "prepare-runner.yml")
            .collect();
        theirs.sort();
        let expected_names: BTreeSet<String> = theirs
            .iter()
            .map(|file| match file.as_str() {
                "overcloud-database-recover.yml" => "run-overcloud-database-recover.yml".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        assert_eq!(
            ours.keys().cloned().collect::<BTreeSet<_>>(),
            expected_names,
            "{name}: the set of workflows"
        );
        for file in theirs {
            let collection = std::fs::read_to_string(out.join(&file)).unwrap();
            let ours_name = if file == "overcloud-database-recover.yml" {
                "run-overcloud-database-recover.yml"
            } else {
                file.as_str()
            };
            let want = expected(
                &file,
                summarise(&collection, &config.environments),
                pull_requests,
            );
            let got = summarise(&ours[ours_name], &config.environments);
            pretty_assertions::assert_eq!(got, want, "{name}: {file}");
            compared += 1;
        }
    }
    assert!(compared > 150, "only {compared} workflows compared");
}

/// GitLab writer configs: the collection's defaults (its environments made
/// explicit, since ours default to none) and a single environment.
fn gitlab_configs() -> Vec<(String, String)> {
    vec![
        (
            "gitlab-defaults".to_owned(),
            "---\ngitlab_kayobe_environments: [test, production]\ngitlab_registry: registry.example.com\n".to_owned(),
        ),
        (
            "gitlab-single".to_owned(),
            "---\ngitlab_kayobe_environments: [prod]\ngitlab_registry: registry.example.com\ngitlab_openstack_release: '2025.1'\ngitlab_tempest_test_suites: |\n  - smoke\n".to_owned(),
        ),
    ]
}

/// The pipeline script lines of GitLab job files, quotes dropped and
/// `"$VAR"` arguments replaced by `values`.
fn gitlab_scripts(text: &str, values: &BTreeMap<String, String>) -> BTreeSet<String> {
    let script = regex::Regex::new(r"\.automation/pipeline/([a-z-]+)\.sh([^\n\\]*)").unwrap();
    let argument = regex::Regex::new(r#"\\?"\$([A-Z_]+)\\?""#).unwrap();
    script
        .captures_iter(text)
        .map(|found| {
            let args = argument.replace_all(&found[2], |arg: &regex::Captures| {
                values
                    .get(&arg[1])
                    .cloned()
                    .unwrap_or_else(|| arg[0].to_owned())
            });
            let args = args.replace(['"', '\''], "").replace('\\', "");
            format!("{} {}", &found[1], args.trim()).trim().to_owned()
        })
        .collect()
}

fn compare_gitlab(name: &str, text: &str, out: &Path) {
    let mut collection = String::new();
    for file in std::fs::read_dir(out.join(".gitlab")).unwrap().flatten() {
        collection.push_str(&std::fs::read_to_string(file.path()).unwrap());
    }
    let prelude = std::fs::read_to_string(out.join(".gitlab/prelude.yml")).unwrap();
    let vars = match kayobe_config::yaml::parse(text, Path::new("writer.yml")).unwrap() {
        Value::Map(map) => map,
        _ => Map::new(),
    };
    let config = WriterConfig::from_variables(Platform::Gitlab, &vars, &[], None)
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert!(config.warnings.is_empty(), "{name}: {:?}", config.warnings);
    let ours = render(&config, &Templates::embedded()).unwrap();
    let pipeline = &ours.files[0].contents;
    let parsed = map(&kayobe_config::yaml::parse(pipeline, Path::new(".gitlab-ci.yml")).unwrap());
    // What `"$VAR"` arguments hold: job variables, then pipeline variables.
    let mut values = BTreeMap::new();
    for (key, value) in &parsed {
        let value = map(value);
        let variables = if key == "variables" {
            value
        } else {
            match value.get("variables") {
                Some(Value::Map(variables)) => variables.clone(),
                _ => continue,
            }
        };
        for (variable, setting) in &variables {
            let text = match setting {
                Value::Map(setting) => setting.get("value").and_then(Value::as_str),
                other => other.as_str(),
            };
            if let Some(text) = text {
                if key == "variables" || !values.contains_key(variable) {
                    values.insert(variable.clone(), text.to_owned());
                }
            }
        }
    }
    let mut want = gitlab_scripts(&collection, &BTreeMap::new());
    // Deliberate: the collection's infra-VM package update job runs host
    // configure.
    want.insert("infra-vm-host-package-update".to_owned());
    // Each job's lines, its own variables over the pipeline's.
    let mut got = BTreeSet::new();
    for job in parsed.values() {
        let Value::Map(job) = job else { continue };
        let Some(Value::List(lines)) = job.get("script") else {
            continue;
        };
        let mut job_values = values.clone();
        if let Some(Value::Map(variables)) = job.get("variables") {
            for (variable, value) in variables {
                if let Some(text) = value.as_str() {
                    job_values.insert(variable.clone(), text.to_owned());
                }
            }
        }
        let text: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
        got.extend(gitlab_scripts(&text.join("\n"), &job_values));
    }
    // The in-place hypervisor upgrade runbook's playbooks, apart.
    let playbooks = |lines: &mut BTreeSet<String>| {
        let playbooks: BTreeSet<String> = lines
            .iter()
            .filter(|line| line.starts_with("playbook-run etc/kayobe/ansible/"))
            .cloned()
            .collect();
        lines.retain(|line| !playbooks.contains(line));
        playbooks
    };
    let (want_playbooks, got_playbooks) = (playbooks(&mut want), playbooks(&mut got));
    pretty_assertions::assert_eq!(got, want, "{name}: the scripts the pipeline runs");
    // Deliberate: one batch per pipeline, named when it is started, rather
    // than a downstream pipeline generated by a playbook of the operator's
    // (`write-gitlab-pipeline.yml`), and the drain and enable steps run the
    // drain and enable playbooks (the collection's run the disable one).
    let ansible = |name: &str| format!("playbook-run etc/kayobe/ansible/{name}.yml");
    assert_eq!(
        want_playbooks,
        ["nova-compute-disable", "reboot", "write-gitlab-pipeline"]
            .map(ansible)
            .into(),
        "{name}: the collection's runbook"
    );
    if config.runbooks {
        assert_eq!(
            got_playbooks,
            [
                "nova-compute-disable",
                "nova-compute-drain",
                "nova-compute-enable",
                "reboot"
            ]
            .map(ansible)
            .into(),
            "{name}: our runbook"
        );
    }
    // The pipeline variables operators set, by the collection's names
    // (`KAYOBE_ENVIRONMENT`, `ACTIVE_STAGE` and `ACTIVE_JOB` choose among
    // its shared jobs; ours has one job per environment).
    for variable in [
        "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
        "KOLLA_TAGS",
        "KOLLA_LIMIT",
        "KAYOBE_TAGS",
        "KAYOBE_LIMIT",
        "OPENSTACK_RELEASE",
        "GIT_DEPTH",
        "GIT_SUBMODULE_STRATEGY",
    ] {
        assert!(
            prelude.contains(&format!("  {variable}:")),
            "{name}: {variable} in the collection"
        );
        assert!(values.contains_key(variable), "{name}: {variable} in ours");
    }
    // The OpenBao keys: the collection's, but the openrc under the name
    // `bao bootstrap` writes first (it writes the collection's too).
    let keys = regex::Regex::new(r"\.data\.([a-z_]+)").unwrap();
    let mut want_keys: BTreeSet<String> = keys
        .captures_iter(&collection)
        .map(|found| found[1].to_owned())
        .collect();
    want_keys.extend(
        keys.captures_iter(&prelude)
            .map(|found| found[1].to_owned()),
    );
    want_keys.remove("kayobe_public_openrc");
    want_keys.insert("kayobe_tempest_openrc".to_owned());
    let got_keys: BTreeSet<String> = ours
        .references
        .iter()
        .filter(|reference| reference.kind == workflow_render::ReferenceKind::OpenBaoKey)
        .map(|reference| reference.name.clone())
        .collect();
    assert_eq!(got_keys, want_keys, "{name}: OpenBao keys");
}
