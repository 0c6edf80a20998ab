//! Tempest settings checked against the files they name.
//!
//! [`TempestPlan::load`] takes the settings `kayobe_config` read from
//! `.automation.conf/config.sh` and reads the files they name:
//!
//! - the load list (test ids, one a line; blank lines and `#` lines are
//!   ignored). The load list `default` may be absent, meaning all tests; any
//!   other named load list must exist.
//! - the skip list, one entry a line, in either of the two formats in use:
//!   stestr's exclude list (`REGEX # reason`) or rally's YAML mapping
//!   (`REGEX: "reason"`, the quotes optional, `REGEX:` for no reason). Its
//!   default name is the load list's, and such a default may be absent; a
//!   skip list named otherwise must exist. Each regex is compiled (Rust
//!   `regex` syntax: no look-around or backreferences) and a bad one is an
//!   error at its file, line and column.
//! - the pre-provisioned accounts file and the tempest.conf overrides file,
//!   when named, must exist.

use std::path::{Path, PathBuf};

use kayobe_config::Location;
use kayobe_config::automation_conf::TempestSettings;

/// A Tempest setting names a file that is missing or wrong.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A named file does not exist.
    #[error(
        "the Tempest {what} {} does not exist; create it, or change or unset {variable} in .automation.conf/config.sh",
        path.display()
    )]
    Missing {
        /// Which file, e.g. `skip list`.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// The variable naming it.
        variable: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read the Tempest {what} {}: {source}", path.display())]
    Read {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of a load or skip list is not UTF-8.
    #[error("{location}: the line is not UTF-8 text; save the file as UTF-8")]
    NotUtf8 {
        /// The line.
        location: Location,
    },
    /// A skip list regex does not compile.
    #[error(
        "{location}: the skip list regex `{pattern}` is invalid: {message}; fix the regex (Rust regex syntax, no look-around or backreferences)"
    )]
    BadRegex {
        /// Where the regex starts.
        location: Location,
        /// The regex.
        pattern: String,
        /// The regex compiler's message.
        message: String,
    },
}

/// Tempest settings with their files read and checked.
#[derive(Debug, Clone)]
pub struct TempestPlan {
    /// Workers running at once (`None`: Tempest's default).
    pub concurrency: Option<u32>,
    /// The load list; `None`: all tests.
    pub load_list: Option<LoadList>,
    /// The skip list; `None`: skip nothing.
    pub skip_list: Option<SkipList>,
    /// The pre-provisioned accounts file, when named.
    pub accounts: Option<PathBuf>,
    /// The tempest.conf overrides file, when named.
    pub conf_overrides: Option<PathBuf>,
    /// Where artefacts go.
    pub output_dir: PathBuf,
}

/// A load list: the tests to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadList {
    /// The file.
    pub path: PathBuf,
    /// Its test ids, in file order.
    pub tests: Vec<String>,
}

/// A skip list: regexes of tests not to run, with reasons.
#[derive(Debug, Clone)]
pub struct SkipList {
    /// The file.
    pub path: PathBuf,
    /// Its entries, in file order.
    pub entries: Vec<SkipEntry>,
}

/// One skip list line.
#[derive(Debug, Clone)]
pub struct SkipEntry {
    /// The compiled regex.
    pub regex: regex::Regex,
    /// The text after `#`, if any.
    pub reason: Option<String>,
    /// Where the regex is.
    pub location: Location,
}

impl SkipList {
    /// The first entry whose regex matches `test_id` (anywhere in it, as
    /// stestr's `re.search` does).
    pub fn matching(&self, test_id: &str) -> Option<&SkipEntry> {
        self.entries
            .iter()
            .find(|entry| entry.regex.is_match(test_id))
    }
}

impl TempestPlan {
    /// Reads and checks the files `settings` names.
    pub fn load(settings: &TempestSettings) -> Result<Self, SettingsError> {
        let load_list = if settings.loadlist_path.is_file() {
            Some(read_load_list(&settings.loadlist_path)?)
        } else if settings.loadlist == "default" {
            None
        } else {
            return Err(missing(
                "load list",
                &settings.loadlist_path,
                "KAYOBE_AUTOMATION_TEMPEST_LOADLIST",
            ));
        };
        let skip_list = if settings.skiplist_path.is_file() {
            Some(read_skip_list(&settings.skiplist_path)?)
        } else if settings.skiplist == settings.loadlist {
            None
        } else {
            return Err(missing(
                "skip list",
                &settings.skiplist_path,
                "KAYOBE_AUTOMATION_TEMPEST_SKIPLIST",
            ));
        };
        let existing = |path: &Option<PathBuf>, what, variable| match path {
            Some(path) if !path.is_file() => Err(missing(what, path, variable)),
            _ => Ok(path.clone()),
        };
        Ok(TempestPlan {
            concurrency: settings.concurrency,
            load_list,
            skip_list,
            accounts: existing(
                &settings.accounts_path,
                "accounts file",
                "KAYOBE_AUTOMATION_TEMPEST_ACCOUNTS",
            )?,
            conf_overrides: existing(
                &settings.conf_overrides,
                "tempest.conf overrides file",
                "KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES",
            )?,
            output_dir: settings.output_dir.clone(),
        })
    }
}

fn missing(what: &'static str, path: &Path, variable: &'static str) -> SettingsError {
    SettingsError::Missing {
        what,
        path: path.to_path_buf(),
        variable,
    }
}

/// The lines of a list file with their 1-based numbers.
fn lines(path: &Path, what: &'static str) -> Result<Vec<(usize, String)>, SettingsError> {
    let bytes = std::fs::read(path).map_err(|source| SettingsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(index, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(text) => Ok((index + 1, text.to_owned())),
                Err(_) => Err(SettingsError::NotUtf8 {
                    location: Location::new(path, index + 1, 1),
                }),
            }
        })
        .collect()
}

fn read_load_list(path: &Path) -> Result<LoadList, SettingsError> {
    let tests = lines(path, "load list")?
        .into_iter()
        .map(|(_, line)| line.trim().to_owned())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    Ok(LoadList {
        path: path.to_path_buf(),
        tests,
    })
}

fn read_skip_list(path: &Path) -> Result<SkipList, SettingsError> {
    let mut entries = Vec::new();
    for (number, line) in lines(path, "skip list")? {
        let (pattern, reason) = split_skip_line(&line);
        let leading = pattern.len() - pattern.trim_start().len();
        let pattern = pattern.trim();
        if pattern.is_empty() {
            continue;
        }
        let column = line[..leading].chars().count() + 1;
        let location = Location::new(path, number, column);
        let regex = regex::Regex::new(pattern).map_err(|error| SettingsError::BadRegex {
            location: location.clone(),
            pattern: pattern.to_owned(),
            message: regex_message(&error),
        })?;
        entries.push(SkipEntry {
            regex,
            reason: reason.filter(|reason| !reason.is_empty()),
            location,
        });
    }
    Ok(SkipList {
        path: path.to_path_buf(),
        entries,
    })
}

/// Splits a skip list line into its regex (with the leading blanks, for
/// columns) and reason.
fn split_skip_line(line: &str) -> (&str, Option<String>) {
    let unquote = |text: &str| {
        let text = text.trim();
        for quote in ['"', '\''] {
            if let Some(inner) = text
                .strip_prefix(quote)
                .and_then(|rest| rest.strip_suffix(quote))
            {
                return inner.to_owned();
            }
        }
        text.to_owned()
    };
    if !line.trim_start().starts_with('#') {
        // rally's YAML form: `REGEX: reason` or `REGEX:`.
        if let Some(pattern) = line.trim_end().strip_suffix(':') {
            return (pattern, None);
        }
        if let Some((pattern, reason)) = line.split_once(": ") {
            let reason = reason.trim();
            if reason.starts_with(['"', '\'']) || !pattern.contains('#') {
                return (pattern, Some(unquote(reason)));
            }
        }
    }
    // stestr's form: `REGEX # reason` (every `#` after the first dropped, as
    // stestr joins the parts).
    match line.split_once('#') {
        Some((pattern, reason)) => (pattern, Some(reason.replace('#', "").trim().to_owned())),
        None => (line, None),
    }
}

/// The last line of the regex crate's multi-line message (the reason).
fn regex_message(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(&text)
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path, loadlist: &str, skiplist: &str) -> TempestSettings {
        TempestSettings {
            concurrency: Some(4),
            loadlist: loadlist.to_owned(),
            loadlist_path: dir.join("load-lists").join(loadlist),
            skiplist: skiplist.to_owned(),
            skiplist_path: dir.join("skip-lists").join(skiplist),
            accounts: None,
            accounts_path: None,
            conf_overrides: None,
            output_dir: PathBuf::from("tempest-artifacts/"),
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn absent_default_lists_mean_all_tests_and_no_skips() {
        let dir = tempfile::tempdir().unwrap();
        let plan = TempestPlan::load(&settings(dir.path(), "default", "default")).unwrap();
        assert!(plan.load_list.is_none());
        assert!(plan.skip_list.is_none());
        assert_eq!(plan.concurrency, Some(4));
    }

    #[test]
    fn named_but_missing_files_are_errors_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let error = TempestPlan::load(&settings(dir.path(), "smoke", "smoke")).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("load list"), "{text}");
        assert!(text.contains("load-lists/smoke"), "{text}");
        assert!(
            text.contains("KAYOBE_AUTOMATION_TEMPEST_LOADLIST"),
            "{text}"
        );

        write(&dir.path().join("load-lists/smoke"), "tempest.api\n");
        // The skip list defaults to the load list's name and may be absent.
        let plan = TempestPlan::load(&settings(dir.path(), "smoke", "smoke")).unwrap();
        assert_eq!(plan.load_list.unwrap().tests, ["tempest.api"]);
        let error = TempestPlan::load(&settings(dir.path(), "smoke", "ci")).unwrap_err();
        assert!(error.to_string().contains("skip-lists/ci"), "{error}");

        let mut with_overrides = settings(dir.path(), "smoke", "smoke");
        with_overrides.conf_overrides = Some(dir.path().join("tempest-prod.overrides.conf"));
        let error = TempestPlan::load(&with_overrides).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES"),
            "{error}"
        );
    }

    #[test]
    fn skip_list_lines_are_regexes_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("load-lists/default"),
            "# all\n\ntempest.api.a\n",
        );
        write(
            &dir.path().join("skip-lists/default"),
            "# comment line\n\ntempest\\.api\\.compute.*resize # bug 123\n  ^tempest.scenario\r\n",
        );
        let plan = TempestPlan::load(&settings(dir.path(), "default", "default")).unwrap();
        assert_eq!(plan.load_list.unwrap().tests, ["tempest.api.a"]);
        let skips = plan.skip_list.unwrap();
        assert_eq!(skips.entries.len(), 2);
        let entry = skips
            .matching("tempest.api.compute.servers.test_resize")
            .unwrap();
        assert_eq!(entry.reason.as_deref(), Some("bug 123"));
        assert_eq!(entry.location.line, 3);
        let entry = skips.matching("tempest.scenario.test_x").unwrap();
        assert_eq!(entry.reason, None);
        assert_eq!((entry.location.line, entry.location.column), (4, 3));
        assert!(skips.matching("tempest.api.network").is_none());
    }

    #[test]
    fn rally_yaml_skip_lists_read_too() {
        assert_eq!(
            split_skip_line("tempest.api.x.*: \"No shared storage\""),
            ("tempest.api.x.*", Some("No shared storage".to_owned()))
        );
        assert_eq!(
            split_skip_line("tempest.api.y: 'quoted'"),
            ("tempest.api.y", Some("quoted".to_owned()))
        );
        assert_eq!(split_skip_line("tempest.api.z:"), ("tempest.api.z", None));
        assert_eq!(
            split_skip_line("  tempest.api.w # why: because"),
            ("  tempest.api.w ", Some("why: because".to_owned()))
        );
        // The example repository's production skip list.
        let example = kayobe_automation_tests::example_repo()
            .join(".automation.conf/tempest/skip-lists/production");
        let skips = read_skip_list(&example).unwrap();
        assert_eq!(skips.entries.len(), 2);
        let entry = skips
            .matching("tempest.api.compute.admin.test_live_migration.LiveMigrationTest.test_x")
            .unwrap();
        assert_eq!(
            entry.reason.as_deref(),
            Some("No shared storage between production compute nodes")
        );
        assert!(
            skips
                .matching("tempest.scenario.test_network_v6.Test.t")
                .is_some()
        );
    }

    #[test]
    fn a_bad_regex_is_an_error_at_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skip-lists/default");
        write(&path, "ok.*\n   tempest.(api # unbalanced\n");
        let error = TempestPlan::load(&settings(dir.path(), "default", "default")).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("{}:2:4: ", path.display())),
            "{text}"
        );
        assert!(text.contains("`tempest.(api`"), "{text}");
        assert!(text.contains("unclosed group"), "{text}");
    }
}
