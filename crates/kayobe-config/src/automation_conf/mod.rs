//! The bash variable assignments of `.automation.conf/config.sh`, read without
//! running bash.
//!
//! Kayobe automation pipelines `source` this file with `KAYOBE_ENVIRONMENT` set.
//! [`AutomationConf::parse`] gives the values bash would leave behind for the
//! subset such files use:
//!
//! - comments, blank lines, `NAME=value`, `export NAME=value`, `export NAME`,
//!   `NAME+=value`, several assignments on a line, `;` between commands;
//! - unquoted, `'single'` and `"double"` quoted words, concatenated, with
//!   backslash escapes as bash applies them in each quoting;
//! - arrays `NAME=( "a" 'b' c )` over several lines, `NAME+=( … )`, with bash's
//!   field splitting of unquoted expansions;
//! - `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}` and
//!   `${NAME+word}` (expansions nest inside `word`);
//! - `if`/`elif`/`else`/`fi` (nested), whose conditions are `[[ … ]]` or `[ … ]`
//!   (or `test …`) commands, optionally negated with `!`, joined by `&&`/`||`;
//!   tests are `==`, `=`, `!=` (inside `[[ … ]]` with bash's `*`, `?` and
//!   `[…]` patterns on the right), `-n`, `-z`, `!`, `&&`, `||` and parentheses
//!   inside `[[ … ]]`, `=~` with a quoted (literal) right-hand side, and the
//!   file tests `-e`, `-f`, `-d` when the caller gives a working directory
//!   ([`ConfContext::with_working_dir`]).
//!
//! A variable that the file has not assigned takes its value from the
//! [`ConfContext`] the caller passes (as the environment would provide it),
//! else it is empty, as in bash. Anything else — command substitution,
//! functions, loops, pipes, redirections, `source`, arithmetic, other `${…}`
//! operators, other tests, file name globbing, brace and tilde expansion — is
//! an [`AutomationConfError::Unsupported`] naming the file, line and column.
//! Constructs are refused wherever they appear, even in a branch the
//! environment does not take; values that would make bash glob or fail a `[`
//! test are refused when evaluated. The reader never guesses.
//!
//! ```
//! use std::path::Path;
//! use kayobe_config::automation_conf::{AutomationConf, ConfContext, ConfValue};
//!
//! let text = r#"
//! export TEMPEST_CONCURRENCY=4
//! if [[ $KAYOBE_ENVIRONMENT == production ]]; then
//!   KAYOBE_CONFIG_SECRET_PATHS_EXTRA=( "etc/kayobe/environments/$KAYOBE_ENVIRONMENT/extra.yml" )
//! fi
//! "#;
//! let context = ConfContext::new().with("KAYOBE_ENVIRONMENT", "production");
//! let conf = AutomationConf::parse(text, Path::new("config.sh"), &context)?;
//! assert_eq!(conf.tempest_concurrency()?, Some(4));
//! assert_eq!(conf.secret_paths_extra(), ["etc/kayobe/environments/production/extra.yml"]);
//! assert_eq!(conf.tempest()?.loadlist, "default");
//!
//! let error = AutomationConf::parse("A=$(date)", Path::new("config.sh"), &context).unwrap_err();
//! assert!(error.to_string().starts_with("config.sh:1:3: command substitution"));
//! # Ok::<(), kayobe_config::automation_conf::AutomationConfError>(())
//! ```

mod eval;
mod syntax;

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::Location;

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
    /// A bash construct outside the subset the reader understands.
    #[error(
        "{location}: {construct} is not supported: kayobe-automation reads config.sh without running bash; {hint}"
    )]
    Unsupported {
        /// Where the construct starts.
        location: Location,
        /// What the construct is.
        construct: String,
        /// What to write instead.
        hint: String,
    },
    /// Text bash itself would reject.
    #[error("{location}: syntax error: {message}")]
    Syntax {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A value grew beyond what a setting can sensibly hold.
    #[error(
        "{location}: the value of {name} grows beyond 64 KiB; config.sh settings are paths and short words: check for a variable that keeps appending itself"
    )]
    ValueTooLarge {
        /// The assignment that made it too large.
        location: Location,
        /// The variable.
        name: String,
    },
    /// A variable that must hold a number does not.
    #[error(
        "{}: {name} must be a non-negative integer, not `{value}`",
        origin_text(.location)
    )]
    InvalidInteger {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// Where it was last assigned (`None`: it came from the context).
        location: Option<Location>,
    },
    /// A variable that must hold a boolean does not.
    #[error(
        "{}: {name} must be true or false (or yes/no, on/off, 1/0), not `{value}`",
        origin_text(.location)
    )]
    InvalidBoolean {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// Where it was last assigned (`None`: it came from the context).
        location: Option<Location>,
    },
}

fn origin_text(location: &Option<Location>) -> String {
    match location {
        Some(location) => location.to_string(),
        None => "the environment".to_owned(),
    }
}

/// A bash variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfValue {
    /// A string.
    Scalar(String),
    /// An indexed array.
    Array(Vec<String>),
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

/// The variables `config.sh` sees before it runs: typically
/// `KAYOBE_ENVIRONMENT`, `KAYOBE_CONFIG_PATH` and `KAYOBE_AUTOMATION_CONFIG_PATH`,
/// filled by the caller from the process environment and the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfContext {
    vars: IndexMap<String, ConfValue>,
    working_dir: Option<PathBuf>,
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

    /// This context with file tests (`-e`, `-f`, `-d`) resolving relative
    /// paths from `dir`, the directory the pipelines run config.sh in
    /// (without one, a file test is an error).
    pub fn with_working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Sets `name` to `value` (an empty value is set, unlike an absent one).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars
            .insert(name.into(), ConfValue::Scalar(value.into()));
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

/// A variable the file assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    value: ConfValue,
    /// Where it was last assigned.
    location: Location,
}

/// The variables `config.sh` leaves set, as bash would after `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationConf {
    origin: PathBuf,
    assigned: IndexMap<String, Variable>,
    context: ConfContext,
}

impl AutomationConf {
    /// Reads `text`, whose errors name `origin`, with the variables of `context`
    /// already set.
    pub fn parse(
        text: &str,
        origin: &Path,
        context: &ConfContext,
    ) -> Result<Self, AutomationConfError> {
        let mut parser = syntax::Parser::new(text, origin);
        let script = parser.parse_script()?;
        let line_starts = parser.into_line_starts();
        let mut evaluator = eval::Evaluator {
            vars: IndexMap::new(),
            context: &context.vars,
            line_starts: &line_starts,
            origin,
            working_dir: context.working_dir.as_deref(),
        };
        evaluator.run(&script)?;
        Ok(Self {
            origin: origin.to_path_buf(),
            assigned: evaluator.vars,
            context: context.clone(),
        })
    }

    /// Reads the file at `path`. A missing file is not an error: it gives a
    /// configuration that assigns nothing (only `context` is seen), as a
    /// repository without `.automation.conf/config.sh` has; callers that
    /// require the file check for it first.
    pub fn load(path: &Path, context: &ConfContext) -> Result<Self, AutomationConfError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path, context),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                origin: path.to_path_buf(),
                assigned: IndexMap::new(),
                context: context.clone(),
            }),
            Err(source) => Err(AutomationConfError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// The file this configuration was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The value of `name` after the file ran: assigned by the file, else
    /// from the context, else `None` (unset).
    pub fn get(&self, name: &str) -> Option<&ConfValue> {
        self.assigned
            .get(name)
            .map(|v| &v.value)
            .or_else(|| self.context.vars.get(name))
    }

    /// `$NAME` after the file ran, `None` when unset.
    pub fn scalar(&self, name: &str) -> Option<&str> {
        self.get(name).map(ConfValue::as_scalar)
    }

    /// Where the file last assigned `name` (`None`: not assigned by the file).
    pub fn location(&self, name: &str) -> Option<&Location> {
        self.assigned.get(name).map(|v| &v.location)
    }

    /// Every variable the file assigned, in the order of first assignment,
    /// with its final value (unknown ones included).
    pub fn variables(&self) -> impl Iterator<Item = (&str, &ConfValue)> {
        self.assigned.iter().map(|(k, v)| (k.as_str(), &v.value))
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
                location: self.location(name).cloned(),
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
                location: self.location(name).cloned(),
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

#[cfg(test)]
mod tests;
