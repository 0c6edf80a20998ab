//! The variables `.automation.conf/config.sh` leaves set, as bash makes them.
//!
//! kayobe-automation `source`s this file into the shell of every pipeline
//! (`config_set` in its `functions`), with `set -euE -o pipefail` in effect and
//! its own variables already set. [`AutomationConf::load`] lets bash itself do
//! the same, so every construct means exactly what it means there:
//!
//! - bash is found by absolute path (`$PATH`, then `/bin`, `/usr/bin`) and run
//!   as `bash --noprofile --norc`, with an environment holding only the
//!   [`ConfContext`]'s variables, the context's working directory (the
//!   repository root, as the pipelines run: file tests and `$(< file)` resolve
//!   from there) and a time limit that stops the process group;
//! - the file's standard output goes to standard error and is dropped: only
//!   the variables come back, read NUL-separated, arrays and unexported
//!   variables included (the pipelines see both);
//! - a file bash rejects — a syntax error, an unbound variable, a failing
//!   command under `set -e`, `exit` — is an [`AutomationConfError::Rejected`]
//!   naming the file and line bash names.
//!
//! Running the file runs whatever it contains, on this machine, as this user:
//! read only files you would run. `config-diff` therefore never evaluates the
//! `config.sh` of a revision it extracts (see the config-diff crate).
//!
//! Values config.sh computes can be secrets (an openrc read with
//! `$(< file)`): `Debug` never prints values, errors about a setting print
//! the value only for the numeric and boolean settings that cannot hold one.
//!
//! ```no_run
//! use std::path::Path;
//! use kayobe_config::automation_conf::{AutomationConf, ConfContext};
//!
//! let context = ConfContext::new()
//!     .with("KAYOBE_ENVIRONMENT", "production")
//!     .with_working_dir("/srv/kayobe-config");
//! let conf = AutomationConf::load(Path::new("/srv/kayobe-config/.automation.conf/config.sh"), &context)?;
//! println!("{:?}", conf.tempest_concurrency()?);
//! # Ok::<(), kayobe_config::automation_conf::AutomationConfError>(())
//! ```

mod bash;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;

/// How long config.sh may run before it is stopped.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What went wrong reading `config.sh`.
#[derive(Debug, thiserror::Error)]
pub enum AutomationConfError {
    /// The file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No bash on this machine.
    #[error(
        "bash not found (looked in $PATH, /bin and /usr/bin): kayobe-automation reads .automation.conf/config.sh by sourcing it with bash, as its pipelines do; install bash"
    )]
    BashMissing,
    /// Bash could not be started.
    #[error("cannot run {} in {}: {source}", bash.display(), working_dir.display())]
    Spawn {
        /// The bash binary.
        bash: PathBuf,
        /// The working directory asked for.
        working_dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Bash did not finish in time.
    #[error(
        "{}: sourcing it took longer than {limit:?} and was stopped; check the commands it runs (`$(…)`)",
        path.display()
    )]
    TimedOut {
        /// The file.
        path: PathBuf,
        /// The time limit.
        limit: Duration,
    },
    /// Bash rejected the file, as it would stop kayobe-automation's pipelines.
    #[error(
        "{}{}: {message}; kayobe-automation's pipelines source this file with `set -euE -o pipefail` and would stop here too: fix the file",
        path.display(),
        line.map(|n| format!(":{n}")).unwrap_or_default()
    )]
    Rejected {
        /// The file bash names (config.sh, or a file it sources).
        path: PathBuf,
        /// The line bash names, when it names one.
        line: Option<usize>,
        /// Bash's message (one line).
        message: String,
    },
    /// A variable that must hold a number does not.
    #[error("{}: {name} must be a non-negative integer, not `{value}`", origin.display())]
    InvalidInteger {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// The file that set it, or the environment.
        origin: PathBuf,
    },
    /// A variable that must hold a boolean does not.
    #[error(
        "{}: {name} must be true or false (or yes/no, on/off, 1/0), not `{value}`",
        origin.display()
    )]
    InvalidBoolean {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// The file that set it, or the environment.
        origin: PathBuf,
    },
}

/// A bash variable's value.
#[derive(Clone, PartialEq, Eq)]
pub enum ConfValue {
    /// A string.
    Scalar(String),
    /// An indexed array (an associative array's values, in bash's order).
    Array(Vec<String>),
}

impl fmt::Debug for ConfValue {
    /// Values may be secrets: only their shape is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfValue::Scalar(_) => f.write_str("Scalar(<redacted>)"),
            ConfValue::Array(items) => write!(f, "Array(<{} redacted>)", items.len()),
        }
    }
}

impl ConfValue {
    /// What `$NAME` gives: the string, or an array's first element (empty
    /// for an empty array).
    pub fn as_scalar(&self) -> &str {
        match self {
            ConfValue::Scalar(s) => s,
            ConfValue::Array(items) => items.first().map_or("", String::as_str),
        }
    }

    /// The value as a list: an array's elements, or a non-empty scalar as
    /// one element (an empty scalar is an empty list).
    pub fn to_list(&self) -> Vec<String> {
        match self {
            ConfValue::Scalar(s) if s.is_empty() => Vec::new(),
            ConfValue::Scalar(s) => vec![s.clone()],
            ConfValue::Array(items) => items.clone(),
        }
    }
}

/// What `config.sh` runs with: the environment variables set before it runs
/// (kayobe-automation's own, `KAYOBE_ENVIRONMENT`, …: see
/// `ConfigRepo::automation_conf` for the ones the repository gives), the
/// working directory, and a time limit.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfContext {
    vars: IndexMap<String, String>,
    working_dir: Option<PathBuf>,
    time_limit: Duration,
}

impl Default for ConfContext {
    fn default() -> Self {
        Self {
            vars: IndexMap::new(),
            working_dir: None,
            time_limit: DEFAULT_TIME_LIMIT,
        }
    }
}

impl fmt::Debug for ConfContext {
    /// Names only: the environment may carry secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfContext")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("working_dir", &self.working_dir)
            .field("time_limit", &self.time_limit)
            .finish()
    }
}

impl ConfContext {
    /// No variables set.
    pub fn new() -> Self {
        Self::default()
    }

    /// This context with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// This context running config.sh in `dir` (the pipelines run it in the
    /// repository root); without one, in this process's working directory.
    pub fn with_working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// This context stopping config.sh after `limit` (default
    /// [`DEFAULT_TIME_LIMIT`]).
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Sets `name` to `value` (an empty value is set, unlike an absent one).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Every variable set, in the order set.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConfContext {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut context = Self::new();
        for (name, value) in iter {
            context.set(name, value);
        }
        context
    }
}

/// The variables `config.sh` leaves set, as bash leaves them after `source`.
#[derive(Clone, PartialEq, Eq)]
pub struct AutomationConf {
    origin: PathBuf,
    /// Every variable set after the file ran, except bash's own.
    vars: IndexMap<String, ConfValue>,
    /// The names of `vars` the file set or changed.
    assigned: Vec<String>,
}

impl fmt::Debug for AutomationConf {
    /// Names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutomationConf")
            .field("origin", &self.origin)
            .field("assigned", &self.assigned)
            .finish_non_exhaustive()
    }
}

impl AutomationConf {
    /// Sources the file at `path` with bash, in `context`. A missing file is
    /// not an error: it gives the context's variables only, as a repository
    /// without `.automation.conf/config.sh` has; callers that require the
    /// file check for it first.
    pub fn load(path: &Path, context: &ConfContext) -> Result<Self, AutomationConfError> {
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::without_file(path, context));
            }
            Err(source) => {
                return Err(AutomationConfError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        let working_dir = match &context.working_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|source| AutomationConfError::Io {
                path: PathBuf::from("."),
                source,
            })?,
        };
        let dump = bash::source(path, &working_dir, &context.vars, context.time_limit)?;
        // Bash's own variables (BASH_*, PWD, SHLVL, …) are not the file's,
        // unless the context set them or the file changed them.
        let bash_own: std::collections::HashSet<&str> = dump
            .own
            .iter()
            .map(String::as_str)
            .filter(|name| !context.vars.contains_key(*name))
            .collect();
        let vars: IndexMap<String, ConfValue> = dump
            .vars
            .into_iter()
            .filter(|(name, _)| !bash_own.contains(name.as_str()) && !name.starts_with("BASH_"))
            .collect();
        let assigned = vars
            .iter()
            .filter(|(name, value)| match context.vars.get(*name) {
                Some(before) => **value != ConfValue::Scalar(before.clone()),
                None => true,
            })
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Self {
            origin: path.to_path_buf(),
            vars,
            assigned,
        })
    }

    fn without_file(path: &Path, context: &ConfContext) -> Self {
        Self {
            origin: path.to_path_buf(),
            vars: context
                .vars
                .iter()
                .map(|(name, value)| (name.clone(), ConfValue::Scalar(value.clone())))
                .collect(),
            assigned: Vec::new(),
        }
    }

    /// The file this configuration was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The value of `name` after the file ran (`None`: unset).
    pub fn get(&self, name: &str) -> Option<&ConfValue> {
        self.vars.get(name)
    }

    /// `$NAME` after the file ran, `None` when unset.
    pub fn scalar(&self, name: &str) -> Option<&str> {
        self.get(name).map(ConfValue::as_scalar)
    }

    /// Every variable the file set or changed, by name, with its final value.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &ConfValue)> {
        self.assigned
            .iter()
            .filter_map(|name| Some((name.as_str(), self.vars.get(name)?)))
    }

    /// `TEMPEST_OPENRC`: the openrc Tempest runs with, as config.sh sets it
    /// (often read from a file with `$(< …)`); a secret, `None` when unset or
    /// empty.
    pub fn tempest_openrc(&self) -> Option<&str> {
        self.non_empty("TEMPEST_OPENRC")
    }

    /// Where `name`'s value came from, for errors.
    fn origin_of(&self, name: &str) -> PathBuf {
        if self.assigned.iter().any(|n| n == name) {
            self.origin.clone()
        } else {
            PathBuf::from("the environment")
        }
    }

    /// A non-empty scalar value of `name`, `None` when unset or empty.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.scalar(name).filter(|s| !s.is_empty())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(ConfValue::to_list).unwrap_or_default()
    }

    /// `KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA`: vaulted files beyond the
    /// usual ones (a scalar counts as one path).
    pub fn vaulted_files_paths_extra(&self) -> Vec<String> {
        self.list("KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA")
    }

    /// `KAYOBE_CONFIG_SECRET_PATHS_EXTRA`: secret files beyond `secrets.yml`
    /// (a scalar counts as one path).
    pub fn secret_paths_extra(&self) -> Vec<String> {
        self.list("KAYOBE_CONFIG_SECRET_PATHS_EXTRA")
    }

    /// `TEMPEST_CONCURRENCY`, `None` when unset or empty.
    pub fn tempest_concurrency(&self) -> Result<Option<u32>, AutomationConfError> {
        self.integer("TEMPEST_CONCURRENCY")
    }

    fn integer(&self, name: &str) -> Result<Option<u32>, AutomationConfError> {
        let Some(value) = self.non_empty(name) else {
            return Ok(None);
        };
        match value.parse::<u32>() {
            Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(AutomationConfError::InvalidInteger {
                name: name.to_owned(),
                value: value.to_owned(),
                origin: self.origin_of(name),
            }),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, AutomationConfError> {
        let Some(value) = self.non_empty(name) else {
            return Ok(None);
        };
        match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Some(true)),
            "false" | "no" | "off" | "0" => Ok(Some(false)),
            _ => Err(AutomationConfError::InvalidBoolean {
                name: name.to_owned(),
                value: value.to_owned(),
                origin: self.origin_of(name),
            }),
        }
    }

    /// The automation config directory: `KAYOBE_AUTOMATION_CONFIG_PATH`, else
    /// the directory holding this file.
    pub fn automation_config_path(&self) -> PathBuf {
        match self.non_empty("KAYOBE_AUTOMATION_CONFIG_PATH") {
            Some(path) => PathBuf::from(path),
            None => match self.origin.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }

    /// `<NAME>_FULL_PATH`, else `<NAME>_SEARCH_PATH` (default
    /// `<automation config>/tempest/<dir>`) joined with `file`.
    fn tempest_file(&self, prefix: &str, dir: &str, file: &str) -> PathBuf {
        if let Some(full) = self.non_empty(&format!("{prefix}_FULL_PATH")) {
            return PathBuf::from(full);
        }
        let search = match self.non_empty(&format!("{prefix}_SEARCH_PATH")) {
            Some(search) => PathBuf::from(search),
            None => self.automation_config_path().join("tempest").join(dir),
        };
        search.join(file)
    }

    /// The Tempest settings of section 9, with their defaults applied.
    pub fn tempest(&self) -> Result<TempestSettings, AutomationConfError> {
        const LOADLIST: &str = "KAYOBE_AUTOMATION_TEMPEST_LOADLIST";
        const SKIPLIST: &str = "KAYOBE_AUTOMATION_TEMPEST_SKIPLIST";
        const ACCOUNTS: &str = "KAYOBE_AUTOMATION_TEMPEST_ACCOUNTS";
        let loadlist = self.non_empty(LOADLIST).unwrap_or("default").to_owned();
        let skiplist = self.non_empty(SKIPLIST).unwrap_or(&loadlist).to_owned();
        let accounts = self.non_empty(ACCOUNTS).map(str::to_owned);
        let accounts_path = match &accounts {
            Some(name) => Some(self.tempest_file(ACCOUNTS, "accounts", name)),
            None => self
                .non_empty(&format!("{ACCOUNTS}_FULL_PATH"))
                .map(PathBuf::from),
        };
        Ok(TempestSettings {
            concurrency: self.tempest_concurrency()?,
            loadlist_path: self.tempest_file(LOADLIST, "load-lists", &loadlist),
            loadlist,
            skiplist_path: self.tempest_file(SKIPLIST, "skip-lists", &skiplist),
            skiplist,
            accounts,
            accounts_path,
            conf_overrides: self
                .non_empty("KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES")
                .map(PathBuf::from),
            output_dir: PathBuf::from(
                self.non_empty(TEMPEST_OUTPUT_DIR_VAR)
                    .unwrap_or("tempest-artifacts/"),
            ),
        })
    }

    /// The rally (Tempest container) settings of section 9.
    pub fn rally(&self) -> Result<RallySettings, AutomationConfError> {
        let text = |suffix: &str| {
            self.non_empty(&format!("KAYOBE_AUTOMATION_RALLY_{suffix}"))
                .map(str::to_owned)
        };
        Ok(RallySettings {
            image: text("IMAGE"),
            tag: text("TAG"),
            force_pull: self.boolean("KAYOBE_AUTOMATION_RALLY_FORCE_PULL")?,
            docker_registry: text("DOCKER_REGISTRY"),
            docker_registry_username: text("DOCKER_REGISTRY_USERNAME"),
            docker_registry_password: text("DOCKER_REGISTRY_PASSWORD"),
            no_sensitive_log: self.boolean("KAYOBE_AUTOMATION_RALLY_NO_SENSITIVE_LOG")?,
        })
    }
}

/// The variable naming the Tempest artefact directory (default `tempest-artifacts/`).
pub const TEMPEST_OUTPUT_DIR_VAR: &str = "KAYOBE_AUTOMATION_TEMPEST_OUTPUT_DIR";

/// Tempest settings (`TEMPEST_CONCURRENCY`, `KAYOBE_AUTOMATION_TEMPEST_*`).
///
/// Paths are as configured; whether the files exist is for the caller to check
/// (the load list `default` may be absent, meaning all tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempestSettings {
    /// `TEMPEST_CONCURRENCY`: workers running at once (`None`: Tempest's default).
    pub concurrency: Option<u32>,
    /// `KAYOBE_AUTOMATION_TEMPEST_LOADLIST`, default `default`.
    pub loadlist: String,
    /// `…_LOADLIST_FULL_PATH`, else `…_LOADLIST_SEARCH_PATH` (default
    /// `<automation config>/tempest/load-lists`) / the load list name.
    pub loadlist_path: PathBuf,
    /// `KAYOBE_AUTOMATION_TEMPEST_SKIPLIST`, default: the load list's name.
    pub skiplist: String,
    /// `…_SKIPLIST_FULL_PATH`, else `…_SKIPLIST_SEARCH_PATH` (default
    /// `<automation config>/tempest/skip-lists`) / the skip list name.
    pub skiplist_path: PathBuf,
    /// `KAYOBE_AUTOMATION_TEMPEST_ACCOUNTS`: a pre-provisioned accounts file name.
    pub accounts: Option<String>,
    /// `…_ACCOUNTS_FULL_PATH`, else `…_ACCOUNTS_SEARCH_PATH` (default
    /// `<automation config>/tempest/accounts`) / the accounts name.
    pub accounts_path: Option<PathBuf>,
    /// `KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES`: a tempest.conf overrides file.
    pub conf_overrides: Option<PathBuf>,
    /// [`TEMPEST_OUTPUT_DIR_VAR`], default `tempest-artifacts/`.
    pub output_dir: PathBuf,
}

/// The rally image Tempest runs in (`KAYOBE_AUTOMATION_RALLY_*`); unset or
/// empty values are `None`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RallySettings {
    /// `KAYOBE_AUTOMATION_RALLY_IMAGE`.
    pub image: Option<String>,
    /// `KAYOBE_AUTOMATION_RALLY_TAG`.
    pub tag: Option<String>,
    /// `KAYOBE_AUTOMATION_RALLY_FORCE_PULL`.
    pub force_pull: Option<bool>,
    /// `KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY`.
    pub docker_registry: Option<String>,
    /// `KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_USERNAME`.
    pub docker_registry_username: Option<String>,
    /// `KAYOBE_AUTOMATION_RALLY_DOCKER_REGISTRY_PASSWORD` (never printed by `Debug`).
    pub docker_registry_password: Option<String>,
    /// `KAYOBE_AUTOMATION_RALLY_NO_SENSITIVE_LOG`.
    pub no_sensitive_log: Option<bool>,
}

impl fmt::Debug for RallySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RallySettings")
            .field("image", &self.image)
            .field("tag", &self.tag)
            .field("force_pull", &self.force_pull)
            .field("docker_registry", &self.docker_registry)
            .field("docker_registry_username", &self.docker_registry_username)
            .field(
                "docker_registry_password",
                &self.docker_registry_password.as_ref().map(|_| "<redacted>"),
            )
            .field("no_sensitive_log", &self.no_sensitive_log)
            .finish()
    }
}
