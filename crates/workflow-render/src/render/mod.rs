//! Writer config -> files, and the secrets and variables the files reference.

use std::path::{Path, PathBuf};

use serde::Serialize;

use kayobe_config::operation::{Arguments, CONTAINER_PIPELINE_DIR, PIPELINE_DIR};

use crate::config::{
    GitlabSecrets, InputType, OperationSettings, Platform, Selector, WriterConfig,
    deployment_environment, env_var_name, secret_reference,
};
use crate::templates::Templates;
use crate::workflow::{Kind, Workflow};

mod github;
mod gitlab;

use github::render_github;
use gitlab::render_gitlab;

/// Whether a reference is a secret or a plain variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A platform secret (GitHub secret, GitLab masked variable).
    Secret,
    /// A platform variable (GitHub `vars.*`).
    Variable,
    /// A key of the environment's OpenBao secret `kayobe-automation/<env>`
    /// (GitLab).
    OpenBaoKey,
}

/// A secret or variable the rendered files need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reference {
    /// Its name as the files reference it.
    pub name: String,
    /// Secret, variable or OpenBao key.
    pub kind: ReferenceKind,
    /// The environment it belongs to, `None` when shared.
    pub environment: Option<String>,
    /// The value to set, when the writer config knows it (never for secrets).
    pub value: Option<String>,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path relative to the repository root.
    pub path: PathBuf,
    /// Its text.
    pub contents: String,
}

/// What a render produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The files, in operation order.
    pub files: Vec<RenderedFile>,
    /// Files this renderer writes for operations now disabled (relative to
    /// the repository root): stale if they exist.
    pub disabled: Vec<PathBuf>,
    /// The secrets and variables the files reference, sorted, no duplicates.
    pub references: Vec<Reference>,
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed (a user override, most likely).
    #[error(
        "template `{name}` failed: {source:#}; check the template (a user override from the template directory replaces the embedded one)"
    )]
    Template {
        /// The template.
        name: &'static str,
        /// Why.
        source: minijinja::Error,
    },
}

/// Renders every enabled operation of `config`.
///
/// # Errors
/// [`RenderError`] when a template fails.
pub fn render(config: &WriterConfig, templates: &Templates) -> Result<Rendered, RenderError> {
    match config.platform {
        Platform::Github => render_github(config, templates),
        Platform::Gitlab => render_gitlab(config, templates),
    }
}

/// The environments that get a job each: the configured ones, or one
/// unnamed (GitLab's jobs, and GitHub's image build and config diff).
fn job_environments(config: &WriterConfig) -> Vec<Option<&str>> {
    if config.environments.is_empty() {
        vec![None]
    } else {
        config
            .environments
            .iter()
            .map(|e| Some(e.as_str()))
            .collect()
    }
}

struct Names<'a> {
    config: &'a WriterConfig,
    references: Vec<Reference>,
}

impl Names<'_> {
    /// The name of per-environment `base` for `environment`, recorded: an
    /// environment chosen by input has its own (`<ENV>_<base>`), as in the
    /// collection (a shared registry's build has no environment).
    fn per_environment(
        &mut self,
        base: &str,
        kind: ReferenceKind,
        environment: Option<&str>,
        value: Option<&str>,
    ) -> String {
        let prefixed = self.config.selector == Selector::Input;
        let name = match environment {
            Some(env) if prefixed => format!("{}_{base}", env_var_name(env)),
            _ => base.to_owned(),
        };
        self.record(&name, kind, environment.filter(|_| prefixed), value);
        name
    }

    fn record(
        &mut self,
        name: &str,
        kind: ReferenceKind,
        environment: Option<&str>,
        value: Option<&str>,
    ) {
        self.references.push(Reference {
            name: name.to_owned(),
            kind,
            environment: environment.map(str::to_owned),
            value: value.map(str::to_owned),
        });
    }

    fn secret(&mut self, base: &str, environment: Option<&str>) -> String {
        self.per_environment(base, ReferenceKind::Secret, environment, None)
    }

    /// The expression of the registry's URL, user and password for
    /// `environment`: what the writer config gives, else the platform's
    /// variables and secrets.
    fn registry(&mut self, environment: Option<&str>) -> RegistryNames {
        let registry = &self.config.registry;
        let url = match registry.url.clone() {
            Some(url) => url,
            None => {
                let name = self.per_environment(
                    "REGISTRY_URL",
                    ReferenceKind::Variable,
                    environment,
                    None,
                );
                format!("${{{{ vars.{name} }}}}")
            }
        };
        let username = match registry.username.clone() {
            Some(user) => user,
            None => {
                let name = self.per_environment(
                    "REGISTRY_USERNAME",
                    ReferenceKind::Variable,
                    environment,
                    None,
                );
                format!("${{{{ vars.{name} }}}}")
            }
        };
        let password = match registry.password_secret.clone() {
            Some(name) => {
                self.record(&name, ReferenceKind::Secret, None, None);
                name
            }
            None => self.per_environment(
                "REGISTRY_PASSWORD",
                ReferenceKind::Secret,
                environment,
                None,
            ),
        };
        RegistryNames {
            url,
            username,
            password: format!("${{{{ secrets.{password} }}}}"),
        }
    }

    /// `github_kayobe_arguments`' value of `name`, else `default`; a secret
    /// it names is recorded.
    fn argument(&mut self, name: &str, default: String) -> String {
        match self
            .config
            .kayobe_arguments
            .iter()
            .find(|(argument, _)| argument == name)
        {
            Some((_, value)) => {
                if let Some(secret) = secret_reference(value) {
                    self.record(&secret, ReferenceKind::Secret, None, None);
                }
                value.clone()
            }
            None => default,
        }
    }

    fn finish(mut self) -> Vec<Reference> {
        self.references.sort();
        self.references.dedup();
        self.references
    }
}

struct RegistryNames {
    url: String,
    username: String,
    password: String,
}

#[derive(Serialize)]
struct Input {
    name: String,
    description: String,
    required: bool,
    default: Option<String>,
    #[serde(rename = "type")]
    input_type: &'static str,
    options: Vec<String>,
}

impl Input {
    fn text(name: &str, description: &str, required: bool) -> Input {
        Input {
            name: name.to_owned(),
            description: description.to_owned(),
            required,
            default: (!required).then(String::new),
            input_type: "string",
            options: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct ImageArgs {
    name: String,
    tag: String,
    base_image: String,
    user_id: i64,
    group_id: i64,
    dockerfile: &'static str,
}

#[derive(Serialize)]
struct BuildxArgs {
    enabled: bool,
    inline_config: String,
    provenance: bool,
}

/// Files whose change needs a new Kayobe image.
const IMAGE_INPUTS: &[&str] = &[
    "etc/kayobe/ansible/requirements.yml",
    "requirements.txt",
    ".automation",
    ".automation/docker/kayobe/**",
];
const DOCKERFILE: &str = ".automation/docker/kayobe/Dockerfile";

/// The environment variable, dispatch input and description of an
/// operation's required argument.
fn argument_input(arguments: Arguments) -> Option<(&'static str, &'static str, &'static str)> {
    match arguments {
        Arguments::Playbook => Some((
            "KAYOBE_AUTOMATION_PLAYBOOK",
            "playbook",
            "The playbook to run, relative to the repository root",
        )),
        Arguments::KollaCommand => Some((
            "KAYOBE_AUTOMATION_KOLLA_COMMAND",
            "kolla_command",
            "The kolla-ansible command and its arguments",
        )),
        Arguments::Script => Some((
            "KAYOBE_AUTOMATION_SCRIPT",
            "script",
            "The script to run, relative to the repository root",
        )),
        Arguments::NodeConfigDir => Some((
            "KAYOBE_AUTOMATION_NODE_CONFIG_DIR",
            "node_config_dir",
            "The directory to generate the configuration into",
        )),
        _ => None,
    }
}

/// The default of a required argument, where the collection has one.
fn argument_default(arguments: Arguments) -> Option<&'static str> {
    (arguments == Arguments::NodeConfigDir).then_some("/tmp/kolla")
}

/// The command line of an operation's run step: its script, with its
/// argument from the environment (word-split for a kolla-ansible command,
/// never globbed), so no expression is ever expanded inside a script. The
/// script runs through bash, not its executable bit: kayobe-automation ships
/// `overcloud-database-recover.sh` without one.
fn run_line(operation: Workflow, script_dir: &str) -> String {
    let script = format!("bash {script_dir}/{}.sh", operation.name());
    match operation.script().map(|s| s.arguments()) {
        Some(Arguments::Revision) => format!("{script} \"$KAYOBE_AUTOMATION_REVISION\""),
        Some(Arguments::KollaCommand) => {
            format!("set -f; {script} $KAYOBE_AUTOMATION_KOLLA_COMMAND")
        }
        Some(arguments) => match argument_input(arguments) {
            Some((env, _, _)) => format!("{script} \"${env}\""),
            None => script,
        },
        None => script,
    }
}

fn job_id(environment: Option<&str>) -> String {
    match environment {
        None => "run".into(),
        Some(env) => env.replace('.', "_"),
    }
}

fn to_json_steps(steps: &[kayobe_config::Value]) -> Vec<serde_json::Value> {
    steps.iter().map(plain_json).collect()
}

/// A value as the JSON a workflow holds: `!unsafe` text is just text there
/// (`Value::to_json` keeps Ansible's marker instead).
fn plain_json(value: &kayobe_config::Value) -> serde_json::Value {
    use kayobe_config::Value;
    match value {
        Value::Unsafe(text) => serde_json::Value::String(text.clone()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(plain_json).collect()),
        Value::Map(map) => serde_json::Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), plain_json(item)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

fn image_args(config: &WriterConfig) -> ImageArgs {
    ImageArgs {
        name: config.image.name.clone(),
        tag: config.image.tag.clone(),
        base_image: config.image.base_image.clone(),
        user_id: config.image.user_id,
        group_id: config.image.group_id,
        dockerfile: DOCKERFILE,
    }
}
