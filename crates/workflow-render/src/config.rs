//! The writer config: what to render, read from the writer host's variables
//! (the variables are documented on [`WriterConfig`]).

use std::path::{Path, PathBuf};

use kayobe_config::repo::{ConfigRepo, RepoError};
use kayobe_config::template::Templar;
use kayobe_config::vault::VaultSecret;
use kayobe_config::{Map, Value, VariableError, VariableReader};

use crate::collection::{self, Known};
use crate::workflow::{self, Kind, Workflow};
use kayobe_config::locate::{Place, VariableFiles, VariablePath};

/// The CI platform to render for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// GitHub Actions workflows.
    Github,
    /// A GitLab CI pipeline.
    Gitlab,
}

impl Platform {
    /// The variable prefix of its writer config.
    pub fn prefix(self) -> &'static str {
        match self {
            Platform::Github => "github",
            Platform::Gitlab => "gitlab",
        }
    }

    /// The inventory group whose host holds its writer config.
    pub fn writer_group(self) -> &'static str {
        match self {
            Platform::Github => "github-writer",
            Platform::Gitlab => "gitlab-writer",
        }
    }
}

/// Why a writer config could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The repository could not be read.
    #[error(transparent)]
    Repo(Box<RepoError>),
    /// The inventory has no writer host.
    #[error(
        "the inventory has no host in group `{group}`: add the host that holds the writer config (usually `localhost`) to `[{group}]` in the inventory"
    )]
    NoWriterHost {
        /// The group looked at.
        group: &'static str,
    },
    /// A variable could not be evaluated, or a value is not of its type.
    #[error(transparent)]
    Variable(#[from] VariableError),
    /// A value has the wrong shape.
    #[error("{place}: `{key}` must be {expected}")]
    WrongType {
        /// Where it is.
        place: Place,
        /// The key, dotted from the variable.
        key: String,
        /// What it must be.
        expected: &'static str,
    },
    /// An operation name is not one kayobe automation knows.
    #[error("{place}: unknown operation `{name}` in `{key}`; the operations are: {known}")]
    UnknownOperation {
        /// Where it is.
        place: Place,
        /// The variable.
        key: String,
        /// The unknown name.
        name: String,
        /// The known names.
        known: String,
    },
    /// An environment name cannot name secrets and jobs.
    #[error(
        "{place}: environment name `{name}` is not usable: it must start with a letter and hold only letters, digits, `-`, `_` and `.` (it becomes part of secret names)"
    )]
    BadEnvironmentName {
        /// Where it is.
        place: Place,
        /// The name.
        name: String,
    },
    /// An environment is not in the repository.
    #[error(
        "{place}: environment `{name}` is not in the repository (etc/kayobe/environments); the environments are: {available}"
    )]
    UnknownEnvironment {
        /// Where it is.
        place: Place,
        /// The name.
        name: String,
        /// The environments that exist.
        available: String,
    },
    /// A name is given twice.
    #[error("{place}: `{name}` is listed twice in `{key}`")]
    Duplicate {
        /// Where the second one is.
        place: Place,
        /// The variable.
        key: String,
        /// The repeated name.
        name: String,
    },
    /// Two environments would share secret names.
    #[error(
        "{place}: environments `{name}` and `{other}` give the same secret names (`{prefix}_…`): rename one"
    )]
    SecretNameClash {
        /// Where the second one is.
        place: Place,
        /// The second environment.
        name: String,
        /// The first one.
        other: String,
        /// The shared prefix.
        prefix: String,
    },
    /// A value is not one of the allowed ones.
    #[error("{place}: `{key}` must be one of {allowed}")]
    NotAllowed {
        /// Where it is.
        place: Place,
        /// The key.
        key: String,
        /// The allowed values.
        allowed: &'static str,
    },
    /// An extra input clashes with a built-in one.
    #[error(
        "{place}: extra input `{name}` of `{operation}` clashes with a built-in input or another input's environment variable; rename it"
    )]
    InputClash {
        /// Where it is.
        place: Place,
        /// The operation.
        operation: Workflow,
        /// The input.
        name: String,
    },
}

impl From<RepoError> for ConfigError {
    fn from(error: RepoError) -> Self {
        ConfigError::Repo(Box::new(error))
    }
}

/// The Kayobe image's registry. What the writer config leaves out comes from
/// the platform's variables and secrets (`REGISTRY_URL`, `REGISTRY_USERNAME`,
/// `REGISTRY_PASSWORD`, per environment when the environment is an input),
/// as in the collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Host (and optional path) of the registry, e.g. `ghcr.io/example`.
    pub url: Option<String>,
    /// The user to log in as.
    pub username: Option<String>,
    /// The secret holding the password (GitHub: the `NAME` of a
    /// `${{ secrets.NAME }}` reference).
    pub password_secret: Option<String>,
    /// One registry (and one set of credentials) for every environment.
    pub share: bool,
}

/// How a GitHub run picks its environment (`github_environment_selector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// No environment: `KAYOBE_ENVIRONMENT` is not set (the default).
    None,
    /// The first of the environments, always.
    Single,
    /// A `kayobe_environment` input chooses one of the environments; each
    /// has its own secrets and variables (`<ENV>_…`).
    Input,
}

/// BuildKit options of the GitHub image build (`github_buildx_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buildx {
    /// Build with `docker buildx` in a `docker-container` builder.
    pub enabled: bool,
    /// The builder's `buildkitd.toml`.
    pub inline_config: String,
    /// Attach provenance attestations.
    pub provenance: bool,
}

/// Something in the writer config that is read but cannot be honoured, or
/// that nothing reads (a typo): a warning, an error with `--check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Where it is.
    pub place: Place,
    /// The variable, dotted.
    pub key: String,
    /// What happens instead.
    pub message: String,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: `{}` {}", self.place, self.key, self.message)
    }
}

/// The Kayobe image and how it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Image name inside the registry.
    pub name: String,
    /// Image tag.
    pub tag: String,
    /// The Dockerfile's base image build argument.
    pub base_image: String,
    /// `KAYOBE_USER_UID` build argument.
    pub user_id: i64,
    /// `KAYOBE_USER_GID` build argument.
    pub group_id: i64,
}

/// The type of a dispatch input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Free text.
    String,
    /// A checkbox.
    Boolean,
    /// A number.
    Number,
    /// One of `options`.
    Choice,
}

impl InputType {
    /// The GitHub name of the type.
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Boolean => "boolean",
            InputType::Number => "number",
            InputType::Choice => "choice",
        }
    }
}

/// An extra input of an operation, passed to its script as an environment
/// variable (the name upper-cased, `-` as `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraInput {
    /// The input's name.
    pub name: String,
    /// Shown to whoever runs the workflow.
    pub description: String,
    /// Whether it must be given.
    pub required: bool,
    /// Its default value.
    pub default: Option<String>,
    /// Its type.
    pub input_type: InputType,
    /// The choices of a `Choice` input.
    pub options: Vec<String>,
}

impl ExtraInput {
    /// The environment variable the script sees.
    pub fn env_name(&self) -> String {
        env_var_name(&self.name)
    }
}

/// Extra steps of an operation: GitHub step mappings, or GitLab shell lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hooks {
    /// Before the checkout.
    pub pre_checkout: Vec<Value>,
    /// After the checkout, before the operation runs.
    pub pre_run: Vec<Value>,
    /// After the operation (GitLab: `after_script`).
    pub post: Vec<Value>,
}

/// How one operation is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationSettings {
    /// The operation.
    pub operation: Workflow,
    /// Whether it is rendered at all.
    pub enabled: bool,
    /// Extra dispatch inputs.
    pub inputs: Vec<ExtraInput>,
    /// Extra steps.
    pub hooks: Hooks,
    /// Whether it hands the script the `KAYOBE_AUTOMATION_PR_*` variables
    /// so it raises a pull request with what it changed.
    pub pull_request: bool,
    /// Whether it runs only from the default branch, bound to the platform's
    /// deployment environment of its Kayobe environment (so required
    /// reviewers and protected environments apply). Operations that change
    /// the cloud are, unless the writer config says otherwise.
    pub reviewed_only: bool,
}

/// How GitLab jobs get their secrets from OpenBao.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitlabSecrets {
    /// An `id_tokens` JWT and a login in the job's script: works on every tier.
    IdTokens,
    /// GitLab's `secrets: vault:` keyword (Premium).
    VaultKeyword,
}

/// A writer config, validated: what to render, read from the writer host's
/// variables.
///
/// The variables are those of the `stackhpc.kayobe_workflows` roles, in the
/// `github-writer` / `gitlab-writer` group_vars of the config repository
/// (prefix `github_` or `gitlab_`), evaluated Ansible-style by
/// `kayobe_config::template::Templar`:
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `<p>_output_directory` | where files go, relative to the repository root | `.github/workflows` / `.` |
/// | `<p>_kayobe_environments` | environments (none: one unnamed environment) | `[]` |
/// | `github_runs_on` / `gitlab_tags` | runner labels (the environment is added when there are environments) | `[self-hosted]` / `[kayobe]` |
/// | `github_registry` (`url`, `username`, `share`) / `gitlab_registry` (url), `gitlab_registry_username` | the Kayobe image's registry | required |
/// | `<p>_image_name`, `<p>_image_tag` | the Kayobe image (GitHub refuses the tag `latest`) | `kayobe`, `openstack_release` else `master` |
/// | `<p>_kayobe_base_image`, `<p>_kayobe_user_id`, `<p>_kayobe_group_id` | image build arguments | `quay.io/rockylinux/rockylinux:9`, 1000, 1000 |
/// | `<p>_timeout` | job timeout in minutes | 720 |
/// | `<p>_tempest_test_suites` | Tempest load lists (a list, or YAML text of one) | `[default]` |
/// | `<p>_tempest_schedule` | cron schedule of Tempest | `0 2 * * *` |
/// | `<p>_operations` | per operation: `enabled`, `inputs`, `hooks` (`pre_checkout`, `pre_run`, `post`), `pull_request`, `reviewed_only` (run only from the default branch in the deployment environment) | the collection's set; `reviewed_only` for operations that change the cloud |
/// | `github_environment_selector` | how a run picks its environment; only `input` | `input` |
/// | `gitlab_openstack_release` | `OPENSTACK_RELEASE` of GitLab jobs (image tags may use `$OPENSTACK_RELEASE`) | unset |
/// | `gitlab_runbooks` | add the collection's runbooks (overcloud service upgrade, in-place hypervisor upgrade): ordered jobs, started by hand | `true` |
/// | `gitlab_openbao_address` | OpenBao address (also the JWT audience) | `http://127.0.0.1:8200` |
/// | `gitlab_secrets_provider` | `id_tokens` (every tier) or `vault` (GitLab's Premium `secrets:`) | `id_tokens` |
///
/// Hooks are GitHub steps (mappings) on GitHub and shell lines on GitLab.
/// Errors name the file and line of the offending key; when the key is not in
/// a readable file (e.g. it is missing) they name the file it belongs in.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterConfig {
    /// The platform.
    pub platform: Platform,
    /// Output directory, relative to the repository root.
    pub output_dir: PathBuf,
    /// The environments; empty for one unnamed environment.
    pub environments: Vec<String>,
    /// How a GitHub run picks its environment.
    pub selector: Selector,
    /// Runner labels (GitHub `runs-on`) or tags (GitLab `tags`).
    pub runner_labels: Vec<String>,
    /// The Kayobe image's registry.
    pub registry: Registry,
    /// The Kayobe image.
    pub image: Image,
    /// Job timeout in minutes.
    pub timeout_minutes: i64,
    /// Tempest load lists to choose from; the first is the scheduled one.
    pub tempest_suites: Vec<String>,
    /// Cron schedule of Tempest, if it runs on one.
    pub tempest_schedule: Option<String>,
    /// Steps of every workflow (GitHub's `github_checkout_hook`,
    /// `github_kayobe_hook`, `github_final_hook`), around each operation's own.
    pub hooks: Hooks,
    /// Environment variables handed to the scripts, replacing the defaults
    /// (`github_kayobe_arguments`).
    pub kayobe_arguments: Vec<(String, String)>,
    /// BuildKit options of the image build.
    pub buildx: Buildx,
    /// What was read but cannot be honoured, and unknown variables.
    pub warnings: Vec<ConfigWarning>,
    /// What is honoured but deserves a word each time: operations that
    /// change the cloud without review (`reviewed_only: false`).
    pub notices: Vec<ConfigWarning>,
    /// Every operation's settings, in rendering order.
    pub operations: Vec<OperationSettings>,
    /// OpenBao's address (GitLab).
    pub openbao_address: String,
    /// How GitLab jobs get secrets.
    pub gitlab_secrets: GitlabSecrets,
    /// Whether GitLab gets the collection's runbooks (ordered jobs for an
    /// overcloud service upgrade and an in-place hypervisor upgrade).
    pub runbooks: bool,
    /// The OpenStack release, given to GitLab jobs as `OPENSTACK_RELEASE`
    /// (image tags may use it).
    pub openstack_release: Option<String>,
}

/// The platform's deployment environment (GitHub environment, GitLab
/// environment) of a Kayobe environment: its name, or `default` for a
/// configuration without environments (as its OpenBao secrets are).
pub fn deployment_environment(kayobe_environment: Option<&str>) -> &str {
    kayobe_environment.unwrap_or("default")
}

/// The environment variable name for an input or environment: upper case,
/// `-` and `.` as `_`.
pub(crate) fn env_var_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

impl WriterConfig {
    /// Reads the writer config of `platform` from the repository: the
    /// variables of the first host of the writer group, layered as Kayobe
    /// layers them and evaluated Ansible-style. Environments are checked
    /// against the repository's.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and line of what is wrong.
    pub fn from_repo(
        repo: &ConfigRepo,
        platform: Platform,
        secret: Option<&VaultSecret>,
    ) -> Result<WriterConfig, ConfigError> {
        let inventory = repo.inventory(secret)?;
        let group = platform.writer_group();
        let host = inventory
            .group_hosts(group)
            .and_then(|hosts| hosts.first().map(|h| h.to_string()))
            .ok_or(ConfigError::NoWriterHost { group })?;
        let vars = repo.host_variables(&inventory, &host, secret)?;
        let files = repo.host_variable_files(&inventory, &host)?;
        let environments = repo.environments()?;
        Reader::new(platform, &vars, &files, gitreview_release(repo.root()))
            .config(platform, Some(&environments))
    }

    /// Reads the writer config from already layered variables. `files` are
    /// where the variables may be defined, highest precedence first (for
    /// error positions); `known_environments`, when given, are the only
    /// environments allowed.
    ///
    /// # Errors
    /// [`ConfigError`] naming where the offending value is.
    pub fn from_variables(
        platform: Platform,
        vars: &Map,
        files: &[PathBuf],
        known_environments: Option<&[String]>,
    ) -> Result<WriterConfig, ConfigError> {
        Reader::new(platform, vars, files, None).config(platform, known_environments)
    }

    /// The platform's deployment environments the rendered jobs are bound
    /// to: one per Kayobe environment, named after it
    /// ([`deployment_environment`]).
    pub fn deployment_environments(&self) -> Vec<String> {
        if self.environments.is_empty() {
            vec![deployment_environment(None).to_owned()]
        } else {
            self.environments.clone()
        }
    }

    /// The settings of `operation`.
    pub fn operation(&self, operation: Workflow) -> &OperationSettings {
        self.operations
            .iter()
            .find(|settings| settings.operation == operation)
            .expect("every operation has settings")
    }
}

/// What `github_image_tag` may hold of the collection's `prepare-runner`
/// workflow: the release, which we know when rendering.
const PREPARE_RUNNER_RELEASE: &str = "${{ needs.prepare-runner.outputs.openstack_release }}";

/// The environment variables the workflows hand to the scripts, which
/// `github_kayobe_arguments` may replace.
pub(crate) const HANDED_TO_SCRIPTS: &[&str] = &[
    "KAYOBE_ENVIRONMENT",
    "KAYOBE_VAULT_PASSWORD",
    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
    "KAYOBE_LIMIT",
    "KAYOBE_TAGS",
    "KOLLA_LIMIT",
    "KOLLA_TAGS",
    "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
    "TEMPEST_PATTERN",
    "TEMPEST_OPENRC",
    "HOME",
];

/// The pull-request variables of the collection's GitHub role, in its
/// order, also handed to the scripts.
pub(crate) const PULL_REQUEST_VARIABLES: &[&str] = &[
    "KAYOBE_AUTOMATION_PR_TARGET_BRANCH",
    "KAYOBE_AUTOMATION_PR_REMOTE",
    "KAYOBE_AUTOMATION_PR_GITHUB_USER",
    "KAYOBE_AUTOMATION_PR_AUTH_TOKEN",
    "KAYOBE_AUTOMATION_PR_TYPE",
    "KAYOBE_AUTOMATION_PR_TITLE",
    "KAYOBE_AUTOMATION_PR_URL",
];

/// Of those, the secrets: only a `${{ secrets.NAME }}` reference may
/// replace them.
const SECRETS: &[&str] = &[
    "KAYOBE_VAULT_PASSWORD",
    "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
    "TEMPEST_OPENRC",
    "KAYOBE_AUTOMATION_PR_AUTH_TOKEN",
];

/// `NAME` of a text that is exactly `${{ secrets.NAME }}`.
pub(crate) fn secret_reference(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("secrets.")?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_owned())
}

/// Every string in a value, lists flattened (as the role's `flatten`).
fn flatten_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::List(items) => items.iter().for_each(|item| flatten_strings(item, into)),
        Value::String(text) | Value::Unsafe(text) => into.push(text.clone()),
        _ => {}
    }
}

/// Whether a vaulted value is inside: it would be written out encrypted.
fn contains_vault(value: &Value) -> bool {
    match value {
        Value::Vault(_) => true,
        Value::List(items) => items.iter().any(contains_vault),
        Value::Map(map) => map.values().any(contains_vault),
        _ => false,
    }
}

/// The OpenStack release of the repository's branch, as the collection's
/// `prepare-runner` workflow reads it: `defaultbranch` of `.gitreview`
/// without `stable/` or `unmaintained/`.
fn gitreview_release(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(".gitreview")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "defaultbranch").then(|| {
            let branch = value.trim();
            branch
                .strip_prefix("stable/")
                .or_else(|| branch.strip_prefix("unmaintained/"))
                .unwrap_or(branch)
                .to_owned()
        })
    })
}

struct Reader {
    vars: VariableReader,
    prefix: &'static str,
    /// The variables the writer config sets (the rest are the collection's
    /// building blocks, added so that references to them evaluate).
    set: Vec<String>,
    /// The release of the repository's branch, when known.
    release: Option<String>,
    warnings: std::cell::RefCell<Vec<ConfigWarning>>,
    notices: std::cell::RefCell<Vec<ConfigWarning>>,
}

fn valid_environment_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_input_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

impl Reader {
    fn new(platform: Platform, vars: &Map, files: &[PathBuf], release: Option<String>) -> Reader {
        let mut all = match platform {
            Platform::Github => collection::github_parts(),
            Platform::Gitlab => Map::new(),
        };
        for (name, value) in vars {
            all.insert(name.clone(), value.clone());
        }
        Reader {
            vars: VariableReader::new(
                Templar::new(&all),
                VariableFiles::new(files.to_vec(), platform.writer_group()),
            ),
            prefix: platform.prefix(),
            set: vars.keys().cloned().collect(),
            release,
            warnings: std::cell::RefCell::new(Vec::new()),
            notices: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn warn(&self, path: &VariablePath, message: impl Into<String>) {
        self.warnings.borrow_mut().push(ConfigWarning {
            place: self.place(path),
            key: path.to_string(),
            message: message.into(),
        });
    }

    /// Whether the writer config sets variable `name` (with the prefix).
    fn is_set(&self, name: &str) -> bool {
        self.set.iter().any(|set| set == name)
    }

    fn var(&self, name: &str) -> VariablePath {
        VariablePath::new(&format!("{}_{name}", self.prefix))
    }

    fn place(&self, path: &VariablePath) -> Place {
        self.vars.place(path)
    }

    fn wrong(&self, path: &VariablePath, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            place: self.place(path),
            key: path.to_string(),
            expected,
        }
    }

    /// The evaluated variable named by the first step of `path`; `None`
    /// when it is not set (or `null`).
    fn get(&self, path: &VariablePath) -> Result<Option<Value>, ConfigError> {
        Ok(self.vars.get(path)?)
    }

    fn string(&self, path: &VariablePath, value: &Value) -> Result<String, ConfigError> {
        Ok(self.vars.text(path, value)?)
    }

    fn string_or(&self, name: &str, default: &str) -> Result<String, ConfigError> {
        let path = self.var(name);
        match self.get(&path)? {
            None | Some(Value::Null) => Ok(default.to_owned()),
            Some(value) => {
                let text = self.string(&path, &value)?;
                if text.trim().is_empty() {
                    return Err(self.wrong(&path, "a non-empty string"));
                }
                Ok(text)
            }
        }
    }

    fn int_or(&self, name: &str, default: i64) -> Result<i64, ConfigError> {
        let path = self.var(name);
        match self.get(&path)? {
            None => Ok(default),
            Some(value) => match self.vars.int(&path, &value)? {
                number if number > 0 => Ok(number),
                _ => Err(self.wrong(&path, "a positive integer")),
            },
        }
    }

    fn bool_value(&self, path: &VariablePath, value: &Value) -> Result<bool, ConfigError> {
        Ok(self.vars.bool(path, value)?)
    }

    /// A list of strings; a string is YAML text of a list (as the roles'
    /// `|` block variables are) or a single item.
    fn strings(&self, path: &VariablePath, value: &Value) -> Result<Vec<String>, ConfigError> {
        let items = match value {
            Value::Null => return Ok(Vec::new()),
            Value::List(items) => items.clone(),
            Value::String(text) if text.contains('\n') || text.trim_start().starts_with('-') => {
                match kayobe_config::yaml::parse(text, Path::new("inline")) {
                    Ok(Value::List(items)) => items,
                    _ => return Err(self.wrong(path, "a list of strings")),
                }
            }
            Value::String(_) | Value::Unsafe(_) => vec![value.clone()],
            _ => return Err(self.wrong(path, "a list of strings")),
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| self.string(&path.index(index), item))
            .collect()
    }

    fn config(
        &self,
        platform: Platform,
        known_environments: Option<&[String]>,
    ) -> Result<WriterConfig, ConfigError> {
        self.check_names(platform);
        let default_output = match platform {
            Platform::Github => ".github/workflows",
            Platform::Gitlab => ".",
        };
        let output_dir = PathBuf::from(self.string_or("output_directory", default_output)?);
        let environments = self.environments(known_environments)?;
        let labels_var = match platform {
            Platform::Github => "runs_on",
            Platform::Gitlab => "tags",
        };
        let labels_path = self.var(labels_var);
        let runner_labels = match self.get(&labels_path)? {
            None | Some(Value::Null) => match platform {
                Platform::Github => vec!["kayobe".to_owned(), "openstack".to_owned()],
                Platform::Gitlab => vec!["kayobe".to_owned(), "openstack".to_owned()],
            },
            Some(value) => self.strings(&labels_path, &value)?,
        };
        if runner_labels.iter().any(|label| label.trim().is_empty()) {
            return Err(self.wrong(&labels_path, "a list of non-empty labels"));
        }
        let selector = self.selector(platform, &environments)?;
        let registry = self.registry(platform)?;
        let image = Image {
            name: self.string_or("image_name", "kayobe")?,
            tag: self.image_tag(platform)?,
            base_image: self.string_or("kayobe_base_image", "quay.io/rockylinux/rockylinux:9")?,
            user_id: self.int_or("kayobe_user_id", 1000)?,
            group_id: self.int_or("kayobe_group_id", 1000)?,
        };
        let suites_path = self.var("tempest_test_suites");
        let mut tempest_suites = match self.get(&suites_path)? {
            None | Some(Value::Null) => vec!["default".to_owned(), "tempest-full".to_owned()],
            Some(value) => self.strings(&suites_path, &value)?,
        };
        if tempest_suites.is_empty() {
            tempest_suites.push("default".into());
        }
        let mut operations = self.operations(platform)?;
        if platform == Platform::Github {
            self.github_workflows(&mut operations, &mut tempest_suites)?;
        } else {
            self.gitlab_jobs(&mut operations);
        }
        self.operation_overrides(platform, &mut operations)?;
        let secrets_path = self.var("secrets_provider");
        let gitlab_secrets = match self.string_or("secrets_provider", "id_tokens")?.as_str() {
            "id_tokens" => GitlabSecrets::IdTokens,
            "vault" => GitlabSecrets::VaultKeyword,
            _ => {
                return Err(ConfigError::NotAllowed {
                    place: self.place(&secrets_path),
                    key: secrets_path.to_string(),
                    allowed: "`id_tokens` or `vault`",
                });
            }
        };
        let schedule_path = self.var("tempest_schedule");
        let tempest_schedule = match self.get(&schedule_path)? {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.string(&schedule_path, &value)?),
        };
        let hooks = match platform {
            Platform::Github => Hooks {
                pre_checkout: self.hook_text("checkout_hook")?,
                pre_run: self.hook_text("kayobe_hook")?,
                post: self.hook_text("final_hook")?,
            },
            Platform::Gitlab => Hooks::default(),
        };
        let buildx = match platform {
            Platform::Github => Buildx {
                enabled: self.bool_or("buildx_enabled", false)?,
                inline_config: match self.get(&self.var("buildx_inline_config"))? {
                    None | Some(Value::Null) => String::new(),
                    Some(value) => self.string(&self.var("buildx_inline_config"), &value)?,
                },
                provenance: self.bool_or("buildx_enable_provenance", false)?,
            },
            Platform::Gitlab => Buildx::default(),
        };
        let kayobe_arguments = self.kayobe_arguments(platform)?;
        let runbooks = self.runbooks(platform)?;
        // GitLab jobs get `OPENSTACK_RELEASE`, which the image tag may use.
        let openstack_release = match platform {
            Platform::Gitlab => Some(self.release_name()?),
            Platform::Github => None,
        };
        Ok(WriterConfig {
            platform,
            output_dir,
            environments,
            selector,
            runner_labels,
            registry,
            image,
            timeout_minutes: self.int_or("timeout", 360)?,
            tempest_suites,
            tempest_schedule,
            hooks,
            kayobe_arguments,
            buildx,
            operations,
            openbao_address: self.string_or("openbao_address", "http://127.0.0.1:8200")?,
            gitlab_secrets,
            runbooks,
            openstack_release,
            warnings: self.warnings.take(),
            notices: self.notices.take(),
        })
    }

    /// Every variable with the platform's prefix that the writer config
    /// sets: a typo or a variable we cannot honour is a warning.
    fn check_names(&self, platform: Platform) {
        for name in &self.set {
            let path = VariablePath::new(name);
            match collection::classify(platform, name) {
                Known::Read | Known::Part => {}
                Known::Unhonoured(why) => self.warn(&path, format!("is not honoured: {why}")),
                Known::Unknown if name.starts_with(&format!("{}_", self.prefix)) => self.warn(
                    &path,
                    "is not a variable of the collection or of kayobe-automation (a typo?); it is ignored",
                ),
                Known::Unknown => {}
            }
        }
    }

    fn bool_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        let path = self.var(name);
        match self.get(&path)? {
            None | Some(Value::Null) => Ok(default),
            Some(value) => self.bool_value(&path, &value),
        }
    }

    /// `github_environment_selector`: empty (no environment), `single` or
    /// `input`.
    fn selector(
        &self,
        platform: Platform,
        environments: &[String],
    ) -> Result<Selector, ConfigError> {
        let path = self.var("environment_selector");
        if platform == Platform::Gitlab {
            return Ok(if environments.is_empty() {
                Selector::None
            } else {
                Selector::Input
            });
        }
        let selector = match self.get(&path)? {
            None | Some(Value::Null) => Selector::None,
            Some(value) => match self.string(&path, &value)?.as_str() {
                "" | "none" => Selector::None,
                "single" => Selector::Single,
                "input" => Selector::Input,
                _ => {
                    return Err(ConfigError::NotAllowed {
                        place: self.place(&path),
                        key: path.to_string(),
                        allowed: "empty, `single` or `input`",
                    });
                }
            },
        };
        if selector != Selector::None && environments.is_empty() {
            return Err(self.wrong(
                &self.var("kayobe_environments"),
                "a non-empty list when `github_environment_selector` is `single` or `input`",
            ));
        }
        if selector == Selector::None && !environments.is_empty() {
            self.warn(
                &self.var("kayobe_environments"),
                "is not used without `github_environment_selector` (`single` or `input`), as in the collection",
            );
        }
        Ok(selector)
    }

    /// A GitHub hook: YAML text of a list of steps (as the role takes it)
    /// or a list.
    fn hook_text(&self, name: &str) -> Result<Vec<Value>, ConfigError> {
        let path = self.var(name);
        let value = match self.get(&path)? {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(text) | Value::Unsafe(text)) if text.trim().is_empty() => {
                return Ok(Vec::new());
            }
            Some(Value::String(text) | Value::Unsafe(text)) => {
                kayobe_config::yaml::parse(&text, Path::new("inline"))
                    .map_err(|_| self.wrong(&path, "YAML text of a list of steps"))?
            }
            Some(value) => value,
        };
        let Value::List(steps) = value else {
            return Err(self.wrong(&path, "YAML text of a list of steps"));
        };
        for (index, step) in steps.iter().enumerate() {
            self.check_step(Platform::Github, &path.index(index), step)?;
        }
        Ok(steps)
    }

    /// `github_kayobe_arguments`: environment variables handed to the
    /// scripts, replacing the defaults.
    fn kayobe_arguments(&self, platform: Platform) -> Result<Vec<(String, String)>, ConfigError> {
        let path = self.var("kayobe_arguments");
        let map = match self.get(&path)? {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Map(map)) if platform == Platform::Github => map,
            Some(_) => return Err(self.wrong(&path, "a mapping of variable name to value")),
        };
        let mut arguments = Vec::new();
        for (name, value) in &map {
            let key = path.key(name);
            if !HANDED_TO_SCRIPTS.contains(&name.as_str())
                && !PULL_REQUEST_VARIABLES.contains(&name.as_str())
            {
                self.warn(
                    &key,
                    format!(
                        "is not handed to any script (the workflows hand them: {}, and the KAYOBE_AUTOMATION_PR_* variables)",
                        HANDED_TO_SCRIPTS.join(", ")
                    ),
                );
                continue;
            }
            let text = self.string(&key, value)?;
            if SECRETS.contains(&name.as_str()) && secret_reference(&text).is_none() {
                return Err(self.wrong(
                    &key,
                    "a `${{ secrets.NAME }}` reference (a secret is never written into a workflow)",
                ));
            }
            arguments.push((name.clone(), text));
        }
        Ok(arguments)
    }

    /// `gitlab_runbooks`: the collection's mapping of runbook stages (its
    /// `runbook-overcloud-service-upgrade` turns the runbooks on, the
    /// in-place hypervisor upgrade with it; others cannot be rendered), or
    /// our `true`/`false`. On by default on GitLab, as in the collection.
    fn runbooks(&self, platform: Platform) -> Result<bool, ConfigError> {
        let path = self.var("runbooks");
        if platform == Platform::Github {
            return Ok(false);
        }
        match self.get(&path)? {
            None | Some(Value::Null) => Ok(true),
            Some(Value::Map(map)) => {
                for key in map.keys() {
                    if key != "runbook-overcloud-service-upgrade" {
                        self.warn(
                            &path.key(key),
                            "is not honoured: of the runbooks, only `runbook-overcloud-service-upgrade` is rendered",
                        );
                    }
                }
                Ok(map
                    .get("runbook-overcloud-service-upgrade")
                    .is_some_and(|runbook| !matches!(runbook, Value::Null | Value::Bool(false))))
            }
            Some(value) => self.bool_value(&path, &value),
        }
    }

    /// `<p>_image_tag`, else the collection's `<release>-latest` (the
    /// release of the repository's branch). GitHub refuses `latest`: an
    /// image that moves under a workflow is what zizmor's `unpinned-images`
    /// audit flags.
    fn image_tag(&self, platform: Platform) -> Result<String, ConfigError> {
        let path = self.var("image_tag");
        let release = self.release_name()?;
        let tag = match self.get(&path)? {
            Some(value) if value != Value::Null => self
                .string(&path, &value)?
                .replace(PREPARE_RUNNER_RELEASE, &release),
            _ => match platform {
                Platform::Github => format!("{release}-latest"),
                Platform::Gitlab => "$OPENSTACK_RELEASE-latest".to_owned(),
            },
        };
        if tag.trim().is_empty() || tag.contains(char::is_whitespace) {
            return Err(self.wrong(&path, "an image tag without spaces"));
        }
        if platform == Platform::Github && tag == "latest" {
            return Err(ConfigError::NotAllowed {
                place: self.place(&path),
                key: path.to_string(),
                allowed: "a pinned tag (not `latest`: a moving image is an unpinned dependency)",
            });
        }
        Ok(tag)
    }

    /// The release images are tagged with: `gitlab_openstack_release`, the
    /// branch's `.gitreview`, Kayobe's `openstack_release`, else `master`.
    fn release_name(&self) -> Result<String, ConfigError> {
        let gitlab = self.var("openstack_release");
        if self.prefix == "gitlab" {
            if let Some(value) = self.get(&gitlab)?.filter(|v| *v != Value::Null) {
                return self.string(&gitlab, &value);
            }
        }
        if let Some(release) = &self.release {
            return Ok(release.clone());
        }
        let kayobe = VariablePath::new("openstack_release");
        match self.get(&kayobe)? {
            Some(value) if value != Value::Null => self.string(&kayobe, &value),
            _ => Ok("master".to_owned()),
        }
    }

    fn environments(
        &self,
        known_environments: Option<&[String]>,
    ) -> Result<Vec<String>, ConfigError> {
        let path = self.var("kayobe_environments");
        let environments = match self.get(&path)? {
            None => Vec::new(),
            Some(value) => self.strings(&path, &value)?,
        };
        for (index, name) in environments.iter().enumerate() {
            let place = || self.place(&path.index(index));
            if !valid_environment_name(name) {
                return Err(ConfigError::BadEnvironmentName {
                    place: place(),
                    name: name.clone(),
                });
            }
            if environments[..index].contains(name) {
                return Err(ConfigError::Duplicate {
                    place: place(),
                    key: path.to_string(),
                    name: name.clone(),
                });
            }
            if let Some(other) = environments[..index]
                .iter()
                .find(|other| env_var_name(other) == env_var_name(name))
            {
                return Err(ConfigError::SecretNameClash {
                    place: place(),
                    name: name.clone(),
                    other: other.clone(),
                    prefix: env_var_name(name),
                });
            }
            if let Some(known) = known_environments {
                if !known.contains(name) {
                    return Err(ConfigError::UnknownEnvironment {
                        place: place(),
                        name: name.clone(),
                        available: known.join(", "),
                    });
                }
            }
        }
        Ok(environments)
    }

    fn registry(&self, platform: Platform) -> Result<Registry, ConfigError> {
        let path = self.var("registry");
        let value = self.get(&path)?.unwrap_or(Value::Null);
        let (url, username, password_secret, share) = match (platform, &value) {
            (Platform::Github, Value::Map(map)) => {
                let field = |key: &str| -> Result<Option<String>, ConfigError> {
                    match map.get(key) {
                        None | Some(Value::Null) => Ok(None),
                        Some(value) => Ok(Some(self.string(&path.key(key), value)?))
                            .map(|text| text.filter(|t| !t.trim().is_empty())),
                    }
                };
                let password_secret = match field("password")? {
                    None => None,
                    Some(text) => Some(secret_reference(&text).ok_or_else(|| {
                        self.wrong(
                            &path.key("password"),
                            "a `${{ secrets.NAME }}` reference (a password is never written into a workflow)",
                        )
                    })?),
                };
                let share = match map.get("share") {
                    None | Some(Value::Null) => false,
                    Some(flag) => self.bool_value(&path.key("share"), flag)?,
                };
                for key in map.keys() {
                    if !matches!(key.as_str(), "url" | "username" | "share" | "password") {
                        self.warn(
                            &path.key(key),
                            "is not a registry setting (`url`, `username`, `password`, `share`); it is ignored",
                        );
                    }
                }
                (field("url")?, field("username")?, password_secret, share)
            }
            (_, Value::Null) => (None, None, None, false),
            (Platform::Github, _) => {
                return Err(self.wrong(
                    &path,
                    "a mapping with `url`, `username`, `password`, `share`",
                ));
            }
            (Platform::Gitlab, value) => {
                let url = self.string(&path, value)?;
                let user_path = self.var("registry_username");
                let username = match self.get(&user_path)? {
                    None | Some(Value::Null) => None,
                    Some(user) => Some(self.string(&user_path, &user)?),
                };
                (Some(url), username, None, true)
            }
        };
        let url = match url {
            None => None,
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if url.is_empty()
                    || url.contains(char::is_whitespace)
                    || url.contains("://")
                    || url.contains("${{")
                {
                    return Err(self.wrong(
                        &path,
                        "a registry host and path, without scheme, spaces or expressions",
                    ));
                }
                Some(url)
            }
        };
        Ok(Registry {
            url,
            username,
            password_secret,
            share,
        })
    }

    /// Every operation, enabled as the collection renders it by default.
    fn operations(&self, platform: Platform) -> Result<Vec<OperationSettings>, ConfigError> {
        Ok(Workflow::all()
            .map(|operation| OperationSettings {
                operation,
                enabled: operation.default_enabled(platform == Platform::Github),
                inputs: Vec::new(),
                hooks: Hooks::default(),
                pull_request: false,
                reviewed_only: operation.changes_cloud(),
            })
            .collect())
    }

    /// `github_workflows`, when set: exactly the workflows it lists are
    /// rendered; an entry whose `arguments` hold the pull-request variables
    /// raises pull requests; a Tempest entry's `test_suites` and a
    /// `schedule` trigger are honoured.
    fn github_workflows(
        &self,
        operations: &mut [OperationSettings],
        tempest_suites: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        let path = self.var("workflows");
        if !self.is_set("github_workflows") {
            return Ok(());
        }
        let list = match self.get(&path)? {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(list)) => list,
            Some(_) => return Err(self.wrong(&path, "a list of workflows")),
        };
        for settings in operations.iter_mut() {
            settings.enabled = false;
        }
        for (index, entry) in list.iter().enumerate() {
            let entry_path = path.index(index);
            let Value::Map(entry) = entry else {
                return Err(self.wrong(&entry_path, "a mapping with `file_name`"));
            };
            let file_name = match entry.get("file_name") {
                Some(value) => self.string(&entry_path.key("file_name"), value)?,
                None => return Err(self.wrong(&entry_path, "a mapping with `file_name`")),
            };
            if file_name == "prepare-runner.yml" {
                continue;
            }
            let Some(operation) = collection::github_file_operation(&file_name) else {
                self.warn(
                    &entry_path.key("file_name"),
                    format!("`{file_name}` is no workflow of an operation (`run-<operation>.yml`); it is not rendered"),
                );
                continue;
            };
            let settings = operations
                .iter_mut()
                .find(|settings| settings.operation == operation)
                .expect("every operation has settings");
            settings.enabled = true;
            for (key, value) in entry {
                let key_path = entry_path.key(key);
                match key.as_str() {
                    "file_name" | "use_bespoke" | "concurrency_group" | "trigger" => {}
                    "arguments" => {
                        let mut names = Vec::new();
                        flatten_strings(value, &mut names);
                        settings.pull_request = names
                            .iter()
                            .any(|name| name == "KAYOBE_AUTOMATION_PR_TYPE")
                            && operation.may_open_pull_request();
                    }
                    "test_suites" if operation.kind() == Kind::Tempest => {
                        *tempest_suites = self.strings(&key_path, value)?;
                    }
                    _ => self.warn(&key_path, "is not honoured: workflows are rendered from kayobe-automation's templates"),
                }
            }
        }
        Ok(())
    }

    /// The GitLab role's job variables (`gitlab_<job>`): one set empty or
    /// `false` removes its job, as the role's stage template skips it; any
    /// other job text cannot be honoured.
    fn gitlab_jobs(&self, operations: &mut [OperationSettings]) {
        for name in &self.set {
            let Some(rest) = name.strip_prefix("gitlab_") else {
                continue;
            };
            let Some(operation) = collection::gitlab_job_operation(rest) else {
                continue;
            };
            let path = VariablePath::new(name);
            let removed = match self.get(&path) {
                Ok(Some(Value::Null | Value::Bool(false))) => true,
                Ok(Some(Value::String(text))) => text.trim().is_empty(),
                _ => false,
            };
            if removed {
                if let Some(settings) = operations.iter_mut().find(|s| s.operation == operation) {
                    settings.enabled = false;
                }
            } else {
                self.warn(
                    &path,
                    "is not honoured: jobs are rendered from kayobe-automation's templates (set it empty to remove the job; add steps with `gitlab_operations`)",
                );
            }
        }
    }

    /// Our `<p>_operations` (per operation: `enabled`, `inputs`, `hooks`,
    /// `pull_request`) over the collection's set, and `<p>_pull_requests`.
    fn operation_overrides(
        &self,
        platform: Platform,
        settings: &mut [OperationSettings],
    ) -> Result<(), ConfigError> {
        if self.bool_or("pull_requests", false)? {
            for settings in settings.iter_mut() {
                settings.pull_request |= settings.operation.may_open_pull_request();
            }
        }
        let path = self.var("operations");
        let map = match self.get(&path)? {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Map(map)) => map,
            Some(_) => return Err(self.wrong(&path, "a mapping of operation name to settings")),
        };
        for (name, value) in &map {
            let op_path = path.key(name);
            let operation =
                Workflow::from_name(name).ok_or_else(|| ConfigError::UnknownOperation {
                    place: self.place(&op_path),
                    key: path.to_string(),
                    name: name.clone(),
                    known: workflow::names(),
                })?;
            let target = settings
                .iter_mut()
                .find(|settings| settings.operation == operation)
                .expect("every operation has settings");
            match value {
                Value::Null => {}
                Value::Bool(enabled) => target.enabled = *enabled,
                Value::Map(fields) => self.operation_fields(platform, &op_path, fields, target)?,
                _ => {
                    return Err(self.wrong(
                        &op_path,
                        "a boolean or a mapping of `enabled`, `inputs`, `hooks`, `pull_request`, `reviewed_only`",
                    ));
                }
            }
        }
        Ok(())
    }

    fn operation_fields(
        &self,
        platform: Platform,
        path: &VariablePath,
        fields: &Map,
        target: &mut OperationSettings,
    ) -> Result<(), ConfigError> {
        for (key, value) in fields {
            let field_path = path.key(key);
            match key.as_str() {
                "enabled" => target.enabled = self.bool_value(&field_path, value)?,
                "inputs" => {
                    target.inputs = self.inputs(&field_path, value, target.operation)?;
                }
                "hooks" => target.hooks = self.hooks(platform, &field_path, value)?,
                "pull_request" => {
                    let wanted = self.bool_value(&field_path, value)?;
                    if wanted && !target.operation.may_open_pull_request() {
                        return Err(self.wrong(
                            &field_path,
                            "`false`: this operation's script raises no pull request",
                        ));
                    }
                    target.pull_request = wanted;
                }
                "reviewed_only" => {
                    let wanted = self.bool_value(&field_path, value)?;
                    if wanted
                        && matches!(target.operation.kind(), Kind::ConfigDiff | Kind::BuildImage)
                    {
                        return Err(self.wrong(
                            &field_path,
                            "`false`: this operation runs for every change, before review",
                        ));
                    }
                    if !wanted && target.operation.changes_cloud() {
                        self.notices.borrow_mut().push(ConfigWarning {
                            place: self.place(&field_path),
                            key: field_path.to_string(),
                            message:
                            format!("lets `{}` change the cloud from any branch, without the deployment environment's reviewers", target.operation),
                        });
                    }
                    target.reviewed_only = wanted;
                }
                _ => {
                    return Err(ConfigError::NotAllowed {
                        place: self.place(&field_path),
                        key: field_path.to_string(),
                        allowed: "a key of `enabled`, `inputs`, `hooks`, `pull_request`, `reviewed_only`",
                    });
                }
            }
        }
        Ok(())
    }

    fn inputs(
        &self,
        path: &VariablePath,
        value: &Value,
        operation: Workflow,
    ) -> Result<Vec<ExtraInput>, ConfigError> {
        let Value::Map(map) = value else {
            return Err(self.wrong(path, "a mapping of input name to settings"));
        };
        let mut reserved: Vec<String> = [
            "environment",
            "kayobeLimit",
            "kayobeTags",
            "kollaLimit",
            "kollaTags",
            "testSuite",
        ]
        .iter()
        .map(|name| env_var_name(name))
        .collect();
        reserved.extend(
            [
                "KAYOBE_ENVIRONMENT",
                "KAYOBE_LIMIT",
                "KAYOBE_TAGS",
                "KOLLA_LIMIT",
                "KOLLA_TAGS",
                "KAYOBE_VAULT_PASSWORD",
                "KAYOBE_AUTOMATION_SSH_PRIVATE_KEY",
                "TEMPEST_OPENRC",
                "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
                "REGISTRY_PASSWORD",
                "PATH",
                "HOME",
            ]
            .map(String::from),
        );
        let mut inputs = Vec::new();
        for (name, settings) in map {
            let input_path = path.key(name);
            if !valid_input_name(name) {
                return Err(self.wrong(
                    &input_path,
                    "named with a letter or `_`, then letters, digits, `-` or `_`",
                ));
            }
            let env_name = env_var_name(name);
            if reserved.contains(&env_name) || env_name.starts_with("GITHUB_") {
                return Err(ConfigError::InputClash {
                    place: self.place(&input_path),
                    operation,
                    name: name.clone(),
                });
            }
            reserved.push(env_name);
            let fields = match settings {
                Value::Null => Map::new(),
                Value::Map(fields) => fields.clone(),
                _ => return Err(self.wrong(&input_path, "a mapping")),
            };
            let mut input = ExtraInput {
                name: name.clone(),
                description: name.clone(),
                required: false,
                default: None,
                input_type: InputType::String,
                options: Vec::new(),
            };
            for (key, value) in &fields {
                let field = input_path.key(key);
                match key.as_str() {
                    "description" => input.description = self.string(&field, value)?,
                    "required" => input.required = self.bool_value(&field, value)?,
                    "default" => input.default = Some(self.string(&field, value)?),
                    "options" => input.options = self.strings(&field, value)?,
                    "type" => {
                        input.input_type = match self.string(&field, value)?.as_str() {
                            "string" => InputType::String,
                            "boolean" => InputType::Boolean,
                            "number" => InputType::Number,
                            "choice" => InputType::Choice,
                            _ => {
                                return Err(ConfigError::NotAllowed {
                                    place: self.place(&field),
                                    key: field.to_string(),
                                    allowed: "`string`, `boolean`, `number` or `choice`",
                                });
                            }
                        }
                    }
                    _ => {
                        return Err(ConfigError::NotAllowed {
                            place: self.place(&field),
                            key: field.to_string(),
                            allowed: "a key of `description`, `required`, `default`, `type`, `options`",
                        });
                    }
                }
            }
            if input.input_type == InputType::Choice && input.options.is_empty() {
                return Err(self.wrong(&input_path.key("options"), "a non-empty list for a choice"));
            }
            if input.input_type != InputType::Choice && !input.options.is_empty() {
                return Err(self.wrong(&input_path.key("type"), "`choice` when options are given"));
            }
            if let Some(default) = &input.default {
                let fits = match input.input_type {
                    InputType::String => true,
                    InputType::Boolean => matches!(default.as_str(), "true" | "false"),
                    InputType::Number => default.parse::<f64>().is_ok(),
                    InputType::Choice => input.options.contains(default),
                };
                if !fits {
                    return Err(self.wrong(
                        &input_path.key("default"),
                        "a value of the input's type (one of `options` for a choice)",
                    ));
                }
            }
            inputs.push(input);
        }
        Ok(inputs)
    }

    /// A hook step: a GitHub step mapping with `run` (no `${{ }}` in it,
    /// which is how untrusted text gets executed) or `uses`; a GitLab shell
    /// line. Never a vaulted value, which would be written out encrypted.
    fn check_step(
        &self,
        platform: Platform,
        path: &VariablePath,
        step: &Value,
    ) -> Result<(), ConfigError> {
        let fine = !contains_vault(step)
            && match (platform, step) {
                (Platform::Github, Value::Map(step)) => {
                    (step.contains_key("run") ^ step.contains_key("uses"))
                        && !step
                            .get("run")
                            .and_then(Value::as_str)
                            .is_some_and(|run| run.contains("${{"))
                }
                (Platform::Gitlab, Value::String(_) | Value::Unsafe(_)) => true,
                _ => false,
            };
        if fine {
            return Ok(());
        }
        Err(self.wrong(
            path,
            match platform {
                Platform::Github => "a step mapping with `run` (no `${{ }}` in it) or `uses`",
                Platform::Gitlab => "a shell line (not a vaulted value)",
            },
        ))
    }

    fn hooks(
        &self,
        platform: Platform,
        path: &VariablePath,
        value: &Value,
    ) -> Result<Hooks, ConfigError> {
        let Value::Map(map) = value else {
            return Err(self.wrong(path, "a mapping of `pre_checkout`, `pre_run`, `post`"));
        };
        let mut hooks = Hooks::default();
        for (key, steps) in map {
            let hook_path = path.key(key);
            let list = match steps {
                Value::Null => Vec::new(),
                Value::List(list) => list.clone(),
                _ => return Err(self.wrong(&hook_path, "a list of steps")),
            };
            for (index, step) in list.iter().enumerate() {
                self.check_step(platform, &hook_path.index(index), step)?;
            }
            let slot = match key.as_str() {
                "pre_checkout" => &mut hooks.pre_checkout,
                "pre_run" => &mut hooks.pre_run,
                "post" => &mut hooks.post,
                _ => {
                    return Err(ConfigError::NotAllowed {
                        place: self.place(&hook_path),
                        key: hook_path.to_string(),
                        allowed: "a key of `pre_checkout`, `pre_run`, `post`",
                    });
                }
            };
            *slot = list;
        }
        Ok(hooks)
    }
}
