//! Rendering every GitHub workflow (and the GitLab pipeline) for a writer
//! config with 5 environments, per-environment registries and an extra input
//! and hook on each operation.

use std::hint::black_box;

use criterion::Criterion;
use kayobe_automation::config::{Map, Value};
use kayobe_automation::workflows::{Platform, Templates, Workflow, WriterConfig, render};

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|item| Value::from(*item)).collect())
}

/// A writer config as the writer host's variables would give it.
fn writer_vars(platform: Platform) -> Map {
    let prefix = platform.prefix();
    let mut vars = Map::new();
    vars.insert(
        format!("{prefix}_kayobe_environments"),
        strings(&["production", "staging", "dev", "lab-a", "lab.b"]),
    );
    vars.insert(
        "kolla_docker_registry".into(),
        Value::from("registry.example.com:4000"),
    );
    match platform {
        Platform::Github => {
            let mut registry = Map::new();
            registry.insert("url".into(), Value::from("{{ kolla_docker_registry }}"));
            registry.insert("username".into(), Value::from("kolla"));
            registry.insert("share".into(), Value::Bool(false));
            vars.insert("github_registry".into(), Value::Map(registry));
            vars.insert("github_runs_on".into(), strings(&["kayobe", "openstack"]));
        }
        Platform::Gitlab => {
            vars.insert(
                "gitlab_registry".into(),
                Value::from("{{ kolla_docker_registry }}"),
            );
        }
    }
    vars.insert(format!("{prefix}_image_tag"), Value::from("2025.1"));
    let mut operations = Map::new();
    for operation in Workflow::all() {
        let mut input = Map::new();
        input.insert("description".into(), Value::from("An extra setting"));
        let mut inputs = Map::new();
        inputs.insert("extraSetting".into(), Value::Map(input));
        let step = match platform {
            Platform::Github => {
                let mut step = Map::new();
                step.insert("name".into(), Value::from("Announce"));
                step.insert("run".into(), Value::from("echo starting"));
                Value::Map(step)
            }
            Platform::Gitlab => Value::from("echo starting"),
        };
        let mut hooks = Map::new();
        hooks.insert("pre_run".into(), Value::List(vec![step]));
        let mut settings = Map::new();
        settings.insert("inputs".into(), Value::Map(inputs));
        settings.insert("hooks".into(), Value::Map(hooks));
        operations.insert(operation.name().into(), Value::Map(settings));
    }
    vars.insert(format!("{prefix}_operations"), Value::Map(operations));
    vars
}

fn bench(c: &mut Criterion) {
    let templates = Templates::embedded();
    for platform in [Platform::Github, Platform::Gitlab] {
        let vars = writer_vars(platform);
        let config = WriterConfig::from_variables(platform, &vars, &[], None).expect("valid");
        let rendered = render(&config, &templates).expect("renders");
        let files = rendered.files.len();
        c.bench_function(
            &format!(
                "render {} for 5 environments ({files} files)",
                platform.prefix()
            ),
            |b| b.iter(|| render(black_box(&config), &templates).expect("renders")),
        );
        c.bench_function(
            &format!(
                "read and render {} writer config, 5 environments",
                platform.prefix()
            ),
            |b| {
                b.iter(|| {
                    let config =
                        WriterConfig::from_variables(platform, black_box(&vars), &[], None)
                            .expect("valid");
                    render(&config, &templates).expect("renders")
                })
            },
        );
    }
}

// Written out rather than `criterion_main!`, whose generated `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
