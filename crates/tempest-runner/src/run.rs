//! Running Tempest in docker-rally's image, in the contract of its
//! `bin/rally-verify-wrapper.sh` (the image's entry point as
//! kayobe-automation's `kayobe-automation-run-tempest.yml` starts it).
//!
//! | What | How the wrapper reads it | What we hand over |
//! |---|---|---|
//! | openrc | `~/openrc`, else the content of `TEMPEST_OPENRC` | `TEMPEST_OPENRC`, set by the bootstrap from a tmpfs file in the wrapper's process only (never in `docker inspect` or the layer) |
//! | load list | `~/tempest-load-list` (or `TEMPEST_LOAD_LIST`'s content), ignored when `TEMPEST_PATTERN` is set | the file `/home/rally/tempest-load-list`: the configured list, or the `failed-tests` of an earlier run |
//! | skip list | `~/tempest-skip-list` (or `TEMPEST_SKIP_LIST`'s content) | the file `/home/rally/tempest-skip-list` |
//! | tempest.conf overrides | `~/tempest-overrides.conf` (or `TEMPEST_CONF_OVERRIDES`'s content) | the file `/home/rally/tempest-overrides.conf` |
//! | accounts | (the overrides name it) | a tmpfs file, linked at `/home/rally/tempest-accounts` |
//! | pattern, concurrency | `TEMPEST_PATTERN`, `TEMPEST_CONCURRENCY` | set when given |
//! | Tempest version, proxies | `TEMPEST_VERSION`; `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, `TEMPEST_NO_PROXY_EXTRA`, `RALLY_CONF_ENABLE_CREATE_TEMPEST_RESOURCES` | [`TempestOptions::environment`]: what kayobe-automation passes (`TEMPEST_HTTP_PROXY` → `HTTP_PROXY`, …) |
//! | CA certificate | any file in `/usr/local/share/ca-certificates` (`update-ca-certificates`) | the bundle copied there |
//! | outputs | written to `/home/rally/artifacts`: `rally-verify-report.{html,json}`, `rally-junit.xml`, `failed-tests`, `stdout.log`, `stderr.log`, `tempest.log` | the directory (world-writable) copied in, then out into the output directory |
//!
//! Our summary, `junit.xml` and `report.html` are built from rally's JSON
//! report ([`crate::rally`]): it is turned into [`STREAM_FILE`] in the
//! output directory, then reported on as any subunit stream.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use container_engine::{
    Collect, ContainerSpec, Docker, FileEntry, Secret, SecretFile, run_container,
};

use crate::image::{EnsureError, RallyImage};
use crate::rally::{RallyReportError, rally_report_to_subunit};
use crate::report::{ReportError, ReportOutcome, ReportPaths, report_stream};
use crate::settings::TempestPlan;

/// The subunit v2 stream made from rally's report, in the output directory.
pub const STREAM_FILE: &str = "tempest.subunit";
/// rally's JSON report among the wrapper's outputs.
pub const RALLY_JSON_REPORT: &str = "rally-verify-report.json";
/// The failed tests of a run among the wrapper's outputs (a load list).
pub const FAILED_TESTS: &str = "failed-tests";
/// The wrapper's home directory.
const HOME: &str = "/home/rally";
/// The artefact directory in the container.
const ARTIFACTS: &str = "/home/rally/artifacts";
/// Where the wrapper looks for CA certificates.
const CA_CERTIFICATES: &str = "/usr/local/share/ca-certificates";

/// The content of an openrc file: credentials. `Debug` never shows it.
#[derive(Clone)]
pub struct Openrc(String);

impl Openrc {
    /// Wraps openrc text (e.g. `TEMPEST_OPENRC`'s value).
    pub fn new(text: impl Into<String>) -> Self {
        Openrc(text.into())
    }

    /// `text` with the openrc's secret values masked as in the container's
    /// logs: for what leaves the run in other ways (a summary published on
    /// a change), since a test's traceback may quote a credential.
    pub fn masked(&self, text: &str) -> String {
        let mut masker =
            container_engine::Masker::new(self.secret_values().into_iter().map(String::into_bytes));
        let mut out = String::with_capacity(text.len());
        let mut emit = |piece: &str, line_ended: bool| {
            out.push_str(piece);
            if line_ended {
                out.push('\n');
            }
        };
        masker.push(text.as_bytes(), &mut emit);
        masker.finish(&mut emit);
        out
    }

    /// The values of its variables whose names say they are secret
    /// (`PASSWORD`, `SECRET`, `TOKEN`, `KEY`): masked in the container's logs.
    fn secret_values(&self) -> Vec<String> {
        self.0
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                let line = line.strip_prefix("export ").unwrap_or(line);
                let (name, value) = line.split_once('=')?;
                let name = name.trim().to_ascii_uppercase();
                let secret = ["PASSWORD", "SECRET", "TOKEN", "KEY"]
                    .iter()
                    .any(|word| name.contains(word));
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                (secret && !value.is_empty()).then(|| value.to_owned())
            })
            .collect()
    }
}

impl fmt::Debug for Openrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Openrc(<redacted>)")
    }
}

/// How to run the container.
#[derive(Debug, Clone)]
pub struct TempestOptions {
    /// The image, pulled first if it is missing or always pulled.
    pub image: RallyImage,
    /// The command run in the container (the wrapper).
    pub command: Vec<String>,
    /// Where artefacts and reports go (created if missing).
    pub output_dir: PathBuf,
    /// `TEMPEST_PATTERN`: run the tests matching it (the load list is then ignored).
    pub pattern: Option<String>,
    /// Run exactly these tests (e.g. an earlier run's `failed-tests`)
    /// instead of the configured load list.
    pub load_list: Option<Vec<String>>,
    /// The CA bundle to trust (copied to `/usr/local/share/ca-certificates`).
    pub ca_certificate: Option<PathBuf>,
    /// Further `NAME=value` pairs: `TEMPEST_VERSION`, proxies (see the module docs).
    pub environment: Vec<String>,
    /// How long a cancelled run gets to stop before it is killed.
    pub stop_grace: Duration,
}

impl TempestOptions {
    /// Options to run the wrapper of `image` into `output_dir`, nothing else set.
    pub fn new(image: RallyImage, output_dir: PathBuf) -> Self {
        Self {
            image,
            command: vec!["rally-verify-wrapper.sh".to_owned()],
            output_dir,
            pattern: None,
            load_list: None,
            ca_certificate: None,
            environment: Vec::new(),
            stop_grace: Duration::from_secs(10),
        }
    }

    /// The variables kayobe-automation hands the wrapper, from the caller's
    /// environment `lookup` (as `kayobe-automation-run-tempest.yml` reads
    /// them): `TEMPEST_VERSION`, `TEMPEST_NO_PROXY_EXTRA`,
    /// `RALLY_CONF_ENABLE_CREATE_TEMPEST_RESOURCES`, and `TEMPEST_HTTP_PROXY`,
    /// `TEMPEST_HTTPS_PROXY`, `TEMPEST_NO_PROXY` as `HTTP_PROXY`, `HTTPS_PROXY`,
    /// `NO_PROXY`; each only when set and not empty.
    pub fn passed_environment(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
        [
            ("TEMPEST_VERSION", "TEMPEST_VERSION"),
            ("TEMPEST_NO_PROXY_EXTRA", "TEMPEST_NO_PROXY_EXTRA"),
            (
                "RALLY_CONF_ENABLE_CREATE_TEMPEST_RESOURCES",
                "RALLY_CONF_ENABLE_CREATE_TEMPEST_RESOURCES",
            ),
            ("TEMPEST_HTTP_PROXY", "HTTP_PROXY"),
            ("TEMPEST_HTTPS_PROXY", "HTTPS_PROXY"),
            ("TEMPEST_NO_PROXY", "NO_PROXY"),
        ]
        .into_iter()
        .filter_map(|(from, to)| {
            let value = lookup(from).filter(|value| !value.is_empty())?;
            Some(format!("{to}={value}"))
        })
        .collect()
    }
}

/// Running Tempest failed.
#[derive(Debug, thiserror::Error)]
pub enum TempestError {
    /// The rally container could not be run.
    #[error("{source}; check that Docker runs and the image {image} is present")]
    Container {
        /// The image.
        image: String,
        /// What failed.
        #[source]
        source: container_engine::RunError,
    },
    /// The image could not be made present.
    #[error(transparent)]
    Image(#[from] EnsureError),
    /// A file of the run could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The wrapper wrote no JSON report.
    #[error(
        "the rally container (exit code {exit_code}) wrote no {RALLY_JSON_REPORT} in {ARTIFACTS}; its output above and stderr.log say why"
    )]
    NoReport {
        /// The container's exit code.
        exit_code: i64,
    },
    /// rally's JSON report could not be read.
    #[error("{}: {source}", path.display())]
    RallyReport {
        /// The report.
        path: PathBuf,
        /// Why.
        #[source]
        source: RallyReportError,
    },
    /// Writing the reports failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The run was cancelled; the container was stopped and removed.
    #[error("the Tempest run was cancelled; its container was stopped and removed")]
    Cancelled,
}

/// What a run gave.
#[derive(Debug)]
pub struct TempestOutcome {
    /// The container's exit code.
    pub exit_code: i64,
    /// The stream made from rally's report.
    pub stream: PathBuf,
    /// The report on it (JUnit `junit.xml` and `report.html` beside it).
    pub report: ReportOutcome,
}

impl TempestOutcome {
    /// Whether the run passed: the container exited 0, the whole stream was
    /// read and no test failed.
    pub fn is_success(&self) -> bool {
        self.exit_code == 0
            && self.report.stream_error.is_none()
            && self.report.summary.is_success()
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, TempestError> {
    std::fs::read(path).map_err(|source| TempestError::File {
        action: "read",
        path: path.clone(),
        source,
    })
}

/// The container run: the wrapper's environment, files and secrets.
fn container_spec(
    plan: &TempestPlan,
    openrc: &Openrc,
    options: &TempestOptions,
) -> Result<ContainerSpec, TempestError> {
    let mut env = vec![format!("HOME={HOME}")];
    if let Some(concurrency) = plan.concurrency {
        env.push(format!("TEMPEST_CONCURRENCY={concurrency}"));
    }
    if let Some(pattern) = &options.pattern {
        env.push(format!("TEMPEST_PATTERN={pattern}"));
    }
    env.extend(options.environment.iter().cloned());

    let mut files = vec![FileEntry::directory(ARTIFACTS, 0o777)];
    // World-writable: the wrapper normalises the load list in place. One
    // line per test, each ended: the wrapper counts lines (`wc -l`) and
    // refuses a list of none.
    let load_list = match (&options.load_list, &plan.load_list) {
        (Some(tests), _) => Some(
            tests
                .iter()
                .flat_map(|test| [test.as_str(), "\n"])
                .collect::<String>()
                .into_bytes(),
        ),
        (None, Some(list)) => Some(read(&list.path)?),
        (None, None) => None,
    };
    if let Some(content) = load_list {
        files.push(FileEntry::file(
            format!("{HOME}/tempest-load-list"),
            content,
            0o666,
        ));
    }
    if let Some(list) = &plan.skip_list {
        files.push(FileEntry::file(
            format!("{HOME}/tempest-skip-list"),
            read(&list.path)?,
            0o644,
        ));
    }
    if let Some(path) = &plan.conf_overrides {
        files.push(FileEntry::file(
            format!("{HOME}/tempest-overrides.conf"),
            read(path)?,
            0o644,
        ));
    }
    if let Some(path) = &options.ca_certificate {
        let name = path
            .file_name()
            .map_or_else(|| "ca.crt".into(), |name| name.to_string_lossy());
        files.push(FileEntry::file(
            format!("{CA_CERTIFICATES}/{name}"),
            read(path)?,
            0o644,
        ));
    }

    let mut openrc_file = SecretFile::new("openrc", Secret::new(openrc.0.as_bytes()));
    openrc_file.env = vec!["TEMPEST_OPENRC".to_owned()];
    let mut secrets = vec![openrc_file];
    if let Some(path) = &plan.accounts {
        let mut accounts = SecretFile::new("tempest-accounts", Secret::new(read(path)?));
        accounts.link = Some(format!("{HOME}/tempest-accounts"));
        secrets.push(accounts);
    }
    let mut masked: Vec<Vec<u8>> = openrc
        .secret_values()
        .into_iter()
        .map(String::into_bytes)
        .collect();
    masked.extend(
        options
            .image
            .login
            .iter()
            .map(|login| login.password().as_bytes().to_vec()),
    );
    Ok(ContainerSpec {
        image: options.image.reference.clone(),
        command: options.command.clone(),
        env,
        host_network: true,
        secrets,
        masked,
        files,
        collect: vec![Collect {
            from: ARTIFACTS.to_owned(),
            into: options.output_dir.clone(),
            on_success_only: false,
        }],
        stop_grace: options.stop_grace,
        ..ContainerSpec::default()
    })
}

/// Runs Tempest as `plan` says in a new container of `options.image`,
/// passing each line of its output (secrets masked) to `log`, and reports on
/// the results rally wrote; cancelled (the container stopped and removed)
/// when `cancel` completes.
pub async fn run_tempest(
    docker: &Docker,
    plan: &TempestPlan,
    openrc: &Openrc,
    options: &TempestOptions,
    mut log: impl FnMut(&str),
    cancel: impl Future<Output = ()>,
) -> Result<TempestOutcome, TempestError> {
    let spec = container_spec(plan, openrc, options)?;
    options.image.ensure(docker, &mut log).await?;
    std::fs::create_dir_all(&options.output_dir).map_err(|source| TempestError::File {
        action: "create the output directory",
        path: options.output_dir.clone(),
        source,
    })?;
    let outcome =
        run_container(docker, &spec, log, cancel)
            .await
            .map_err(|source| match source {
                container_engine::RunError::Cancelled => TempestError::Cancelled,
                source => TempestError::Container {
                    image: options.image.reference.clone(),
                    source,
                },
            })?;
    let exit_code = outcome.exit_code;
    let report_path = options.output_dir.join(RALLY_JSON_REPORT);
    let report = match std::fs::read(&report_path) {
        Ok(report) => report,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(TempestError::NoReport { exit_code });
        }
        Err(source) => {
            return Err(TempestError::File {
                action: "read",
                path: report_path,
                source,
            });
        }
    };
    let stream = options.output_dir.join(STREAM_FILE);
    let write_error = |source| TempestError::File {
        action: "write",
        path: stream.clone(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(&stream).map_err(write_error)?);
    rally_report_to_subunit(&report, &mut out).map_err(|source| TempestError::RallyReport {
        path: report_path.clone(),
        source,
    })?;
    std::io::Write::flush(&mut out).map_err(write_error)?;
    drop(out);
    let file = std::fs::File::open(&stream).map_err(|source| TempestError::File {
        action: "open",
        path: stream.clone(),
        source,
    })?;
    let report = report_stream(
        file,
        &ReportPaths {
            junit: Some(options.output_dir.join("junit.xml")),
            html: Some(options.output_dir.join("report.html")),
        },
    )?;
    Ok(TempestOutcome {
        exit_code,
        stream,
        report,
    })
}

/// The test ids of an earlier run's `failed-tests` (one per line, blank
/// lines skipped): the load list of a re-run.
pub fn failed_tests(dir: &std::path::Path) -> Result<Vec<String>, TempestError> {
    let path = dir.join(FAILED_TESTS);
    let text = std::fs::read_to_string(&path).map_err(|source| TempestError::File {
        action: "read the failed tests of the earlier run,",
        path: path.clone(),
        source,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openrc_secrets_are_masked_and_never_debug_printed() {
        let openrc = Openrc::new(
            "export OS_AUTH_URL=http://keystone:5000\nexport OS_PASSWORD='s3cr3t pass'\nOS_APPLICATION_CREDENTIAL_SECRET=\"abc\"\nexport OS_USERNAME=admin\n",
        );
        assert_eq!(openrc.secret_values(), ["s3cr3t pass", "abc"]);
        assert_eq!(
            openrc.masked("login as admin with s3cr3t pass\nno newline abc"),
            "login as admin with ********\nno newline ********"
        );
        assert_eq!(format!("{openrc:?}"), "Openrc(<redacted>)");
    }

    #[test]
    fn kayobe_automations_variables_are_passed_as_it_passes_them() {
        let lookup = |name: &str| match name {
            "TEMPEST_VERSION" => Some("41.0.0".to_owned()),
            "TEMPEST_HTTPS_PROXY" => Some("http://proxy:3128".to_owned()),
            "TEMPEST_NO_PROXY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            TempestOptions::passed_environment(lookup),
            ["TEMPEST_VERSION=41.0.0", "HTTPS_PROXY=http://proxy:3128"]
        );
    }
}
