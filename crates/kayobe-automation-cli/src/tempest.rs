//! `kayobe-automation tempest …`: reports of Tempest's subunit v2 results,
//! through `tempest_runner`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::platform::StatusState;
use kayobe_automation::tempest::subunit::{SubunitError, looks_like_v1};
use kayobe_automation::tempest::{
    ImageSettingsError, Openrc, RallyImage, ReportError, ReportPaths, SettingsError, Summary,
    TempestError, TempestOptions, TempestPlan, failed_tests, report_stream_from, run_tempest,
    summary_markdown,
};
use kayobe_stdx::{OutputOptions, escape_text, write_output};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::interrupt::{INTERRUPTED, on_interrupt};
use crate::review::{PublishArgs, PublishError, Review};

/// The `tempest` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Summarise a subunit v2 stream (counts, failures with tracebacks, the
    /// 20 slowest tests) and write JUnit XML and HTML reports. Exits 0 when
    /// every test passed, 1 when some failed, 2 when the stream is damaged
    /// (after reporting what was read).
    Report {
        /// The subunit v2 stream (`-` for standard input).
        stream: PathBuf,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the summary as Markdown here (e.g. for a GitHub job
        /// summary); `-`: print it instead of the text summary.
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// The output directory of the run before: the failures its
        /// `failed-tests` lists are told apart from new ones.
        #[arg(long, value_name = "DIR")]
        previous: Option<PathBuf>,
        #[command(flatten)]
        publish: PublishArgs,
    },
    /// Run Tempest in the rally container (pulled when missing, or always
    /// with `KAYOBE_AUTOMATION_RALLY_FORCE_PULL=true`) with the environment's settings from
    /// `.automation.conf/config.sh`; the stream and reports go to the output
    /// directory. Exits 0 when every test passed, 1 otherwise.
    Run {
        /// The openrc file (else the content of `TEMPEST_OPENRC`).
        #[arg(long)]
        openrc_file: Option<PathBuf>,
        /// The image (else `KAYOBE_AUTOMATION_RALLY_IMAGE`:`…_TAG`).
        #[arg(long)]
        image: Option<String>,
        /// The output directory (else `KAYOBE_AUTOMATION_TEMPEST_OUTPUT_DIR`,
        /// default `tempest-artifacts/`).
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// Run the tests matching this (`TEMPEST_PATTERN`; else that
        /// variable); the load list is then ignored.
        #[arg(long, env = "TEMPEST_PATTERN")]
        pattern: Option<String>,
        /// Run again only the tests that failed in the earlier run whose
        /// output directory this is (its `failed-tests` as the load list).
        #[arg(long, value_name = "DIR", conflicts_with = "pattern")]
        rerun_failed: Option<PathBuf>,
        /// A CA bundle for the cloud's endpoints, trusted in the container.
        #[arg(long)]
        ca_certificate: Option<PathBuf>,
        #[command(flatten)]
        publish: PublishArgs,
        /// The command run in the container.
        #[arg(last = true, default_values_t = ["rally-verify-wrapper.sh".to_owned()])]
        command: Vec<String>,
    },
}

/// A `tempest` command failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum TempestCommandError {
    /// The stream could not be opened.
    #[error("cannot open the subunit stream {}: {source}", path.display())]
    #[diagnostic(help(
        "pass the path of a subunit v2 stream (e.g. from `stestr last --subunit`), or `-` to read standard input"
    ))]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The stream is damaged; the reports cover what was read before.
    #[error("the subunit stream {} is damaged at {error}", path.display())]
    #[diagnostic(help(
        "the summary and reports above hold every result read before this point; collect the stream again (e.g. `stestr last --subunit`) for the rest"
    ))]
    Stream { path: PathBuf, error: SubunitError },
    /// The stream is subunit v1 (text), which this reader does not read.
    #[error("{} is a subunit v1 stream; `tempest report` reads subunit v2", path.display())]
    #[diagnostic(help(
        "convert it first: `subunit-1to2 < STREAM > STREAM.v2` (python-subunit), then report on STREAM.v2"
    ))]
    SubunitV1 { path: PathBuf },
    /// The stream holds no test at all: not a pass.
    #[error("no tests found in {}", path.display())]
    #[diagnostic(help(
        "the stream is empty or is not subunit v2 (see the note above about skipped bytes); check that Tempest ran and that this is its `stestr last --subunit` output"
    ))]
    NoTests { path: PathBuf },
    /// A report could not be written.
    #[error(transparent)]
    #[diagnostic(help("check that the report's directory is writable and the disk is not full"))]
    Report(#[from] ReportError),
    /// The Tempest settings name a missing or wrong file.
    #[error(transparent)]
    #[diagnostic(help("the Tempest files live in .automation.conf/tempest/"))]
    Settings(#[from] SettingsError),
    /// No openrc was given.
    #[error("no openrc was given")]
    #[diagnostic(help(
        "pass `--openrc-file FILE`, set TEMPEST_OPENRC to the openrc's content, or set it in .automation.conf/config.sh (e.g. `export TEMPEST_OPENRC=\"$(< etc/kolla/public-openrc.sh)\"`)"
    ))]
    NoOpenrc,
    /// The openrc file could not be read.
    #[error("cannot read the openrc file {}: {source}", path.display())]
    #[diagnostic(help("check the path given to `--openrc-file`"))]
    Openrc {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The rally image settings are incomplete.
    #[error(transparent)]
    #[diagnostic(help("the rally settings live in .automation.conf/config.sh"))]
    Image(#[from] ImageSettingsError),
    /// The run failed.
    #[error(transparent)]
    #[diagnostic(help("the container's output above says what it did"))]
    Run(#[from] TempestError),
    /// The engine could not be reached.
    #[error(transparent)]
    #[diagnostic(help("is the Docker engine running, and may this user use its socket?"))]
    Engine(kayobe_automation::engine::EngineError),
    /// The async runtime could not start.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] crate::async_runtime::RuntimeError),
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    #[diagnostic(help("check where standard output goes (a closed pipe or a full disk)"))]
    Stdout(#[source] std::io::Error),
    /// The Markdown summary could not be written.
    #[error(transparent)]
    Markdown(kayobe_stdx::OutputError),
    /// The summary could not be published.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Publish(#[from] PublishError),
}

/// Runs a `tempest` subcommand.
pub fn run(global: &Global, command: Command) -> miette::Result<ExitCode> {
    match command {
        Command::Report {
            stream,
            junit,
            html,
            markdown,
            previous,
            publish,
        } => {
            let previous = previous
                .map(|dir| failed_tests(&dir))
                .transpose()
                .map_err(TempestCommandError::from)?;
            let feedback = Feedback {
                markdown,
                previous: previous.map(|ids| ids.into_iter().collect()),
                environment: global.environment.clone(),
                publish,
                openrc: None,
            };
            Ok(report(stream, ReportPaths { junit, html }, &feedback)?)
        }
        Command::Run {
            openrc_file,
            image,
            output_dir,
            pattern,
            rerun_failed,
            ca_certificate,
            publish,
            command,
        } => {
            let conf = global.repo()?.automation_conf().into_diagnostic()?;
            let plan = TempestPlan::load(&conf.tempest().into_diagnostic()?)
                .map_err(TempestCommandError::from)?;
            let image = RallyImage::from_settings(&conf.rally().into_diagnostic()?, image)
                .map_err(TempestCommandError::from)?;
            let openrc = match openrc_file {
                Some(path) => Openrc::new(
                    std::fs::read_to_string(&path)
                        .map_err(|source| TempestCommandError::Openrc { path, source })?,
                ),
                // config.sh sees the process's TEMPEST_OPENRC and may set it
                // (often `$(< …/public-openrc.sh)`), as tempest.sh reads it.
                None => match conf.tempest_openrc() {
                    Some(text) => Openrc::new(text),
                    None => return Err(TempestCommandError::NoOpenrc.into()),
                },
            };
            let mut options =
                TempestOptions::new(image, output_dir.unwrap_or_else(|| plan.output_dir.clone()));
            options.command = command;
            options.pattern = pattern.filter(|pattern| !pattern.is_empty());
            options.load_list = rerun_failed
                .map(|dir| failed_tests(&dir))
                .transpose()
                .map_err(TempestCommandError::from)?;
            let feedback = Feedback {
                markdown: Some(options.output_dir.join(SUMMARY_MARKDOWN)),
                // A re-run's earlier failures are its whole load list.
                previous: options
                    .load_list
                    .as_ref()
                    .map(|ids| ids.iter().cloned().collect()),
                environment: global.environment.clone(),
                publish,
                openrc: Some(openrc.clone()),
            };
            options.ca_certificate = ca_certificate;
            options.environment =
                TempestOptions::passed_environment(|name| std::env::var(name).ok());
            Ok(run_container(&plan, &openrc, &options, &feedback)?)
        }
    }
}

fn run_container(
    plan: &TempestPlan,
    openrc: &Openrc,
    options: &TempestOptions,
    feedback: &Feedback,
) -> Result<ExitCode, TempestCommandError> {
    let outcome = crate::async_runtime::block_on(async {
        let cancel = on_interrupt()?;
        let docker = kayobe_automation::engine::connect()
            .await
            .map_err(TempestCommandError::Engine)?;
        // The container's output goes to standard error, line by line, so
        // standard output holds only the summary.
        Ok::<_, TempestCommandError>(
            run_tempest(
                &docker,
                plan,
                openrc,
                options,
                |line| eprintln!("{line}"),
                cancel,
            )
            .await,
        )
    })??;
    let outcome = match outcome {
        Err(TempestError::Cancelled) => {
            eprintln!("tempest run cancelled; its container was stopped and removed");
            return Ok(ExitCode::from(INTERRUPTED));
        }
        outcome => outcome?,
    };
    let summary = &outcome.report.summary;
    let complete = outcome.report.stream_error.is_none() && outcome.exit_code == 0;
    feedback.give(summary, complete)?;
    let mut stdout = std::io::stdout().lock();
    write!(
        stdout,
        "{}",
        escape_text(&openrc.masked(&summary.to_string()))
    )
    .and_then(|()| {
        writeln!(
            stdout,
            "Artefacts: {} (container exit code {})",
            options.output_dir.display(),
            outcome.exit_code
        )
    })
    .and_then(|()| stdout.flush())
    .map_err(TempestCommandError::Stdout)?;
    if let Some(error) = outcome.report.stream_error {
        return Err(TempestCommandError::Stream {
            path: outcome.stream,
            error,
        });
    }
    Ok(if outcome.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report(
    stream: PathBuf,
    paths: ReportPaths,
    feedback: &Feedback,
) -> Result<ExitCode, TempestCommandError> {
    let source: Box<dyn Read> = if stream.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&stream).map_err(|source| TempestCommandError::Open {
                path: stream.clone(),
                source,
            })?,
        )
    };
    let mut source = BufReader::with_capacity(64 * 1024, source);
    let head = source
        .fill_buf()
        .map_err(|source| TempestCommandError::Open {
            path: stream.clone(),
            source,
        })?;
    if looks_like_v1(head) {
        return Err(TempestCommandError::SubunitV1 { path: stream });
    }
    let input = (stream.as_os_str() != "-").then_some(stream.as_path());
    let outcome = report_stream_from(source, input, &paths)?;
    let printed_markdown = feedback.give(&outcome.summary, outcome.stream_error.is_none())?;
    if !printed_markdown {
        let mut stdout = std::io::stdout().lock();
        // Test ids and tracebacks come from the tests: no control character
        // of theirs reaches the terminal.
        write!(stdout, "{}", escape_text(&outcome.summary.to_string()))
            .and_then(|()| stdout.flush())
            .map_err(TempestCommandError::Stdout)?;
    }
    if outcome.text_bytes > 0 {
        // Tests' own prints land between packets; a stream with no packets
        // at all is not subunit v2.
        eprintln!(
            "note: {} bytes between packets were not subunit v2 (test output, or a damaged stream) and were skipped",
            outcome.text_bytes
        );
    }
    if let Some(error) = outcome.stream_error {
        return Err(TempestCommandError::Stream {
            path: stream,
            error,
        });
    }
    if outcome.summary.counts.total() == 0 {
        return Err(TempestCommandError::NoTests { path: stream });
    }
    Ok(if outcome.summary.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The name of the Markdown summary `tempest run` writes beside its reports.
const SUMMARY_MARKDOWN: &str = "summary.md";

/// Where a summary goes besides the terminal: Markdown for a job summary,
/// and the change under review.
struct Feedback {
    /// The Markdown file (`-`: standard output, instead of the text).
    markdown: Option<PathBuf>,
    /// The ids that failed in the run before, when known.
    previous: Option<BTreeSet<String>>,
    /// The Kayobe environment, naming the comment and the status.
    environment: Option<String>,
    publish: PublishArgs,
    /// The run's openrc, whose secrets are masked in what leaves the run.
    openrc: Option<Openrc>,
}

impl Feedback {
    /// Writes the Markdown and publishes the review; whether the Markdown
    /// went to standard output. `complete`: the whole stream was read (and
    /// the run ended well), else the status says the run is in error.
    fn give(&self, summary: &Summary, complete: bool) -> Result<bool, TempestCommandError> {
        let markdown = summary_markdown(summary, self.previous.as_ref());
        // A traceback may quote a credential of the run's openrc.
        let markdown = match &self.openrc {
            Some(openrc) => openrc.masked(&markdown),
            None => markdown,
        };
        let mut printed = false;
        match &self.markdown {
            Some(path) if path.as_os_str() == "-" => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(markdown.as_bytes())
                    .and_then(|()| stdout.flush())
                    .map_err(TempestCommandError::Stdout)?;
                printed = true;
            }
            Some(path) => write_output(path, markdown.as_bytes(), &OutputOptions::public())
                .map_err(TempestCommandError::Markdown)?,
            None => {}
        }
        let environment = PublishArgs::environment(self.environment.as_deref());
        let mut review = Review::tempest(
            environment,
            summary,
            markdown,
            self.publish.report_url.as_deref(),
        );
        if !complete {
            review.status.state = StatusState::Error;
        }
        if let Some(done) = self.publish.publish(&review)? {
            eprintln!("{done}");
        }
        Ok(printed)
    }
}
